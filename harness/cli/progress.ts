import cliProgress from 'cli-progress';
import type { OutStream } from '../host/host.ts';
import type { TrialKey, TrialResult } from '../results/trial.ts';
import type { Progress } from '../tuning/progress.ts';

/** `max=4 idleTimeoutMillis=10000` — only the knobs that differ from the plan's fixed values. */
export function describeKnobs(key: TrialKey, fixed: Readonly<Record<string, unknown>>): string {
  const changed = Object.entries(key.knobs).filter(([name, value]) => fixed[name] !== value);
  return (changed.length > 0 ? changed : Object.entries(key.knobs).slice(0, 1))
    .map(([n, v]) => `${n}=${v}`)
    .join(' ');
}

/** One line about a finished trial: status and headline figures. */
export function describeResult(result: TrialResult): string {
  if (result.status === 'errored') return `errored: ${result.error}`;
  if (result.status === 'aborted') return `aborted: ${result.reason}`;
  const { client } = result;
  const figures = `${client.throughput.toFixed(0)} req/s, p50 ${client.latency.p50.toFixed(1)} ms, p99 ${client.latency.p99.toFixed(1)} ms`;
  const errors = Object.values(client.errors).reduce((sum, n) => sum + n, 0);
  const waiting =
    result.server.pool?.waitingMax === undefined ? '' : `, pool waiting max ${result.server.pool.waitingMax}`;
  return `${result.status === 'invalid' ? `invalid (${result.reason}): ` : ''}${figures}, ${errors} errors${waiting}`;
}

/** Plain log lines: for CI, pipes and `CI=true`. */
export function lineProgress(
  out: OutStream,
  fixed: Readonly<Record<string, unknown>>,
  now: () => Date,
): Progress {
  let total = 0;
  const stamp = () => now().toISOString().slice(11, 19);
  return {
    begin(count, runDir) {
      total = count;
      out.write(`${stamp()} run ${runDir}: ${count} trials\n`);
    },
    expect(count) {
      total = count;
    },
    trialStart(index, key) {
      out.write(`${stamp()} [${index + 1}/${total}] ${key.id} ${describeKnobs(key, fixed)} ...\n`);
    },
    trialEnd(index, result) {
      out.write(`${stamp()} [${index + 1}/${total}] ${result.id} ${describeResult(result)}\n`);
    },
    log(line) {
      out.write(`${stamp()} ${line}\n`);
    },
    end() {},
  };
}

/** A progress bar with the current trial, elapsed time and ETA: for a person at a terminal. */
export function barProgress(out: OutStream, fixed: Readonly<Record<string, unknown>>): Progress {
  const bar = new cliProgress.SingleBar(
    {
      format: ' {bar} {value}/{total} trials | {trial} | elapsed {duration_formatted} | ETA {eta_formatted}',
      hideCursor: true,
      clearOnComplete: false,
      stream: {
        write: (text: string) => out.write(text),
        isTTY: true,
        columns: out.columns,
      } as unknown as NodeJS.WritableStream,
      etaBuffer: 4,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    begin(count, runDir) {
      out.write(`run ${runDir}\n`);
      bar.start(count, 0, { trial: 'starting' });
      started = true;
    },
    expect(count) {
      bar.setTotal(count);
    },
    trialStart(_index, key) {
      bar.update({ trial: `${key.id} ${describeKnobs(key, fixed)}` });
    },
    trialEnd(_index, result) {
      bar.increment(1, {
        trial: `${result.id} ${describeResult(result)}`.slice(0, Math.max(20, out.columns - 70)),
      });
    },
    log(line) {
      if (!started) out.write(`${line}\n`);
    },
    end() {
      if (started) bar.stop();
    },
  };
}
