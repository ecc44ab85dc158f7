import { defineCommand } from 'citty';
import { ExitCode } from '../errors.ts';
import type { Host } from '../host/host.ts';
import { dockerEngine, removeLabelledContainers } from '../runtime/container-runtime.ts';
import type { CommandResult } from './main.ts';
import { checkFlags } from './options.ts';

const args = {
  run: { type: 'string', description: 'only the containers of this run id' },
  json: { type: 'boolean', description: 'print what was removed as JSON' },
} as const;

/** `pooltune clean`: remove the containers a crashed or killed run left behind (found by their label). */
export function cleanCommand(host: Host, result: (r: CommandResult) => void) {
  return defineCommand({
    meta: { name: 'clean', description: 'Remove containers that crashed or killed runs left behind' },
    args,
    run: async ({ rawArgs, args: parsed }) => {
      checkFlags(rawArgs, args);
      const engine = await dockerEngine();
      const removed = engine.ok
        ? await removeLabelledContainers(typeof parsed.run === 'string' ? parsed.run : undefined)
        : [];
      if (parsed.json === true) {
        host.stdout.write(
          `${JSON.stringify({ engine: engine.ok ? engine.version : null, removed }, null, 2)}\n`,
        );
      } else if (!engine.ok) {
        host.stdout.write(`no Docker engine answered (${engine.reason}): no containers to remove\n`);
      } else {
        host.stdout.write(
          removed.length === 0
            ? 'no pooltune containers found\n'
            : `removed ${removed.length} container(s):\n${removed.map((name) => `  ${name}\n`).join('')}`,
        );
      }
      result({ code: ExitCode.ok });
    },
  });
}
