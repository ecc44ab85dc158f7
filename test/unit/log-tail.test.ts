import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LogTail } from '../../harness/runtime/log-tail.ts';

describe('LogTail', () => {
  it('writes the log file masked line by line, and keeps the last lines in memory', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'pooltune-log-tail-'));
    try {
      const file = path.join(dir, 'api.log');
      const log = new LogTail(2, file);
      // A line split across chunks, a DSN with a password, a NAME=value secret, an unterminated tail.
      log.write('connecting to postgres://app:hunter2-planted@127.0.0.1');
      log.write(':5432/db\nDB_PASSWORD=hunter2-planted ok\nplain line\nlast');
      await log.close();
      const written = await readFile(file, 'utf8');
      expect(written).not.toContain('hunter2-planted');
      expect(written.split('\n')).toHaveLength(4);
      expect(written).toContain('plain line\nlast');
      expect(log.lines()).toEqual(['DB_PASSWORD=hunter2-planted ok', 'plain line', 'last']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
