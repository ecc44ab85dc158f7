import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ProcessService, TargetDefinition } from '../config/schema.ts';
import { usageError } from '../errors.ts';
import type { KnobValues } from '../results/trial.ts';
import type { ChildSpec, StartedChild } from './child.ts';
import { findOnPath } from './executables.ts';
import { launcherOf } from './launcher.ts';
import { OWNER_ENV, OWNER_FILE } from './orphans.ts';
import { choosePort } from './ports.ts';
import { POSTGRES_READY_LOG, startPostgres } from './postgres.ts';
import { renderProcess, startProcessService } from './process-service.ts';
import { waitReady } from './readiness.ts';
import type {
  Launcher,
  RuntimeSystem,
  ServiceContext,
  ServiceLimits,
  StartedService,
  StartedTarget,
} from './service.ts';
import type { TemplateContext } from './templates.ts';

/** What the process runtime needs from the host, passed in so tests can run it in-process. */
export interface RuntimeOptions {
  /** Environment for child processes. */
  readonly env: Readonly<Record<string, string>>;
  /** The OS temp dir; each target gets a fresh folder under it. */
  readonly tmpDir: string;
  /** The node binary that runs pooltune. */
  readonly node: string;
  /** The pooltune package root. */
  readonly packageRoot: string;
  /** Relative paths in the target resolve from here (the config file's folder). */
  readonly baseDir: string;
  /** Service logs are written here when given (the run directory's `logs/`). */
  readonly logDir?: string;
  /** Starts each service's process; local children when absent (see container-runtime.ts). */
  readonly launch?: Launcher;
  /** Signals, cleanup, the machine and the user, from the host. */
  readonly system: RuntimeSystem;
}

/** Services in start order: each after what it depends on. Cycles and unknown names are usage errors. */
export function startOrder(target: TargetDefinition): string[] {
  const order: string[] = [];
  const visiting = new Set<string>();
  const visit = (name: string, from: string | undefined) => {
    if (order.includes(name)) return;
    const service = target.services[name];
    if (service === undefined) {
      throw usageError(
        `target.services.${from}.dependsOn: unknown service "${name}"`,
        `services are: ${Object.keys(target.services).join(', ')}`,
      );
    }
    if (visiting.has(name))
      throw usageError(
        `target.services.${name}.dependsOn: dependency cycle`,
        'remove one of the dependsOn links',
      );
    visiting.add(name);
    if (service.kind === 'process') for (const dependency of service.dependsOn) visit(dependency, name);
    visiting.delete(name);
    order.push(name);
  };
  for (const name of Object.keys(target.services)) visit(name, undefined);
  return order;
}

/** Starts every service of a target as local processes, with the given knob values. */
export async function startTarget(
  target: TargetDefinition,
  knobs: KnobValues,
  options: RuntimeOptions,
): Promise<StartedTarget> {
  const order = startOrder(target);
  checkRequirements(target, options.env);
  const tmpRoot = await mkdtemp(path.join(options.tmpDir, 'pooltune-'));
  // Traversable (not readable) by others: PostgreSQL runs as an unprivileged user inside its own subfolder.
  await chmod(tmpRoot, 0o711);
  // Who owns it, so `pooltune clean` can tell the folder of a killed run from a live one's.
  const owner = options.env[OWNER_ENV];
  if (owner !== undefined) await writeFile(path.join(tmpRoot, OWNER_FILE), owner, { mode: 0o600 });
  if (options.logDir !== undefined) await mkdir(options.logDir, { recursive: true });
  const context: ServiceContext = {
    tmpRoot,
    env: options.env,
    system: options.system,
    ...(options.logDir === undefined ? {} : { logDir: options.logDir }),
    ...(options.launch === undefined ? {} : { launch: options.launch }),
  };
  const running = new Map<string, StartedService>();

  const templateContext = (port: number, values: KnobValues): TemplateContext => ({
    port,
    host: '127.0.0.1',
    knobs: values,
    services: Object.fromEntries(
      [...running].map(([name, s]) => [name, { host: '127.0.0.1', port: s.port, url: s.url }]),
    ),
    node: options.node,
    packageRoot: options.packageRoot,
  });

  const render = (name: string, service: ProcessService, port: number, values: KnobValues) =>
    renderProcess(name, service, templateContext(port, values), options.baseDir, path.join(tmpRoot, name));

  // Each service's last launch, so `restart` can run the very same process again.
  const launches = new Map<string, LastLaunch>();
  const launching = recordLaunches(context, launches);
  const start = async (name: string, values: KnobValues, port?: number): Promise<StartedService> => {
    const service = target.services[name];
    if (service === undefined) throw new Error(`unknown service ${name}`);
    if (service.kind === 'postgres') return startPostgres(name, service, launching);
    if (service.kind === 'external') {
      return externalService(name, service.url);
    }
    const chosen = port ?? (await choosePort(service.port, name));
    return startProcessService(name, service, await render(name, service, chosen, values), chosen, launching);
  };

  const stopAll = async () => {
    for (const name of [...order].reverse()) {
      const service = running.get(name);
      running.delete(name);
      await service?.stop();
    }
    await rm(tmpRoot, { recursive: true, force: true });
  };

  try {
    for (const name of order) running.set(name, await start(name, knobs));
  } catch (error) {
    await stopAll();
    throw error;
  }

  const get = (name: string) => {
    const service = running.get(name);
    if (service === undefined) throw new Error(`service ${name} is not running`);
    return service;
  };

  return {
    definition: target,
    entry: () => get(target.entry),
    service: get,
    async apply(values) {
      const restarted: string[] = [];
      for (const name of order) {
        const service = target.services[name];
        const current = get(name);
        if (service === undefined || service.kind === 'external') continue;
        // A service that exited (crashed, or was killed) is started again, whatever its kind.
        const exited = current.exitInfo() !== undefined;
        if (service.kind === 'postgres' && !exited) continue;
        if (service.kind === 'process') {
          const dependencyRestarted = service.dependsOn.some((dependency) => restarted.includes(dependency));
          const rendered = await render(name, service, current.port, values);
          if (!dependencyRestarted && !exited && JSON.stringify(rendered) === current.fingerprint) continue;
        }
        await current.stop();
        running.delete(name);
        running.set(name, await start(name, values, current.port));
        restarted.push(name);
      }
      return restarted;
    },
    async restart(name) {
      const current = get(name);
      const service = target.services[name];
      const last = launches.get(name);
      if (service === undefined || service.kind === 'external' || last === undefined) {
        throw new Error(`service ${name} was not started by pooltune, so it cannot be restarted`);
      }
      await last.child.stop();
      const child = await last.launch(last.spec, last.limits);
      launches.set(name, { ...last, child });
      const rule =
        service.kind === 'postgres'
          ? { log: POSTGRES_READY_LOG, timeoutMs: service.readiness.timeoutMs }
          : service.readiness;
      try {
        await waitReady(child, rule, current.port);
      } catch (error) {
        await child.stop();
        throw error;
      }
      // The old service's stop still removes what it owns (a database's data dir) once the new process is gone.
      const stop = async () => {
        await child.stop();
        await current.stop();
      };
      running.set(name, {
        ...current,
        pid: child.pid,
        logTail: () => child.log.lines(),
        exitInfo: () => child.exitInfo(),
        stop,
        [Symbol.asyncDispose]: stop,
      });
    },
    facts: () => Object.assign({}, ...[...running.values()].map((service) => service.facts)),
    stop: stopAll,
    [Symbol.asyncDispose]: stopAll,
  };
}

/** Programs and files the target needs, each found (on PATH, or on disk) or named with its Debian package. */
export function checkRequirements(
  target: TargetDefinition,
  env: Readonly<Record<string, string | undefined>>,
): void {
  const missing = target.requires.filter((need) =>
    'command' in need ? findOnPath(need.command, env.PATH) === undefined : !existsSync(need.file),
  );
  if (missing.length === 0) return;
  const packages = [...new Set(missing.map((m) => m.package))];
  // Debian puts daemons such as pgbouncer and haproxy in sbin, which a user's PATH may lack.
  const inSbin = missing.flatMap((need) =>
    'command' in need ? (findOnPath(need.command, '/usr/local/sbin:/usr/sbin:/sbin') ?? []) : [],
  );
  const names = missing.map((need) => ('command' in need ? need.command : need.file));
  throw usageError(
    `target ${target.name} needs ${names.join(', ')}, not found`,
    `install Debian's ${packages.join(' ')} package${packages.length > 1 ? 's' : ''}: apt-get install ${packages.join(' ')}` +
      (inSbin.length > 0 ? ` (${inSbin.join(', ')} exists already: add its folder to PATH)` : ''),
  );
}

/** A service's last launch: what `restart` runs again. */
interface LastLaunch {
  readonly spec: ChildSpec;
  readonly limits: ServiceLimits;
  readonly launch: Launcher;
  readonly child: StartedChild;
}

/** The context with a launcher that records each launch by the launched process's name. */
function recordLaunches(context: ServiceContext, launches: Map<string, LastLaunch>): ServiceContext {
  const launch = launcherOf(context);
  return {
    ...context,
    launch: async (spec, limits) => {
      const child = await launch(spec, limits);
      launches.set(spec.name, { spec, limits, launch, child });
      return child;
    },
  };
}

function externalService(name: string, url: string): StartedService {
  const parsed = new URL(url);
  const stop = async () => undefined;
  return {
    name,
    kind: 'external',
    port: Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80)),
    url,
    pid: undefined,
    fingerprint: url,
    facts: {},
    logTail: () => [],
    exitInfo: () => undefined,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
