import { usageError } from '../errors.ts';
import { dockerEngine, type EngineStatus } from './container-runtime.ts';

/** The runtime a run uses, and why: the report's environment section shows both. */
export interface RuntimeChoice {
  readonly runtime: 'process' | 'container';
  readonly reason: string;
}

/**
 * Resolves `runtime`: `process` and `container` as asked (containers need an engine: a usage error
 * otherwise); `auto` picks containers when a Docker engine answers, local processes when not.
 */
export async function chooseRuntime(
  requested: 'auto' | 'process' | 'container',
  probe: () => Promise<EngineStatus> = () => dockerEngine(),
): Promise<RuntimeChoice> {
  if (requested === 'process') return { runtime: 'process', reason: 'runtime "process" was asked for' };
  const engine = await probe();
  if (requested === 'container') {
    if (!engine.ok) {
      throw usageError(
        `runtime "container" needs a Docker engine, and none answered: ${engine.reason}`,
        'start the engine (dockerd) or set DOCKER_HOST; or use --runtime process',
      );
    }
    return { runtime: 'container', reason: `runtime "container" was asked for (Docker ${engine.version})` };
  }
  return engine.ok
    ? { runtime: 'container', reason: `runtime "auto": a Docker engine answered (Docker ${engine.version})` }
    : { runtime: 'process', reason: `runtime "auto": no Docker engine answered (${engine.reason})` };
}
