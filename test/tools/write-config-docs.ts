// Dev tool behind `npm run docs`: writes docs/configuration.md from the zod schema in
// harness/config/schema.ts, so the reference cannot drift from what validation accepts.
// Not part of the harness, so it may use `process` directly. `renderConfigDocs` is pure: the docs
// test calls it in-process and compares with the committed file.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { configFlags, runArgs } from '../../harness/cli/options.ts';
import { type ConfigLayer, envVariables, flagLayer } from '../../harness/config/layers.ts';
import { configSchema } from '../../harness/config/schema.ts';

/** The part of a JSON Schema (as `z.toJSONSchema` writes it) that the renderer reads. */
interface JsonSchema {
  type?: string | string[];
  description?: string;
  default?: unknown;
  const?: unknown;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  minItems?: number;
  format?: string;
  pattern?: string;
}

/** One table: the fields of one config object. */
interface Section {
  path: string;
  label: string;
  intro: string | undefined;
  rows: string[][];
  notes: string[];
}

/** Where docs/configuration.md lives. */
export const configDocsFile = fileURLToPath(new URL('../../docs/configuration.md', import.meta.url));

/** The whole of docs/configuration.md, generated from `configSchema`. Pure. */
export function renderConfigDocs(): string {
  const root = z.toJSONSchema(configSchema, { io: 'input' }) as JsonSchema;
  const sections: Section[] = [];
  walk(root, '', '', sections);
  // The inline target is the longest part and the one fewest users need: it goes last.
  const ordered = [
    ...sections.filter((s) => !isTargetPath(s.path)),
    ...sections.filter((s) => isTargetPath(s.path)),
  ];
  const lines = [
    '# Configuration reference',
    '',
    '<!-- Generated from harness/config/schema.ts by `npm run docs` (test/tools/write-config-docs.ts): do not edit by hand. -->',
    '',
    'pooltune reads `pooltune.config.ts` (or `.mts`, `.js`, `.mjs`, `.json`, `.yaml`, `.yml`) from the working',
    'directory, or the file given with `--config`. Layers apply in this order, later winning: defaults < file <',
    'environment (`POOLTUNE_*`) < flags. Validation lists every problem at once with its path, and rejects',
    'unknown keys. A TypeScript config can use `defineConfig` from `pooltune` for types; how to describe a',
    'target of your own, with an example, is in [targets.md](targets.md).',
    '',
    'Each table lists one config object: the field, its type, its default ("required" when it has none and',
    'must be given, "—" when unset means off or derived) and what it does; longer explanations follow the table.',
    '',
    ...ordered.map((s) => `- [${s.label}](#${anchor(s.label)})`),
    '',
  ];
  for (const section of ordered) lines.push(...renderSection(section));
  return `${lines.join('\n').trimEnd()}\n`;
}

function isTargetPath(p: string): boolean {
  return p === 'target' || p.startsWith('target.');
}

/** Adds a section for `schema` (an object with properties) and, depth first, for its object fields. */
function walk(schema: JsonSchema, at: string, variant: string, sections: Section[]): void {
  const properties = schema.properties ?? {};
  const topLevel = at === '';
  const section: Section = {
    path: at,
    label: topLevel ? 'Top level' : `\`${at}\`${variant === '' ? '' : ` (${variant})`}`,
    intro: schema.description,
    rows: [],
    notes: [],
  };
  sections.push(section);
  const flags = topLevel ? flagsByKey() : new Map<string, string>();
  const env = topLevel ? envByKey() : new Map<string, string>();
  const nested: Array<() => void> = [];
  for (const [name, field] of Object.entries(properties)) {
    const fieldPath = topLevel ? name : `${at}.${name}`;
    const required = schema.required?.includes(name) ?? false;
    const [short, rest] = splitDescription(field.description ?? '');
    const row = [`\`${fieldPath}\``, typeOf(field), defaultOf(field, required), short];
    if (topLevel) {
      const given = [env.get(name), flags.get(name)].filter((x): x is string => x !== undefined);
      row.splice(3, 0, given.map((x) => `\`${x}\``).join(' / '));
    }
    section.rows.push(row);
    if (rest !== '') section.notes.push(`\`${fieldPath}\`: ${rest}`);
    for (const child of objectsUnder(field, fieldPath))
      nested.push(() => walk(child.schema, child.path, child.variant, sections));
  }
  for (const next of nested) next();
}

/** The object schemas a field holds (directly, as record values, as list items, or as union variants). */
function objectsUnder(
  field: JsonSchema,
  at: string,
): Array<{ schema: JsonSchema; path: string; variant: string }> {
  if (field.properties !== undefined) return [{ schema: field, path: at, variant: '' }];
  if (field.anyOf !== undefined) {
    const objects = field.anyOf.flatMap((v) => objectsUnder(v, at));
    if (objects.length < 2) return objects;
    return objects.map((o) => ({ ...o, variant: variantLabel(o.schema) }));
  }
  if (typeof field.additionalProperties === 'object')
    return objectsUnder(field.additionalProperties, `${at}.<name>`);
  if (field.items !== undefined) return objectsUnder(field.items, `${at}[]`);
  return [];
}

/** Names a union variant by its constant field (`kind: "postgres"`), else by its first field (`http`). */
function variantLabel(schema: JsonSchema): string {
  const entries = Object.entries(schema.properties ?? {});
  const constant = entries.find(([, f]) => f.const !== undefined);
  if (constant !== undefined) return `${constant[0]}: ${JSON.stringify(constant[1].const)}`;
  return `with \`${entries[0]?.[0] ?? '?'}\``;
}

function renderSection(section: Section): string[] {
  const head =
    section.path === ''
      ? ['field', 'type', 'default', 'env / flag', 'description']
      : ['field', 'type', 'default', 'description'];
  const lines = [`## ${section.label}`, ''];
  if (section.intro !== undefined) lines.push(splitDescription(section.intro).join(' ').trim(), '');
  lines.push(...table([head, ...section.rows]), '');
  if (section.notes.length > 0) lines.push(...section.notes.map((n) => `- ${n}`), '');
  return lines;
}

/** A Markdown table with padded columns, as the formatter (biome) writes it; the first row is the head. */
function table(rows: readonly (readonly string[])[]): string[] {
  const cells = rows.map((row) => row.map((c) => c.replaceAll('|', '\\|').replaceAll('\n', ' ')));
  const widths = (cells[0] ?? []).map((_, i) =>
    Math.max(3, ...cells.map((row) => [...(row[i] ?? '')].length)),
  );
  const line = (row: readonly string[]) =>
    `| ${widths.map((w, i) => (row[i] ?? '') + ' '.repeat(w - [...(row[i] ?? '')].length)).join(' | ')} |`;
  const [head, ...body] = cells;
  return [line(head ?? []), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)];
}

/** A GitHub heading anchor: lower case, punctuation dropped, spaces to hyphens. */
function anchor(label: string): string {
  return label
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replaceAll(' ', '-');
}

/** The first sentence goes in the table; the rest goes under it. `docs/x.md` becomes a link to the page beside this one. */
function splitDescription(description: string): [string, string] {
  const text = description.replace(/\bdocs\/([a-z-]+\.md)\b/g, '[$1]($1)');
  const match = /(?<!\be\.g|\bi\.e)\.\s+(?=[A-Z`])/.exec(text);
  if (match === null) return [text, ''];
  return [text.slice(0, match.index + 1), text.slice(match.index + match[0].length)];
}

function typeOf(schema: JsonSchema): string {
  if (schema.const !== undefined) return `\`${JSON.stringify(schema.const)}\``;
  if (schema.enum !== undefined) return schema.enum.map((v) => `\`${String(v)}\``).join(', ');
  if (schema.anyOf !== undefined) return [...new Set(schema.anyOf.map(typeOf))].join(' or ');
  if (Array.isArray(schema.type)) return schema.type.join(' or ');
  switch (schema.type) {
    case 'integer':
    case 'number':
      return `${schema.type}${range(schema)}`;
    case 'string':
      if (schema.format === 'uri') return 'URL';
      if (schema.format === 'starts_with') return 'string starting with `/`';
      return 'string';
    case 'array': {
      const item = schema.items === undefined ? 'unknown' : typeOf(schema.items);
      return item.includes(' ') ? `list of (${item})` : `${item}[]`;
    }
    case 'object':
      if (schema.properties !== undefined) return 'object';
      if (typeof schema.additionalProperties === 'object')
        return `record of ${typeOf(schema.additionalProperties)}`;
      return 'object';
    default:
      return schema.type ?? 'any';
  }
}

/** `≥ 1`, `1–50`, `> 0`: the bounds a number must keep (the safe-integer bounds are left out). */
function range(schema: JsonSchema): string {
  const max =
    schema.maximum !== undefined && schema.maximum < Number.MAX_SAFE_INTEGER ? schema.maximum : undefined;
  const min =
    schema.minimum !== undefined && schema.minimum > Number.MIN_SAFE_INTEGER ? schema.minimum : undefined;
  if (min !== undefined && max !== undefined) return ` ${min}–${max}`;
  const parts: string[] = [];
  if (min !== undefined) parts.push(`≥ ${min}`);
  if (schema.exclusiveMinimum !== undefined) parts.push(`> ${schema.exclusiveMinimum}`);
  if (max !== undefined) parts.push(`≤ ${max}`);
  if (schema.exclusiveMaximum !== undefined) parts.push(`< ${schema.exclusiveMaximum}`);
  return parts.length === 0 ? '' : ` ${parts.join(', ')}`;
}

function defaultOf(schema: JsonSchema, required: boolean): string {
  if (!('default' in schema)) return required ? 'required' : '—';
  const value = schema.default;
  if (
    value !== null &&
    typeof value === 'object' &&
    Object.keys(value).length > 0 &&
    fieldDefaults(schema, value)
  )
    return "its fields' defaults";
  return `\`${JSON.stringify(value)}\``;
}

/** True when an object's default is just its fields' own defaults (so the table need not repeat them). */
function fieldDefaults(schema: JsonSchema, value: object): boolean {
  return Object.entries(value).every(
    ([key, v]) => JSON.stringify(schema.properties?.[key]?.default) === JSON.stringify(v),
  );
}

/** The environment variable that sets each top-level key, from `envVariables`. */
function envByKey(): Map<string, string> {
  return new Map(Object.entries(envVariables).map(([variable, key]) => [key as string, variable]));
}

/**
 * The flag of `tune` and `run` that sets each top-level key, found by giving `flagLayer` each flag
 * alone and seeing which key it fills, so the table follows the CLI.
 */
function flagsByKey(): Map<string, string> {
  const flags = new Map<string, string>();
  for (const [name, spec] of Object.entries(runArgs) as Array<
    [string, { type: string; valueHint?: string }]
  >) {
    const value = spec.valueHint ?? '1';
    const sample = name === 'set' ? 'knob=1' : value;
    const layer: ConfigLayer =
      spec.type === 'boolean'
        ? flagLayer(configFlags({ [name]: true }, [`--${name}`]))
        : flagLayer(configFlags({ [name]: sample }, [`--${name}`, sample]));
    for (const key of Object.keys(layer))
      flags.set(key, name === 'set' ? `--set ${spec.valueHint ?? ''}` : `--${name}`);
  }
  return flags;
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  writeFileSync(configDocsFile, renderConfigDocs());
  process.stdout.write(`wrote ${path.relative(process.cwd(), configDocsFile)}\n`);
}
