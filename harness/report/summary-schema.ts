import { z } from 'zod';

/**
 * `summary.json`: what a run decided, for machines. Versioned: a change that breaks readers bumps
 * `schemaVersion`; adding optional fields does not. `reports/schema/summary.schema.json` is generated
 * from this schema (`npm run schema`) and ships in the package; a test keeps the two equal.
 */
export const SUMMARY_SCHEMA_VERSION = 1;

const knobValue = z.union([z.number(), z.boolean(), z.string()]);
const interval = z.object({ low: z.number(), high: z.number() }).strict();

/** pass / warn / fail / not-checked: the statuses of checklist items, SLO checks and the overall verdict. */
export const checkStatus = z.enum(['pass', 'warn', 'fail', 'not-checked']);

/** One SLO threshold checked on measured trials (step 6's checks at peak and in bursts). */
export const sloCheckSchema = z
  .object({
    /** Stable, e.g. `pg/peak@1500/p99`. */
    id: z.string(),
    pool: z.string(),
    scenario: z.string(),
    metric: z.enum(['p99', 'errorRate', 'poolUse', 'measured']),
    /** Human-readable, e.g. `peak@1500: p99 <= 250 ms`. */
    name: z.string(),
    threshold: z.number().optional(),
    observed: z.number().optional(),
    unit: z.string(),
    status: checkStatus,
    detail: z.string(),
    trials: z.array(z.string()),
  })
  .strict();

/** One knob of a recommendation, as a diff against the settings the run started from. */
export const settingSchema = z
  .object({
    knob: z.string(),
    role: z.string(),
    /** The value the run started from (config or target default), when there was one. */
    current: knobValue.optional(),
    recommended: z.number(),
    unit: z.string(),
    changed: z.boolean(),
    interval: interval.optional(),
    rule: z.string(),
    evidence: z.array(z.string()),
  })
  .strict();

const estimate = z
  .object({ value: z.number(), low: z.number().optional(), high: z.number().optional() })
  .strict();

export const recommendationSchema = z
  .object({
    pool: z.string(),
    library: z.string(),
    settings: z.array(settingSchema),
    /** Median figures at the peak rate with the recommended settings (95% bootstrap intervals). */
    expectedAtPeak: z
      .object({ throughput: estimate, p99Ms: estimate, errorRate: z.number() })
      .strict()
      .optional(),
    /** Recommended against starting settings at the steady rate (steps 2 and 3). */
    gains: z
      .array(
        z
          .object({
            metric: z.enum(['p50Ms', 'p99Ms', 'p999Ms', 'throughput', 'errorRate']),
            before: z.number(),
            after: z.number(),
            /** (after − before) / before, with a 95% bootstrap interval when there were repetitions. */
            change: estimate,
          })
          .strict(),
      )
      .optional(),
  })
  .strict();

export const checklistItemSchema = z
  .object({
    id: z.string(),
    title: z.string(),
    status: checkStatus,
    evidence: z.string(),
    trials: z.array(z.string()),
  })
  .strict();

export const riskSchema = z
  .object({
    id: z.string(),
    severity: z.enum(['warn', 'fail']),
    message: z.string(),
    trials: z.array(z.string()),
  })
  .strict();

/**
 * One comparable point: every repetition of the same (scenario, knob values) in a run, with its merged
 * latency histogram, so `pooltune compare` can work from a `summary.json` alone.
 */
export const comparablePointSchema = z
  .object({
    /** `scenario|knob=value,...` with knobs sorted by name: equal keys are comparable across runs. */
    key: z.string(),
    scenario: z.string(),
    step: z.string(),
    knobs: z.record(z.string(), knobValue),
    trials: z.array(z.string()),
    throughputs: z.array(z.number()),
    p99Ms: z.array(z.number()),
    errorRates: z.array(z.number()),
    /** Merged HdrHistogram of response latency in µs, compressed and base64-encoded. */
    histogram: z.string(),
  })
  .strict();

export const regressionSchema = z
  .object({
    baseline: z.string(),
    regressed: z.boolean(),
    compared: z.number().int(),
    regressions: z.array(z.string()),
  })
  .strict();

export const runSummarySchema = z
  .object({
    $schema: z.string().optional(),
    schemaVersion: z.literal(SUMMARY_SCHEMA_VERSION),
    runId: z.string(),
    createdAt: z.string(),
    command: z.enum(['tune', 'run']),
    pooltuneVersion: z.string(),
    target: z.object({ name: z.string(), entry: z.string(), services: z.array(z.string()) }).strict(),
    scenario: z.string(),
    driver: z.string(),
    runtime: z.string(),
    /** fail when an SLO check failed, or a regression was found; warn when a checklist item or risk warns. */
    verdict: checkStatus,
    /** The process exit code this run maps to (see the README's table). */
    exitCode: z.number().int(),
    slo: z
      .object({
        p99Ms: z.number(),
        errorRate: z.number(),
        status: checkStatus,
        checks: z.array(sloCheckSchema),
      })
      .strict(),
    recommendations: z.array(recommendationSchema),
    checklist: z.array(checklistItemSchema),
    risks: z.array(riskSchema),
    trials: z
      .object({
        total: z.number().int(),
        completed: z.number().int(),
        invalid: z.number().int(),
        errored: z.number().int(),
        aborted: z.number().int(),
      })
      .strict(),
    points: z.array(comparablePointSchema),
    regression: regressionSchema.optional(),
  })
  .strict();

export type CheckStatus = z.infer<typeof checkStatus>;
export type SloCheck = z.infer<typeof sloCheckSchema>;
export type Setting = z.infer<typeof settingSchema>;
export type Recommendation = z.infer<typeof recommendationSchema>;
export type ChecklistItem = z.infer<typeof checklistItemSchema>;
export type Risk = z.infer<typeof riskSchema>;
export type ComparablePoint = z.infer<typeof comparablePointSchema>;
export type RegressionSummary = z.infer<typeof regressionSchema>;
export type RunSummary = z.infer<typeof runSummarySchema>;
