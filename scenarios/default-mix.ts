import type { RequestSpec } from './scenario.ts';

/**
 * The request mix of the bundled http-pg target: mostly point reads, some writes, a few heavier
 * aggregates and I/O waits. Scenarios take it unless a config names its own.
 */
export const defaultMix: readonly RequestSpec[] = [
  { name: 'read', method: 'GET', path: '/read', weight: 70 },
  { name: 'write', method: 'POST', path: '/write', weight: 15 },
  { name: 'aggregate', method: 'GET', path: '/aggregate', weight: 5 },
  { name: 'sleep', method: 'GET', path: '/sleep', weight: 10 },
];
