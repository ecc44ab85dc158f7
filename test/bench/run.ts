// `npm run bench [-- drivers|search|tune|capacity|report|k6]`: benchmarks, each printing ratios against a reference
// measured in the same run. Nothing here asserts a time: on a shared 2-core machine timing belongs in
// figures, not in pass/fail.
import '../../harness/polyfills.ts';
import { benchCapacity } from './capacity.ts';
import { benchDrivers } from './drivers.ts';
import { benchK6 } from './k6.ts';
import { benchReport } from './report.ts';
import { benchSearch } from './search.ts';
import { benchTuneTime } from './tune-time.ts';

const log = (line: string) => process.stdout.write(`${line}\n`);
const benches = {
  drivers: ['harness autocannon vs raw autocannon CLI; arrival-rate CPU per 10k requests', benchDrivers],
  search: [
    'the default tune (x3, and with a CPU hog) against an exhaustive grid on http-pg: PF2, PF3, PF5',
    benchSearch,
  ],
  tune: ['wall time of pooltune tune and tune --quick', benchTuneTime],
  capacity: [
    'the capacity search (step 8) on http-pg against a linear rate sweep at 2% steps: trials and time',
    benchCapacity,
  ],
  report: ['rendering every output of a 200-trial run, against the 2 s and 1.5 MB budgets', benchReport],
  k6: ['2 stand-in k6 instances vs 1 (merged count = sum); merging the histograms of 1M requests', benchK6],
} as const;

const chosen = process.argv.slice(2).filter((name): name is keyof typeof benches => name in benches);
const figures: Record<string, number> = {};
for (const name of chosen.length > 0 ? chosen : (Object.keys(benches) as (keyof typeof benches)[])) {
  const [title, bench] = benches[name];
  log(`== ${name}: ${title}`);
  Object.assign(figures, await bench(log));
  log('');
}
log('figures:');
for (const [name, value] of Object.entries(figures)) {
  log(`  ${name.padEnd(40)} ${Number.isInteger(value) ? value : value.toFixed(3)}`);
}
