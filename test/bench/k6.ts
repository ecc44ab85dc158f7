import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  createLatencyHistogram,
  encodeHistogram,
  mergeHistograms,
} from '../../harness/analysis/histogram.ts';
import { createK6Driver, k6BinaryEnv } from '../../harness/drivers/k6.ts';
import {
  type FakeK6Request,
  fakeK6Points,
  fakeK6Scenario,
  fakeK6Script,
  writeFakeK6Inputs,
} from '../helpers/fake-k6.ts';
import { system } from '../helpers/system.ts';

/** Requests each stand-in instance hands back, and the requests the merge is timed on. */
const PER_INSTANCE = 50_000;
const MERGED = 1_000_000;

/** A seeded long-tailed latency in ms: most a few ms, a few up to seconds. */
function latencies(count: number, seed: number): number[] {
  let state = seed;
  return Array.from({ length: count }, () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return Math.round(2_000_000 * (state / 2 ** 31) ** 5) / 1000 + 0.1;
  });
}

function requests(count: number, seed: number): FakeK6Request[] {
  return latencies(count, seed).map((ms, i) => ({ stage: i % 2, status: '200', ms }));
}

const time = <T>(run: () => T): { value: T; ms: number } => {
  const started = performance.now();
  const value = run();
  return { value, ms: performance.now() - started };
};

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
};

/**
 * The k6 driver's instances against the stand-in k6 (no real k6 is reachable here): one instance
 * against two, each handing back its own 50k requests, checking that the merged count is the sum; then
 * the time to merge the histograms of 1M requests split over 2 and 8 instances, as a ratio of the time
 * to record the same 1M values into one histogram (the reference, measured in the same run). Asserts nothing.
 */
export async function benchK6(log: (line: string) => void): Promise<Record<string, number>> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pooltune-bench-k6-'));
  try {
    const fake = path.join(dir, 'fake-k6');
    await writeFile(fake, fakeK6Script);
    await chmod(fake, 0o755);
    const inputs = await writeFakeK6Inputs(dir);
    await writeFile(path.join(dir, 'points-0.ndjson'), fakeK6Points(requests(PER_INSTANCE, 1)));
    await writeFile(path.join(dir, 'points-1_2.ndjson'), fakeK6Points(requests(PER_INSTANCE, 2)));
    const driver = (instances: number) =>
      createK6Driver({
        instances,
        env: {
          PATH: process.env.PATH,
          [k6BinaryEnv]: fake,
          K6_FAKE_SUMMARY: inputs.summary,
          K6_FAKE_POINTS: path.join(dir, 'points-{from}.ndjson'),
        },
        tmpDir: dir,
        system,
      });
    const request = { url: 'http://127.0.0.1:9', scenario: fakeK6Scenario, seed: 1 };
    const timedRun = async (instances: number) => {
      const started = performance.now();
      const result = await driver(instances).run({ ...request, signal: new AbortController().signal });
      return { result, ms: performance.now() - started };
    };
    // A first run warms up the script bundling and the JIT for both contestants.
    await timedRun(1);
    const { result: two, ms: twoMs } = await timedRun(2);
    const { result: one, ms: oneMs } = await timedRun(1);
    const sumOk = two.latency.count === 2 * one.latency.count;
    log(
      `stand-in k6 (fixed CPU burn + ${PER_INSTANCE.toLocaleString('en')} requests of points per instance):`,
    );
    log(`  1 instance    ${one.latency.count} requests, ${oneMs.toFixed(0)} ms wall`);
    log(
      `  2 instances   ${two.latency.count} requests (sum of the two: ${sumOk ? 'yes' : 'NO'}), ${twoMs.toFixed(0)} ms wall, CPU ${(two.generatorCpu.share * 100).toFixed(0)}% of a core over ${two.generatorCpu.processes} processes`,
    );

    // Merging costs per bucket, not per request: the instances' histograms of 1M requests merge in
    // about the time of a few thousand recordings.
    const values = latencies(MERGED, 3).map((ms) => Math.max(1, Math.round(ms * 1000)));
    const build = (from: number, to: number) => {
      const histogram = createLatencyHistogram();
      for (let i = from; i < to; i++) histogram.recordValue(values[i] ?? 1);
      return histogram;
    };
    const builds: number[] = [];
    let whole = build(0, 0);
    for (let run = 0; run < 3; run++) {
      const timed = time(() => build(0, MERGED));
      builds.push(timed.ms);
      whole = timed.value;
    }
    const buildMs = median(builds);
    const figures: Record<string, number> = {
      'k6 2 instances merged count = sum': sumOk ? 1 : 0,
      'k6 2 vs 1 instance wall ratio': twoMs / oneMs,
      'k6 1M record into one histogram ms': buildMs,
    };
    log(
      `merging the histograms of ${MERGED.toLocaleString('en')} requests (median of 5; reference: recording them into one, ${buildMs.toFixed(1)} ms):`,
    );
    for (const instances of [2, 8]) {
      const size = MERGED / instances;
      const parts = Array.from({ length: instances }, (_, i) => build(i * size, (i + 1) * size));
      const merges = Array.from({ length: 5 }, () => time(() => mergeHistograms(parts)));
      const mergeMs = median(merges.map((merge) => merge.ms));
      const equal = encodeHistogram(merges[0]?.value ?? whole) === encodeHistogram(whole);
      log(
        `  ${instances} instances   ${mergeMs.toFixed(2)} ms, ${(mergeMs / buildMs).toFixed(4)} of the reference; merge = union: ${equal ? 'yes' : 'NO'}`,
      );
      figures[`k6 merge 1M over ${instances} ms`] = mergeMs;
      figures[`k6 record 1M / merge over ${instances}`] = buildMs / mergeMs;
    }
    return figures;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
