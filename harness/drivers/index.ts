import type { HostSystem } from '../host/host.ts';
import { createArrivalRateDriver } from './arrival-rate.ts';
import { createAutocannonDriver } from './autocannon.ts';
import type { Driver, DriverName } from './driver.ts';
import { createK6Driver } from './k6.ts';

/** What the drivers need from the host: the environment and temp dir (k6), CPU use, signals, the user. */
export interface DriverHost {
  readonly env: Readonly<Record<string, string>>;
  readonly tmpDir: string;
  readonly system: Pick<HostSystem, 'cpuUsage' | 'kill' | 'user'>;
}

/** The config's settings for the drivers that have any (the `k6` section). */
export interface DriverSettings {
  readonly k6?: { readonly instances: number };
}

/**
 * The driver called `name`; the k6 driver finds its binary through `env` (POOLTUNE_K6, then PATH) and
 * runs `settings.k6.instances` processes (default 1).
 */
export function createDriver(name: DriverName, host: DriverHost, settings: DriverSettings = {}): Driver {
  switch (name) {
    case 'autocannon':
      return createAutocannonDriver(host.system);
    case 'arrival-rate':
      return createArrivalRateDriver(host.system);
    case 'k6':
      return createK6Driver({
        env: host.env,
        tmpDir: host.tmpDir,
        system: host.system,
        ...(settings.k6 === undefined ? {} : { instances: settings.k6.instances }),
      });
  }
}
