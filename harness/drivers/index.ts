import { arrivalRateDriver } from './arrival-rate.ts';
import { autocannonDriver } from './autocannon.ts';
import type { Driver, DriverName } from './driver.ts';
import { createK6Driver } from './k6.ts';

/** The driver called `name`; the k6 driver finds its binary through `env` (POOLTUNE_K6, then PATH). */
export function createDriver(name: DriverName, env: Readonly<Record<string, string>>): Driver {
  switch (name) {
    case 'autocannon':
      return autocannonDriver;
    case 'arrival-rate':
      return arrivalRateDriver;
    case 'k6':
      return createK6Driver({ env });
  }
}
