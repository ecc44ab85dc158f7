import type { TargetInput } from '../harness/config/schema.ts';
import { haproxy } from './haproxy/target.ts';
import { hikari } from './hikari/target.ts';
import { httpPg } from './http-pg/target.ts';
import { httpUpstream } from './http-upstream/target.ts';
import { pgbouncer } from './pgbouncer/target.ts';

/** The bundled targets by name. */
export const bundledTargets: Readonly<Record<string, TargetInput>> = {
  'http-pg': httpPg,
  'http-upstream': httpUpstream,
  haproxy,
  hikari,
  pgbouncer,
};
