import { fdFailShare, fdWarnShare, persistentCloseWaitSamples } from '../analysis/thresholds.ts';
import type { ProbeResult } from '../results/probe-results.ts';
import type { MeasuredTrial } from '../results/trial.ts';
import { stepIds } from '../tuning/step.ts';
import { completedTrials, type RunEvidence, sampleMax, stepTrials } from './run-evidence.ts';
import type { ChecklistItem, CheckStatus } from './summary-schema.ts';

/**
 * The connection-management decision checklist, each item with a status and the evidence behind it.
 * Built only from what the run measured and declared; an item pooltune has no evidence for is
 * `not-checked`, never a guessed pass. Where resilience probes ran, each item they feed takes their
 * status and evidence (see {@link withProbes}). Pure.
 */
export function buildChecklist(run: RunEvidence): ChecklistItem[] {
  const measured = completedTrials(run.trials);
  return fromTrials(run, measured).map((entry) => withProbes(entry, run.probes ?? []));
}

/**
 * An item with the probes that feed it. A probe that checked something leads: its evidence comes
 * first and its status counts, but a problem the trials found is never hidden (the worse of the two
 * wins). Probes that could not check anything only add their reason, or give one where the trials
 * had none. Pure.
 */
export function withProbes(entry: ChecklistItem, probes: readonly ProbeResult[]): ChecklistItem {
  const fed = probes.filter((probe) => probe.checklistItem === entry.id);
  if (fed.length === 0) return entry;
  const checked = fed.filter((probe) => probe.status !== 'not-checked');
  const said = (list: readonly ProbeResult[]) =>
    list.map((probe) => `Probe ${probe.id}: ${probe.evidence}`).join(' ');
  if (checked.length === 0) {
    if (entry.status !== 'not-checked') return { ...entry, evidence: `${entry.evidence}. ${said(fed)}` };
    return { ...entry, evidence: said(fed) };
  }
  const probed = checked.map((probe) => probe.status).reduce(worse);
  const status = entry.status === 'not-checked' ? probed : worse(probed, entry.status);
  const trialsSaid = entry.status === 'not-checked' ? '' : ` From the trials: ${entry.evidence}.`;
  return { ...entry, status, evidence: `${said(checked)}${trialsSaid}` };
}

function fromTrials(run: RunEvidence, measured: readonly MeasuredTrial[]): ChecklistItem[] {
  return [
    poolsConfigured(run),
    timeoutsSet(run),
    leaksPrevented(run, measured),
    healthChecks(run),
    monitored(measured),
    {
      id: 'circuit-breakers',
      title: 'Circuit breakers on critical dependencies',
      status: 'not-checked',
      evidence:
        'pooltune neither sees nor probes a circuit breaker in this target: check that calls to each critical dependency fail fast once it is down.',
      trials: [],
    },
    {
      id: 'draining',
      title: 'Draining during deployments',
      status: 'not-checked',
      evidence:
        'not probed: check that the service stops taking new requests and finishes in-flight ones on SIGTERM before it closes its pools.',
      trials: [],
    },
    fdLimits(run, measured),
  ];
}

function item(
  id: string,
  title: string,
  status: CheckStatus,
  evidence: string,
  trials: readonly string[] = [],
): ChecklistItem {
  return { id, title, status, evidence, trials: [...trials] };
}

function poolsConfigured(run: RunEvidence): ChecklistItem {
  const title = 'Pools configured for every outbound connection';
  const { serviceKinds, pools } = run.manifest.target;
  if (serviceKinds === undefined || pools === undefined) {
    return item(
      'pools-configured',
      title,
      'not-checked',
      'this run predates the record of services and pools',
    );
  }
  const lines: string[] = [];
  const missing: string[] = [];
  for (const [name, service] of Object.entries(serviceKinds)) {
    if (service.dependsOn.length === 0) continue;
    const own = pools.filter((pool) => pool.service === name);
    const deps = service.dependsOn.join(', ');
    if (own.length === 0) missing.push(`${name} → ${deps}`);
    else
      lines.push(`${name} → ${deps}: pool ${own.map((pool) => `${pool.name} (${pool.library})`).join(', ')}`);
  }
  if (missing.length > 0) {
    return item(
      'pools-configured',
      title,
      'warn',
      `no pool declared for ${missing.join('; ')}: declare it under the target's pools so pooltune can size it${lines.length > 0 ? `; ${lines.join('; ')}` : ''}`,
    );
  }
  if (lines.length === 0) {
    return item(
      'pools-configured',
      title,
      'pass',
      `pools ${pools.map((p) => p.name).join(', ')}; no other outbound connection is declared`,
    );
  }
  return item('pools-configured', title, 'pass', lines.join('; '));
}

const timeoutRoles = [
  ['connectTimeout', 'connect'],
  ['readTimeout', 'read'],
  ['idleTimeout', 'idle'],
] as const;

function timeoutsSet(run: RunEvidence): ChecklistItem {
  const title = 'Timeouts set (connect, read, idle)';
  const pools = run.manifest.target.pools;
  if (pools === undefined || pools.length === 0) {
    return item('timeouts-set', title, 'not-checked', 'the run records no pools');
  }
  const parts: string[] = [];
  let status: CheckStatus = 'pass';
  const evidence: string[] = [];
  for (const pool of pools) {
    const rec = run.analysis?.recommendations.find((r) => r.pool === pool.name);
    const fields: string[] = [];
    for (const [role, label] of timeoutRoles) {
      const knob = pool.knobs[role];
      if (knob === undefined) {
        fields.push(`${label}: no knob`);
        status = worse(status, 'warn');
        continue;
      }
      const recommended = rec?.knobs.find((k) => k.role === role);
      const value = recommended?.value ?? run.manifest.fixedKnobs[knob];
      if (recommended !== undefined) evidence.push(...recommended.evidence);
      if (value === 0 || value === false) {
        fields.push(`${label}: ${knob} = 0 (never)`);
        status = worse(status, 'fail');
      } else {
        const unit = recommended?.unit ?? '';
        fields.push(
          `${label}: ${knob} = ${String(value)}${unit === '' ? '' : ` ${unit}`}${recommended === undefined ? ' (as configured)' : ''}`,
        );
      }
    }
    parts.push(`${pool.name}: ${fields.join(', ')}`);
  }
  const hint =
    status === 'fail'
      ? ' — a timeout of 0 waits forever: a dead dependency then holds every request'
      : status === 'warn'
        ? ' — a timeout the target does not expose cannot be tuned or checked'
        : '';
  return item('timeouts-set', title, status, `${parts.join('; ')}${hint}`, [...new Set(evidence)]);
}

/** The longest run of consecutive samples with a socket in CLOSE_WAIT, and the highest count seen. */
function closeWaitRun(trial: MeasuredTrial): { run: number; max: number } {
  let run = 0;
  let longest = 0;
  let max = 0;
  for (const sample of trial.server.samples) {
    const count = sample.sockets?.closeWait ?? 0;
    max = Math.max(max, count);
    run = count > 0 ? run + 1 : 0;
    longest = Math.max(longest, run);
  }
  return { run: longest, max };
}

function leaksPrevented(run: RunEvidence, measured: readonly MeasuredTrial[]): ChecklistItem {
  const title = 'Leaks prevented';
  const pools = run.manifest.target.pools ?? [];
  const sampled = measured.filter((t) => t.server.sockets !== undefined);
  const overSize = measured.filter((trial) =>
    pools.some((pool) => {
      const size = trial.knobs[pool.knobs.size ?? ''];
      const total = trial.server.pool?.totalMax;
      // The sampled pool figures are the entry service's; with one pool there they are that pool's.
      return pools.length === 1 && typeof size === 'number' && total !== undefined && total > size;
    }),
  );
  if (overSize.length > 0) {
    return item(
      'leaks-prevented',
      title,
      'fail',
      `the pool held more connections than its maximum in ${overSize.length} trial(s): connections escape the pool`,
      overSize.map((t) => t.id),
    );
  }
  if (sampled.length === 0) {
    return item('leaks-prevented', title, 'not-checked', 'no socket states were sampled');
  }
  const runs = sampled.map((trial) => ({ trial: trial.id, ...closeWaitRun(trial) }));
  const persistent = runs.filter((r) => r.run >= persistentCloseWaitSamples);
  if (persistent.length > 0) {
    return item(
      'leaks-prevented',
      title,
      'warn',
      `sockets stayed in CLOSE_WAIT for ${persistentCloseWaitSamples}+ samples in a row in ${persistent.length} trial(s) (up to ${Math.max(...persistent.map((r) => r.max))}): the peer closed them and this side did not (a leak on some path)`,
      persistent.map((r) => r.trial),
    );
  }
  const transient = runs.filter((r) => r.max > 0);
  const errorPaths = run.probes?.some((probe) => probe.id === 'leaks' && probe.status !== 'not-checked')
    ? ''
    : '; an error-path leak is not probed';
  return item(
    'leaks-prevented',
    title,
    'pass',
    `the pool never exceeded its maximum and CLOSE_WAIT ${transient.length === 0 ? 'stayed at 0' : `appeared only in passing (${transient.length} trial(s), never ${persistentCloseWaitSamples} samples in a row)`} over ${sampled.length} trials${errorPaths}`,
  );
}

function healthChecks(run: RunEvidence): ChecklistItem {
  const title = 'Health checks find dead connections';
  const pools = run.manifest.target.pools;
  if (pools === undefined || pools.length === 0) {
    return item('health-checks', title, 'not-checked', 'the run records no pools');
  }
  const withoutRecycling: string[] = [];
  const lines: string[] = [];
  for (const pool of pools) {
    const rec = run.analysis?.recommendations.find((r) => r.pool === pool.name);
    const lifetime = rec?.knobs.find((k) => k.role === 'maxLifetime');
    const knobs = [pool.knobs.maxLifetime, pool.knobs.keepAlive].filter((k) => k !== undefined);
    if (knobs.length === 0) withoutRecycling.push(pool.name);
    else if (lifetime !== undefined)
      lines.push(
        `${pool.name}: ${lifetime.knob} = ${lifetime.value} ${lifetime.unit} retires old connections`,
      );
    else lines.push(`${pool.name}: ${knobs.join(', ')} can recycle connections`);
  }
  if (withoutRecycling.length > 0) {
    return item(
      'health-checks',
      title,
      'warn',
      `${withoutRecycling.join(', ')}: no max-lifetime or keep-alive knob, so a connection a firewall or failover killed is found only when a request fails on it`,
    );
  }
  return item(
    'health-checks',
    title,
    'not-checked',
    `${lines.join('; ')}; detecting a dead connection (e.g. after a database restart) is not probed`,
  );
}

function monitored(measured: readonly MeasuredTrial[]): ChecklistItem {
  const title = 'Connection states and pool use monitored';
  if (measured.length === 0) return item('monitoring', title, 'not-checked', 'no trial completed');
  const withPool = measured.filter((t) => t.server.pool?.totalMax !== undefined).length;
  const withNative = measured.filter((t) => t.server.native !== undefined).length;
  const withSockets = measured.filter((t) => t.server.sockets !== undefined).length;
  if (withPool === 0 && withNative > 0) {
    return item(
      'monitoring',
      title,
      'pass',
      `the pool's own figures (${Object.keys(measured.find((t) => t.server.native)?.server.native ?? {}).join(', ')}) read from the target's metrics in ${withNative} of ${measured.length} trials; socket states sampled in ${withSockets}`,
    );
  }
  if (withPool === 0) {
    return item(
      'monitoring',
      title,
      'warn',
      'the target exposes no pool metrics (total, idle, waiting): in production nobody sees the pool fill up; export them (see docs/targets.md for the metric names)',
    );
  }
  return item(
    'monitoring',
    title,
    'pass',
    `pool total/idle/waiting read from the target's metrics in ${withPool} of ${measured.length} trials; socket states sampled in ${withSockets}`,
  );
}

function fdLimits(run: RunEvidence, measured: readonly MeasuredTrial[]): ChecklistItem {
  const title = 'FD limits adequate for peak';
  const limit = run.manifest.environment.openFilesLimit;
  const peak = completedTrials(stepTrials(run, stepIds.peak));
  const pool = peak.length > 0 ? peak : measured;
  const fds = sampleMax(pool, (t) => t.server.process?.fdsMax);
  if (limit === undefined || fds === undefined) {
    return item(
      'fd-limits',
      title,
      'not-checked',
      limit === undefined ? 'the open-files limit was not recorded' : 'open FDs were not sampled',
    );
  }
  const share = fds.value / limit;
  const status: CheckStatus = share >= fdFailShare ? 'fail' : share >= fdWarnShare ? 'warn' : 'pass';
  return item(
    'fd-limits',
    title,
    status,
    `${fds.value} open FDs at most${peak.length > 0 ? ' under peak load' : ''} (${fds.trial}) against a limit of ${limit} (${(share * 100).toFixed(1)}%)`,
    [fds.trial],
  );
}

const rank: Record<CheckStatus, number> = { pass: 0, 'not-checked': 0, warn: 1, fail: 2 };

/** The worse of two statuses (fail > warn > pass). */
export function worse(a: CheckStatus, b: CheckStatus): CheckStatus {
  return rank[b] > rank[a] ? b : a;
}
