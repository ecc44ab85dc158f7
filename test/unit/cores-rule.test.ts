import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { coresRule } from '../../harness/analysis/cores-rule.ts';
import { buildChartData } from '../../harness/report/chart-data.ts';
import { CORES_RULE_LABEL, chartSpecs, renderCharts } from '../../harness/report/charts.ts';
import { databaseCores } from '../../harness/report/database-cores.ts';
import { renderReportHtml } from '../../harness/report/html.ts';
import { buildReportView } from '../../harness/report/view-model.ts';
import type { Manifest } from '../../harness/results/manifest.ts';
import { type RunContents, readRun } from '../../harness/results/read-run.ts';
import type { MethodOutcome } from '../../harness/tuning/outcome.ts';

const fixtureDir = fileURLToPath(new URL('../fixtures/runs/tune-http-pg/', import.meta.url));

let run: RunContents;
let analysis: MethodOutcome;
beforeAll(async () => {
  run = await readRun(fixtureDir);
  if (run.analysis === undefined) throw new Error('the tune fixture has no analysis.json');
  analysis = run.analysis;
});

/** The fixture's manifest with its one pool (node-postgres, service `api` → PostgreSQL `db`) changed. */
function withPool(
  pool: Partial<NonNullable<Manifest['target']['pools']>[number]>,
  target: Partial<Manifest['target']> = {},
  rest: Partial<Manifest> = {},
): Manifest {
  const pg = run.manifest.target.pools?.[0];
  if (pg === undefined) throw new Error('the fixture names its pool');
  return {
    ...run.manifest,
    ...rest,
    target: { ...run.manifest.target, ...target, pools: [{ ...pg, ...pool }] },
  };
}

/** Every string anywhere in a chart spec, e.g. the text of its rule labels. */
const specText = (manifest: Manifest) =>
  JSON.stringify(
    chartSpecs(buildReportView(manifest, run.trials, { analysis })).find((c) => c.id === 'throughput')?.spec,
  );

describe('coresRule', () => {
  it('puts the knee against cores × 2, with the ratio', () => {
    expect(coresRule(2, 3)).toEqual({
      cores: 2,
      source: 'host',
      rule: 4,
      knee: 3,
      ratio: 0.75,
      text: "the guide's starting point cores × 2 = 4 (2 CPUs: the host's); the measured knee is 3 (0.75×)",
    });
  });

  it('names a quota as the source, and writes fractions short', () => {
    const rule = coresRule(1.5, 7, 'quota');
    expect(rule.rule).toBe(3);
    expect(rule.ratio).toBeCloseTo(7 / 3, 10);
    expect(rule.text).toBe(
      "the guide's starting point cores × 2 = 3 (1.5 CPUs: the database service's cpus quota); the measured knee is 7 (2.33×)",
    );
    expect(coresRule(1, 2).text).toContain('(1 CPU: ');
    expect(coresRule(1, 2).ratio).toBe(1);
  });
});

describe('databaseCores', () => {
  it("takes the host's CPUs for a database pool under the process runtime, even with a quota set", () => {
    const services = {
      db: { kind: 'postgres', dependsOn: [], cpus: 1.5 },
      api: { kind: 'process', dependsOn: ['db'] },
    };
    expect(databaseCores(withPool({}, { serviceKinds: services }), 'pg')).toEqual({
      cores: 2,
      source: 'host',
    });
  });

  it("takes the database's quota under the container runtime, through a pooler in between", () => {
    const services = {
      db: { kind: 'postgres', dependsOn: [], cpus: 1.5 },
      bouncer: { kind: 'process', dependsOn: ['db'] },
      api: { kind: 'process', dependsOn: ['bouncer'] },
    };
    const manifest = withPool({}, { serviceKinds: services }, { runtime: 'container' });
    expect(databaseCores(manifest, 'pg')).toEqual({ cores: 1.5, source: 'quota' });
  });

  it('counts a generic pool whose service depends on PostgreSQL, but not an HTTP pool', () => {
    expect(databaseCores(withPool({ library: 'generic' }), 'pg')).toEqual({ cores: 2, source: 'host' });
    const http = { db: { kind: 'postgres', dependsOn: [] }, api: { kind: 'process', dependsOn: [] } };
    expect(databaseCores(withPool({ library: 'undici' }, { serviceKinds: http }), 'pg')).toBeUndefined();
    expect(databaseCores(withPool({ library: 'haproxy' }, { serviceKinds: http }), 'pg')).toBeUndefined();
    expect(databaseCores(run.manifest, 'no-such-pool')).toBeUndefined();
  });
});

describe('the knee against cores × 2 in the report', () => {
  it('draws a rule at cores × 2 on the throughput chart of a database pool', async () => {
    const data = buildChartData(run.manifest, run.trials, analysis);
    // The fixture ran on 2 CPUs and recommends 12 connections.
    expect(data.poolSize[0]?.coresRule).toMatchObject({ cores: 2, rule: 4, knee: 12, ratio: 3 });
    expect(specText(run.manifest)).toContain(`"${CORES_RULE_LABEL} = 4"`);
    const view = buildReportView(run.manifest, run.trials, { analysis });
    const throughput = (await renderCharts(view)).find((c) => c.id === 'throughput');
    expect(throughput?.svg).toContain('cores × 2 = 4');
    expect(throughput?.warnings).toEqual([]);
  });

  it('states it in the grow step of the page', () => {
    const view = buildReportView(run.manifest, run.trials, { analysis });
    const text =
      "the guide's starting point cores × 2 = 4 (2 CPUs: the host's); the measured knee is 12 (3×)";
    expect(view.method?.steps.find((s) => s.number === 4)?.coresRule).toBe(text);
    expect(view.method?.steps.filter((s) => s.coresRule !== null)).toHaveLength(1);
    expect(renderReportHtml(view, [])).toContain(
      `<strong>Cores × 2:</strong> ${text.replaceAll("'", '&#x27;').replaceAll('=', '&#x3D;')}.`,
    );
  });

  it('draws no rule and states nothing for an HTTP pool', () => {
    const http = withPool(
      { library: 'undici' },
      { serviceKinds: { api: { kind: 'process', dependsOn: [] } } },
    );
    expect(buildChartData(http, run.trials, analysis).poolSize[0]?.coresRule).toBeNull();
    expect(specText(http)).not.toContain(CORES_RULE_LABEL);
    const view = buildReportView(http, run.trials, { analysis });
    expect(view.method?.steps.every((s) => s.coresRule === null)).toBe(true);
  });

  it('draws no rule when cores × 2 lies outside the sizes measured', () => {
    const big = { ...run.manifest, environment: { ...run.manifest.environment, cpus: 64 } };
    expect(buildChartData(big, run.trials, analysis).poolSize[0]?.coresRule?.rule).toBe(128);
    expect(specText(big)).not.toContain(CORES_RULE_LABEL);
  });
});
