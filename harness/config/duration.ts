/** A duration as written in config and flags: a number and a unit, e.g. `90s`, `45m`, `1.5h`, `500ms`. */
export const durationPattern = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;

const unitMs: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** The milliseconds a duration text stands for; NaN when it does not match {@link durationPattern}. */
export function durationMs(text: string): number {
  const match = durationPattern.exec(text);
  if (match === null) return Number.NaN;
  return Number(match[1]) * (unitMs[match[2] ?? ''] ?? Number.NaN);
}

/** A `maxDuration`-style value in ms: a bare number is seconds. */
export function durationValueMs(value: string | number): number {
  return typeof value === 'number' ? value * 1_000 : durationMs(value);
}
