import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeReport } from '../../harness/report/write-report.ts';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  // .ci/run installs Chromium and sets this: there a missing browser is a failure, not a skip.
  if (process.env.POOLTUNE_REQUIRE_BROWSER === '1') {
    throw new Error(`${CHROMIUM} not found, but POOLTUNE_REQUIRE_BROWSER=1 (CI installs it)`);
  }
  console.log(`SKIPPED browser suite: ${CHROMIUM} not found (apt-get install chromium)`);
}

const fixtureDir = fileURLToPath(new URL('../fixtures/runs/sweep-small/', import.meta.url));
const artifactsDir = fileURLToPath(new URL('../artifacts/', import.meta.url));

describe.skipIf(!hasChromium)('report.html in Chromium', () => {
  let workDir: string;
  let context: BrowserContext;
  let page: Page;
  let pageUrl: string;
  const requests: string[] = [];
  const failedRequests: string[] = [];
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'pooltune-browser-'));
    const runDir = join(workDir, 'run');
    await cp(fixtureDir, runDir, { recursive: true });
    pageUrl = pathToFileURL(await writeReport(runDir)).href;

    // A fresh profile each time, and every background service that might phone home switched off.
    context = await chromium.launchPersistentContext(join(workDir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1280, height: 900 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('request', (request) => requests.push(request.url()));
    page.on('requestfailed', (request) => failedRequests.push(request.url()));
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(error.message));
    await page.goto(pageUrl, { waitUntil: 'load' });
  });

  afterAll(async () => {
    await context?.close();
    if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
  });

  it('shows every chart with a size and marks in it', async () => {
    const figures = page.locator('figure.chart');
    expect(await figures.count()).toBe(2);
    for (const figure of await figures.all()) {
      const svg = figure.locator('svg').first();
      expect(await svg.isVisible()).toBe(true);
      const box = await svg.boundingBox();
      expect(box?.width ?? 0).toBeGreaterThan(100);
      expect(box?.height ?? 0).toBeGreaterThan(100);
      // vega draws lines as g.mark-line paths and points as g.mark-symbol paths.
      expect(await svg.locator('g.mark-line path').count()).toBeGreaterThan(0);
      expect(await svg.locator('g.mark-symbol path').count()).toBeGreaterThan(0);
    }
  });

  it('shows the summary and the trial table', async () => {
    await expect(page.locator('.summary .headline').textContent()).resolves.toBe(
      'Highest measured throughput: 2,329.5 req/s at max = 8 (t004); p99 there 23.0 ms.',
    );
    expect(await page.locator('section.trials tbody tr').count()).toBe(6);
  });

  it('logs no console errors (a CSP violation would be one)', () => {
    expect(consoleErrors).toEqual([]);
  });

  it('requests nothing but the page itself', () => {
    expect(requests).toEqual([pageUrl]);
    expect(failedRequests).toEqual([]);
  });

  it('keeps the charts in print layout, and saves a screenshot', async () => {
    await page.emulateMedia({ media: 'print' });
    for (const svg of await page.locator('figure.chart svg').all()) {
      expect((await svg.boundingBox())?.width ?? 0).toBeGreaterThan(100);
    }
    await page.emulateMedia({ media: 'screen' });
    await mkdir(artifactsDir, { recursive: true });
    await page.screenshot({ path: join(artifactsDir, 'report.png'), fullPage: true });
    expect(existsSync(join(artifactsDir, 'report.png'))).toBe(true);
  });
});
