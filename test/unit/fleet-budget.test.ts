import { describe, expect, it } from 'vitest';
import { fleetBudget } from '../../harness/analysis/fleet-budget.ts';

describe('fleetBudget', () => {
  it('fits 4 instances of pool 20 into max_connections 100 with 5 reserved', () => {
    expect(fleetBudget({ instances: 4, poolMax: 20, reserve: 5, maxConnections: 100 })).toEqual({
      needed: 80,
      available: 95,
      fits: true,
      headroom: 15,
      maxPoolPerInstance: 23,
    });
  });

  it('reports the shortfall and the largest pool that would fit', () => {
    expect(fleetBudget({ instances: 6, poolMax: 20, reserve: 5, maxConnections: 100 })).toEqual({
      needed: 120,
      available: 95,
      fits: false,
      headroom: -25,
      maxPoolPerInstance: 15,
    });
  });

  it('fits exactly at the limit, and leaves no pool when the reserve takes everything', () => {
    expect(fleetBudget({ instances: 5, poolMax: 19, reserve: 5, maxConnections: 100 }).fits).toBe(true);
    expect(fleetBudget({ instances: 5, poolMax: 19, reserve: 5, maxConnections: 100 }).headroom).toBe(0);
    expect(fleetBudget({ instances: 2, poolMax: 1, reserve: 10, maxConnections: 5 })).toEqual({
      needed: 2,
      available: -5,
      fits: false,
      headroom: -7,
      maxPoolPerInstance: 0,
    });
  });

  it('rejects counts that are not whole or not positive', () => {
    expect(() => fleetBudget({ instances: 0, poolMax: 10, reserve: 0, maxConnections: 100 })).toThrow(
      /instances/,
    );
    expect(() => fleetBudget({ instances: 1, poolMax: 2.5, reserve: 0, maxConnections: 100 })).toThrow(
      /poolMax/,
    );
    expect(() => fleetBudget({ instances: 1, poolMax: 2, reserve: -1, maxConnections: 100 })).toThrow(
      /reserve/,
    );
  });
});
