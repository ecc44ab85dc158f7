import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import type { RenderedChart } from './charts.ts';
import type { ComparisonView } from './compare-view.ts';
import type { ReportView } from './view-model.ts';

/** The report's templates (`report.hbs`, `compare.hbs`, `partials/*.hbs`, `report.css`), found from this file, not the cwd. */
export const TEMPLATES_DIR = fileURLToPath(new URL('../../reports/templates/', import.meta.url));

/** The Content-Security-Policy the page declares: nothing may load, only inline styles and data: images. */
export const REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

/** A chart as the page needs it. */
export type ChartForHtml = Pick<RenderedChart, 'id' | 'title' | 'caption' | 'description' | 'svg'>;

interface PageContext extends ReportView {
  /** The rendered charts (`charts` is their data, with what was not drawn and why). */
  readonly figures: readonly ChartForHtml[];
}

interface ComparisonPageContext extends ComparisonView {
  readonly figures: readonly ChartForHtml[];
}

/** The pages, by template file: each is compiled once per templates directory. */
interface Pages {
  readonly 'report.hbs': PageContext;
  readonly 'compare.hbs': ComparisonPageContext;
}

type PageName = keyof Pages;

let cached:
  | { dir: string; hbs: typeof Handlebars; pages: Map<PageName, HandlebarsTemplateDelegate> }
  | undefined;

/**
 * Renders the self-contained report page. Every value is escaped by Handlebars except the charts' SVG,
 * which vega wrote from our own numbers (and vega escapes the text it writes).
 */
export function renderReportHtml(
  view: ReportView,
  charts: readonly ChartForHtml[],
  templatesDir: string = TEMPLATES_DIR,
): string {
  return renderPage('report.hbs', { ...view, figures: charts }, templatesDir);
}

/** Renders the self-contained comparison page, with the run report's styles, partials and escaping. */
export function renderComparisonHtml(
  view: ComparisonView,
  charts: readonly ChartForHtml[],
  templatesDir: string = TEMPLATES_DIR,
): string {
  return renderPage('compare.hbs', { ...view, figures: charts }, templatesDir);
}

function renderPage<Name extends PageName>(name: Name, context: Pages[Name], dir: string): string {
  if (cached?.dir !== dir) cached = { dir, hbs: templateInstance(dir), pages: new Map() };
  let template = cached.pages.get(name);
  if (template === undefined) {
    // strict: a misspelt field throws instead of rendering as nothing; only the built-in helpers exist.
    template = cached.hbs.compile(readFileSync(join(dir, name), 'utf8'), {
      strict: true,
      knownHelpersOnly: true,
      preventIndent: true,
    });
    cached.pages.set(name, template);
  }
  return template(context);
}

/** A Handlebars instance with the stylesheet and every partial registered. */
function templateInstance(dir: string): typeof Handlebars {
  // A private instance: partials registered here cannot leak into (or be replaced by) other users of Handlebars.
  const hbs = Handlebars.create();
  const css = readFileSync(join(dir, 'report.css'), 'utf8');
  // The CSS goes in as a partial, so it is inlined verbatim without a triple-stash; `{{` would make it a template.
  if (css.includes('{{')) throw new Error(`${join(dir, 'report.css')} must not contain "{{"`);
  hbs.registerPartial('styles', css);
  const partialsDir = join(dir, 'partials');
  for (const file of readdirSync(partialsDir).filter((name) => name.endsWith('.hbs'))) {
    hbs.registerPartial(basename(file, '.hbs'), readFileSync(join(partialsDir, file), 'utf8'));
  }
  return hbs;
}
