import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type CommandDef, defineCommand, renderUsage, runCommand } from 'citty';
import { closest } from 'fastest-levenshtein';
import { ExitCode, isPooltuneError, messageOf, type PooltuneError, usageError } from '../errors.ts';
import type { Host, OutStream } from '../host/host.ts';
import { SecretMasker, secretValues } from '../results/mask.ts';
import { cleanCommand } from './clean.ts';
import type { CommandResult } from './command.ts';
import { compareCommand } from './compare.ts';
import { imagesCommand } from './images.ts';
import { k6Command } from './k6.ts';
import { reportCommand } from './report.ts';
import { packageRoot } from './run-environment.ts';
import { targetsCommand } from './targets.ts';
import { capacityCommand, runCommand as runTrialCommand, tuneCommand } from './tune.ts';

/** The installed pooltune version, from package.json. */
export function pooltuneVersion(): string {
  const pkg = JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

const exitCodeHelp = `Exit codes:
  0    ok
  1    internal error (a bug: please report it with the output)
  2    usage or config error
  3    SLO thresholds failed
  4    regression against the baseline
  5    target failed to start
  130  interrupted (SIGINT/SIGTERM); measured trials are kept`;

/**
 * The CLI: parses `host.argv`, runs the command, prints errors, and returns the exit code. The only
 * place that chooses exit codes and prints errors; it never calls process.exit, so tests run it in-process.
 * Everything it prints is masked: secrets from the environment, and from the config once it is loaded.
 */
export async function main(processHost: Host): Promise<number> {
  const version = pooltuneVersion();
  const masker = new SecretMasker();
  masker.add(secretValues(processHost.env));
  const host = maskedOutput(processHost, masker);
  let outcome: CommandResult = { code: ExitCode.ok };
  const record = (result: CommandResult) => {
    outcome = result;
  };
  const subCommands = {
    tune: tuneCommand(host, version, record, masker),
    run: runTrialCommand(host, version, record, masker),
    capacity: capacityCommand(host, version, record, masker),
    report: reportCommand(host, record),
    compare: compareCommand(host, record),
    targets: targetsCommand(host, record),
    clean: cleanCommand(host, record),
    images: imagesCommand(host, record),
    k6: k6Command(host, version, record),
  };
  const names = Object.keys(subCommands);
  const root = defineCommand({
    meta: {
      name: 'pooltune',
      version,
      description: 'Load-test and tune connection pools and timeouts against a real target',
    },
    subCommands,
  });

  const argv = [...host.argv];
  const name = argv.find((arg) => !arg.startsWith('-'));
  try {
    if (argv.includes('--version') || argv.includes('-v')) {
      host.stdout.write(`${version}\n`);
      return ExitCode.ok;
    }
    const sub =
      name !== undefined && names.includes(name) ? subCommands[name as keyof typeof subCommands] : undefined;
    if (name !== undefined && sub === undefined) {
      throw usageError(
        `unknown command "${name}"`,
        `did you mean "${closest(name, names)}"? Run pooltune --help`,
      );
    }
    if (argv.includes('--help') || argv.includes('-h') || sub === undefined) {
      const target = sub === undefined ? undefined : helpTarget(sub as unknown as CommandDef, argv);
      // citty names only the command itself on its usage line ("USAGE manifest [OPTIONS]", coloured
      // or not): the line gets the words that lead to it ("pooltune k6 manifest").
      const lead = target === undefined ? '' : `pooltune ${target === sub ? '' : `${name} `}`;
      const usage =
        target === undefined
          ? await renderUsage(root)
          : (await renderUsage(target)).replace(USAGE_LINE, `$1${lead}`);
      host.stdout.write(`${usage}\n\n${exitCodeHelp}\n`);
      return name === undefined && argv.length > 0 && !argv.includes('--help') && !argv.includes('-h')
        ? ExitCode.usage
        : ExitCode.ok;
    }
    await runCommand(root, { rawArgs: argv });
    return outcome.code;
  } catch (error) {
    return reportError(host, error);
  }
}

/** The start of citty's usage line, up to the command's name, with any colour codes around "USAGE". */
const ANSI = `${String.fromCharCode(27)}\\[[0-9;]*m`;
const USAGE_LINE = new RegExp(`(USAGE(?:${ANSI})*\\s+(?:${ANSI})*)`);

/** The command `--help` is about: `sub`, or its subcommand named next in argv (`k6 manifest --help`). */
function helpTarget(sub: CommandDef, argv: readonly string[]): CommandDef {
  const [, next] = argv.filter((arg) => !arg.startsWith('-'));
  const nested = sub.subCommands as Record<string, CommandDef> | undefined;
  return (next !== undefined && nested?.[next]) || sub;
}

/** The host with everything written to stdout and stderr masked by `masker`. */
function maskedOutput(host: Host, masker: SecretMasker): Host {
  const masked = (stream: OutStream): OutStream => ({
    write: (text) => stream.write(masker.mask(text)),
    get isTTY() {
      return stream.isTTY;
    },
    get columns() {
      return stream.columns;
    },
  });
  return { ...host, stdout: masked(host.stdout), stderr: masked(host.stderr) };
}

/** Prints a user error as one line plus hint (no stack), or a bug in full; returns its exit code. */
function reportError(host: Host, error: unknown): number {
  if (isPooltuneError(error)) {
    printUserError(host, error);
    return error.exitCode;
  }
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && code.startsWith('E_')) {
    // citty's own argument errors (e.g. a missing required positional).
    host.stderr.write(`error: ${messageOf(error)}\nhint: run pooltune --help\n`);
    return ExitCode.usage;
  }
  host.stderr.write(
    `internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  return ExitCode.internal;
}

function printUserError(host: Host, error: PooltuneError): void {
  host.stderr.write(`error: ${error.message}\n`);
  for (const detail of error.details) host.stderr.write(`  ${detail}\n`);
  if (error.hint !== undefined) host.stderr.write(`hint: ${error.hint}\n`);
}
