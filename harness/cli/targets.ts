import { defineCommand } from 'citty';
import { bundledTargets } from '../../targets/index.ts';
import { type TargetDefinition, targetSchema } from '../config/schema.ts';
import { ExitCode } from '../errors.ts';
import type { Host } from '../host/host.ts';
import type { CommandResult } from './command.ts';
import { checkFlags } from './options.ts';

/** ` (pool pg: size)` when a knob plays a role for one of the target's pools. */
function roleOf(target: TargetDefinition, knob: string): string {
  const roles = target.pools.flatMap((pool) =>
    Object.entries(pool.knobs)
      .filter(([, name]) => name === knob)
      .map(([role]) => `pool ${pool.name}: ${role}`),
  );
  if (target.poolKnob === knob) roles.push('pool size');
  return roles.length === 0 ? '' : ` (${roles.join(', ')})`;
}

const args = { json: { type: 'boolean', description: 'print the targets as JSON' } } as const;

/** `pooltune targets`: list the bundled targets, their services and knobs. */
export function targetsCommand(host: Host, result: (r: CommandResult) => void) {
  return defineCommand({
    meta: { name: 'targets', description: 'List the bundled targets with their services and knobs' },
    args,
    run: ({ rawArgs, args: parsed }) => {
      checkFlags(rawArgs, args);
      const targets = Object.values(bundledTargets).map((input) => targetSchema.parse(input));
      if (parsed.json === true) {
        host.stdout.write(
          `${JSON.stringify(
            targets.map(({ name, description, entry, services, knobs, pools }) => ({
              name,
              description,
              entry,
              pools,
              services: Object.keys(services),
              knobs,
            })),
            null,
            2,
          )}\n`,
        );
      } else {
        for (const target of targets) {
          host.stdout.write(
            `${target.name}  ${target.description}\n  services: ${Object.keys(target.services).join(', ')} (load goes to ${target.entry})\n  knobs:\n`,
          );
          for (const [name, knob] of Object.entries(target.knobs)) {
            const range =
              knob.type === 'int'
                ? ` ${knob.min ?? ''}..${knob.max ?? ''}`
                : knob.type === 'enum'
                  ? ` ${(knob.values ?? []).join('|')}`
                  : '';
            host.stdout.write(
              `    ${name.padEnd(24)} ${knob.type}${range}${knob.unit === '' ? '' : ` ${knob.unit}`}, default ${knob.default}${roleOf(target, name)}: ${knob.description}\n`,
            );
          }
        }
      }
      result({ code: ExitCode.ok });
    },
  });
}
