// Every fact about the host reaches pooltune through Host (harness/host/host.ts): `node-host.ts` is the one
// file that reads `process` and `node:os`, and owns the one cleanup registry. This test walks harness/
// and scenarios/ and names every other place that reaches for them. targets/ is left out: its servers
// are separate programs that pooltune runs as child processes, and they may read their own process.
// The files are parsed with the TypeScript compiler, so comments and strings (a config snippet that
// says `process.env.DATABASE_URL`) do not count and property access such as `server.process` is not a read.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const checkedDirs = ['harness', 'scenarios'];
const nodeHost = 'harness/host/node-host.ts';
const hostModules = new Set(['os', 'node:os', 'process', 'node:process']);

/** The .ts files under `dir`, relative to the repository root. */
async function tsFiles(dir: string): Promise<string[]> {
  const entries = await readdir(path.join(root, dir), { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)))
    .sort();
}

/** True when the identifier only names a property (`a.process`, `{ process: 1 }`), not the global. */
function namesProperty(node: ts.Identifier): boolean {
  const parent = node.parent;
  return (
    (ts.isPropertyAccessExpression(parent) && parent.name === node) ||
    (ts.isQualifiedName(parent) && parent.right === node) ||
    ((ts.isPropertyAssignment(parent) ||
      ts.isPropertySignature(parent) ||
      ts.isPropertyDeclaration(parent) ||
      ts.isMethodDeclaration(parent) ||
      ts.isGetAccessor(parent)) &&
      parent.name === node)
  );
}

/** The module a declaration or `import()`/`require()` call loads, when it is a string literal. */
function loadedModule(node: ts.Node): string | undefined {
  if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier !== undefined) {
    return ts.isStringLiteral(node.moduleSpecifier) ? node.moduleSpecifier.text : undefined;
  }
  if (
    ts.isCallExpression(node) &&
    (node.expression.kind === ts.SyntaxKind.ImportKeyword ||
      (ts.isIdentifier(node.expression) && node.expression.text === 'require'))
  ) {
    const [first] = node.arguments;
    return first !== undefined && ts.isStringLiteral(first) ? first.text : undefined;
  }
  return undefined;
}

/** Each place in `source` that reads the host directly, as `line: what`. */
function hostReads(fileName: string, source: string): string[] {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const at = (node: ts.Node, what: string) =>
    found.push(`${file.getLineAndCharacterOfPosition(node.getStart(file)).line + 1}: ${what}`);
  const visit = (node: ts.Node): void => {
    const loaded = loadedModule(node);
    if (loaded !== undefined && hostModules.has(loaded)) at(node, `loads '${loaded}'`);
    if (ts.isIdentifier(node) && node.text === 'process' && !namesProperty(node)) at(node, 'reads process');
    if (ts.isIdentifier(node) && node.text === 'cleanupRegistry') at(node, 'uses a cleanupRegistry global');
    if (
      ts.isNewExpression(node) &&
      ts.isIdentifier(node.expression) &&
      node.expression.text === 'CleanupRegistry'
    ) {
      at(node, 'builds a CleanupRegistry (the host owns the one instance)');
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

describe('host boundary', () => {
  it('only node-host.ts reads process, node:os or builds the cleanup registry', async () => {
    const files = (await Promise.all(checkedDirs.map(tsFiles))).flat();
    expect(files).toContain(nodeHost);
    const offending: string[] = [];
    for (const file of files.filter((name) => name !== nodeHost)) {
      const source = await readFile(path.join(root, file), 'utf8');
      for (const read of hostReads(file, source)) offending.push(`${file}:${read}`);
    }
    expect(offending, `host facts read outside ${nodeHost}:\n${offending.join('\n')}`).toEqual([]);
  });

  it('finds the reads of node-host.ts itself (the check can fail)', async () => {
    const reads = hostReads(nodeHost, await readFile(path.join(root, nodeHost), 'utf8'));
    expect(reads).toContain("2: loads 'node:os'");
    expect(reads.some((read) => read.endsWith('reads process'))).toBe(true);
    expect(
      reads.some((read) => read.endsWith('builds a CleanupRegistry (the host owns the one instance)')),
    ).toBe(true);
  });

  it('counts code, not comments, strings or properties named process', () => {
    const source = [
      "import os from 'node:os';",
      "import { cpuUsage } from 'process';",
      '// process.env in a comment',
      '/* process.kill(1) */',
      "const snippet = 'process.env.DATABASE_URL';",
      'const cpu = server.process?.cpuShare;',
      'const row = { process: 1 };',
      'const env = process.env;',
      'const { kill } = process;',
      'cleanupRegistry.addGroup(1, "x");',
      "const later = await import('node:os');",
    ].join('\n');
    expect(hostReads('sample.ts', source)).toEqual([
      "1: loads 'node:os'",
      "2: loads 'process'",
      '8: reads process',
      '9: reads process',
      '10: uses a cleanupRegistry global',
      "11: loads 'node:os'",
    ]);
  });
});
