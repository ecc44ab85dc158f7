import { type ChildProcess, spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { ExitCode, PooltuneError, usageError } from '../errors.ts';
import type { HostSystem, Kill } from '../host/host.ts';
import { loopbackTarget } from '../loopback.ts';
import { findOnPath, isExecutableFile } from '../runtime/executables.ts';
import type { Driver, DriverRequest, DriverResult, GeneratorCpu } from './driver.ts';
import { followContainerCpu, k6DockerArgs, k6ImageEnv, removeK6Container } from './k6-image.ts';
import {
  type K6JsonDigest,
  K6JsonReader,
  type K6Summary,
  k6DriverResult,
  k6Names,
  mergeK6Digests,
  mergeK6Summaries,
  parseHandleSummary,
} from './k6-results.ts';
import { buildK6Script } from './k6-script.ts';
import { executionSegments, segmentFlags } from './k6-segments.ts';

/** Environment variables as the driver sees them (passed in, never read at import time). */
export type K6Env = Readonly<Record<string, string | undefined>>;

/** Env var naming the k6 binary; without it `k6` is looked up on PATH. */
export const k6BinaryEnv = 'POOLTUNE_K6';

/** Env vars the generated script reads (set with `k6 run --env`). */
export const k6ScriptEnv = {
  targetUrl: 'POOLTUNE_TARGET_URL',
  summaryPath: 'POOLTUNE_SUMMARY_PATH',
} as const;

/** How long k6 gets after SIGINT (it stops starting iterations and writes its summary) before SIGKILL. */
const defaultGraceMs = 3_000;

/** Lines of k6's stderr kept for error messages. */
const tailLines = 30;

/**
 * The k6 binary to run: `POOLTUNE_K6` when set (it must be an executable file), else the first `k6` on
 * PATH, else undefined.
 */
export function findK6(env: K6Env): string | undefined {
  const named = env[k6BinaryEnv];
  if (named !== undefined && named !== '') {
    if (!isExecutableFile(named)) {
      throw usageError(
        `${k6BinaryEnv}=${named} is not an executable file`,
        `point ${k6BinaryEnv} at a k6 binary, or unset it to look k6 up on PATH`,
      );
    }
    return path.resolve(named);
  }
  return findOnPath('k6', env.PATH);
}

/** How k6 is started: a local binary, or an image on a Docker engine through the docker CLI. */
export type K6Launch =
  | { readonly kind: 'binary'; readonly binary: string }
  | { readonly kind: 'image'; readonly image: string; readonly docker: string };

/**
 * How to run k6: the image in `POOLTUNE_K6_IMAGE` when set (it needs the docker CLI), else the binary
 * `findBinary` finds, else undefined.
 */
export function findK6Launch(
  env: K6Env,
  findBinary: (env: K6Env) => string | undefined = findK6,
): K6Launch | undefined {
  const image = env[k6ImageEnv];
  if (image !== undefined && image !== '') {
    const docker = findOnPath('docker', env.PATH);
    if (docker === undefined) {
      throw usageError(
        `${k6ImageEnv}=${image} needs the docker CLI, which is not on PATH`,
        `install Docker (Debian: apt-get install docker.io), or unset ${k6ImageEnv} to use a k6 binary`,
      );
    }
    return { kind: 'image', image, docker };
  }
  const binary = findBinary(env);
  return binary === undefined ? undefined : { kind: 'binary', binary };
}

/** The error `run` throws when there is no k6 binary. */
export function k6NotFound(): PooltuneError {
  return usageError(
    'k6 was not found: the k6 driver needs the k6 binary',
    `install k6 from https://github.com/grafana/k6/releases (it is not an npm package), or set ${k6BinaryEnv} ` +
      `to the path of a k6 binary, or ${k6ImageEnv} to a local k6 image (e.g. grafana/k6), ` +
      'or pick another driver with `--driver autocannon|arrival-rate`',
  );
}

/** Dependencies of the k6 driver, from the host; tests pass their own. */
export interface K6DriverOptions {
  /** Environment for the binary lookup and for k6 itself. */
  readonly env: K6Env;
  /** Finds the binary; defaults to {@link findK6}. */
  readonly findBinary?: (env: K6Env) => string | undefined;
  /** Where the per-run temp dir goes (the OS temp dir). */
  readonly tmpDir: string;
  /**
   * Signals k6's process group when the run is aborted; the user k6's container runs as (so the files it
   * writes stay the caller's), read only when k6 runs from an image.
   */
  readonly system: Pick<HostSystem, 'kill' | 'user'>;
  /** ms between SIGINT and SIGKILL when the run is aborted. */
  readonly graceMs?: number;
  /** Monotonic clock in ms. */
  readonly now?: () => number;
  /**
   * Have k6 gzip its `--out json` file. It writes ~13 points (~3 KB) per request, so a run at 10k req/s
   * fills ~30 MB/s of the temp dir; gzip cuts that ~10x at the cost of k6 CPU, which competes with the
   * target on a small machine. Off by default.
   */
  readonly gzipPoints?: boolean;
  /**
   * k6 processes that share each run (`k6.instances`): each gets an equal `--execution-segment` of the
   * same `--execution-segment-sequence`, so together they offer exactly the scenario's load. Default 1.
   */
  readonly instances?: number;
}

/** Runs scenarios with k6: the `POOLTUNE_K6_IMAGE` image, else `POOLTUNE_K6` or `k6` on PATH. */
export function createK6Driver(options: K6DriverOptions): Driver {
  return {
    name: 'k6',
    // k6 runs both models: closed stages as constant-vus, open shapes as arrival-rate executors.
    unsupported: () => undefined,
    preflight: () => {
      if (findK6Launch(options.env, options.findBinary) === undefined) throw k6NotFound();
    },
    run: (request) => runK6(request, options),
  };
}

async function runK6(request: DriverRequest, options: K6DriverOptions): Promise<DriverResult> {
  const { scenario, signal } = request;
  signal.throwIfAborted();
  const { env } = options;
  const launch = findK6Launch(env, options.findBinary);
  if (launch === undefined) throw k6NotFound();
  const { url } = loopbackTarget(request.url, request.remote);
  const script = await buildK6Script(scenario, url, { seed: request.seed });
  const dir = await mkdtemp(path.join(options.tmpDir, 'pooltune-k6-'));
  try {
    const scriptFile = path.join(dir, 'script.js');
    await writeFile(scriptFile, script);
    signal.throwIfAborted();
    const instances = options.instances ?? 1;
    // One instance runs the whole scenario without segment flags, exactly as before.
    const segments = instances === 1 ? [undefined] : executionSegments(instances);
    const plans = segments.map((segment, index): InstancePlan => {
      const suffix = segment === undefined ? '' : `-${index}`;
      const ext = options.gzipPoints ? 'ndjson.gz' : 'ndjson';
      const files = {
        summary: path.join(dir, `summary${suffix}.json`),
        points: path.join(dir, `points${suffix}.${ext}`),
      };
      const args = [
        'run',
        '--no-usage-report',
        '--quiet',
        '--no-color',
        // No REST API: its fixed port 6565 makes two k6 runs on one machine fail (exit 106).
        '--address=',
        ...(segment === undefined ? [] : segmentFlags(segment)),
        '--out',
        `json=${files.points}`,
        '--env',
        `${k6ScriptEnv.targetUrl}=${url}`,
        '--env',
        `${k6ScriptEnv.summaryPath}=${files.summary}`,
        scriptFile,
      ];
      const label =
        segment === undefined ? '' : `instance ${index + 1}/${instances} (segment ${segment.segment}) `;
      return { files, args, label, suffix };
    });
    const { exits, failure } = await runInstances(launch, plans, dir, request, options);
    if (signal.aborted) throw signal.reason;
    if (failure !== undefined) {
      throw failure(launch.kind === 'binary' ? launch.binary : `image ${launch.image}`);
    }
    const summaries: K6Summary[] = [];
    const digests: K6JsonDigest[] = [];
    for (const [index, plan] of plans.entries()) {
      const tail = exits[index]?.outputTail ?? [];
      summaries.push(parseHandleSummary(await readOutput(plan.files.summary, 'summary', plan.label, tail)));
      digests.push(await readPoints(plan, Boolean(options.gzipPoints), tail));
    }
    return k6DriverResult({
      scenario,
      summary:
        summaries.length === 1 && summaries[0] !== undefined ? summaries[0] : mergeK6Summaries(summaries),
      digest: digests.length === 1 && digests[0] !== undefined ? digests[0] : mergeK6Digests(digests),
      generatorCpu: combinedCpu(exits),
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** One k6 process of a run: its output files, its arguments and how errors name it. */
interface InstancePlan {
  readonly files: { readonly summary: string; readonly points: string };
  readonly args: readonly string[];
  /** `instance 2/3 (segment 1/3:2/3) `, or empty for a single instance. */
  readonly label: string;
  /** Appended to the container name so instances do not clash. */
  readonly suffix: string;
}

/** How the instances ended; `failure` when one of them failed on its own (the others stopped after it). */
interface InstanceExits {
  readonly exits: readonly MeasuredExit[];
  readonly failure?: (binary: string) => PooltuneError;
}

/**
 * Starts every instance at once and waits for all of them. When one fails, the others are stopped
 * (SIGINT, then SIGKILL) rather than left to run the whole scenario for nothing, and the first failure
 * is the one reported. The measure start is reported once, for the first instance that logs it.
 */
async function runInstances(
  launch: K6Launch,
  plans: readonly InstancePlan[],
  dir: string,
  request: DriverRequest,
  options: K6DriverOptions,
): Promise<InstanceExits> {
  const siblings = new AbortController();
  const signal = AbortSignal.any([request.signal, siblings.signal]);
  let measureStarted = false;
  const onMeasureStart = (): void => {
    if (measureStarted) return;
    measureStarted = true;
    request.onMeasureStart?.();
  };
  const shared: DriverRequest = { ...request, signal, onMeasureStart };
  let failure: ((binary: string) => PooltuneError) | undefined;
  const exits = await Promise.all(
    plans.map(async (plan) => {
      const exit = await runMeasured(launch, plan, dir, shared, options);
      // 99: thresholds failed; pooltune's own thresholds cannot, but the run's figures are still good.
      if (exit.code !== 0 && exit.code !== 99 && !signal.aborted) {
        const how = exit.code === null ? `signal ${exit.signal}` : `code ${exit.code}`;
        failure = (binary) =>
          new PooltuneError(`k6 ${plan.label}exited with ${how} (${binary})`, {
            exitCode: ExitCode.internal,
            details: exit.outputTail,
          });
        siblings.abort(new Error(`k6 ${plan.label}failed`));
      }
      return exit;
    }),
  );
  return failure === undefined ? { exits } : { exits, failure };
}

async function readOutput(
  file: string,
  what: string,
  label: string,
  tail: readonly string[],
): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) {
    throw new PooltuneError(`k6 ${label}wrote no ${what} to ${file}`, {
      exitCode: ExitCode.internal,
      details: tail,
    });
  }
  return text;
}

/** Streams an instance's `--out json` file through a reader: it can be hundreds of MB. */
async function readPoints(plan: InstancePlan, gzip: boolean, tail: readonly string[]): Promise<K6JsonDigest> {
  if (!(await stat(plan.files.points).catch(() => undefined))?.isFile()) {
    throw new PooltuneError(`k6 ${plan.label}wrote no JSON output to ${plan.files.points}`, {
      exitCode: ExitCode.internal,
      details: tail,
    });
  }
  const reader = new K6JsonReader();
  const raw = createReadStream(plan.files.points);
  const lines = createInterface({
    input: gzip ? raw.pipe(createGunzip()) : raw,
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  for await (const line of lines) reader.add(line);
  return reader.digest();
}

/** The instances' CPU together, over the wall time of the longest (they ran side by side), and how many. */
function combinedCpu(exits: readonly MeasuredExit[]): GeneratorCpu {
  const first = exits[0];
  if (exits.length === 1 && first !== undefined) return first.cpu;
  let userMs = 0;
  let systemMs = 0;
  let wallMs = 0;
  for (const exit of exits) {
    userMs += exit.cpu.userMs;
    systemMs += exit.cpu.systemMs;
    wallMs = Math.max(wallMs, exit.wallMs);
  }
  return {
    userMs,
    systemMs,
    share: wallMs > 0 ? (userMs + systemMs) / wallMs : 0,
    processes: exits.length,
  };
}

interface MeasuredExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly cpu: GeneratorCpu;
  readonly outputTail: readonly string[];
  readonly wallMs: number;
}

/**
 * Runs k6 under `sh` so that the shell's `times` builtin reports k6's user and system CPU (the kernel's
 * accounting of the reaped child, all its threads, to the 10 ms clock tick with dash) on fd 3. Node
 * offers only its own rusage, and sampling /proc/<pid>/stat would miss the last interval before exit.
 * `trap : INT TERM` keeps the shell alive to report while k6 handles the signal itself (a trap with a
 * command is reset to the default in k6, unlike an ignored signal).
 */
const wrapper = 'trap : INT TERM; "$0" "$@" 3>&-; code=$?; times >&3; exit $code';

async function runMeasured(
  launch: K6Launch,
  plan: InstancePlan,
  cwd: string,
  request: DriverRequest,
  options: K6DriverOptions,
): Promise<MeasuredExit> {
  const { env } = options;
  const { args } = plan;
  if (launch.kind === 'binary') {
    return spawnMeasured(['/bin/sh', '-c', wrapper, launch.binary, ...args], env, cwd, request, options);
  }
  // In a container k6 is not the shell's child, so its CPU comes from the container's cgroup. SIGINT to
  // the docker CLI is forwarded to k6 (sig-proxy); a SIGKILLed CLI leaves the container, removed here.
  const name = `pooltune-k6-${path.basename(cwd)}${plan.suffix}`;
  const dockerArgs = k6DockerArgs({
    image: launch.image,
    name,
    dir: cwd,
    env,
    k6Args: args,
    user: `${options.system.user.uid}:${options.system.user.gid}`,
  });
  const cpu = followContainerCpu(launch.docker, name);
  try {
    const exit = await spawnMeasured([launch.docker, ...dockerArgs], env, cwd, request, options);
    return { ...exit, cpu: cpu.stop(exit.wallMs) };
  } finally {
    cpu.stop(0);
    await removeK6Container(launch.docker, name);
  }
}

function spawnMeasured(
  [command, ...argv]: readonly string[],
  env: K6Env,
  cwd: string,
  request: DriverRequest,
  options: K6DriverOptions,
): Promise<MeasuredExit> {
  const now = options.now ?? (() => performance.now());
  const started = now();
  // Own process group, so SIGINT/SIGKILL reach k6 and the shell together.
  const child = spawn(command ?? '/bin/sh', argv, {
    cwd,
    env: { ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    detached: true,
  });
  const outputTail: string[] = [];
  let measuring = false;
  const keep = (line: string): void => {
    if (!measuring && line.includes(k6Names.measureMarker)) {
      measuring = true;
      request.onMeasureStart?.();
      return;
    }
    outputTail.push(line);
    if (outputTail.length > tailLines) outputTail.shift();
  };
  linesOf(child.stderr, keep);
  linesOf(child.stdout, keep);
  let times = '';
  child.stdio[3]?.on('data', (chunk: Buffer) => {
    times += chunk.toString('utf8');
  });

  let killTimer: NodeJS.Timeout | undefined;
  const onAbort = (): void => {
    signalGroup(child, 'SIGINT', options.system.kill);
    killTimer = setTimeout(
      () => signalGroup(child, 'SIGKILL', options.system.kill),
      options.graceMs ?? defaultGraceMs,
    );
  };
  if (request.signal.aborted) onAbort();
  else request.signal.addEventListener('abort', onAbort, { once: true });

  return new Promise<MeasuredExit>((resolve, reject) => {
    child.once('error', (error) => {
      request.signal.removeEventListener('abort', onAbort);
      reject(error);
    });
    child.once('close', (code, signal) => {
      request.signal.removeEventListener('abort', onAbort);
      if (killTimer !== undefined) clearTimeout(killTimer);
      const wallMs = now() - started;
      resolve({ code, signal, cpu: cpuFromTimes(times, wallMs), outputTail, wallMs });
    });
  });
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals, kill: Kill): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

function linesOf(stream: Readable | null, onLine: (line: string) => void): void {
  if (stream === null) return;
  createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', onLine);
}

/**
 * k6's CPU from the output of `times`: two lines, the shell's own then its children's user and system
 * time, each like `0m1.234s` (dash prints more decimals than bash). Zero when k6 was killed before it.
 */
export function cpuFromTimes(output: string, wallMs: number): GeneratorCpu {
  const children = output.trim().split('\n')[1] ?? '';
  const [user, system] = [...children.matchAll(/(\d+)m([\d.]+)s/g)].map(
    // Rounded to whole microseconds: `0.240000` * 1000 is not exactly 240 in floating point.
    (match) => Math.round((Number(match[1]) * 60 + Number(match[2])) * 1e6) / 1e3,
  );
  const userMs = user ?? 0;
  const systemMs = system ?? 0;
  return { userMs, systemMs, share: wallMs > 0 ? (userMs + systemMs) / wallMs : 0 };
}
