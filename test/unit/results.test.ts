import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { invalidReason } from '../../harness/analysis/tagging.ts';
import type { DriverResult } from '../../harness/drivers/driver.ts';
import { maskSecrets, maskUrl } from '../../harness/results/mask.ts';
import type { TrialResult } from '../../harness/results/trial.ts';
import { parseTrialLog, readTrialLog, TrialLog } from '../../harness/results/trial-log.ts';

const client = (overrides: Partial<DriverResult>): DriverResult => ({
  driver: 'arrival-rate',
  durationMs: 1_000,
  requests: 100,
  ok: 100,
  errors: {},
  throughput: 100,
  latency: { count: 100, mean: 1, min: 1, p50: 1, p90: 1, p99: 1, p999: 1, max: 1 },
  histogram: '',
  generatorCpu: { userMs: 100, systemMs: 0, share: 0.1 },
  ...overrides,
});

describe('result tagging', () => {
  it('marks an open-model trial invalid below 97% of the offered rate', () => {
    expect(invalidReason(client({ offeredRate: 1_000, achievedRate: 960 }), { samples: [] })).toMatch(
      /96\.0% < 97%/,
    );
    expect(invalidReason(client({ offeredRate: 1_000, achievedRate: 975 }), { samples: [] })).toBeUndefined();
  });

  it('marks a trial invalid when the generator CPU was saturated', () => {
    expect(
      invalidReason(client({ generatorCpu: { userMs: 950, systemMs: 0, share: 0.95 } }), { samples: [] }),
    ).toMatch(/generator CPU saturated/);
    expect(invalidReason(client({}), { samples: [] })).toBeUndefined();
  });

  it('judges several generator processes (k6.instances) one by one, not by their sum', () => {
    const cpu = (share: number, processes: number) => ({ userMs: 0, systemMs: 0, share, processes });
    // Two k6 processes at 70% of a core each: 140% together, neither saturated.
    expect(invalidReason(client({ generatorCpu: cpu(1.4, 2) }), { samples: [] })).toBeUndefined();
    expect(invalidReason(client({ generatorCpu: cpu(1.9, 2) }), { samples: [] })).toMatch(
      /95% of a core for each of 2 processes >= 90%/,
    );
    expect(invalidReason(client({ generatorCpu: cpu(0.95, 1) }), { samples: [] })).toMatch(
      /95% of a core >= 90%/,
    );
  });
});

describe('trial log', () => {
  let dir = '';
  afterEach(async () => {
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  const trial = (id: string): TrialResult => ({
    id,
    step: 'pool-sweep',
    knobs: { max: 1 },
    scenario: 'saturate',
    driver: 'autocannon',
    repetition: 1,
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:00:01.000Z',
    status: 'aborted',
    reason: 'interrupted',
  });

  it('appends one line per trial and reads them back', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'pooltune-test-'));
    const file = path.join(dir, 'trials.jsonl');
    {
      await using log = await TrialLog.open(file);
      await log.append(trial('t001'));
      await log.append(trial('t002'));
      // Each append is on disk before the next begins: a second reader sees it at once.
      expect((await readFile(file, 'utf8')).split('\n').filter(Boolean)).toHaveLength(2);
    }
    expect((await readTrialLog(file)).trials.map((t) => t.id)).toEqual(['t001', 't002']);
  });

  it('drops a torn last line with a warning, but not a damaged middle line', async () => {
    const good = JSON.stringify(trial('t001'));
    const torn = parseTrialLog(`${good}\n${good.slice(0, 20)}`);
    expect(torn.trials).toHaveLength(1);
    expect(torn.warnings[0]).toMatch(/line 2 is incomplete/);
    expect(() => parseTrialLog(`${good.slice(0, 20)}\n${good}\n`)).toThrow(/line 1 is not valid JSON/);
    dir = await mkdtemp(path.join(os.tmpdir(), 'pooltune-test-'));
    expect((await readTrialLog(path.join(dir, 'missing.jsonl'))).trials).toEqual([]);
    await writeFile(path.join(dir, 'empty.jsonl'), '\n\n');
    expect((await readTrialLog(path.join(dir, 'empty.jsonl'))).trials).toEqual([]);
  });
});

describe('secret masking', () => {
  it('masks passwords in URLs and secret-named values', () => {
    expect(maskUrl('postgres://pooltune:s3cret@127.0.0.1:5432/postgres')).toBe(
      'postgres://pooltune:***@127.0.0.1:5432/postgres',
    );
    expect(
      maskSecrets({ env: { DB_PASSWORD: 'x', API_TOKEN: 'y', PORT: '1' }, url: 'http://a:b@127.0.0.1' }),
    ).toEqual({
      env: { DB_PASSWORD: '***', API_TOKEN: '***', PORT: '1' },
      url: 'http://a:***@127.0.0.1',
    });
  });
});
