import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { k6ScriptEnv } from '../../harness/drivers/k6.ts';
import { k6Names } from '../../harness/drivers/k6-results.ts';
import type { ClosedScenario } from '../../scenarios/scenario.ts';

// A stand-in for k6, for tests: no k6 binary or image is reachable on these machines (see FACTS.md).

/** A closed scenario of two short stages (2 then 4 connections) the stand-in's outputs fit. */
export const fakeK6Scenario: ClosedScenario = {
  name: 'k6-test-closed',
  description: 'two short stages',
  model: 'closed',
  warmupMs: 500,
  stages: [
    { connections: 2, durationMs: 1_000 },
    { connections: 4, durationMs: 1_000 },
  ],
  requestTimeoutMs: 2_000,
  mix: [
    { name: 'read', method: 'GET', path: '/read', weight: 3 },
    { name: 'write', method: 'POST', path: '/write', weight: 1 },
  ],
};

/** A point line shaped like k6's `--out json` output. */
function point(metric: string, value: number, tags: Record<string, string>): string {
  return JSON.stringify({ metric, type: 'Point', data: { time: '2026-11-24T09:51:15Z', value, tags } });
}

/**
 * A stand-in for the k6 binary: it records its argv, burns a fixed amount of CPU, logs the measure-start
 * marker the way k6's console does, writes the summary and points it is given, and reports its own CPU.
 * K6_FAKE_MODE=hang ignores SIGINT (so only SIGKILL ends it); K6_FAKE_MODE=fail exits 107 like a script error.
 * K6_FAKE_FETCH=1 first GETs the target URL (exit 107 when it cannot); K6_FAKE_REPORT names the report file,
 * K6_FAKE_REPORT_DIR a folder for one report per process (`report-<pid>.json`, for several instances).
 * Given `--execution-segment=FROM:TO`, a `{from}` in K6_FAKE_POINTS becomes FROM with `/` as `_`, so each
 * instance can hand back points of its own; the instance whose segment is K6_FAKE_FAIL_SEGMENT fails.
 */
export const fakeK6Script = `#!${process.execPath}
const fs = require('node:fs');
const args = process.argv.slice(2);
const env = {};
args.forEach((arg, i) => {
  if (arg === '--env') { const [key, ...rest] = args[i + 1].split('='); env[key] = rest.join('='); }
});
const out = args[args.indexOf('--out') + 1].replace(/^json=/, '');
let reported = { args, pid: process.pid, cwd: process.cwd() };
const report = (extra) => {
  reported = { ...reported, ...extra };
  if (process.env.K6_FAKE_REPORT) fs.writeFileSync(process.env.K6_FAKE_REPORT, JSON.stringify(reported));
  if (process.env.K6_FAKE_REPORT_DIR) {
    fs.writeFileSync(process.env.K6_FAKE_REPORT_DIR + '/report-' + process.pid + '.json', JSON.stringify(reported));
  }
};
const segment = (args.find((arg) => arg.startsWith('--execution-segment=')) || '=0:1').split('=')[1];
report({ script: fs.readFileSync(args[args.length - 1], 'utf8').slice(0, 200) });
const marker = () => process.stderr.write('time="2026-01-01T00:00:00Z" level=info msg="${k6Names.measureMarker}" source=console\\n');
if (process.env.K6_FAKE_MODE === 'hang' && process.env.K6_FAKE_FAIL_SEGMENT !== segment) {
  process.on('SIGINT', () => report({ sigint: true }));
  marker();
  setInterval(() => {}, 1000);
} else if (process.env.K6_FAKE_MODE === 'fail' || process.env.K6_FAKE_FAIL_SEGMENT === segment) {
  process.stderr.write('ERRO[0000] SyntaxError: fake script error\\n');
  process.exit(107);
} else (async () => {
  if (process.env.K6_FAKE_FETCH === '1') {
    const res = await fetch(env.${k6ScriptEnv.targetUrl}).catch((error) => {
      process.stderr.write('fetch failed: ' + error.cause?.code + '\\n');
      process.exit(107);
    });
    process.stderr.write('fetched ' + res.status + '\\n');
  }
  let x = 0;
  for (let i = 0; i < 40000000; i++) x = (x * 31 + i) % 1000003;
  marker();
  fs.copyFileSync(process.env.K6_FAKE_SUMMARY, env.${k6ScriptEnv.summaryPath});
  const points = fs.readFileSync(process.env.K6_FAKE_POINTS.replace('{from}', segment.split(':')[0].replace('/', '_')));
  fs.writeFileSync(out, out.endsWith('.gz') ? require('node:zlib').gzipSync(points) : points);
  const cpu = process.cpuUsage();
  report({ x, cpuMs: (cpu.user + cpu.system) / 1000, targetUrl: env.${k6ScriptEnv.targetUrl} });
  process.exit(0);
})();
`;

/** One measured request of the closed scenario, as the stand-in reports it. */
export interface FakeK6Request {
  readonly stage: number;
  readonly status: string;
  readonly ms: number;
  readonly errorCode?: string;
}

const measure = (request: FakeK6Request) => ({
  scenario: `stage_${request.stage}`,
  [k6Names.phaseTag]: 'measure',
  [k6Names.stageTag]: String(request.stage),
  status: request.status,
  ...(request.errorCode === undefined ? {} : { error_code: request.errorCode }),
});

/** `--out json` lines for one warm-up request and then `requests`, each an http_reqs and an http_req_duration point. */
export function fakeK6Points(requests: readonly FakeK6Request[]): string {
  const lines = [
    point('http_reqs', 1, { scenario: 'warmup', [k6Names.phaseTag]: 'warmup', status: '200' }),
    point('http_req_duration', 99, { scenario: 'warmup', [k6Names.phaseTag]: 'warmup', status: '200' }),
    ...requests.flatMap((request) => [
      point('http_reqs', 1, measure(request)),
      point('http_req_duration', request.ms, measure(request)),
      point('http_req_blocked', 0.01, measure(request)),
    ]),
  ];
  return `${lines.join('\n')}\n`;
}

/** The 4 measured requests {@link writeFakeK6Inputs} hands back: 3 ok over both stages, one a timeout. */
export const fakeK6Requests: readonly FakeK6Request[] = [
  { stage: 0, status: '200', ms: 1.5 },
  { stage: 1, status: '200', ms: 2.5 },
  { stage: 1, status: '200', ms: 3.5 },
  { stage: 1, status: '0', ms: 2_000, errorCode: '1050' },
];

/** Writes the k6 summary and points the stand-in hands back: 4 measured requests, one a timeout. */
export async function writeFakeK6Inputs(dir: string): Promise<{ summary: string; points: string }> {
  const files = { summary: path.join(dir, 'summary-in.json'), points: path.join(dir, 'points-in.ndjson') };
  const measured = `{${k6Names.phaseTag}:measure}`;
  const counter = (count: number) => ({ type: 'counter', values: { count, rate: count / 2.5 } });
  await writeFile(
    files.summary,
    JSON.stringify({
      state: { testRunDurationMs: 2_600 },
      metrics: {
        [`http_reqs${measured}`]: counter(4),
        [`iterations${measured}`]: counter(4),
        [`http_req_failed${measured}`]: { type: 'rate', values: { rate: 0.25, passes: 1, fails: 3 } },
      },
    }),
  );
  await writeFile(files.points, fakeK6Points(fakeK6Requests));
  return files;
}
