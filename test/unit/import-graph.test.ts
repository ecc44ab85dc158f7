import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cycles, importGraph } from '../helpers/import-graph.ts';

const root = path.resolve(import.meta.dirname, '../..');
const graph = importGraph(root, ['harness', 'scenarios', 'targets']);

/** The layer a harness file belongs to: its folder under harness/. */
function layer(file: string): string {
  const parts = file.split(path.sep);
  return parts[0] === 'harness' && parts.length > 2 ? (parts[1] ?? '') : (parts[0] ?? '');
}

/** Layers that must not import the listed ones (ARCHITECTURE.md: dependencies point one way). */
const forbidden: Record<string, readonly string[]> = {
  analysis: ['cli', 'run', 'tuning', 'report', 'probes', 'runtime', 'drivers', 'collect', 'results', 'host'],
  config: ['cli', 'run', 'tuning', 'report', 'probes', 'runtime', 'drivers', 'collect', 'results'],
  results: ['cli', 'run', 'tuning', 'report', 'probes'],
  report: ['cli', 'run', 'tuning', 'probes', 'runtime', 'drivers', 'collect'],
  tuning: ['cli', 'run', 'report'],
  probes: ['cli', 'run', 'report', 'tuning'],
};

/**
 * Modules of a higher layer that lower ones may still use, all free of I/O: the method's outcome and
 * progress types (types only), its step vocabulary (the step record and the step ids; no imports) and
 * the trial record with its type guards.
 */
const allowed = new Set([
  'harness/tuning/outcome.ts',
  'harness/tuning/step.ts',
  'harness/tuning/progress.ts',
  'harness/results/trial.ts',
]);

describe('the import graph', () => {
  it('reads the imports of every module (the check would pass vacuously otherwise)', () => {
    expect(graph.size).toBeGreaterThan(100);
    const targets = graph.get(path.join('harness', 'run', 'tune.ts'))?.map((edge) => edge.target);
    expect(targets).toContain(path.join('harness', 'tuning', 'method.ts'));
  });

  it('finds a planted cycle', () => {
    const to = (target: string) => [{ target, typeOnly: true }];
    const planted = new Map([
      ['a.ts', to('b.ts')],
      ['b.ts', to('c.ts')],
      ['c.ts', to('a.ts')],
      ['d.ts', to('a.ts')],
    ]);
    expect(cycles(planted)).toEqual([['a.ts', 'b.ts', 'c.ts']]);
  });

  it('has no cycles, type-only imports included', () => {
    expect(cycles(graph)).toEqual([]);
  });

  it('points one way: no layer runs code of a layer above it (shared record types may cross)', () => {
    const violations = [...graph].flatMap(([file, edges]) =>
      edges
        .filter(({ target, typeOnly }) => !typeOnly && !allowed.has(target))
        .filter(({ target }) => (forbidden[layer(file)] ?? []).includes(layer(target)))
        .map(({ target }) => `${file} -> ${target}`),
    );
    expect(violations).toEqual([]);
  });
});
