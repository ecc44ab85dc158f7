import { z } from 'zod';
import { type CheckStatus, checkStatus } from '../analysis/check-status.ts';

/**
 * `summary.json`: what a run decided, for machines. Versioned: a change that breaks readers bumps
 * `schemaVersion`; adding optional fields does not. `reports/schema/summary.schema.json` is generated
 * from this schema (`npm run schema`) and ships in the package; a test keeps the two equal.
 */
export const SUMMARY_SCHEMA_VERSION = 1;

const knobValue = z.union([z.number(), z.boolean(), z.string()]);
const interval = z
  .object({ low: z.number(), high: z.number() })
  .strict()
  .describe('A 95% bootstrap interval over the repetitions: low .. high.');
const trialIds = (what: string) =>
  z.array(z.string()).describe(`Ids of the trials ${what} (see trials.jsonl).`);

/** One SLO threshold checked on measured trials (step 6's checks at peak and in bursts). */
export const sloCheckSchema = z
  .object({
    id: z.string().describe('Stable identifier, e.g. `pg/peak@1500/p99`.'),
    pool: z.string().describe('The pool checked; empty for a single-point run (`pooltune run`).'),
    scenario: z.string().describe('The load it was checked under, e.g. `peak@1500` or `burst@2250`.'),
    metric: z
      .enum(['p99', 'errorRate', 'poolUse', 'measured'])
      .describe(
        'p99 latency, error rate, pool use (share of the pool maximum in use), or `measured`: whether the point completed at all.',
      ),
    name: z.string().describe('Human-readable, e.g. `peak@1500: p99 <= 250 ms`.'),
    threshold: z.number().optional().describe('The limit, in `unit`; absent when the check has none.'),
    observed: z
      .number()
      .optional()
      .describe('The measured value, in `unit`; absent when nothing was measured.'),
    unit: z.string().describe('`ms`, `ratio` (0..1), or empty.'),
    status: checkStatus.describe(
      'fail breaks the SLO; warn is pool use above its limit: headroom, not the SLO.',
    ),
    detail: z.string().describe('The finding in words, e.g. `p99 22.7 ms`.'),
    trials: trialIds('checked'),
  })
  .strict()
  .describe('One SLO threshold checked on measured trials.');

/** One knob of a recommendation, as a diff against the settings the run started from. */
export const settingSchema = z
  .object({
    knob: z.string().describe('The knob as the pool library names it, e.g. `max` or `idleTimeoutMillis`.'),
    role: z
      .string()
      .describe(
        'What the knob does: `size`, `idleTimeout`, `connectTimeout`, `readTimeout`, `maxLifetime`, ...',
      ),
    current: knobValue
      .optional()
      .describe('The value the run started from (config or target default), when there was one.'),
    recommended: z.number().describe('The value to ship, in `unit`.'),
    unit: z.string().describe('`ms`, `s`, or empty for a count.'),
    changed: z.boolean().describe('Whether `recommended` differs from `current`.'),
    interval: interval
      .optional()
      .describe(
        "The choice's own uncertainty; for the pool size, the 2.5%–97.5% range of the sizes the rule picks when the repetitions are resampled.",
      ),
    plateau: z
      .object({ low: z.number(), high: z.number() })
      .strict()
      .optional()
      .describe(
        "Pool size only: the plateau's range, the sizes shown to give the best's throughput within the margin.",
      ),
    rule: z.string().describe('The rule that chose the value, with the figures it used.'),
    evidence: trialIds('the value rests on'),
  })
  .strict()
  .describe('One knob of a recommendation, as a diff against the settings the run started from.');

const estimate = z
  .object({ value: z.number(), low: z.number().optional(), high: z.number().optional() })
  .strict()
  .describe('A median, with its 95% bootstrap interval (low .. high) when there were repetitions.');

export const recommendationSchema = z
  .object({
    pool: z.string().describe('The pool, as the target names it.'),
    library: z.string().describe('The pool library, e.g. `node-postgres`.'),
    settings: z.array(settingSchema),
    expectedAtPeak: z
      .object({
        throughput: estimate.describe('Requests per second.'),
        p99Ms: estimate.describe('p99 latency, ms.'),
        errorRate: z.number().describe('Share of requests that failed (0..1).'),
      })
      .strict()
      .optional()
      .describe('Median figures at the peak rate with the recommended settings (95% bootstrap intervals).'),
    gains: z
      .array(
        z
          .object({
            metric: z.enum(['p50Ms', 'p99Ms', 'p999Ms', 'throughput', 'errorRate']),
            before: z.number().describe('Median with the starting settings.'),
            after: z.number().describe('Median with the recommended settings.'),
            change: estimate.describe(
              '(after − before) / before (for errorRate: after − before), with a 95% bootstrap interval when there were repetitions.',
            ),
          })
          .strict(),
      )
      .optional()
      .describe('Recommended against starting settings at the steady rate (steps 2 and 3).'),
    nativeAtPeak: z
      .record(z.string(), z.object({ mean: z.number(), max: z.number() }).strict())
      .optional()
      .describe(
        "The target's own pool figures (`metrics.native`, e.g. pgBouncer's `cl_waiting`) at the peak test: by label, the mean of the peak trials' means and the highest sample.",
      ),
    coresRule: z
      .object({
        cores: z
          .number()
          .describe("The database's cores: its service's cpus quota, or the host's CPU count."),
        source: z.enum(['quota', 'host']),
        rule: z.number().describe("cores × 2: the guide's starting point for a database pool."),
        knee: z.number().describe('The measured knee: the recommended size.'),
        ratio: z.number().describe('knee / rule.'),
        text: z.string(),
      })
      .strict()
      .optional()
      .describe('Database pools only: the measured knee against the "cores × 2" rule.'),
    sizing: z
      .object({
        plateau: z
          .array(z.number())
          .describe('Sizes on the plateau (the best, and those shown equivalent to it).'),
        undecided: z
          .array(z.number())
          .describe('Sizes the equivalence test could not decide at the repetition cap.'),
        best: z.number().nullable().describe('The size with the highest mean throughput.'),
        margin: z
          .number()
          .describe('The equivalence margin used (share): minGain, widened to the noise up to 2x.'),
        noiseCv: z.number().nullable().describe("The pooled trial-to-trial CV of step 4's throughput."),
        resolvable: z
          .number()
          .nullable()
          .describe('The smallest difference two sizes of the base repetitions could show at that noise.'),
        drift: z
          .number()
          .nullable()
          .describe('The largest slow-drift correction applied to a run of step 4 (share); null when none.'),
        otherChoiceShare: z
          .number()
          .nullable()
          .describe('Share of resamples in which the rule picked another size.'),
        outliers: trialIds('flagged as outliers (MAD rule), re-run once and left out of the figures'),
        validations: z
          .array(z.object({ n: z.number(), passed: z.boolean() }).strict())
          .describe('Sizes validated at peak, in order, and whether each held.'),
        needed: z
          .number()
          .nullable()
          .describe('When no validated size held: the size the load would need, from its demand.'),
        restarts: z
          .number()
          .describe("Step 4's trials that followed a change of the size (a service restart)."),
        order: z.string().describe('How the repetitions were ordered.'),
      })
      .strict()
      .optional()
      .describe(
        'How step 4 and step 6 chose the pool size: the plateau, the noise, and the headroom checks.',
      ),
  })
  .strict()
  .describe('The settings to ship for one pool and what to expect from them.');

export const checklistItemSchema = z
  .object({
    id: z.string().describe('Stable identifier, e.g. `timeouts-set`.'),
    title: z.string(),
    status: checkStatus.describe('not-checked: the run has no evidence either way (never a guessed pass).'),
    evidence: z.string().describe('What the run saw, or why the item was not checked.'),
    trials: trialIds('behind the evidence'),
  })
  .strict()
  .describe('One item of the connection-management decision checklist.');

export const riskSchema = z
  .object({
    id: z.string().describe('Stable identifier, e.g. `pg/fleet-budget`.'),
    severity: z.enum(['warn', 'fail']),
    message: z.string(),
    trials: trialIds('behind it'),
  })
  .strict()
  .describe('Something the run found that could hurt in production.');

/**
 * One comparable point: every repetition of the same (scenario, knob values) in a run, with its merged
 * latency histogram, so `pooltune compare` can work from a `summary.json` alone.
 */
export const comparablePointSchema = z
  .object({
    key: z
      .string()
      .describe(
        '`scenario|knob=value,...` with knobs sorted by name: equal keys are comparable across runs.',
      ),
    scenario: z.string(),
    step: z.string().describe('The tuning step that measured it.'),
    knobs: z.record(z.string(), knobValue).describe('The knob values of the point.'),
    trials: trialIds('of its repetitions'),
    throughputs: z.array(z.number()).describe('Requests per second, one per repetition.'),
    p99Ms: z.array(z.number()).describe('p99 latency in ms, one per repetition.'),
    errorRates: z.array(z.number()).describe('Share of requests that failed (0..1), one per repetition.'),
    histogram: z
      .string()
      .describe('Merged HdrHistogram of response latency in µs, compressed and base64-encoded.'),
  })
  .strict()
  .describe('Every repetition of one (scenario, knob values) point, for `pooltune compare`.');

export const regressionSchema = z
  .object({
    baseline: z.string().describe('The baseline run compared with.'),
    regressed: z.boolean(),
    compared: z.number().int().describe('Points comparable between the two runs.'),
    regressions: z.array(z.string()).describe('One line per regressed point.'),
  })
  .strict()
  .describe('The comparison with a baseline run.');

const capacityResultSchema = z
  .object({
    label: z
      .enum(['recommended', 'starting', 'given'])
      .describe('Which settings: the recommended, the starting, or those `pooltune capacity` was given.'),
    knobs: z.record(z.string(), knobValue).describe('The knob values searched at.'),
    capacity: z
      .number()
      .nullable()
      .describe('The highest arrival rate (req/s) that held; null when none did.'),
    validated: z.boolean().describe('True when the longer trial at `capacity` held too.'),
    bracket: z
      .object({ low: z.number().nullable(), high: z.number().nullable() })
      .strict()
      .describe('The highest rate that held and the lowest above it that failed or was invalid.'),
    interval: z
      .object({ low: z.number(), high: z.number() })
      .strict()
      .nullable()
      .describe("The bracket widened by the calibration's run-to-run noise (95%); null unless converged."),
    stoppedBy: z
      .enum(['converged', 'doom', 'generator-limited', 'max-rate', 'budget', 'validation-failed', 'aborted'])
      .describe(
        'Why the search stopped. `generator-limited`: the load generator, not the target, was the limit.',
      ),
    why: z.string(),
    probes: z
      .array(
        z
          .object({
            rate: z.number().describe('Offered arrival rate, req/s.'),
            validation: z.boolean(),
            verdict: z.enum(['pass', 'fail', 'invalid']),
            limit: z.enum(['p99', 'errors', 'sustained', 'generator', 'no-data']).nullable(),
            achieved: z.number().nullable().describe('Completed requests per second.'),
            p99Ms: z.number().nullable(),
            errorRate: z.number().nullable(),
            trial: z.string(),
          })
          .strict(),
      )
      .describe('Every probe in the order run.'),
  })
  .strict();

export const capacitySchema = z
  .object({
    text: z.string().describe('The capacity sentence the report shows.'),
    slo: z.object({ p99Ms: z.number(), errorRate: z.number() }).strict(),
    minSustained: z.number().describe('Completed over offered at or above which a probe kept up (0.97).'),
    resolution: z.number().describe('The bracket the bisection stops at, relative to its top (0.02).'),
    generatorLimited: z
      .boolean()
      .describe('True when the load generator saturated first: this machine cannot find the capacity.'),
    results: z.array(capacityResultSchema),
  })
  .strict()
  .describe('Step 8: the highest arrival rate each setting sustained under the SLO.');

export const runSummarySchema = z
  .object({
    $schema: z.string().optional().describe('The URL of this JSON Schema.'),
    schemaVersion: z.literal(SUMMARY_SCHEMA_VERSION).describe('Bumped by changes that break readers.'),
    runId: z.string().describe('The run directory name, e.g. `20261124-171506-http-pg-zi8t`.'),
    createdAt: z.string().describe('When the run was created, ISO 8601 in UTC.'),
    command: z
      .enum(['tune', 'run', 'capacity'])
      .describe(
        '`tune` (the tuning method), `run` (one configuration) or `capacity` (the capacity search alone).',
      ),
    pooltuneVersion: z.string(),
    target: z
      .object({
        name: z.string(),
        entry: z.string().describe('The service the load was sent to.'),
        services: z.array(z.string()).describe('Every service started, in start order.'),
      })
      .strict()
      .describe('The system under test.'),
    scenario: z.string().describe('The load scenario.'),
    driver: z.string().describe('The load generator: `autocannon`, `arrival-rate` or `k6`.'),
    runtime: z.string().describe('How the services were started, e.g. `process`.'),
    verdict: checkStatus.describe(
      'fail when an SLO check, a checklist item or a risk fails, or a regression was found; warn when one warns.',
    ),
    exitCode: z
      .number()
      .int()
      .describe('The process exit code this run maps to: 0 ok, 3 SLO failed, 4 regression (see the README).'),
    slo: z
      .object({
        p99Ms: z.number().describe('The p99 latency objective, ms.'),
        errorRate: z.number().describe('The highest acceptable share of failed requests (0..1).'),
        status: checkStatus.describe('The worst status of the checks; not-checked when none was made.'),
        checks: z.array(sloCheckSchema),
      })
      .strict()
      .describe('The service-level objective and its checks at the recommended settings.'),
    recommendations: z
      .array(recommendationSchema)
      .describe('One per tuned pool, in the order the method tuned them.'),
    checklist: z.array(checklistItemSchema),
    risks: z.array(riskSchema),
    trials: z
      .object({
        total: z.number().int(),
        completed: z.number().int(),
        invalid: z
          .number()
          .int()
          .describe('Limited by the load generator, not the target: left out of fits.'),
        errored: z.number().int(),
        aborted: z.number().int(),
      })
      .strict()
      .describe('How many trials ran, by outcome.'),
    points: z.array(comparablePointSchema).describe('The comparable points of the run.'),
    capacity: capacitySchema.optional(),
    regression: regressionSchema.optional(),
  })
  .strict()
  .describe('What a pooltune run decided (`summary.json`).');

export type { CheckStatus };
export type SloCheck = z.infer<typeof sloCheckSchema>;
export type Setting = z.infer<typeof settingSchema>;
export type Recommendation = z.infer<typeof recommendationSchema>;
export type ChecklistItem = z.infer<typeof checklistItemSchema>;
export type Risk = z.infer<typeof riskSchema>;
export type ComparablePoint = z.infer<typeof comparablePointSchema>;
export type RegressionSummary = z.infer<typeof regressionSchema>;
export type RunSummary = z.infer<typeof runSummarySchema>;
export type CapacitySummary = z.infer<typeof capacitySchema>;
