import { describe, expect, it } from 'vitest';
import { sizingLines } from '../../harness/report/outcome-view.ts';
import type { Recommendation } from '../../harness/report/summary-schema.ts';
import { runSummary } from '../helpers/run-summary.ts';

const base = runSummary().recommendations[0] as Recommendation;

function withSizing(sizing: Partial<NonNullable<Recommendation['sizing']>>): Recommendation {
  return {
    ...base,
    sizing: {
      plateau: [64],
      undecided: [],
      best: 64,
      margin: 0.1,
      noiseCv: 0.062,
      resolvable: 0.2,
      drift: null,
      otherChoiceShare: 0,
      outliers: [],
      validations: [{ n: 64, passed: true }],
      needed: null,
      restarts: 30,
      order: 'interleaved blocks',
      ...sizing,
    },
  };
}

describe('the pool size in words', () => {
  it('names the sizes the test left undecided, and what would decide them', () => {
    const lines = sizingLines(withSizing({ undecided: [8, 16, 32] }));
    expect(lines.join('\n')).toContain('Undecided: 8, 16 and 32 could not be told apart from the best (64)');
    expect(sizingLines(withSizing({})).join('\n')).not.toContain('Undecided');
  });

  it('says how far the machine drifted when the correction mattered, and not otherwise', () => {
    expect(sizingLines(withSizing({ drift: 0.14 })).join('\n')).toContain(
      'drifted by up to 14% during step 4',
    );
    expect(sizingLines(withSizing({ drift: 0.005 })).join('\n')).not.toContain('drifted');
  });

  it('tells sizes step 6 did not get to from a plateau that ran out of headroom', () => {
    const full = [
      { n: 8, passed: false },
      { n: 16, passed: false },
      { n: 32, passed: false },
    ];
    const stopped = sizingLines(withSizing({ plateau: [8, 16, 32, 64], validations: full, needed: 48 }));
    expect(stopped.join('\n')).toContain('64 on the plateau was not validated; the load would need about 48');
    const none = sizingLines(withSizing({ plateau: [8, 16, 32], validations: full, needed: 48 }));
    expect(none.join('\n')).toContain(
      'no size on the plateau kept its headroom, the load would need about 48',
    );
  });
});
