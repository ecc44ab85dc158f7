// What the collector samples of a started target: for a trial, and for a probe.

import { groupPids } from '../runtime/child.ts';
import type { StartedTarget } from '../runtime/service.ts';
import type { CollectTarget } from './collector.ts';
import { poolMetricNames } from './metric-names.ts';

/**
 * What the collector samples of a target: the entry service's process group and metrics, with sockets
 * counted on its port and on `extraPorts` (e.g. the database's, for the pool's connections).
 */
export async function collectTargetOf(
  target: StartedTarget,
  extraPorts: readonly number[] = [],
  nativeGauges: Readonly<Record<string, string>> = {},
): Promise<CollectTarget> {
  const entry = target.entry();
  const service = target.definition.services[target.definition.entry];
  const metrics = service?.kind === 'process' ? service.metrics : undefined;
  return {
    pids: entry.pid === undefined ? [] : await groupPids(entry.pid),
    ports: [entry.port, ...extraPorts],
    entryPort: entry.port,
    ...(metrics === undefined
      ? {}
      : {
          metricsUrl: `${entry.url}${metrics.path}`,
          metricNames: poolMetricNames(metrics.pool),
          nativeGauges: { ...metrics.native, ...nativeGauges },
        }),
  };
}
