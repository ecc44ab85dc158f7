/** A fleet of app instances sharing one database: what the pools ask for and what the server allows. */
export interface FleetBudgetInput {
  /** App instances (replicas, processes) each with its own pool against the same database. */
  readonly instances: number;
  /** Each instance's pool maximum. */
  readonly poolMax: number;
  /** Connections kept back for admins, migrations, replication and monitoring. */
  readonly reserve: number;
  /** The database's `max_connections`. */
  readonly maxConnections: number;
}

/** Whether the fleet's pools fit the database when every pool is full at once. */
export interface FleetBudget {
  /** instances × poolMax: what the fleet can open at peak. */
  readonly needed: number;
  /** maxConnections − reserve: what the apps may use. */
  readonly available: number;
  readonly fits: boolean;
  /** available − needed; negative by the shortfall when it does not fit. */
  readonly headroom: number;
  /** The largest pool max every instance can have and still fit (0 when the reserve takes everything). */
  readonly maxPoolPerInstance: number;
}

function requireCount(name: string, value: number, least: number): void {
  if (!Number.isInteger(value) || value < least) {
    throw new RangeError(`fleetBudget: ${name} must be an integer >= ${least}, got ${value}`);
  }
}

/**
 * The connection budget of a fleet. A pool size tuned on one instance is multiplied by every replica, and
 * old and new replicas overlap during a rolling deploy (count the surge in `instances`), so it must be
 * checked against the server, not alone.
 */
export function fleetBudget(input: FleetBudgetInput): FleetBudget {
  const { instances, poolMax, reserve, maxConnections } = input;
  requireCount('instances', instances, 1);
  requireCount('poolMax', poolMax, 0);
  requireCount('reserve', reserve, 0);
  requireCount('maxConnections', maxConnections, 0);
  const needed = instances * poolMax;
  const available = maxConnections - reserve;
  return {
    needed,
    available,
    fits: needed <= available,
    headroom: available - needed,
    maxPoolPerInstance: Math.max(0, Math.floor(available / instances)),
  };
}
