import '../polyfills.ts';
import os from 'node:os';
import { main } from '../cli/main.ts';
import { CleanupRegistry } from '../runtime/cleanup.ts';
import { OWNER_ENV, ownerOf } from '../runtime/orphans.ts';
import { containerDefaults } from './container-env.ts';
import type { Host, HostSystem, OutStream } from './host.ts';

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

/** The facts of this machine and process, with a fresh cleanup registry. */
export function nodeSystem(): HostSystem {
  const cpus = os.cpus();
  return {
    cpus: { count: cpus.length, model: cpus[0]?.model ?? 'unknown' },
    totalMemoryBytes: os.totalmem(),
    platform: os.platform(),
    release: os.release(),
    arch: os.arch(),
    // Read when asked: os.userInfo() throws for a uid without a passwd entry, and only some runs need it.
    get user() {
      const { uid, gid, username } = os.userInfo();
      return { uid, gid, username };
    },
    cpuUsage: (previous) => process.cpuUsage(previous),
    kill: (pid, signal) => {
      process.kill(pid, signal);
    },
    cleanup: new CleanupRegistry(),
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
    system: nodeSystem(),
  };
}

/** After SIGINT/SIGTERM, pooltune exits within this long whatever is stuck (the trials are on disk). */
const forcedExitMs = 4_500;

/** Runs the CLI on the real process and exits with its code; anything still running is killed on the way out. */
export async function runCli(): Promise<void> {
  const host = nodeHost();
  // Last line of defence: an exit path that could not await the runtime's cleanup still kills the groups.
  process.on('exit', () => host.system.cleanup.killAllSync(host.system.kill));
  // Inherited by every process pooltune starts, so `pooltune clean` can find them if this one is killed.
  process.env[OWNER_ENV] = await ownerOf(process.pid);
  let interrupts = 0;
  const forceOnSecondInterrupt = host.onInterrupt(() => {
    interrupts += 1;
    if (interrupts >= 2) {
      process.stderr.write('pooltune: interrupted twice, killing everything now\n');
      process.exit(130);
    }
    // Load stops and results are flushed at once; whatever hangs past the bound is killed.
    setTimeout(() => {
      process.stderr.write(
        `pooltune: still stopping after ${forcedExitMs / 1000} s, killing everything now\n`,
      );
      process.exit(130);
    }, forcedExitMs).unref();
  });
  const code = await main(host);
  forceOnSecondInterrupt();
  process.exitCode = code;
}
