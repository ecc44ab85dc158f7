import { createArrivalRateDriver } from '../../harness/drivers/arrival-rate.ts';
import { createAutocannonDriver } from '../../harness/drivers/autocannon.ts';
import { system } from './system.ts';

/** The in-process drivers measuring this test process's own CPU, as a real run builds them. */
export const autocannonDriver = createAutocannonDriver(system);
export const arrivalRateDriver = createArrivalRateDriver(system);
