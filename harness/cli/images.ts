import { defineCommand } from 'citty';
import { ExitCode, usageError } from '../errors.ts';
import type { Host } from '../host/host.ts';
import { dockerEngine, ensureHostImage, HOST_IMAGE } from '../runtime/container-runtime.ts';
import type { CommandResult } from './command.ts';
import { checkFlags } from './options.ts';

const args = {
  json: { type: 'boolean', description: 'print the outcome as JSON' },
} as const;

/**
 * `pooltune images`: prepares the images the container runtime uses by default (the host image, built
 * locally: no registry is needed), so a first tune does not pay for it. CI runs it before the suite.
 */
export function imagesCommand(host: Host, result: (r: CommandResult) => void) {
  return defineCommand({
    meta: { name: 'images', description: `Build the container runtime's default image (${HOST_IMAGE})` },
    args,
    run: async ({ rawArgs, args: parsed }) => {
      checkFlags(rawArgs, args);
      const engine = await dockerEngine();
      if (!engine.ok) {
        throw usageError(
          `no Docker engine answered (${engine.reason})`,
          'start one (dockerd), or point DOCKER_HOST at it; the process runtime needs no images',
        );
      }
      const started = host.now().getTime();
      const state = await ensureHostImage(host.tmpDir);
      const ms = host.now().getTime() - started;
      host.stdout.write(
        parsed.json === true
          ? `${JSON.stringify({ image: HOST_IMAGE, state, ms }, null, 2)}\n`
          : `${HOST_IMAGE}: ${state === 'built' ? `built in ${ms} ms` : 'already present'}\n`,
      );
      result({ code: ExitCode.ok });
    },
  });
}
