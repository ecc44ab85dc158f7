import path from 'node:path';
import { defineCommand } from 'citty';
import { ExitCode, usageError } from '../errors.ts';
import type { Host } from '../host/host.ts';
import { writeReport } from '../report/write-report.ts';
import { readManifest } from '../results/run-dir.ts';
import type { CommandResult } from './main.ts';
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
    meta: { name: 'report', description: 'Re-render the report of a run directory from its saved results' },
    args,
    run: async ({ rawArgs, args: parsed }) => {
      checkFlags(rawArgs, args);
      if (typeof parsed.runDir !== 'string' || parsed.runDir === '') {
        throw usageError('report needs a run directory', 'pooltune report reports/out/<run-id>');
      }
      const dir = path.resolve(host.cwd, parsed.runDir);
      await readManifest(dir);
      const warnings: string[] = [];
      const report = await writeReport(dir, { onWarning: (warning) => warnings.push(warning) });
      for (const warning of warnings) host.stderr.write(`warning: ${warning}\n`);
      host.stdout.write(
        parsed.json === true ? `${JSON.stringify({ report, warnings })}\n` : `report: ${report}\n`,
      );
      result({ code: ExitCode.ok });
    },
  });
}
