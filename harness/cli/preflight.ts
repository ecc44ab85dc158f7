import { connect, type NetConnectOpts } from 'node:net';
import path from 'node:path';
import type { Plan } from '../config/plan.ts';
import { usageError } from '../errors.ts';
import { maskUrl } from '../results/mask.ts';
import { chooseRuntime } from '../runtime/choose-runtime.ts';
import { dockerEngine, type EngineStatus } from '../runtime/container-runtime.ts';
import { assertPortFree } from '../runtime/ports.ts';
import { checkRequirements, startOrder } from '../runtime/process-runtime.ts';
import { renderProcess } from '../runtime/process-service.ts';

/** What the checks need from the host. */
export interface PreflightOptions {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The node binary and package root templates may name. */
  readonly node: string;
  readonly packageRoot: string;
  /** Relative paths in the target resolve from here (the config file's folder). */
  readonly baseDir: string;
  readonly tmpDir: string;
  /** How long an external service or the Docker engine has to accept a connection. */
  readonly connectTimeoutMs?: number;
}

/**
 * Checks a plan against this machine before a run creates anything or sends any load, so the usual
 * mistakes end in a usage error (exit 2) and no run directory: a dependency cycle, a template naming
 * an unknown variable, a missing program, a fixed port in use, an external service nothing answers
 * at, a container runtime without an engine. The runtime checks again as it starts (a port can be
 * taken in between); these checks only make the common case fail early.
 */
export async function preflight(plan: Plan, options: PreflightOptions): Promise<void> {
  const timeoutMs = options.connectTimeoutMs ?? 3_000;
  const order = startOrder(plan.target);
  checkRequirements(plan.target, options.env);
  await checkTemplates(plan, order, options);
  if (plan.config.runtime === 'container') {
    await chooseRuntime('container', () => engineAt(options.env.DOCKER_HOST, timeoutMs));
  }
  for (const [name, service] of Object.entries(plan.target.services)) {
    if (service.kind === 'external') await checkReachable(name, service.url, timeoutMs);
    else if (service.port !== 'auto') await assertPortFree(service.port, name);
  }
}

/** Renders every process service's templates as the runtime will, with the services started before it. */
async function checkTemplates(plan: Plan, order: readonly string[], options: PreflightOptions) {
  for (const [index, name] of order.entries()) {
    const service = plan.target.services[name];
    if (service?.kind !== 'process') continue;
    const earlier = order
      .slice(0, index)
      .map((before) => [before, { host: '127.0.0.1', port: 0, url: 'http://127.0.0.1:0' }]);
    const context = {
      port: service.port === 'auto' ? 0 : service.port,
      host: '127.0.0.1',
      knobs: plan.knobs,
      services: Object.fromEntries(earlier),
      node: options.node,
      packageRoot: options.packageRoot,
    };
    // Nothing is written: the service folder only names where a config file would go.
    await renderProcess(name, service, context, options.baseDir, path.join(options.tmpDir, name));
  }
}

/** An external service must already answer: pooltune does not start it. */
async function checkReachable(name: string, url: string, timeoutMs: number): Promise<void> {
  const parsed = new URL(url);
  const port = Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80));
  const problem = await connectProblem(
    { host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'), port },
    timeoutMs,
  );
  if (problem !== undefined) {
    throw usageError(
      `target.services.${name}.url: nothing answers at ${maskUrl(url)} (${problem})`,
      'pooltune does not start external services: start it first, or fix the url',
    );
  }
}

/**
 * Whether a Docker engine answers. DOCKER_HOST names one engine, and only that one is asked (testcontainers
 * would fall back to the default socket); without it, testcontainers looks where it usually does.
 */
async function engineAt(dockerHost: string | undefined, timeoutMs: number): Promise<EngineStatus> {
  const address = dockerHost === undefined ? undefined : dockerHostAddress(dockerHost);
  const problem = address === undefined ? undefined : await connectProblem(address, timeoutMs);
  return problem === undefined
    ? dockerEngine(timeoutMs)
    : { ok: false, reason: `nothing answers at DOCKER_HOST=${dockerHost} (${problem})` };
}

/** Where a `unix://` or `tcp://` DOCKER_HOST listens; undefined for anything else. */
function dockerHostAddress(dockerHost: string): NetConnectOpts | undefined {
  const unix = /^unix:\/\/(\/.+)$/.exec(dockerHost);
  if (unix !== null) return { path: unix[1] ?? '' };
  const tcp = /^tcp:\/\/([^:/]+):(\d+)/.exec(dockerHost);
  return tcp === null ? undefined : { host: tcp[1] ?? '', port: Number(tcp[2]) };
}

/** Why a connection to `address` could not be opened within `timeoutMs`, or undefined when it could. */
function connectProblem(address: NetConnectOpts, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect(address);
    const done = (problem: string | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(problem);
    };
    const timer = setTimeout(() => done(`no answer within ${timeoutMs} ms`), timeoutMs);
    socket.once('connect', () => done(undefined));
    socket.once('error', (error: NodeJS.ErrnoException) => done(error.code ?? error.message));
  });
}
