import { closeSync, openSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  countOpenFds,
  parseProcStat,
  parseProcStatusRss,
  readPidStats,
  readProcessStats,
} from '../../harness/collect/proc-stats.ts';

// A command name with spaces and parentheses: fields must be counted from the LAST ')'.
const STAT =
  '4242 (my (odd) proc) S 1 4242 4242 0 -1 4194560 5000 0 10 0 1234 567 8 9 20 0 11 0 98765 ' +
  '1234567890 4321 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n';

const STATUS = [
  'Name:\tnode',
  'State:\tS (sleeping)',
  'VmPeak:\t 1100000 kB',
  'VmRSS:\t   51234 kB',
  'RssAnon:\t   40000 kB',
  'Threads:\t11',
  '',
].join('\n');

describe('parseProcStat', () => {
  it('takes utime + stime (fields 14, 15) and the start time (field 22)', () => {
    expect(parseProcStat(STAT)).toEqual({
      pid: 4242,
      state: 'S',
      cpuTicks: 1801,
      cpuSeconds: 18.01,
      startTimeTicks: 98765,
    });
  });

  it('converts ticks with the given ticks per second', () => {
    expect(parseProcStat(STAT, 250)?.cpuSeconds).toBe(7.204);
  });

  it('rejects text that is not a stat line', () => {
    expect(parseProcStat('')).toBeUndefined();
    expect(parseProcStat('12 (short) S 1 2 3')).toBeUndefined();
  });
});

describe('parseProcStatusRss', () => {
  it('reads VmRSS in bytes, not RssAnon or VmPeak', () => {
    expect(parseProcStatusRss(STATUS)).toBe(51234 * 1024);
  });

  it('is 0 for a kernel thread or zombie, which has no VmRSS line', () => {
    expect(parseProcStatusRss('Name:\tkthreadd\nState:\tS (sleeping)\n')).toBe(0);
  });
});

describe('reading /proc for real', () => {
  it('reads this process: RSS close to what Node reports, open fds, CPU ticks', async () => {
    const stats = await readPidStats(process.pid);
    expect(stats).toBeDefined();
    const rss = process.memoryUsage().rss;
    expect(stats?.rssBytes).toBeGreaterThan(rss * 0.8);
    expect(stats?.rssBytes).toBeLessThan(rss * 1.25);
    expect(stats?.fds).toBeGreaterThan(0);
    expect(stats?.cpuTicks).toBeGreaterThan(0);
  });

  it('sees CPU this process burns: 100 ms of CPU is at least 5 ticks more', async () => {
    const before = await readPidStats(process.pid);
    const start = process.cpuUsage();
    let spin = 0;
    while (process.cpuUsage(start).user + process.cpuUsage(start).system < 100_000) spin += 1;
    const after = await readPidStats(process.pid);
    expect(spin).toBeGreaterThan(0);
    expect((after?.cpuTicks ?? 0) - (before?.cpuTicks ?? 0)).toBeGreaterThanOrEqual(5);
  });

  it('counts file descriptors it opens', async () => {
    const before = (await countOpenFds(process.pid)) ?? 0;
    const fds = Array.from({ length: 5 }, () => openSync('/proc/self/stat', 'r'));
    try {
      expect(await countOpenFds(process.pid)).toBeGreaterThanOrEqual(before + 5);
    } finally {
      for (const fd of fds) closeSync(fd);
    }
  });

  it('skips a pid that does not exist instead of failing', async () => {
    // Above the kernel's largest possible pid_max (2^22), so it can never be a live process.
    const gone = 2 ** 22 + 1;
    expect(await readPidStats(gone)).toBeUndefined();
    expect(await countOpenFds(gone)).toBeUndefined();
    const stats = await readProcessStats([gone, process.pid]);
    expect(stats.map((stat) => stat.pid)).toEqual([process.pid]);
  });
});
