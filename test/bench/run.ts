// `npm run bench`: every benchmark, each printing ratios against a reference measured in the same run.
// Nothing here asserts a time: on a shared 2-core machine timing belongs in figures, not in pass/fail.
import '../../harness/polyfills.ts';
import { benchDrivers } from './drivers.ts';

const log = (line: string) => process.stdout.write(`${line}\n`);

log('== drivers: harness autocannon vs raw autocannon CLI; arrival-rate CPU per 10k requests');
const figures = await benchDrivers(log);
log('');
log('figures:');
for (const [name, value] of Object.entries(figures))
  log(`  ${name.padEnd(40)} ${Number.isInteger(value) ? value : value.toFixed(3)}`);
