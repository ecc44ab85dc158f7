import type { ChecklistItem, Risk, RunSummary, SloCheck } from '../../harness/report/summary-schema.ts';

/** An SLO check of pool `pg` at peak, passing unless overridden. */
export function sloCheck(overrides: Partial<SloCheck> = {}): SloCheck {
  return {
    id: 'pg/peak@1500/p99',
    pool: 'pg',
    scenario: 'peak@1500',
    metric: 'p99',
    name: 'peak@1500: p99 <= 250 ms',
    threshold: 250,
    observed: 22.7,
    unit: 'ms',
    status: 'pass',
    detail: 'p99 22.7 ms',
    trials: ['t040', 't041', 't042'],
    ...overrides,
  };
}

/** A checklist item, passing unless overridden. */
export function checklistItem(overrides: Partial<ChecklistItem> = {}): ChecklistItem {
  return {
    id: 'timeouts-set',
    title: 'Timeouts set (connect, read, idle)',
    status: 'pass',
    evidence: 'pg: connect: connectionTimeoutMillis = 250 ms',
    trials: ['t039'],
    ...overrides,
  };
}

/** A risk, warning unless overridden. */
export function risk(overrides: Partial<Risk> = {}): Risk {
  return {
    id: 'pg/fleet-budget',
    severity: 'warn',
    message: 'pg: the fleet fits with little headroom (4 connections)',
    trials: [],
    ...overrides,
  };
}

/**
 * A valid `summary.json` of a passing one-pool tune (three SLO checks, two checklist items of which one
 * is not checked, no risks, no regression), shaped like the bundled target's; override what a test needs.
 */
export function runSummary(overrides: Partial<RunSummary> = {}): RunSummary {
  return {
    $schema: 'https://pooltune.dev/schema/summary.schema.json',
    schemaVersion: 1,
    runId: '20261124-171506-http-pg-zi8t',
    createdAt: '2026-11-24T17:15:06.175Z',
    command: 'tune',
    pooltuneVersion: '0.1.0',
    target: { name: 'http-pg', entry: 'api', services: ['db', 'api'] },
    scenario: 'saturate',
    driver: 'autocannon',
    runtime: 'process',
    verdict: 'pass',
    exitCode: 0,
    slo: {
      p99Ms: 250,
      errorRate: 0.01,
      status: 'pass',
      checks: [
        sloCheck(),
        sloCheck({
          id: 'pg/peak@1500/errorRate',
          metric: 'errorRate',
          name: 'peak@1500: error rate <= 1.00%',
          threshold: 0.01,
          observed: 0,
          unit: 'ratio',
          detail: 'error rate 0.000%',
        }),
        sloCheck({
          id: 'pg/peak@1500/poolUse',
          metric: 'poolUse',
          name: 'peak@1500: pool use < 80% of max',
          threshold: 0.8,
          observed: 0.67,
          unit: 'ratio',
          detail: 'pool use peaked at 67% of max',
        }),
      ],
    },
    recommendations: [
      {
        pool: 'pg',
        library: 'node-postgres',
        settings: [
          {
            knob: 'max',
            role: 'size',
            current: 10,
            recommended: 12,
            unit: '',
            changed: true,
            interval: { low: 11, high: 12 },
            rule: 'the USL fit comes within 5% of its maximum at 12',
            evidence: ['t004', 't005'],
          },
          {
            knob: 'idleTimeoutMillis',
            role: 'idleTimeout',
            current: 4500,
            recommended: 4500,
            unit: 'ms',
            changed: false,
            rule: 'smallest timeout with churn within 25% of never closing',
            evidence: ['t031'],
          },
        ],
        expectedAtPeak: {
          throughput: { value: 1493.7, low: 1488.7, high: 1506.7 },
          p99Ms: { value: 22.7, low: 14.9, high: 91 },
          errorRate: 0,
        },
        gains: [
          {
            metric: 'throughput',
            before: 304,
            after: 310.7,
            change: { value: 0.022, low: -0.016, high: 0.062 },
          },
          { metric: 'p99Ms', before: 13.4, after: 12.4, change: { value: -0.072 } },
        ],
      },
    ],
    checklist: [
      checklistItem(),
      checklistItem({
        id: 'draining',
        title: 'Draining during deployments',
        status: 'not-checked',
        evidence: 'not probed',
        trials: [],
      }),
    ],
    risks: [],
    trials: { total: 48, completed: 48, invalid: 0, errored: 0, aborted: 0 },
    points: [],
    ...overrides,
  };
}
