import type { Readable } from 'node:stream';
import {
  GenericContainer,
  getContainerRuntimeClient,
  ImageName,
  type StartedTestContainer,
  Wait,
} from 'testcontainers';
import { messageOf, targetError } from '../errors.ts';
import type { ChildSpec, ExitInfo, StartedChild } from './child.ts';
import { LogTail } from './log-tail.ts';

/** The label every container pooltune starts carries, with the run (target folder) it belongs to. */
export const RUN_LABEL = 'dev.pooltune.run';

/** What a service's container gets besides its command: the image, quotas and where files are. */
export interface ContainerSettings {
  readonly image: string;
  /** CPUs the container may use (0.5 = half a core); unlimited when undefined. */
  readonly cpus?: number;
  readonly memoryMiB?: number;
  /** Host folders mounted at the same path: read-only, or read-write (the run's temp folder). */
  readonly readOnly: readonly string[];
  readonly readWrite: readonly string[];
  /** The value of {@link RUN_LABEL}: `pooltune clean` and the exit handler find containers by it. */
  readonly runLabel: string;
}

/**
 * Starts one service process inside a container (testcontainers' GenericContainer) and gives it the
 * same shape as a local child: pid (the container's init as the host sees it, leader of its process
 * group), log tail, exit and stop. Host networking: the service listens on 127.0.0.1 like a local one,
 * so readiness, templates and collectors work unchanged.
 */
export async function startContainerChild(
  spec: ChildSpec,
  settings: ContainerSettings,
): Promise<StartedChild> {
  const log = new LogTail(40, spec.logFile);
  const user = spec.uid === undefined ? undefined : `${spec.uid}:${spec.gid ?? spec.uid}`;
  const mounts = [
    ...settings.readOnly.map((dir) => ({ source: dir, target: dir, mode: 'ro' as const })),
    ...settings.readWrite.map((dir) => ({ source: dir, target: dir, mode: 'rw' as const })),
  ];
  let container = new GenericContainer(settings.image)
    .withNetworkMode('host')
    .withEntrypoint([spec.command])
    .withCommand([...spec.args])
    .withEnvironment({ ...spec.env })
    .withLabels({ [RUN_LABEL]: settings.runLabel, 'dev.pooltune.service': spec.name })
    .withBindMounts(mounts)
    // Readiness is pooltune's own (log, http, tcp, command), checked from the host like for a process.
    .withWaitStrategy(Wait.forListeningPorts())
    .withStartupTimeout(30_000)
    .withPullPolicy({ shouldPull: () => false })
    .withLogConsumer((stream: Readable) => {
      stream.on('data', (chunk: Buffer | string) => log.write(chunk));
    });
  if (spec.cwd !== undefined) container = container.withWorkingDir(spec.cwd);
  if (user !== undefined) container = container.withUser(user);
  if (settings.cpus !== undefined || settings.memoryMiB !== undefined) {
    container = container.withResourcesQuota({
      ...(settings.cpus === undefined ? {} : { cpu: settings.cpus }),
      ...(settings.memoryMiB === undefined ? {} : { memory: settings.memoryMiB / 1024 }),
    });
  }
  const client = await getContainerRuntimeClient();
  // An image the engine lacks is pulled (users with a registry use ordinary images); when that fails,
  // the error names the image instead of testcontainers' HTTP error.
  const image = ImageName.fromString(settings.image);
  if (!(await client.image.exists(image))) {
    try {
      await client.image.pull(image);
    } catch (error) {
      await log.close();
      throw missingImage(settings.image, spec.name, messageOf(error));
    }
  }
  let started: StartedTestContainer;
  try {
    started = await container.start();
  } catch (error) {
    await log.close();
    const message = messageOf(error);
    if (/no such image|pull access denied/i.test(message))
      throw missingImage(settings.image, spec.name, message);
    throw targetError(`container for service "${spec.name}" did not start: ${message.split('\n')[0]}`);
  }
  const handle = client.container.getById(started.getId());
  const inspected = await client.container.inspect(handle);
  const pid = inspected.State.Pid;

  let info: ExitInfo | undefined;
  const exited = (handle.wait() as Promise<{ StatusCode: number }>).then(
    (result) => {
      info = { code: result.StatusCode, signal: null };
      return info;
    },
    () => {
      info = { code: null, signal: null };
      return info;
    },
  );

  let stopping: Promise<void> | undefined;
  const stop = (graceMs = 5_000): Promise<void> => {
    stopping ??= (async () => {
      if (info === undefined) {
        // docker stop sends the container's stop signal, then SIGKILL after the grace period.
        await handle.kill({ signal: spec.stopSignal ?? 'SIGTERM' }).catch(() => undefined);
        const timer = setTimeout(
          () => void handle.kill({ signal: 'SIGKILL' }).catch(() => undefined),
          graceMs,
        );
        await exited;
        clearTimeout(timer);
      }
      await handle.remove({ force: true, v: true }).catch(() => undefined);
      await log.close();
    })();
    return stopping;
  };

  return {
    name: spec.name,
    pid,
    log,
    exited,
    exitInfo: () => info,
    stop,
    [Symbol.asyncDispose]: () => stop(),
  };
}

function missingImage(image: string, service: string, why: string) {
  return targetError(
    `image "${image}" of service "${service}" is not on this Docker engine, and no registry was reachable to pull it (${why.split('\n')[0]?.slice(0, 200)})`,
    'build or import it locally (`docker build`, `docker import`), or use the process runtime (--runtime process)',
  );
}
