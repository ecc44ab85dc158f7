import { startChild } from './child.ts';
import type { Launcher, ServiceContext } from './service.ts';

/** The context's launcher, or a local child process. */
export function launcherOf(context: ServiceContext): Launcher {
  return context.launch ?? ((spec) => startChild(spec, context.system));
}
