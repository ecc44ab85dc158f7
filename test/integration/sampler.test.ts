import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import client from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultPoolMetricNames as names } from '../../harness/collect/metric-names.ts';
import { startCollector } from '../../harness/collect/sampler.ts';

/** A real HTTP target exposing the default pool series, counting the scrapes it has answered. */
async function startTarget() {
  const registry = new client.Registry();
  const pool = { total: 10, idle: 2, waiting: 0 };
  const gauge = (name: string, read: () => number) =>
    new client.Gauge({
      name,
      help: name,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  gauge(names.total, () => pool.total);
  gauge(names.idle, () => pool.idle);
  gauge(names.waiting, () => pool.waiting);
  const opened = new client.Counter({ name: names.connectionsOpened, help: 'opened', registers: [registry] });
  const errors = new client.Counter({
    name: names.errors,
    help: 'errors',
    labelNames: ['kind'],
    registers: [registry],
  });
  const acquireWait = new client.Histogram({
    name: names.acquireWait,
    help: 'acquire wait',
    buckets: [0.1, 1],
    registers: [registry],
  });
  let scrapes = 0;
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.end('ok');
      return;
    }
    void registry.metrics().then((text) => {
      // Counted once the values are read: a change made after this is not in this scrape.
      scrapes += 1;
      res.setHeader('content-type', registry.contentType);
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  /** Resolves once `count` more scrapes have been answered. */
  const scrapesAnswered = async (count: number): Promise<void> => {
    const target = scrapes + count;
    const deadline = Date.now() + 10_000;
    while (scrapes < target) {
      if (Date.now() > deadline) throw new Error(`only ${scrapes} of ${target} scrapes answered`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };
  return { registry, pool, opened, errors, acquireWait, server, port, scrapesAnswered };
}

const servers: Server[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function openConnections(port: number, count: number): Promise<Socket[]> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const socket = connect(port, '127.0.0.1').on('error', () => {});
      sockets.push(socket);
      await once(socket, 'connect');
      return socket;
    }),
  );
}

describe('startCollector against a real metrics server (this process is the target)', () => {
  it('summarises the measured window only and differences the counters over it', async () => {
    const target = await startTarget();
    servers.push(target.server);
    // Warm-up traffic that must not show in the summary.
    target.pool.waiting = 100;
    target.opened.inc(7);
    target.errors.inc({ kind: 'acquire_timeout' }, 3);
    target.acquireWait.observe(1);
    target.acquireWait.observe(1);

    const collector = startCollector(
      {
        pids: [process.pid],
        ports: [target.port],
        entryPort: target.port,
        metricsUrl: `http://127.0.0.1:${target.port}/metrics`,
      },
      { intervalMs: 50 },
    );
    await target.scrapesAnswered(3);

    target.pool.waiting = 1;
    collector.markMeasureStart();
    // One answered scrape may belong to a sample already in flight at the mark; the second is in the window.
    await target.scrapesAnswered(2);

    target.opened.inc(5);
    target.errors.inc({ kind: 'acquire_timeout' }, 2);
    target.errors.inc({ kind: 'connection_error' });
    target.acquireWait.observe(0.25);
    target.acquireWait.observe(0.5);
    target.pool.waiting = 3;
    // Fresh connections during the window, held across samples.
    const fresh = await openConnections(target.port, 5);
    await target.scrapesAnswered(3);
    for (const socket of fresh) socket.end();
    target.pool.waiting = 2;
    await target.scrapesAnswered(2);

    const figures = await collector.stop();

    const warmUp = figures.samples.filter((sample) => sample.atMs < 0);
    const measured = figures.samples.filter((sample) => sample.atMs >= 0);
    expect(warmUp.length).toBeGreaterThanOrEqual(2);
    expect(measured.length).toBeGreaterThanOrEqual(5);
    expect(warmUp.some((sample) => sample.pool?.waiting === 100)).toBe(true);
    expect(measured.every((sample) => sample.pool !== undefined && sample.pool.waiting <= 3)).toBe(true);

    expect(figures.pool).toMatchObject({
      totalMax: 10,
      idleMean: 2,
      waitingMax: 3,
      connectionsOpened: 5,
      errors: { acquire_timeout: 2, connection_error: 1 },
      acquireWaitMeanMs: 375,
    });
    expect(figures.pool?.waitingMean).toBeGreaterThanOrEqual(1);
    expect(figures.pool?.waitingMean).toBeLessThanOrEqual(3);

    expect(figures.process?.cpuShareMean).toBeGreaterThanOrEqual(0);
    expect(figures.process?.rssMaxBytes).toBeGreaterThan(0);
    expect(figures.process?.fdsMax).toBeGreaterThan(0);
    // Five held connections plus the collector's own kept-alive scrape connection.
    expect(figures.sockets?.establishedMax).toBeGreaterThanOrEqual(5);
    expect(figures.newConnectionsPerSecMean).toBeGreaterThan(0);
  });

  it('counts a counter reset (target restart) inside the window as a restart from zero', async () => {
    const target = await startTarget();
    servers.push(target.server);
    target.opened.inc(10);
    const collector = startCollector(
      {
        pids: [process.pid],
        ports: [target.port],
        entryPort: target.port,
        metricsUrl: `http://127.0.0.1:${target.port}/metrics`,
      },
      { intervalMs: 50 },
    );
    collector.markMeasureStart();
    await target.scrapesAnswered(2);
    target.opened.inc(4);
    await target.scrapesAnswered(2);
    target.registry.resetMetrics();
    await target.scrapesAnswered(2);
    target.opened.inc(3);
    await target.scrapesAnswered(1);

    const figures = await collector.stop();
    expect(figures.pool?.connectionsOpened).toBe(7);
  });

  it('leaves pool figures out when scrapes fail, keeps the rest, and disposes cleanly', async () => {
    const target = await startTarget();
    servers.push(target.server);
    // A port that refuses connections: the metrics endpoint of a target that is restarting.
    const refused = await startTarget();
    await new Promise((resolve) => refused.server.close(resolve));

    const collector = startCollector(
      {
        pids: [process.pid],
        ports: [target.port],
        entryPort: target.port,
        metricsUrl: `http://127.0.0.1:${refused.port}/metrics`,
      },
      { intervalMs: 50 },
    );
    collector.markMeasureStart();
    await openConnections(target.port, 2);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await collector[Symbol.asyncDispose]();
    // Disposal stopped it; stop() again gives the same figures rather than sampling anew.
    const figures = await collector.stop();

    expect(figures.pool).toBeUndefined();
    expect(figures.samples.length).toBeGreaterThanOrEqual(3);
    expect(figures.samples.every((sample) => sample.pool === undefined)).toBe(true);
    expect(figures.process?.rssMaxBytes).toBeGreaterThan(0);
    expect(figures.sockets?.establishedMax).toBe(2);
  });
});
