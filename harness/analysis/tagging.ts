import type { ServerFigures } from '../collect/collector.ts';
import type { DriverResult } from '../drivers/driver.ts';

/** Below this share of the offered rate, an open-model trial measured the generator, not the target. */
export const minAchievedRatio = 0.97;
/** At or above this CPU share (of one core) a Node generator is saturated and its latencies are its own. */
export const maxGeneratorCpuShare = 0.9;

/**
 * Why a trial's numbers describe the load generator rather than the target, or undefined when they
 * are valid: the achieved rate fell under 97% of the offered rate, or the generator's CPU was saturated
 * (per process, when several shared the load).
 */
export function invalidReason(client: DriverResult, _server: ServerFigures): string | undefined {
  if (client.offeredRate !== undefined && client.achievedRate !== undefined && client.offeredRate > 0) {
    const ratio = client.achievedRate / client.offeredRate;
    if (ratio < minAchievedRatio) {
      return `generator started ${client.achievedRate.toFixed(1)} of ${client.offeredRate.toFixed(1)} req/s offered (${(ratio * 100).toFixed(1)}% < ${minAchievedRatio * 100}%)`;
    }
  }
  // Several processes (k6.instances) saturate one by one: judge each one's share, not their sum.
  const processes = client.generatorCpu.processes ?? 1;
  const share = client.generatorCpu.share / processes;
  if (share >= maxGeneratorCpuShare) {
    const each = processes > 1 ? ` for each of ${processes} processes` : '';
    return `generator CPU saturated (${(share * 100).toFixed(0)}% of a core${each} >= ${maxGeneratorCpuShare * 100}%)`;
  }
  return undefined;
}
