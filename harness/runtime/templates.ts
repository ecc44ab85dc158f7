import Handlebars from 'handlebars';
import type { KnobValues } from '../results/trial.ts';

/** What a service's templates can read: `{{port}}`, `{{knobs.max}}`, `{{services.db.url}}`, ... */
export interface TemplateContext {
  readonly port: number;
  readonly host: string;
  readonly knobs: KnobValues;
  readonly services: Readonly<
    Record<string, { readonly host: string; readonly port: number; readonly url: string }>
  >;
  /** The node binary running pooltune (so a target can run `{{node}} server.js` on the same Node). */
  readonly node: string;
  /** The pooltune package's root directory (bundled targets live under it). */
  readonly packageRoot: string;
  /** The path of the service's rendered config file, when it has one. */
  readonly configFile?: string;
}

// A private instance: config templates are not HTML, so nothing is escaped, and a misspelt name fails.
const handlebars = Handlebars.create();

/** Renders one template string; a missing name throws (the caller names the field). */
export function renderTemplate(template: string, context: TemplateContext): string {
  return handlebars.compile(template, { noEscape: true, strict: true })(context);
}
