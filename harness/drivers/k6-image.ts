// k6 from a container image (POOLTUNE_K6_IMAGE), run with the docker CLI on host networking.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { GeneratorCpu } from './driver.ts';

const run = promisify(execFile);

/** Env var naming a k6 image (e.g. `grafana/k6:0.54.0`); when set, k6 runs in a container from it. */
export const k6ImageEnv = 'POOLTUNE_K6_IMAGE';

/** Label on every k6 container, so `pooltune clean` finds one a killed run left behind. */
export const K6_CONTAINER_LABEL = 'dev.pooltune.k6';

/** Env vars passed into the container: k6's own `K6_*` settings (e.g. K6_BROWSER_ENABLED). */
const passedEnv = /^K6_/;

/**
 * `docker run` arguments for k6 from `image`: the run's folder mounted at the same path (the script,
 * summary and points live there), host networking (loopback targets are reachable, nothing is
 * published), the caller's uid:gid (files it writes stay the caller's), and k6's arguments after the
 * image (the official image's entrypoint is `k6`).
 */
export function k6DockerArgs(options: {
  readonly image: string;
  readonly name: string;
  readonly dir: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly k6Args: readonly string[];
  /** `uid:gid` to run as. */
  readonly user: string;
}): string[] {
  const env = Object.entries(options.env)
    .filter(([key, value]) => passedEnv.test(key) && value !== undefined)
    .flatMap(([key, value]) => ['--env', `${key}=${value}`]);
  return [
    'run',
    '--rm',
    '--name',
    options.name,
    '--label',
    `${K6_CONTAINER_LABEL}=1`,
    '--network',
    'host',
    '--user',
    options.user,
    '--volume',
    `${options.dir}:${options.dir}`,
    '--workdir',
    options.dir,
    ...env,
    options.image,
    ...options.k6Args,
  ];
}

/** Where the engine keeps a container's CPU accounting: cgroup v2 (systemd or cgroupfs driver), then v1. */
function cgroupCpuFiles(id: string, root = '/sys/fs/cgroup'): string[] {
  return [
    path.join(root, 'system.slice', `docker-${id}.scope`, 'cpu.stat'),
    path.join(root, 'docker', id, 'cpu.stat'),
    path.join(root, 'cpuacct', 'docker', id, 'cpuacct.stat'),
    path.join(root, 'cpu,cpuacct', 'docker', id, 'cpuacct.stat'),
  ];
}

/** User and system CPU in ms from a cgroup v2 `cpu.stat` (µs) or a v1 `cpuacct.stat` (USER_HZ ticks). */
export function parseCgroupCpu(text: string, ticksPerSecond = 100): { userMs: number; systemMs: number } {
  const field = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1] ?? 'NaN');
  const userUsec = field('user_usec');
  if (Number.isFinite(userUsec)) return { userMs: userUsec / 1000, systemMs: field('system_usec') / 1000 };
  const tickMs = 1000 / ticksPerSecond;
  return { userMs: (field('user') || 0) * tickMs, systemMs: (field('system') || 0) * tickMs };
}

/**
 * Follows a k6 container's CPU by reading its cgroup every `intervalMs` while it runs. The engine
 * removes the cgroup when the container stops, so the figure misses at most the last interval; it is
 * the generator's share, compared with the target's, not a billing figure.
 */
export function followContainerCpu(
  docker: string,
  name: string,
  intervalMs = 250,
): { stop(wallMs: number): GeneratorCpu } {
  let last = { userMs: 0, systemMs: 0 };
  let files: string[] | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const sample = async () => {
    if (files === undefined) {
      const id = await run(docker, ['inspect', '--format', '{{.Id}}', name]).then(
        (out) => out.stdout.trim(),
        () => undefined,
      );
      if (id !== undefined && id !== '') files = cgroupCpuFiles(id);
    }
    for (const file of files ?? []) {
      const text = await readFile(file, 'utf8').catch(() => undefined);
      if (text === undefined) continue;
      last = parseCgroupCpu(text);
      break;
    }
  };
  const loop = () => {
    timer = setTimeout(() => {
      sample()
        .catch(() => undefined)
        .finally(() => {
          if (!stopped) loop();
        });
    }, intervalMs);
    timer.unref();
  };
  loop();
  return {
    stop(wallMs) {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      const { userMs, systemMs } = last;
      return { userMs, systemMs, share: wallMs > 0 ? (userMs + systemMs) / wallMs : 0 };
    },
  };
}

/** Removes the k6 container if it is still there (the CLI was killed before `--rm` could act). */
export async function removeK6Container(docker: string, name: string): Promise<void> {
  await run(docker, ['rm', '--force', name]).catch(() => undefined);
}
