// Pure: zod issues as the lines a user reads. No I/O, so the plan and the summary reader can use it.
import type { z } from 'zod';

/** Where a top-level key's value came from when not the file, e.g. `runtime` → `POOLTUNE_RUNTIME`. */
export type ConfigOrigins = Readonly<Record<string, string>>;

/**
 * One line per issue, `path: message`, naming the env variable or flag that set the issue's top-level
 * key (from `origins`), e.g. `runtime (from POOLTUNE_RUNTIME): ...`.
 */
export function issueLines(issues: readonly z.core.$ZodIssue[], origins: ConfigOrigins = {}): string[] {
  return issues.map((issue) => {
    const origin = origins[String(issue.path[0])];
    const line = formatIssue(issue);
    return origin === undefined ? line : line.replace(/^([^:]*):/, `$1 (from ${origin}):`);
  });
}

/** One line per problem: `path: message`. A union's problem is its likeliest branch's, with the full path. */
export function formatIssue(issue: z.core.$ZodIssue): string {
  const leaf = likeliestIssue(issue, []);
  const where = leaf.path.length === 0 ? '' : `${leaf.path.map(String).join('.')}: `;
  if (leaf.issue.code === 'unrecognized_keys') {
    const { keys } = leaf.issue;
    return `${where}unknown key${keys.length > 1 ? 's' : ''} ${keys.map((key) => `"${key}"`).join(', ')}`;
  }
  return `${where === '' ? '(top level): ' : where}${leaf.issue.message}`;
}

/**
 * Follows a union's problem into the branch the user most likely meant, through nested unions: not a
 * branch whose literal (a service's `kind`) did not match, and of the rest the one that got furthest.
 */
function likeliestIssue(
  issue: z.core.$ZodIssue,
  prefix: readonly PropertyKey[],
): { issue: z.core.$ZodIssue; path: PropertyKey[] } {
  const path = [...prefix, ...issue.path];
  if (issue.code !== 'invalid_union') return { issue, path };
  const branches = issue.errors.filter((branch) => branch.length > 0);
  const matching = branches.filter(
    (branch) => !branch.some((inner) => inner.code === 'invalid_value' && inner.path.length === 1),
  );
  const best = (matching.length > 0 ? matching : branches).sort((a, b) => depth(b) - depth(a))[0];
  const first = best?.[0];
  return first === undefined ? { issue, path } : likeliestIssue(first, path);
}

function depth(branch: readonly z.core.$ZodIssue[]): number {
  return Math.max(...branch.map((issue) => issue.path.length + (issue.code === 'invalid_type' ? 0 : 0.5)));
}
