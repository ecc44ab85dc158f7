/** Where a core count came from: the database service's CPU quota, or the host's CPU count. */
export type CoresSource = 'quota' | 'host';

/** The measured knee against the connection-management guide's "cores × 2" starting point. */
export interface CoresRule {
  readonly cores: number;
  readonly source: CoresSource;
  /** The guide's starting point: cores × 2. */
  readonly rule: number;
  /** The measured knee: the pool size where returns diminished. */
  readonly knee: number;
  /** knee / rule: 1 when the knee sits on the rule, above 1 when the pool needs more than the rule gives. */
  readonly ratio: number;
  /** e.g. `the guide's starting point cores × 2 = 4 (2 CPUs: the host's); the measured knee is 3 (0.75×)`. */
  readonly text: string;
}

const sources: Record<CoresSource, string> = {
  quota: "the database service's cpus quota",
  host: "the host's",
};

/** A count as short as it can be written: `4`, `0.5`, `1.17`. */
const short = (value: number): string => String(Number(value.toFixed(2)));

/**
 * Where the measured knee sits against "cores × 2", the guide's starting point for a database pool
 * (`cores` may be fractional: a quota of half a core makes the rule 1). Pure.
 */
export function coresRule(cores: number, knee: number, source: CoresSource = 'host'): CoresRule {
  const rule = cores * 2;
  const ratio = rule > 0 ? knee / rule : Number.NaN;
  const cpus = `${short(cores)} CPU${cores === 1 ? '' : 's'}`;
  return {
    cores,
    source,
    rule,
    knee,
    ratio,
    text:
      `the guide's starting point cores × 2 = ${short(rule)} (${cpus}: ${sources[source]}); ` +
      `the measured knee is ${short(knee)} (${Number.isFinite(ratio) ? short(ratio) : '—'}×)`,
  };
}
