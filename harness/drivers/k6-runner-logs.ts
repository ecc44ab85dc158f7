// Pure: the logs of k6-operator runners (`kubectl logs` of each runner pod of a `pooltune k6 manifest`
// TestRun) read back into one DriverResult. Each log holds the runner's `--out json=-` points, its
// summary as one JSON line, and k6's own log lines; the operator tags every point `instance_id=<i>`.
import type { Scenario } from '../../scenarios/scenario.ts';
import { usageError } from '../errors.ts';
import type { DriverResult } from './driver.ts';
import {
  type K6JsonDigest,
  K6JsonReader,
  type K6Summary,
  k6DriverResult,
  mergeK6Digests,
  mergeK6Summaries,
  parseHandleSummary,
} from './k6-results.ts';

/** What one runner's log held. */
export interface K6RunnerLog {
  /** The file it was read from, for messages. */
  readonly file: string;
  readonly digest: K6JsonDigest;
  readonly summary: K6Summary | undefined;
  /** The `instance_id` tags seen (one for a runner's own log). */
  readonly instanceIds: ReadonlySet<string>;
}

const instanceTag = /"instance_id":"(\d+)"/;

/** Reads one runner's log line by line (stream it: a runner at 10k req/s writes ~30 MB/s of points). */
export class K6RunnerLogReader {
  readonly #points = new K6JsonReader();
  readonly #ids = new Set<string>();
  #summary: K6Summary | undefined;

  /** Takes one line of the log. */
  add(line: string): void {
    if (line.startsWith('{"root_group"') || (line.startsWith('{') && line.includes('"testRunDurationMs"'))) {
      this.#summary = summaryOf(line) ?? this.#summary;
      return;
    }
    // Every line is scanned: a file holding two runners' logs would count their load twice.
    const id = instanceTag.exec(line)?.[1];
    if (id !== undefined) this.#ids.add(id);
    this.#points.add(line);
  }

  /** What the lines so far hold, labelled with the file they came from. */
  result(file: string): K6RunnerLog {
    return { file, digest: this.#points.digest(), summary: this.#summary, instanceIds: this.#ids };
  }
}

function summaryOf(line: string): K6Summary | undefined {
  try {
    return parseHandleSummary(line);
  } catch {
    return undefined;
  }
}

/**
 * The runners' logs as one result: their histograms merged (not their percentiles), counts summed. A
 * log without a summary or points, two logs of one runner, or a runner missing between the first and
 * the last is a usage error naming the files: the merge would count load that was not offered as
 * offered, or the other way round. The generator's CPU is unknown (it ran in the cluster): zero.
 */
export function runnerLogsResult(scenario: Scenario, logs: readonly K6RunnerLog[]): DriverResult {
  if (logs.length === 0) {
    throw usageError(
      'no runner logs given',
      'pass one log file per runner: pooltune k6 collect runner-*.log',
    );
  }
  const problems: string[] = [];
  const byId = new Map<string, string>();
  for (const log of logs) {
    if (log.summary === undefined) {
      problems.push(
        `${log.file}: no end-of-test summary (the log was cut off, or is not a pooltune runner's)`,
      );
    }
    if (log.digest.histogram.totalCount === 0) problems.push(`${log.file}: no measured requests`);
    if (log.instanceIds.size > 1) {
      problems.push(`${log.file}: holds several runners (instance_id ${[...log.instanceIds].join(', ')})`);
    }
    for (const id of log.instanceIds) {
      const other = byId.get(id);
      if (other !== undefined)
        problems.push(`${log.file}: runner instance_id ${id} again (also in ${other})`);
      byId.set(id, log.file);
    }
  }
  const ids = [...byId.keys()].map(Number).sort((a, b) => a - b);
  const last = ids.at(-1) ?? 0;
  for (let id = 1; id <= last; id++) {
    if (!byId.has(String(id)))
      problems.push(`runner instance_id ${id} is missing (ids run from 1 to parallelism)`);
  }
  if (problems.length > 0) {
    throw usageError(
      problems.length === 1 ? (problems[0] ?? '') : `runner logs: ${problems.length} problems`,
      "collect every runner pod's whole log once: kubectl logs -f <pod> > runner-<i>.log (see docs/k6-distributed.md)",
      problems.length === 1 ? [] : problems,
    );
  }
  return k6DriverResult({
    scenario,
    summary: mergeK6Summaries(logs.flatMap((log) => (log.summary === undefined ? [] : [log.summary]))),
    digest: mergeK6Digests(logs.map((log) => log.digest)),
    generatorCpu: { userMs: 0, systemMs: 0, share: 0 },
  });
}
