import { type TargetInput, targetSchema } from '../../harness/config/schema.ts';
import type { KnobValues } from '../../harness/results/trial.ts';
import { startTarget } from '../../harness/runtime/process-runtime.ts';
import type { StartedTarget } from '../../harness/runtime/service.ts';
import { httpPg } from '../../targets/http-pg/target.ts';
import { testRuntime } from './system.ts';

const app = httpPg.services[httpPg.entry];
if (app === undefined || !('command' in app)) throw new Error('http-pg has no process entry service');

/**
 * http-pg with the probes' variants as knobs (see targets/http-pg/server.ts), so one running target
 * serves every variant: switching one restarts only the app, never the database. The app runs under
 * `ulimit -n {{knobs.openFiles}}`, and `/sleep` holds its connection for `sleepMs`.
 */
export const probeTarget: TargetInput = {
  ...httpPg,
  name: 'http-pg-probes',
  services: {
    ...httpPg.services,
    [httpPg.entry]: {
      ...app,
      command: 'sh',
      args: ['-c', 'ulimit -n {{knobs.openFiles}} && exec "$0" "$@"', '{{node}}', ...(app.args ?? [])],
      env: {
        ...app.env,
        LEAK_ON_ERROR: '{{knobs.leakOnError}}',
        HANDLE_CLIENT_ERRORS: '{{knobs.handleClientErrors}}',
        GRACEFUL_SHUTDOWN: '{{knobs.gracefulShutdown}}',
        CIRCUIT_BREAKER: '{{knobs.circuitBreaker}}',
        CB_FAILURE_THRESHOLD: '{{knobs.breakerThreshold}}',
        SLEEP_MS: '{{knobs.sleepMs}}',
      },
    },
  },
  knobs: {
    ...httpPg.knobs,
    leakOnError: { type: 'bool', description: 'a failed request keeps its client', default: false },
    handleClientErrors: {
      type: 'bool',
      description: "checked-out clients' errors are handled",
      default: true,
    },
    gracefulShutdown: { type: 'bool', description: 'drain in-flight requests on SIGTERM', default: false },
    circuitBreaker: { type: 'bool', description: 'a breaker around database calls', default: false },
    breakerThreshold: { type: 'int', description: 'failures in a row that open it', default: 5 },
    sleepMs: { type: 'int', description: 'how long /sleep holds its connection', unit: 'ms', default: 10 },
    openFiles: { type: 'int', description: "the app's open-files limit (ulimit -n)", default: 4096 },
  },
};

/** The probe target's default knob values. */
export function probeTargetDefaults(): Record<string, number | boolean | string> {
  const target = targetSchema.parse(probeTarget);
  return Object.fromEntries(Object.entries(target.knobs).map(([name, knob]) => [name, knob.default]));
}

/** Starts the probe target (real PostgreSQL, real Node service) with these knobs over the defaults. */
export async function startProbeTarget(knobs: KnobValues): Promise<StartedTarget> {
  const env = Object.fromEntries(
    Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined),
  );
  return startTarget(
    targetSchema.parse(probeTarget),
    { ...probeTargetDefaults(), ...knobs },
    testRuntime(env),
  );
}
