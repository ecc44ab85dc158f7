import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { k6ScriptEnv } from '../../harness/drivers/k6.ts';
import { k6Names } from '../../harness/drivers/k6-results.ts';
import { buildK6Script, k6ScriptSource } from '../../harness/drivers/k6-script.ts';
import { burst } from '../../scenarios/burst.ts';
import { idleGaps } from '../../scenarios/idle-gaps.ts';
import { ramp } from '../../scenarios/ramp.ts';
import { saturate } from '../../scenarios/saturate.ts';
import type { OpenScenario, Scenario } from '../../scenarios/scenario.ts';
import { steady } from '../../scenarios/steady.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const url = 'http://127.0.0.1:40123';

/**
 * Type-checks generated k6 TypeScript with the project's compiler options, but without Node's types:
 * inside k6 there is no `process` or `Buffer`, only @types/k6 and the console k6 provides.
 */
function typeCheck(source: string): string[] {
  const parsed = ts.parseJsonConfigFileContent(
    ts.readConfigFile(path.join(root, 'tsconfig.json'), ts.sys.readFile).config,
    ts.sys,
    root,
  );
  const options: ts.CompilerOptions = { ...parsed.options, types: [] };
  // Beside the template, so its relative imports resolve as they do for esbuild.
  const script = path.join(root, 'scenarios/k6/generated.k6.ts');
  const runtime = path.join(root, 'scenarios/k6/k6-runtime.d.ts');
  const virtual = new Map([
    [script, source],
    [runtime, 'declare var console: { log(...data: unknown[]): void; warn(...data: unknown[]): void };'],
  ]);
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.getSourceFile = (fileName, language, ...rest) => {
    const text = virtual.get(fileName);
    return text === undefined
      ? getSourceFile.call(host, fileName, language, ...rest)
      : ts.createSourceFile(fileName, text, language);
  };
  host.fileExists = (fileName) => virtual.has(fileName) || fileExists.call(host, fileName);
  host.readFile = (fileName) => virtual.get(fileName) ?? readFile.call(host, fileName);
  const program = ts.createProgram({ rootNames: [script, runtime], options, host });
  return ts
    .getPreEmitDiagnostics(program)
    .map(
      (diagnostic) =>
        `${diagnostic.file?.fileName ?? ''}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`,
    );
}

describe('generated k6 TypeScript', () => {
  it('type-checks against @types/k6 for a closed and an open scenario', async () => {
    for (const scenario of [saturate, steady, burst]) {
      const source = await k6ScriptSource(scenario, url, { seed: 1 });
      expect(source).toContain(`const POOLTUNE_PLAN: K6Plan = {`);
      expect(source).not.toMatch(/^declare const POOLTUNE_PLAN/m);
      expect(typeCheck(source)).toEqual([]);
    }
  });

  it('fails the check on wrong scripts (so the check is real)', async () => {
    const source = await k6ScriptSource(saturate, url, { seed: 1 });
    // A scenario that does not fit pooltune's types.
    expect(typeCheck(source.replace('"model": "closed"', '"model": "closd"')).join('\n')).toMatch(/closd/);
    // k6 options that do not fit @types/k6: an arrival-rate executor needs preAllocatedVUs.
    const executor = `{ executor: 'constant-arrival-rate', rate: 50, duration: '1s' }`;
    const wrongExecutor = `${source}\nexport const broken: Options = { scenarios: { x: ${executor} } };\n`;
    expect(typeCheck(wrongExecutor).join('\n')).toMatch(/preAllocatedVUs/);
    // A k6 API misused.
    expect(typeCheck(`${source}\nhttp.request('GET', 42);\n`).join('\n')).toMatch(/HttpURL/);
    // A Node API, which k6 does not have.
    expect(typeCheck(`${source}\nconst leaked = process.env.HOME;\n`).join('\n')).toMatch(/process/);
  });
});

interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly body: unknown;
  readonly params: { timeout?: string; tags?: Record<string, string> };
}

/** What the stub k6 modules share with the test. */
interface StubState {
  requests: RecordedRequest[];
  scenario: { name: string; iterationInTest: number };
  vu: { idInTest: number };
}

/** The exports k6 reads from a script. */
interface ScriptModule {
  readonly options: {
    scenarios: Record<string, Record<string, unknown>>;
    thresholds: Record<string, string[]>;
    summaryTrendStats: string[];
    systemTags: string[];
  };
  readonly default: () => void;
  readonly handleSummary: (data: Record<string, unknown>) => Record<string, string>;
}

const stubs = globalThis as unknown as { __k6stub: StubState; __ENV: Record<string, string> };
let dir = '';
let loaded = 0;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pooltune-k6-script-test-'));
  const k6 = path.join(dir, 'node_modules', 'k6');
  await mkdir(k6, { recursive: true });
  await writeFile(
    path.join(k6, 'package.json'),
    JSON.stringify({
      name: 'k6',
      type: 'module',
      exports: { '.': './index.js', './http': './http.js', './execution': './execution.js' },
    }),
  );
  await writeFile(path.join(k6, 'index.js'), 'export function check() { return true; }\n');
  await writeFile(
    path.join(k6, 'http.js'),
    'export function request(method, url, body, params) { globalThis.__k6stub.requests.push({ method, url, body, params }); }\n' +
      'export default { request };\n',
  );
  await writeFile(
    path.join(k6, 'execution.js'),
    'export default { get scenario() { return globalThis.__k6stub.scenario; }, get vu() { return globalThis.__k6stub.vu; } };\n',
  );
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Bundles the script for `scenario` and loads it in Node with stub k6 modules, as k6 would load it. */
async function load(scenario: Scenario, env: Record<string, string> = {}, seed = 42): Promise<ScriptModule> {
  const js = await buildK6Script(scenario, url, { seed });
  const file = path.join(dir, `script-${loaded++}.mjs`);
  await writeFile(file, js);
  stubs.__ENV = env;
  stubs.__k6stub = { requests: [], scenario: { name: 'warmup', iterationInTest: 0 }, vu: { idInTest: 1 } };
  return (await import(pathToFileURL(file).href)) as ScriptModule;
}

describe('bundled k6 script', () => {
  it('is plain JavaScript that imports only k6 modules', async () => {
    for (const scenario of [saturate, steady, ramp]) {
      const js = await buildK6Script(scenario, url, { seed: 42 });
      const imports = [...js.matchAll(/^\s*import\b[^'"]*['"]([^'"]+)['"]/gm)].map((match) => match[1]);
      expect(new Set(imports)).toEqual(new Set(['k6/execution', 'k6/http']));
      expect(js).not.toMatch(/\brequire\(|import\(/);
      // No TypeScript left: no type annotations on the plan or the options.
      expect(js).not.toMatch(/POOLTUNE_PLAN:|options:\s*Options|\binterface\b/);
      expect(js).toMatch(/export\s*\{[^}]*\boptions\b/);
      expect(js).toMatch(/export\s*\{[^}]*\bhandleSummary\b/);
      expect(js).toContain(`"url": "${url}"`);
    }
  });

  it('maps closed stages to constant-vus scenarios back to back, warm-up apart', async () => {
    const { options } = await load(saturate);
    const gracefulStop = '10000ms';
    expect(options.scenarios).toEqual({
      warmup: {
        executor: 'constant-vus',
        vus: 8,
        duration: '2000ms',
        gracefulStop,
        tags: { [k6Names.phaseTag]: 'warmup' },
      },
      stage_0: {
        executor: 'constant-vus',
        vus: 8,
        duration: '3000ms',
        startTime: '2000ms',
        gracefulStop,
        tags: { [k6Names.phaseTag]: 'measure', [k6Names.stageTag]: '0' },
      },
      stage_1: {
        executor: 'constant-vus',
        vus: 16,
        duration: '3000ms',
        startTime: '5000ms',
        gracefulStop,
        tags: { [k6Names.phaseTag]: 'measure', [k6Names.stageTag]: '1' },
      },
      stage_2: {
        executor: 'constant-vus',
        vus: 32,
        duration: '6000ms',
        startTime: '8000ms',
        gracefulStop,
        tags: { [k6Names.phaseTag]: 'measure', [k6Names.stageTag]: '2' },
      },
    });
    // The sub-metrics the parser reads exist, under the names it uses.
    const measured = `{${k6Names.phaseTag}:measure}`;
    expect(Object.keys(options.thresholds)).toEqual(
      expect.arrayContaining([
        `http_reqs${measured}`,
        `http_req_duration${measured}`,
        `http_req_failed${measured}`,
        `iterations${measured}`,
        `http_reqs{${k6Names.stageTag}:2}`,
        `http_req_duration{${k6Names.stageTag}:0}`,
      ]),
    );
    expect(options.summaryTrendStats).toEqual(expect.arrayContaining(['p(99)', 'p(99.9)', 'med', 'max']));
    expect(options.systemTags).toContain('scenario');
  });

  it('maps poisson (approximated) and constant arrivals to constant-arrival-rate with maxVUs = maxInFlight', async () => {
    const { options } = await load(steady);
    expect(options.scenarios).toEqual({
      warmup: {
        executor: 'constant-arrival-rate',
        rate: 200,
        timeUnit: '1s',
        duration: '2000ms',
        preAllocatedVUs: 20,
        maxVUs: 1000,
        gracefulStop: '10000ms',
        tags: { [k6Names.phaseTag]: 'warmup' },
      },
      [k6Names.measureScenario]: {
        executor: 'constant-arrival-rate',
        rate: 200,
        timeUnit: '1s',
        duration: '10000ms',
        startTime: '2000ms',
        preAllocatedVUs: 20,
        maxVUs: 1000,
        gracefulStop: '10000ms',
        tags: { [k6Names.phaseTag]: 'measure' },
      },
    });
    expect(options.thresholds).toHaveProperty([`dropped_iterations{scenario:${k6Names.measureScenario}}`]);
  });

  it('keeps fractional rates exact with a longer timeUnit', async () => {
    const slow: OpenScenario = { ...steady, arrival: { kind: 'constant', rate: 2.5 }, maxInFlight: 3 };
    const measure = (await load(slow)).options.scenarios[k6Names.measureScenario];
    expect(measure).toMatchObject({ rate: 25, timeUnit: '10s', preAllocatedVUs: 1, maxVUs: 3 });
  });

  it('maps ramp to one ramping-arrival-rate stage', async () => {
    const measure = (await load(ramp)).options.scenarios[k6Names.measureScenario];
    expect(measure).toMatchObject({
      executor: 'ramping-arrival-rate',
      startRate: 50,
      timeUnit: '1s',
      stages: [{ target: 1000, duration: '15000ms' }],
      startTime: '1000ms',
      preAllocatedVUs: 100,
      maxVUs: 2000,
    });
  });

  it('maps bursts and idle gaps to instant jumps and holds that add up to the duration', async () => {
    const bursty = (await load(burst)).options.scenarios[k6Names.measureScenario];
    expect(bursty).toMatchObject({ executor: 'ramping-arrival-rate', startRate: 800 });
    const jump = (target: number) => ({ target, duration: '0s' });
    const hold = (target: number, ms: number) => ({ target, duration: `${ms}ms` });
    const cycle = [hold(800, 1000), jump(100), hold(100, 3000)];
    expect(bursty?.stages).toEqual([...cycle, jump(800), ...cycle, jump(800), ...cycle]);

    const gaps = (await load(idleGaps)).options.scenarios[k6Names.measureScenario];
    expect(gaps).toMatchObject({ startRate: 200 });
    const active = [hold(200, 2000), jump(0), hold(0, 3000)];
    expect(gaps?.stages).toEqual([...active, jump(200), ...active, jump(200), ...active]);
  });

  it('sends the mix by weight with the scenario timeout, to the URL from env when given', async () => {
    const script = await load(saturate, { [k6ScriptEnv.targetUrl]: 'http://127.0.0.1:9/' });
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const state = stubs.__k6stub;
    const total = 20_000;
    for (let i = 0; i < total; i++) {
      state.scenario = { name: i < 100 ? 'warmup' : 'stage_0', iterationInTest: i < 100 ? i : i - 100 };
      script.default();
    }
    // The measured window's first iteration marks its start, once.
    expect(log.mock.calls).toEqual([[k6Names.measureMarker]]);
    log.mockRestore();
    const byName = new Map<string, number>();
    for (const sent of state.requests) {
      byName.set(sent.params.tags?.name ?? '', (byName.get(sent.params.tags?.name ?? '') ?? 0) + 1);
    }
    for (const spec of saturate.mix) {
      expect((byName.get(spec.name) ?? 0) / total).toBeCloseTo(spec.weight / 100, 1);
    }
    const write = state.requests.find((sent) => sent.method === 'POST');
    expect(write).toMatchObject({
      url: 'http://127.0.0.1:9/write',
      body: '',
      params: { timeout: '10000ms' },
    });
    const read = state.requests.find((sent) => sent.method === 'GET');
    expect(read?.body).toBeNull();
  });

  it('sends to the generated URL by default, the same mix for the same seed and another for another', async () => {
    const urls = async (seed: number): Promise<string[]> => {
      const script = await load(steady, {}, seed);
      for (let i = 0; i < 50; i++) script.default();
      return stubs.__k6stub.requests.map((sent) => sent.url);
    };
    const once = await urls(7);
    expect(once[0]).toMatch(/^http:\/\/127\.0\.0\.1:40123\/[a-z]+$/);
    expect(await urls(7)).toEqual(once);
    expect(await urls(8)).not.toEqual(once);
  });

  it('writes the summary data to the path named by env', async () => {
    const withPath = await load(steady, { [k6ScriptEnv.summaryPath]: '/tmp/x/summary.json' });
    const data = { metrics: { http_reqs: { values: { count: 1 } } } };
    expect(withPath.handleSummary(data)).toEqual({ '/tmp/x/summary.json': JSON.stringify(data) });
    const withoutPath = await load(steady);
    expect(withoutPath.handleSummary(data)).toEqual({ stdout: `${JSON.stringify(data)}\n` });
  });
});
