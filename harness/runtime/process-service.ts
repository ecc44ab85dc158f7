import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ProcessService } from '../config/schema.ts';
import { messageOf, usageError } from '../errors.ts';
import { launcherOf } from './launcher.ts';
import { waitReady } from './readiness.ts';
import type { ServiceContext, StartedService } from './service.ts';
import { renderTemplate, type TemplateContext } from './templates.ts';

/** A process service with every template filled in: what is actually run. */
export interface RenderedProcess {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string | undefined;
  readonly configFile?: { readonly path: string; readonly content: string };
}

/**
 * Fills in a process service's templates. `baseDir` resolves relative paths (the config file's folder).
 * A template that names something unknown is a usage error naming the service and field.
 */
export async function renderProcess(
  name: string,
  service: ProcessService,
  context: TemplateContext,
  baseDir: string,
  serviceDir: string,
): Promise<RenderedProcess> {
  const render = (field: string, template: string, extra?: Partial<TemplateContext>) => {
    try {
      return renderTemplate(template, { ...context, ...extra });
    } catch (error) {
      throw usageError(
        `services.${name}.${field}: template ${JSON.stringify(template)} failed: ${messageOf(error).split('\n')[0]}`,
        'templates can use port, host, node, packageRoot, configFile, knobs.NAME and services.NAME.{host,port,url}',
      );
    }
  };
  let configFile: RenderedProcess['configFile'];
  if (service.configFile !== undefined) {
    const templatePath = path.resolve(baseDir, render('configFile.template', service.configFile.template));
    const template = await readFile(templatePath, 'utf8').catch(() => {
      throw usageError(
        `services.${name}.configFile.template: file not found: ${templatePath}`,
        'the path is relative to the config file',
      );
    });
    const target = path.join(serviceDir, service.configFile.name);
    configFile = { path: target, content: render('configFile', template, { configFile: target }) };
  }
  const extra = configFile === undefined ? {} : { configFile: configFile.path };
  return {
    command: render('command', service.command, extra),
    args: service.args.map((arg, i) => render(`args.${i}`, arg, extra)),
    env: Object.fromEntries(
      Object.entries(service.env).map(([key, value]) => [key, render(`env.${key}`, value, extra)]),
    ),
    cwd: service.cwd === undefined ? undefined : path.resolve(baseDir, render('cwd', service.cwd, extra)),
    ...(configFile === undefined ? {} : { configFile }),
  };
}

/** Starts a rendered process service on `port` and waits until its readiness rule passes. */
export async function startProcessService(
  name: string,
  service: ProcessService,
  rendered: RenderedProcess,
  port: number,
  context: ServiceContext,
): Promise<StartedService> {
  if (rendered.configFile !== undefined) {
    await mkdir(path.dirname(rendered.configFile.path), { recursive: true });
    await writeFile(rendered.configFile.path, rendered.configFile.content, { mode: 0o600 });
  }
  const child = await launcherOf(context)(
    {
      name,
      command: rendered.command,
      args: rendered.args,
      env: { ...context.env, ...rendered.env },
      ...(rendered.cwd === undefined ? {} : { cwd: rendered.cwd }),
      ...(context.logDir === undefined ? {} : { logFile: path.join(context.logDir, `${name}.log`) }),
    },
    { image: service.image, cpus: service.cpus, memoryMiB: service.memoryMiB },
  );
  try {
    await waitReady(child, service.readiness, port);
  } catch (error) {
    await child.stop();
    throw error;
  }
  const stop = () => child.stop();
  return {
    name,
    kind: 'process',
    port,
    url: `http://127.0.0.1:${port}`,
    pid: child.pid,
    fingerprint: JSON.stringify(rendered),
    facts: {},
    logTail: () => child.log.lines(),
    exitInfo: () => child.exitInfo(),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
