import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { GenericContainer, getContainerRuntimeClient, ImageName } from 'testcontainers';
import type { TargetDefinition } from '../config/schema.ts';
import { K6_CONTAINER_LABEL } from '../drivers/k6-image.ts';
import { messageOf, targetError } from '../errors.ts';
import type { KnobValues } from '../results/trial.ts';
import { RUN_LABEL, startContainerChild } from './container-child.ts';
import { type RuntimeOptions, startTarget } from './process-runtime.ts';
import type { Launcher, StartedTarget } from './service.ts';

/**
 * The default image: nearly empty (built `FROM scratch`, nothing pulled), run with the host's `/usr`,
 * `/lib`, `/lib64`, `/bin` and `/etc` mounted read-only, so the host's node and the embedded PostgreSQL
 * binaries run inside a container with its own CPU and memory quota. Users with a registry set `image`.
 * The package, the config's folder and node's prefix are mounted read-only, the temp dir read-write.
 */
export const HOST_IMAGE = 'pooltune-host:1';

/** Host folders the default image runs from (those that exist). */
const HOST_SYSTEM_DIRS = ['/usr', '/lib', '/lib64', '/bin', '/sbin', '/etc'];

/** Whether a Docker engine answers, and why not when it does not. */
export type EngineStatus =
  | { readonly ok: true; readonly version: string }
  | { readonly ok: false; readonly reason: string };

/** Asks testcontainers for a container runtime, within `timeoutMs`. */
export async function dockerEngine(timeoutMs = 10_000): Promise<EngineStatus> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<EngineStatus>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, reason: `no answer within ${timeoutMs} ms` }), timeoutMs);
  });
  const probe = getContainerRuntimeClient().then(
    (client): EngineStatus => ({ ok: true, version: String(client.info.containerRuntime.serverVersion) }),
    (error: unknown): EngineStatus => ({ ok: false, reason: messageOf(error).split('\n')[0] ?? 'unknown' }),
  );
  try {
    return await Promise.race([probe, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Builds {@link HOST_IMAGE} from scratch (empty mount points, a sticky /tmp) unless the engine has it. */
export async function ensureHostImage(tmpDir: string): Promise<'built' | 'present'> {
  const client = await getContainerRuntimeClient();
  if (await client.image.exists(ImageName.fromString(HOST_IMAGE))) return 'present';
  const context = await mkdtemp(path.join(tmpDir, 'pooltune-image-'));
  try {
    const root = path.join(context, 'root');
    for (const dir of [
      'tmp',
      'proc',
      'sys',
      'dev',
      'run',
      'work',
      ...HOST_SYSTEM_DIRS.map((d) => d.slice(1)),
    ]) {
      await mkdir(path.join(root, dir), { recursive: true });
      // The build context needs a file per folder to keep it; a dot file is invisible to services.
      await writeFile(path.join(root, dir, '.keep'), '');
    }
    await writeFile(
      path.join(context, 'Dockerfile'),
      'FROM scratch\nCOPY root/ /\nLABEL dev.pooltune.image="host"\n',
    );
    const [repository, tag] = HOST_IMAGE.split(':');
    await GenericContainer.fromDockerfile(context).build(`${repository}:${tag}`, { deleteOnExit: false });
    return 'built';
  } catch (error) {
    throw targetError(
      `could not build the image ${HOST_IMAGE}: ${messageOf(error).split('\n')[0]}`,
      'check that the Docker engine can build images (docker build)',
    );
  } finally {
    await rm(context, { recursive: true, force: true });
  }
}

/**
 * Starts a target's services as containers: the same definitions, templates and readiness as the
 * process runtime, each process started in its own container with host networking (services reach
 * each other on 127.0.0.1 at allocated ports), the service's `cpus` and `memoryMiB` as quotas, and every
 * container labelled with `runLabel` for cleanup.
 */
export async function startContainerTarget(
  target: TargetDefinition,
  knobs: KnobValues,
  options: RuntimeOptions & { readonly runLabel: string },
): Promise<StartedTarget> {
  await ensureHostImage(options.tmpDir);
  const readOnly = [
    ...HOST_SYSTEM_DIRS,
    options.packageRoot,
    options.baseDir,
    path.dirname(path.dirname(options.node)),
  ].filter((dir, i, all) => existsSync(dir) && all.indexOf(dir) === i && !covered(dir, all.slice(0, i)));
  // The temp dir is shared read-write, as processes share it: the run's data dirs live there, and so do
  // files services hand each other (http-upstream's TLS certificate).
  const readWrite = [options.tmpDir];
  const mounts = readOnly.filter((dir) => !covered(dir, readWrite));
  const launch: Launcher = async (spec, limits) => {
    const child = await startContainerChild(spec, {
      image: limits.image ?? HOST_IMAGE,
      ...(limits.cpus === undefined ? {} : { cpus: limits.cpus }),
      ...(limits.memoryMiB === undefined ? {} : { memoryMiB: limits.memoryMiB }),
      readOnly: mounts,
      readWrite,
      runLabel: options.runLabel,
    });
    if (child.pid > 0) {
      const { cleanup } = options.system;
      cleanup.addGroup(child.pid, `${spec.name} container (pid ${child.pid})`);
      void child.exited.then(() => cleanup.removeGroup(child.pid));
    }
    return child;
  };
  return startTarget(target, knobs, { ...options, launch });
}

/** True when `dir` is one of `parents` or inside one. */
function covered(dir: string, parents: readonly string[]): boolean {
  return parents.some((parent) => dir === parent || dir.startsWith(`${parent}/`));
}

/**
 * Removes every container pooltune labelled (all runs, or one): what a crashed run left behind. Without
 * a run id, k6 driver containers (which carry no run id) go too.
 */
export async function removeLabelledContainers(runLabel?: string): Promise<string[]> {
  const client = await getContainerRuntimeClient();
  const found = await client.container.list();
  const ours = found.filter((info) =>
    runLabel === undefined
      ? info.Labels?.[RUN_LABEL] !== undefined || info.Labels?.[K6_CONTAINER_LABEL] !== undefined
      : info.Labels?.[RUN_LABEL] === runLabel,
  );
  for (const info of ours) {
    await client.container
      .getById(info.Id)
      .remove({ force: true, v: true })
      .catch(() => undefined);
  }
  return ours.map(
    (info) =>
      `${info.Names?.[0]?.replace(/^\//, '') ?? info.Id.slice(0, 12)} (${info.Labels?.[RUN_LABEL] ?? 'k6'})`,
  );
}
