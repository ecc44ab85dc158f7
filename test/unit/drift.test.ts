import { describe, expect, it } from 'vitest';
import { removeDrift } from '../../harness/analysis/drift.ts';
import { analysePlateau, type SizeRuns } from '../../harness/analysis/plateau.ts';
import { seededRandom } from '../../scenarios/schedule.ts';

/**
 * Step 4's order on a machine whose background load fades over the step: throughput climbs steadily
 * from 80% to 100% of the truth. Sizes 8, 16 and 32 (all truly at 3000 req/s) run in interleaved
 * blocks from the start; 64 (also truly 3000) joins late, when the load has mostly gone. ±1% noise.
 */
function lateEntrantUnderDrift(): SizeRuns[] {
  const random = seededRandom(11);
  const order = [8, 16, 32, 16, 32, 8, 32, 8, 16, 64, 64, 16, 8, 64, 32];
  const bySize = new Map<number, { id: string; throughput: number; at: number }[]>();
  order.forEach((n, at) => {
    const load = 0.8 + (0.2 * at) / (order.length - 1);
    const throughput = 3000 * load * (0.99 + 0.02 * random());
    bySize.set(n, [...(bySize.get(n) ?? []), { id: `t${at}`, throughput, at }]);
  });
  return [...bySize].map(([n, runs]) => ({ n, runs }));
}

describe('slow drift taken out before sizes are compared', () => {
  const sizes = lateEntrantUnderDrift();

  it('without the correction, the late size looks better than sizes that are truly the same', () => {
    const raw = analysePlateau(sizes, { margin: 0.05, repetitions: 3, removeDrift: false });
    expect(raw?.best).toBe(64);
    expect(raw?.plateau).not.toContain(8);
    expect(raw?.drift).toBeNull();
  });

  it('with it, every size is on the plateau and the correction is on record', () => {
    const corrected = analysePlateau(sizes, { margin: 0.05, repetitions: 3 });
    expect(corrected?.plateau).toEqual([8, 16, 32, 64]);
    expect(corrected?.drift?.largest).toBeGreaterThan(0.05);
    // What the trials measured stays on record beside the corrected figure.
    const late = corrected?.sizes.find((s) => s.n === 64)?.runs[0];
    expect(late?.measured).toBeGreaterThan(late?.throughput ?? Number.POSITIVE_INFINITY);
  });

  it('leaves runs without drift nearly as measured, and too few runs alone', () => {
    const random = seededRandom(5);
    const steady: SizeRuns[] = [8, 16, 32].map((n, i) => ({
      n,
      runs: [0, 1, 2, 3].map((k) => ({
        id: `${n}-${k}`,
        throughput: 3000 * (0.99 + 0.02 * random()),
        at: 3 * k + i,
      })),
    }));
    expect(removeDrift(steady).correction?.largest).toBeLessThan(0.01);
    expect(removeDrift(steady.map((s) => ({ ...s, runs: s.runs.slice(0, 2) }))).correction).toBeNull();
  });
});
