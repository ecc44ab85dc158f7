import { stat } from 'node:fs/promises';
import path from 'node:path';
import { defineCommand } from 'citty';
import { ExitCode, usageError } from '../errors.ts';
import type { Host } from '../host/host.ts';
import { writeRunOutputs } from '../report/write-report.ts';
import { readManifest, runPaths } from '../results/run-dir.ts';
import type { CommandResult } from './command.ts';
import { checkFlags } from './options.ts';

const args = {
  runDir: {
    type: 'positional',
    description: 'a run directory written by `pooltune tune` or `pooltune run`',
    required: false,
  },
  json: { type: 'boolean', description: 'print the report path as JSON' },
} as const;

/** `pooltune report <run-dir>`: re-render the report from the saved results. */
export function reportCommand(host: Host, result: (r: CommandResult) => void) {
  return defineCommand({
    meta: {
      name: 'report',
      description:
        'Re-render the report, summary.json, junit.xml, summary.md and trials.csv of a run directory',
    },
    args,
    run: async ({ rawArgs, args: parsed }) => {
      checkFlags(rawArgs, args);
      if (typeof parsed.runDir !== 'string' || parsed.runDir === '') {
        throw usageError('report needs a run directory', 'pooltune report reports/out/<run-id>');
      }
      const dir = path.resolve(host.cwd, parsed.runDir);
      await readManifest(dir);
      // A run writes trials.jsonl before anything else: a folder without one holds no run to report.
      const trials = runPaths(dir).trials;
      const found = await stat(trials).catch(() => undefined);
      if (found?.isFile() !== true) {
        throw usageError(
          `no trials to report: ${trials} not found`,
          'pass a run directory that `pooltune tune` or `pooltune run` wrote, trials.jsonl included',
        );
      }
      const warnings: string[] = [];
      const outputs = await writeRunOutputs(dir, { onWarning: (warning) => warnings.push(warning) });
      for (const warning of warnings) host.stderr.write(`warning: ${warning}\n`);
      const { summary, ...files } = outputs;
      host.stdout.write(
        parsed.json === true
          ? `${JSON.stringify({ ...files, verdict: summary.verdict, exitCode: summary.exitCode, warnings })}\n`
          : `report: ${outputs.report}\n`,
      );
      result({ code: ExitCode.ok });
    },
  });
}
