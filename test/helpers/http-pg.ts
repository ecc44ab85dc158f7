import { targetSchema } from '../../harness/config/schema.ts';
import type { KnobValues } from '../../harness/results/trial.ts';
import { startTarget } from '../../harness/runtime/process-runtime.ts';
import type { StartedTarget } from '../../harness/runtime/service.ts';
import { httpPg } from '../../targets/http-pg/target.ts';
import { testRuntime } from './system.ts';

/** The bundled http-pg target's default knob values. */
export function httpPgDefaults(): Record<string, number | boolean | string> {
  const target = targetSchema.parse(httpPg);
  return Object.fromEntries(Object.entries(target.knobs).map(([name, knob]) => [name, knob.default]));
}

/** Starts the real http-pg target (real PostgreSQL, real Node service) for a test. */
export async function startHttpPg(knobs: KnobValues): Promise<StartedTarget> {
  const env = Object.fromEntries(
    Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined),
  );
  return startTarget(targetSchema.parse(httpPg), { ...httpPgDefaults(), ...knobs }, testRuntime(env));
}
