// How the report's outputs write numbers, durations and dates: one place, so the page, junit.xml and
// summary.md agree on every figure. Pure.

/** Shown in a cell that has no figure. */
export const NOT_AVAILABLE = '—';

/** The median of a non-empty list (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const upper = sorted[mid] ?? Number.NaN;
  if (sorted.length % 2 === 1) return upper;
  return ((sorted[mid - 1] ?? Number.NaN) + upper) / 2;
}

const grouped = (digits: number) =>
  new Intl.NumberFormat('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const fixedFormats = [grouped(0), grouped(1), grouped(2)] as const;

/** A number with thousands separators and `digits` (0–2) decimals, e.g. `2,329.5`. */
export function formatFixed(value: number, digits: 0 | 1 | 2): string {
  return fixedFormats[digits].format(value);
}

/** Requests per second with one decimal, e.g. `2,329.5`. */
export function formatThroughput(value: number): string {
  return formatFixed(value, 1);
}

/** Milliseconds to about three significant digits: `0.81`, `9.01`, `23.0`, `145`, `1,204`. */
export function formatMs(value: number): string {
  const magnitude = Math.abs(value);
  return formatFixed(value, magnitude < 10 ? 2 : magnitude < 100 ? 1 : 0);
}

/** A share of one core as a percentage, e.g. `1.21` -> `121%`. */
export function formatPercent(share: number): string {
  return `${Math.round(share * 100)}%`;
}

/** Errors by kind, most frequent first, e.g. `4 status:503, 1 timeout`; `none` when there were none. */
export function formatErrors(errors: Readonly<Record<string, number>>): string {
  const entries = Object.entries(errors).filter(([, n]) => n > 0);
  if (entries.length === 0) return 'none';
  return entries
    .sort(([a, m], [b, n]) => n - m || a.localeCompare(b))
    .map(([kind, n]) => `${formatFixed(n, 0)} ${kind}`)
    .join(', ');
}

/** Bytes in binary units, e.g. `7.8 GiB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/** An ISO timestamp as `YYYY-MM-DD HH:MM:SS UTC`; anything unparsable is shown as given. */
export function formatDate(iso: string): string {
  const time = Date.parse(iso);
  if (Number.isNaN(time)) return iso;
  return `${new Date(time).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}
