import '../polyfills.ts';
import os from 'node:os';
import { main } from '../cli/main.ts';
import { cleanupRegistry } from '../runtime/cleanup.ts';
import { containerDefaults } from './container-env.ts';
import type { Host, OutStream } from './host.ts';

function stream(target: NodeJS.WriteStream): OutStream {
  return {
    write: (text) => target.write(text),
    get isTTY() {
      return target.isTTY === true;
    },
    get columns() {
      return target.columns ?? 80;
    },
  };
}

/** The Host of the real process: the one place that reads process.argv, env, streams and signals. */
export function nodeHost(): Host {
  containerDefaults(process.env);
  return {
    argv: process.argv.slice(2),
    env: process.env,
    cwd: process.cwd(),
    stdout: stream(process.stdout),
    stderr: stream(process.stderr),
    now: () => new Date(),
    tmpDir: os.tmpdir(),
    execPath: process.execPath,
    nodeVersion: process.version,
    onInterrupt(handler) {
      process.on('SIGINT', handler);
      process.on('SIGTERM', handler);
      return () => {
        process.off('SIGINT', handler);
        process.off('SIGTERM', handler);
      };
    },
  };
}

/** Runs the CLI on the real process and exits with its code; anything still running is killed on the way out. */
export async function runCli(): Promise<void> {
  // Last line of defence: an exit path that could not await the runtime's cleanup still kills the groups.
  process.on('exit', () => cleanupRegistry.killAllSync((pid, signal) => process.kill(pid, signal)));
  let interrupts = 0;
  const host = nodeHost();
  const forceOnSecondInterrupt = host.onInterrupt(() => {
    interrupts += 1;
    if (interrupts >= 2) {
      process.stderr.write('pooltune: interrupted twice, killing everything now\n');
      process.exit(130);
    }
  });
  const code = await main(host);
  forceOnSecondInterrupt();
  process.exitCode = code;
}
