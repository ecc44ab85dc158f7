import { defineCommand } from 'citty';
import { ExitCode } from '../errors.ts';
import type { Host } from '../host/host.ts';
import { dockerEngine, removeLabelledContainers } from '../runtime/container-runtime.ts';
import { removeOrphans } from '../runtime/orphans.ts';
import type { CommandResult } from './command.ts';
import { checkFlags } from './options.ts';

const args = {
  run: { type: 'string', description: 'only the containers of this run id' },
  json: { type: 'boolean', description: 'print what was removed as JSON' },
} as const;

/** `removed N what:` and one line per item, or nothing for an empty list. */
function list(what: string, items: readonly string[]): string[] {
  return items.length === 0 ? [] : [`removed ${items.length} ${what}:`, ...items.map((item) => `  ${item}`)];
}

/**
 * `pooltune clean`: remove what crashed or killed runs left behind: their service processes and temp
 * folders (found by the owner they carry) and their containers (found by their label).
 */
export function cleanCommand(host: Host, result: (r: CommandResult) => void) {
  return defineCommand({
    meta: {
      name: 'clean',
      description: 'Remove the processes, temp folders and containers that killed runs left behind',
    },
    args,
    run: async ({ rawArgs, args: parsed }) => {
      checkFlags(rawArgs, args);
      const orphans = await removeOrphans(host.tmpDir, host.system.kill);
      const engine = await dockerEngine();
      const removed = engine.ok
        ? await removeLabelledContainers(typeof parsed.run === 'string' ? parsed.run : undefined)
        : [];
      const processes = orphans.processes.map((p) => `pid ${p.pid}: ${p.command}`);
      if (parsed.json === true) {
        host.stdout.write(
          `${JSON.stringify(
            { engine: engine.ok ? engine.version : null, removed, processes, dirs: orphans.dirs },
            null,
            2,
          )}\n`,
        );
      } else {
        const lines = [
          ...list('process(es) of killed runs', processes),
          ...list('temp folder(s) of killed runs', orphans.dirs),
          ...(engine.ok
            ? list('container(s)', removed)
            : [`no Docker engine answered (${engine.reason}): no containers to remove`]),
        ];
        host.stdout.write(lines.length === 0 ? 'nothing left behind by pooltune\n' : `${lines.join('\n')}\n`);
      }
      result({ code: ExitCode.ok });
    },
  });
}
