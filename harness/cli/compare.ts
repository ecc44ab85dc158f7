import path from 'node:path';
import { defineCommand } from 'citty';
import type { RunComparison } from '../analysis/compare.ts';
import { loadConfig } from '../config/load.ts';
import { ExitCode, usageError } from '../errors.ts';
import type { Host } from '../host/host.ts';
import { compareRunPaths } from '../report/compare-report.ts';
import { formatChange, knobLabels } from '../report/compare-view.ts';
import type { CommandResult } from './command.ts';
import { checkFlags } from './options.ts';

const args = {
  baseline: {
    type: 'positional',
    description: 'the baseline: a run directory or its summary.json',
    required: false,
  },
  current: {
    type: 'positional',
    description: 'the run to check: a run directory or its summary.json',
    required: false,
  },
  'p99-threshold': {
    type: 'string',
    description: 'a p99 rise above this share is a regression (default 0.10, or compare.p99Threshold)',
  },
  'throughput-threshold': {
    type: 'string',
    description:
      'a throughput drop above this share is a regression (default 0.10, or compare.throughputThreshold)',
  },
  out: {
    type: 'string',
    alias: 'o',
    description: 'the comparison report (default: comparison.html in the current run directory)',
  },
  config: {
    type: 'string',
    alias: 'c',
    description:
      'config file for the compare thresholds (default: pooltune.config.* in the working directory)',
  },
  json: { type: 'boolean', description: 'print the comparison as JSON' },
} as const;

/**
 * `pooltune compare <baseline> <current>`: per point, the p99 and throughput of the current run against
 * the baseline's; exit 4 when a point regressed beyond the thresholds and the noise.
 */
export function compareCommand(host: Host, result: (r: CommandResult) => void) {
  return defineCommand({
    meta: {
      name: 'compare',
      description: 'Compare a run with a baseline run: exit 4 when latency or throughput regressed',
    },
    args,
    run: async ({ rawArgs, args: parsed }) => {
      checkFlags(rawArgs, args);
      const baseline = positional(parsed.baseline);
      const current = positional(parsed.current);
      if (baseline === undefined || current === undefined) {
        throw usageError(
          'compare needs a baseline and a current run',
          'pooltune compare reports/out/<baseline-run> reports/out/<current-run> (run directories or summary.json files)',
        );
      }
      // The `compare` section of the config file (and env), or its defaults when there is no file.
      const { config } = await loadConfig(host.cwd, { configPath: positional(parsed.config), env: host.env });
      const defaults = config.compare;
      const outcome = await compareRunPaths(
        path.resolve(host.cwd, baseline),
        path.resolve(host.cwd, current),
        {
          p99Threshold: threshold(parsed['p99-threshold'], '--p99-threshold') ?? defaults.p99Threshold,
          throughputThreshold:
            threshold(parsed['throughput-threshold'], '--throughput-threshold', true) ??
            defaults.throughputThreshold,
          ...(positional(parsed.out) === undefined
            ? {}
            : { out: path.resolve(host.cwd, parsed.out as string) }),
        },
      );
      const { comparison, report } = outcome;
      host.stdout.write(
        parsed.json === true
          ? `${JSON.stringify({ report, regressed: comparison.regressed, regressions: comparison.regressions, comparison }, null, 2)}\n`
          : `${formatComparison(comparison)}report: ${report}\n`,
      );
      result({ code: comparison.regressed ? ExitCode.regression : ExitCode.ok });
    },
  });
}

function positional(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** A share from a flag: `0.1` or `10%`; undefined when the flag was not given. */
function threshold(raw: unknown, flag: string, belowOne = false): number | undefined {
  if (raw === undefined) return undefined;
  const text = String(raw).trim();
  const percent = text.endsWith('%');
  const value = Number(percent ? text.slice(0, -1) : text) / (percent ? 100 : 1);
  if (text === '' || text === '%' || !Number.isFinite(value) || value < 0 || (belowOne && value >= 1)) {
    throw usageError(
      `${flag} ${text}: expected a share ${belowOne ? 'in [0, 1)' : '>= 0'}`,
      `e.g. ${flag} 0.10 (or 10%)`,
    );
  }
  return value;
}

/** The comparison as a short table for a terminal or a CI log. */
export function formatComparison(comparison: RunComparison): string {
  const labels = knobLabels(comparison.points);
  const { p99, throughput } = comparison.thresholds;
  const lines = [
    `baseline ${comparison.baseline.label}`,
    `current  ${comparison.current.label}`,
    `thresholds: p99 +${(p99 * 100).toFixed(0)}%, throughput −${(throughput * 100).toFixed(0)}%`,
    '',
  ];
  const rows = comparison.points.map((point) => {
    const p99Change = formatChange(point.p99Change);
    const throughputChange = formatChange(point.throughputChange);
    const p99s = `${figure(point.baseline.p99Ms)} → ${figure(point.current.p99Ms)}`;
    return [
      point.verdict.toUpperCase(),
      p99s,
      `${p99Change.change} ${p99Change.interval}`.trim(),
      point.latencyTest === undefined ? '–' : point.latencyTest.effect.toFixed(2),
      `${throughputChange.change} ${throughputChange.interval}`.trim(),
      `${point.step} ${point.scenario} ${labels.get(point.key) ?? ''}`.trim(),
    ];
  });
  const header = ['verdict', 'p99 ms', 'p99 change [95% CI]', 'δ', 'throughput change [95% CI]', 'point'];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const pad = (row: readonly string[]) =>
    row
      .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  ');
  lines.push(pad(header), ...rows.map(pad), '');
  const unmatched = comparison.unmatched.baselineOnly.length + comparison.unmatched.currentOnly.length;
  const regressed = comparison.regressions.length;
  lines.push(
    `${comparison.points.length} points compared: ${regressed === 0 ? 'no regression' : `${regressed} regressed`}` +
      (unmatched === 0 ? '' : `; ${unmatched} measured in only one run (not compared)`),
  );
  return `${lines.join('\n')}\n`;
}

const figure = (ms: number | undefined) => (ms === undefined ? '–' : `${Number(ms.toPrecision(3))}`);
