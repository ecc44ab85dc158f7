import { nodeSystem } from '../../harness/host/node-host.ts';

/** The real machine and process, for tests that start real processes (one cleanup registry per test file). */
export const system = nodeSystem();
