import { describe, expect, it } from 'vitest';
import {
  addFractions,
  decimalFraction,
  equalFractions,
  executionSegments,
  type Fraction,
  fraction,
  parseFraction,
  parseSegment,
  segmentCount,
  segmentFlags,
  segmentRate,
} from '../../harness/drivers/k6-segments.ts';

const sum = (values: readonly Fraction[]): Fraction => values.reduce(addFractions, fraction(0));

describe('executionSegments', () => {
  it('writes exact fractions the way k6 prints them', () => {
    expect(executionSegments(1).map((s) => s.segment)).toEqual(['0:1']);
    expect(executionSegments(2).map((s) => s.segment)).toEqual(['0:1/2', '1/2:1']);
    expect(executionSegments(4).map((s) => s.segment)).toEqual(['0:1/4', '1/4:1/2', '1/2:3/4', '3/4:1']);
    expect(executionSegments(3)[1]?.sequence).toBe('0,1/3,2/3,1');
    const [, , third] = executionSegments(3);
    if (third === undefined) throw new Error('expected three segments');
    expect(segmentFlags(third)).toEqual([
      '--execution-segment=2/3:1',
      '--execution-segment-sequence=0,1/3,2/3,1',
    ]);
  });

  it.each([1, 2, 3, 5, 7, 12, 64, 256])(
    '%i segments tile [0, 1]: no gap, no overlap, lengths sum to 1',
    (n) => {
      const segments = executionSegments(n);
      expect(segments).toHaveLength(n);
      expect(segments[0]?.from).toEqual(fraction(0));
      expect(segments.at(-1)?.to).toEqual(fraction(1));
      for (let i = 1; i < n; i++) {
        expect(segments[i]?.from).toEqual(segments[i - 1]?.to);
      }
      expect(sum(segments.map((s) => s.length))).toEqual(fraction(1));
      // Every instance gets the same sequence, and each sequence point is a segment bound.
      expect(new Set(segments.map((s) => s.sequence)).size).toBe(1);
      const bounds = segments[0]?.sequence.split(',').map(parseFraction) ?? [];
      expect(bounds).toEqual([...segments.map((s) => s.from), fraction(1)]);
      // What k6 parses back from the flag is the segment itself.
      for (const s of segments) expect(parseSegment(s.segment)).toEqual({ from: s.from, to: s.to });
    },
  );

  it('rejects counts that are not whole positive numbers', () => {
    for (const bad of [0, -1, 1.5, 2_000_000, Number.NaN])
      expect(() => executionSegments(bad)).toThrow(RangeError);
  });
});

describe('segment shares', () => {
  it.each([
    [2, 100],
    [3, 100],
    [7, 1_500],
    [6, 12.5],
    [4, 0.3],
  ])('%i instances at %d req/s: the rates add up to the scenario rate exactly', (n, rate) => {
    const total = decimalFraction(rate);
    const shares = executionSegments(n).map((segment) => segmentRate(total, segment));
    expect(equalFractions(sum(shares), total)).toBe(true);
    // Equal segments offer equal shares.
    for (const share of shares) expect(share).toEqual(shares[0]);
    expect((shares[0]?.num ?? 0) / (shares[0]?.den ?? 1)).toBeCloseTo(rate / n, 12);
  });

  it.each([
    [2, 1],
    [2, 4],
    [3, 10],
    [4, 2],
    [7, 50],
    [16, 33],
  ])(
    '%i instances share %i VUs: whole shares that add up to the count, none off by more than one',
    (n, count) => {
      const shares = executionSegments(n).map((segment) => segmentCount(count, segment));
      expect(shares.reduce((a, b) => a + b, 0)).toBe(count);
      expect(Math.max(...shares) - Math.min(...shares)).toBeLessThanOrEqual(1);
      for (const share of shares) expect(Number.isInteger(share) && share >= 0).toBe(true);
    },
  );

  it('reads decimals exactly and refuses what is not one', () => {
    expect(decimalFraction(12.5)).toEqual({ num: 25, den: 2 });
    expect(decimalFraction(0.3)).toEqual({ num: 3, den: 10 });
    expect(decimalFraction(1500)).toEqual({ num: 1500, den: 1 });
    expect(() => decimalFraction(1 / 3)).toThrow(RangeError);
    expect(() => parseSegment('1/2:1/4')).toThrow(/from < to/);
    expect(() => parseSegment('0:3/2')).toThrow(/to <= 1/);
    expect(() => parseSegment('0.5')).toThrow(/from:to/);
  });
});
