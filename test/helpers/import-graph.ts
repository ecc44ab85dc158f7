import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** One project import: the module imported, and whether only its types are (`import type`). */
export interface ImportEdge {
  readonly target: string;
  readonly typeOnly: boolean;
}

/** Every module and the project modules it imports (relative imports only; packages are leaves). */
export type ImportGraph = ReadonlyMap<string, readonly ImportEdge[]>;

const IMPORT =
  /(?:^|[\s;])(?:import|export)\s+(type\s)?[^'"`;]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : tsFiles(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [full] : [];
  });
}

/** The import graph of every .ts file under `dirs`, keyed by path relative to `root`. Type-only imports count. */
export function importGraph(root: string, dirs: readonly string[]): ImportGraph {
  const graph = new Map<string, ImportEdge[]>();
  for (const file of dirs.flatMap((dir) => tsFiles(path.join(root, dir)))) {
    const source = readFileSync(file, 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/^\s*\/\/.*$/gm, '');
    const edges = new Map<string, boolean>();
    for (const match of source.matchAll(IMPORT)) {
      const spec = match[2] ?? match[3] ?? '';
      if (!spec.startsWith('.')) continue;
      const resolved = path.resolve(path.dirname(file), spec).replace(/\.js$/, '.ts');
      const target = path.relative(root, resolved.endsWith('.ts') ? resolved : `${resolved}.ts`);
      edges.set(target, (edges.get(target) ?? true) && match[1] !== undefined);
    }
    graph.set(
      path.relative(root, file),
      [...edges].map(([target, typeOnly]) => ({ target, typeOnly })),
    );
  }
  return graph;
}

/** Strongly connected components with more than one module, or a module importing itself (Tarjan). */
export function cycles(graph: ImportGraph): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, next);
    low.set(node, next);
    next += 1;
    stack.push(node);
    onStack.add(node);
    for (const { target } of graph.get(node) ?? []) {
      if (!graph.has(target)) continue;
      if (!index.has(target)) {
        visit(target);
        low.set(node, Math.min(low.get(node) ?? 0, low.get(target) ?? 0));
      } else if (onStack.has(target)) {
        low.set(node, Math.min(low.get(node) ?? 0, index.get(target) ?? 0));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string | undefined;
    do {
      member = stack.pop();
      if (member === undefined) break;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1 || (graph.get(node) ?? []).some((edge) => edge.target === node))
      found.push(component.sort());
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}
