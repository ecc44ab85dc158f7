import type { CoresSource } from '../analysis/cores-rule.ts';
import type { Manifest } from '../results/manifest.ts';

/** Pool libraries whose connections go to a database. */
const DATABASE_LIBRARIES: ReadonlySet<string> = new Set(['node-postgres', 'hikaricp', 'pgbouncer']);

/** The cores a database pool's server has, and where that count came from. */
export interface DatabaseCores {
  readonly cores: number;
  readonly source: CoresSource;
}

/**
 * The cores behind a database pool, for the "cores × 2" rule: the CPU quota of the PostgreSQL service
 * the pool reaches, when the target sets one and the run used the container runtime (the only one that
 * applies quotas); else the host's CPU count. Undefined for a pool that is not a database pool: one whose
 * library is not a database pool's and whose service does not depend on a PostgreSQL service. Pure.
 */
export function databaseCores(manifest: Manifest, pool: string): DatabaseCores | undefined {
  const definition = manifest.target.pools?.find((p) => p.name === pool);
  if (definition === undefined) return undefined;
  const services = manifest.target.serviceKinds ?? {};
  const isPostgres = (name: string) => services[name]?.kind === 'postgres';
  const direct = services[definition.service]?.dependsOn ?? [];
  if (!DATABASE_LIBRARIES.has(definition.library) && !direct.some(isPostgres)) return undefined;
  const host: DatabaseCores = { cores: manifest.environment.cpus, source: 'host' };
  if (manifest.runtime !== 'container') return host;
  // The database the pool reaches, through a pooler or proxy in between; else the target's only one.
  const reached = reachable(definition.service, services).find(isPostgres);
  const databases = Object.keys(services).filter(isPostgres);
  const database = reached ?? (databases.length === 1 ? databases[0] : undefined);
  const quota = database === undefined ? undefined : services[database]?.cpus;
  return quota === undefined ? host : { cores: quota, source: 'quota' };
}

/** The services `from` depends on, directly or through others, nearest first. */
function reachable(
  from: string,
  services: Readonly<Record<string, { readonly dependsOn: readonly string[] }>>,
): string[] {
  const seen: string[] = [];
  const queue = [...(services[from]?.dependsOn ?? [])];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    if (seen.includes(next) || next === from) continue;
    seen.push(next);
    queue.push(...(services[next]?.dependsOn ?? []));
  }
  return seen;
}
