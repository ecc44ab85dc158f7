// Settings from the environment, shared by the api and the upstream of this target.

/** A whole number from env, or `fallback` when unset; anything else is a start-up error naming the variable. */
export function intEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a whole number, got "${raw}"`);
  return value;
}

/** A boolean (`1`/`true`, `0`/`false`) from env, or `fallback` when unset. */
export function boolEnv(name: string, fallback: boolean): boolean {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw === '1' || raw === 'true') return true;
  if (raw === '0' || raw === 'false') return false;
  throw new Error(`${name} must be true or false, got "${raw}"`);
}
