import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../harness/errors.ts';
import { configDocsFile, renderConfigDocs } from '../tools/write-config-docs.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const readme = path.join(root, 'README.md');
const docsDir = path.join(root, 'docs');
const pages = [
  readme,
  ...readdirSync(docsDir)
    .filter((f) => f.endsWith('.md'))
    .map((f) => path.join(docsDir, f)),
];

/** The Markdown links `[text](target)` outside code that point into the repository: file and anchor. */
function relativeLinks(markdown: string): Array<{ file: string; anchor: string | undefined }> {
  const prose = markdown.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1] ?? '')
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target))
    .map((target) => {
      const [file = '', anchor] = target.split('#');
      return { file, anchor };
    });
}

/** The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces to hyphens. */
function anchors(markdown: string): Set<string> {
  const prose = markdown.replace(/```[\s\S]*?```/g, '');
  return new Set(
    [...prose.matchAll(/^#{1,6} (.+)$/gm)].map((m) =>
      (m[1] ?? '')
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, '')
        .replaceAll(' ', '-'),
    ),
  );
}

/** Every link of `page` whose file does not exist, or whose anchor names no heading there. */
function brokenLinks(page: string): string[] {
  return relativeLinks(readFileSync(page, 'utf8')).flatMap(({ file, anchor }) => {
    const target = file === '' ? page : path.resolve(path.dirname(page), decodeURI(file));
    const shown = `${path.relative(root, page)} -> ${file}${anchor === undefined ? '' : `#${anchor}`}`;
    if (!existsSync(target)) return [shown];
    if (anchor !== undefined && target.endsWith('.md') && !anchors(readFileSync(target, 'utf8')).has(anchor))
      return [`${shown} (no such heading)`];
    return [];
  });
}

describe('the documentation', () => {
  it('docs/configuration.md is what the generator writes from the schema now', () => {
    const committed = readFileSync(configDocsFile, 'utf8');
    expect(committed === renderConfigDocs(), 'docs/configuration.md is stale: run npm run docs').toBe(true);
  });

  it('documents every top-level config field and a nested one', () => {
    const text = renderConfigDocs();
    for (const field of ['`target`', '`maxDuration`', '`tuning.slo.p99Ms`', '`target.pools[].knobs.size`'])
      expect(text).toContain(`| ${field} `);
  });

  it('has no relative link to a file (or heading) that does not exist', () => {
    expect(pages.length).toBeGreaterThan(5);
    expect(pages.flatMap(brokenLinks)).toEqual([]);
  });

  it('finds links into the repository, and only those', () => {
    expect(
      relativeLinks('see [a](docs/nope.md#x), [b](https://example.com), [c](#top) and `[d](d.md)`'),
    ).toEqual([
      { file: 'docs/nope.md', anchor: 'x' },
      { file: '', anchor: 'top' },
    ]);
  });

  it("the README's exit-code table lists exactly the codes of ExitCode", () => {
    const text = readFileSync(readme, 'utf8');
    const section = text.slice(
      text.indexOf('## Exit codes'),
      text.indexOf('\n## ', text.indexOf('## Exit codes') + 1),
    );
    const codes = [...section.matchAll(/^\| (\d+) +\|/gm)].map((m) => Number(m[1]));
    expect(codes).toEqual(Object.values(ExitCode).sort((a, b) => a - b));
  });

  it('keeps the README within 12 KB', () => {
    expect(readFileSync(readme).byteLength).toBeLessThanOrEqual(12_288);
  });
});
