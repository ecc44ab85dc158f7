import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { JsHistogram } from 'hdr-histogram-js';
import {
  createLatencyHistogram,
  decodeHistogram,
  encodeHistogram,
} from '../../harness/analysis/histogram.ts';
import type { LatencySummary } from '../../harness/drivers/driver.ts';
import type { Manifest } from '../../harness/results/manifest.ts';
import type { TrialResult } from '../../harness/results/trial.ts';

/** How much worse the planted copy is. */
export interface PlantOptions {
  /** Every latency is multiplied by this (1.5: 50% slower). */
  readonly latencyFactor?: number;
  /** Every throughput is multiplied by this (0.8: 20% less). */
  readonly throughputFactor?: number;
  /** Appended to the copy's run id, so the two runs are told apart. */
  readonly suffix?: string;
}

/**
 * Copies a run directory to `to` and plants a regression in the copy: every measured trial's latency
 * histogram has each value scaled by `latencyFactor` (re-encoded), its latency figures likewise, and
 * its throughput scaled by `throughputFactor`. The copy gets its own run id. Resolves to `to`.
 */
export async function plantRegression(from: string, to: string, options: PlantOptions = {}): Promise<string> {
  const latency = options.latencyFactor ?? 1.5;
  const throughput = options.throughputFactor ?? 0.8;
  await cp(from, to, { recursive: true });
  const trialsFile = path.join(to, 'trials.jsonl');
  const lines = (await readFile(trialsFile, 'utf8')).split('\n').filter((line) => line.trim() !== '');
  const planted = lines.map((line) =>
    JSON.stringify(plantTrial(JSON.parse(line) as TrialResult, latency, throughput)),
  );
  await writeFile(trialsFile, `${planted.join('\n')}\n`);
  const manifestFile = path.join(to, 'manifest.json');
  const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as Manifest;
  await writeFile(
    manifestFile,
    `${JSON.stringify({ ...manifest, runId: `${manifest.runId}${options.suffix ?? '-planted'}` }, null, 2)}\n`,
  );
  return to;
}

function plantTrial(trial: TrialResult, latency: number, throughput: number): TrialResult {
  if (trial.status !== 'completed' && trial.status !== 'invalid') return trial;
  const client = trial.client as typeof trial.client & {
    stages?: { throughput: number; latency: LatencySummary }[];
  };
  return {
    ...trial,
    client: {
      ...client,
      throughput: client.throughput * throughput,
      latency: scaleSummary(client.latency, latency),
      histogram: scaleHistogram(client.histogram, latency),
      ...(client.stages === undefined
        ? {}
        : {
            stages: client.stages.map((stage) => ({
              ...stage,
              throughput: stage.throughput * throughput,
              latency: scaleSummary(stage.latency, latency),
            })),
          }),
    },
  };
}

function scaleSummary(summary: LatencySummary, factor: number): LatencySummary {
  return {
    ...summary,
    mean: summary.mean * factor,
    min: summary.min * factor,
    p50: summary.p50 * factor,
    p90: summary.p90 * factor,
    p99: summary.p99 * factor,
    p999: summary.p999 * factor,
    max: summary.max * factor,
  };
}

/** Every recorded value times `factor`, counts kept. */
export function scaleHistogram(encoded: string, factor: number): string {
  const source = decodeHistogram(encoded);
  if (!(source instanceof JsHistogram)) throw new Error('expected a JS histogram from decodeHistogram');
  const scaled = createLatencyHistogram();
  const values = source.recordedValuesIterator;
  values.reset();
  while (values.hasNext()) {
    const step = values.next();
    scaled.recordValueWithCount(Math.round(step.valueIteratedTo * factor), step.countAtValueIteratedTo);
  }
  return encodeHistogram(scaled);
}
