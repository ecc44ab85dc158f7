import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../harness/cli/main.ts';
import { ExitCode } from '../../harness/errors.ts';
import { MASK, maskSecrets, maskText, SecretMasker, secretValues } from '../../harness/results/mask.ts';
import type { ErroredTrial } from '../../harness/results/trial.ts';
import { readTrialLog, TrialLog } from '../../harness/results/trial-log.ts';
import { fakeHost } from '../helpers/fake-host.ts';

// A password planted where users put theirs (a service's env, a DSN, a flag of the service) must not
// appear in any file pooltune writes, nor on the console, even when the service prints it.
const planted = 'hunter2-planted';

/** A service that prints its secrets every way a real one might, then serves HTTP. */
const leakyServer = `import { createServer } from 'node:http';
const { PORT, DB_PASSWORD, DATABASE_URL, API_TOKEN } = process.env;
console.log('connecting to ' + DATABASE_URL);
console.log('DB_PASSWORD=' + DB_PASSWORD + ' API_TOKEN=' + API_TOKEN);
console.log(JSON.stringify({ env: { DB_PASSWORD } }));
console.error('authenticating with ' + DB_PASSWORD);
console.log('argv: ' + process.argv.slice(2).join(' '));
createServer((req, res) => res.end('ok')).listen(Number(PORT), '127.0.0.1');
`;

const config = {
  target: {
    name: 'leaky',
    entry: 'api',
    services: {
      api: {
        command: '{{node}}',
        args: ['server.mjs', `--db-password=${planted}`],
        cwd: '.',
        env: {
          PORT: '{{port}}',
          DB_PASSWORD: planted,
          API_TOKEN: `tok-${planted}`,
          DATABASE_URL: `postgres://app:${planted}@127.0.0.1:5432/app`,
        },
        readiness: { http: '/', timeoutMs: 10_000 },
      },
    },
    knobs: { size: { type: 'int', min: 1, max: 8, default: 2 } },
  },
  scenario: 'steady',
  runtime: 'process',
};

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'pooltune-secrets-'));
  await writeFile(path.join(dir, 'server.mjs'), leakyServer);
  await writeFile(path.join(dir, 'pooltune.config.json'), JSON.stringify(config));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Every file and folder under `root`. */
async function walk(root: string): Promise<{ files: string[]; dirs: string[] }> {
  const files: string[] = [];
  const dirs: string[] = [root];
  for (const entry of await readdir(root, { withFileTypes: true, recursive: true })) {
    const full = path.join(entry.parentPath, entry.name);
    (entry.isDirectory() ? dirs : files).push(full);
  }
  return { files, dirs };
}

const mode = async (file: string) => ((await stat(file)).mode & 0o777).toString(8);

describe('secrets in what pooltune writes', () => {
  it('a real run leaves no planted password in any file or on the console; its directory is user-only', async () => {
    const host = fakeHost(['run', '--quick', '--repetitions', '1', '--out', 'out'], {
      cwd: dir,
      env: { ...process.env, CI: 'true', SERVICE_SECRET: `env-${planted}` },
    });
    const code = await main(host);
    expect([ExitCode.ok, ExitCode.sloFailed], host.err()).toContain(code);
    const [runId] = await readdir(path.join(dir, 'out'));
    const runDir = path.join(dir, 'out', runId ?? '');
    const { files, dirs } = await walk(runDir);
    const names = files.map((file) => path.relative(runDir, file));
    for (const written of ['manifest.json', 'trials.jsonl', 'report.html', 'summary.json', 'junit.xml']) {
      expect(names).toContain(written);
    }
    expect(names).toEqual(expect.arrayContaining(['summary.md', 'trials.csv', 'logs/api.log']));

    const hits: string[] = [];
    for (const file of files) {
      if ((await readFile(file, 'utf8')).includes(planted)) hits.push(path.relative(runDir, file));
    }
    expect(hits).toEqual([]);
    expect(host.out() + host.err()).not.toContain(planted);

    // Masked, not merely missing: the service's log and the manifest still say what was there.
    const log = await readFile(path.join(runDir, 'logs', 'api.log'), 'utf8');
    expect(log).toContain(`connecting to postgres://app:${MASK}@127.0.0.1:5432/app`);
    expect(log).toContain(`DB_PASSWORD=${MASK} API_TOKEN=${MASK}`);
    expect(log).toContain(`authenticating with ${MASK}`);
    expect(log).toContain(`--db-password=${MASK}`);
    const manifest = JSON.parse(await readFile(path.join(runDir, 'manifest.json'), 'utf8'));
    expect(manifest.config.target.services.api.env).toMatchObject({
      DB_PASSWORD: MASK,
      API_TOKEN: MASK,
      DATABASE_URL: `postgres://app:${MASK}@127.0.0.1:5432/app`,
    });

    expect(await Promise.all(dirs.map(mode))).toEqual(dirs.map(() => '700'));
    expect(await Promise.all(files.map(mode))).toEqual(files.map(() => '600'));
  }, 60_000);

  it("masks an errored trial's error and log tail in trials.jsonl", async () => {
    const file = path.join(dir, 'errored.jsonl');
    const trial: ErroredTrial = {
      id: 't001',
      step: 'single',
      knobs: { max: 4, authToken: planted },
      scenario: 'steady',
      driver: 'arrival-rate',
      repetition: 1,
      startedAt: '2026-01-01T00:00:00.000Z',
      finishedAt: '2026-01-01T00:00:01.000Z',
      status: 'errored',
      error: `connect to postgres://app:${planted}@127.0.0.1:5432/app failed`,
      logTail: [`PGPASSWORD=${planted}`, `{"DB_SECRET": "${planted}"}`],
    };
    {
      await using log = await TrialLog.open(file);
      await log.append(trial);
    }
    expect(await readFile(file, 'utf8')).not.toContain(planted);
    expect((await readTrialLog(file)).trials[0]).toMatchObject({
      knobs: { max: 4, authToken: MASK },
      error: `connect to postgres://app:${MASK}@127.0.0.1:5432/app failed`,
      logTail: [`PGPASSWORD=${MASK}`, `{"DB_SECRET": "${MASK}"}`],
    });
    expect(await mode(file)).toBe('600');
  });
});

describe('masking (pure)', () => {
  it('masks URL passwords and NAME=value pairs named like secrets in free text', () => {
    expect(maskText('postgres://u:p4ss@db:5432/x and redis://:tok@cache')).toBe(
      `postgres://u:${MASK}@db:5432/x and redis://:${MASK}@cache`,
    );
    expect(maskText('DB_PASSWORD=a1 apiToken: b2 "client_secret":"c3" ?token=d4&x=1 --db-password=e5')).toBe(
      `DB_PASSWORD=${MASK} apiToken: ${MASK} "client_secret":"${MASK}" ?token=${MASK}&x=1 --db-password=${MASK}`,
    );
    // Not secrets: words about passwords, URLs without one, and base64 that happens to spell a name.
    for (const text of [
      'FATAL: password authentication failed for user "app"',
      'http://127.0.0.1:8080/path?x=1',
      'HISTFAAAAEl4nJNpmSzMwMDAxQABzFCaEUTYg6kGBjAtVOgDBgA7Ys1token==',
    ]) {
      expect(maskText(text)).toBe(text);
    }
  });

  it('masks values of keys named like secrets, whatever their case, and leaves numbers alone', () => {
    expect(
      maskSecrets({ env: { db_password: 'x', Api_Token: 'y', SECRET_KEY: 'z', PORT: '1' }, maxTokens: 8 }),
    ).toEqual({
      env: { db_password: MASK, Api_Token: MASK, SECRET_KEY: MASK, PORT: '1' },
      maxTokens: 8,
    });
  });

  it('collects literal secrets from a config and masks them wherever they appear', () => {
    const secrets = secretValues({
      env: { DB_PASSWORD: planted, SHORT_TOKEN: 'abc', HOME: '/root' },
      url: 'amqp://u:s3cr3t-pw@mq',
    });
    expect(secrets.sort()).toEqual([planted, 's3cr3t-pw']);
    const masker = new SecretMasker();
    masker.add(secrets);
    expect(masker.mask(`using ${planted} and s3cr3t-pw; abc stays`)).toBe(
      `using ${MASK} and ${MASK}; abc stays`,
    );
  });
});
