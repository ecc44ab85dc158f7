import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
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

/** A real `pooltune tune` run: every chart of the report has data. */
const fixtureDir = fileURLToPath(new URL('../fixtures/runs/tune-http-pg/', import.meta.url));
const artifactsDir = fileURLToPath(new URL('../artifacts/', import.meta.url));
const CHART_IDS = ['throughput', 'latency', 'errors', 'idle-churn', 'latency-load', 'pool-use', 'sockets'];
const ATTACK = '<script>alert(1)</script>';

/** A page opened in the browser, with everything it tried to do recorded. */
interface OpenedPage {
  readonly page: Page;
  readonly url: string;
  readonly requests: string[];
  readonly failedRequests: string[];
  readonly consoleErrors: string[];
  readonly dialogs: string[];
}

describe.skipIf(!hasChromium)('report.html in Chromium', () => {
  let workDir: string;
  let context: BrowserContext;
  let report: OpenedPage;
  let hostile: OpenedPage;

  /** Copies the fixture, lets `edit` change the copy, renders its report and opens it in a new tab. */
  async function open(name: string, edit?: (runDir: string) => Promise<void>): Promise<OpenedPage> {
    const runDir = join(workDir, name);
    await cp(fixtureDir, runDir, { recursive: true });
    await edit?.(runDir);
    const url = pathToFileURL(await writeReport(runDir)).href;
    const page = await context.newPage();
    const opened: OpenedPage = {
      page,
      url,
      requests: [],
      failedRequests: [],
      consoleErrors: [],
      dialogs: [],
    };
    page.on('request', (request) => opened.requests.push(request.url()));
    page.on('requestfailed', (request) => opened.failedRequests.push(request.url()));
    page.on('console', (message) => {
      if (message.type() === 'error') opened.consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => opened.consoleErrors.push(error.message));
    page.on('dialog', (dialog) => {
      opened.dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await page.goto(url, { waitUntil: 'load' });
    return opened;
  }

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'pooltune-browser-'));
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
    report = await open('run');
    hostile = await open('hostile', async (runDir) => {
      const file = join(runDir, 'manifest.json');
      const manifest = JSON.parse(await readFile(file, 'utf8')) as { target: { name: string } };
      manifest.target.name = ATTACK;
      await writeFile(file, JSON.stringify(manifest, null, 2));
    });
  });

  afterAll(async () => {
    await context?.close();
    if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
  });

  it('shows every chart, each SVG sized and with marks in it', async () => {
    const { page } = report;
    const figures = page.locator('figure.chart');
    expect(await figures.evaluateAll((all) => all.map((f) => f.id))).toEqual(
      CHART_IDS.map((id) => `chart-${id}`),
    );
    for (const figure of await figures.all()) {
      const svg = figure.locator('svg').first();
      expect(await svg.isVisible()).toBe(true);
      const box = await svg.boundingBox();
      expect(box?.width ?? 0).toBeGreaterThan(100);
      expect(box?.height ?? 0).toBeGreaterThan(100);
      // vega draws lines and areas as paths in g.mark-line / g.mark-area, points in g.mark-symbol.
      const marks = svg.locator(
        'g.mark-line.role-mark path, g.mark-symbol.role-mark path, g.mark-area.role-mark path',
      );
      expect(await marks.count()).toBeGreaterThan(0);
      // Each figure says what to look for, and describes itself to a screen reader.
      expect((await figure.locator('.chart-caption').textContent())?.trim()).toMatch(/^[A-Z].+\.$/);
      expect(await figure.locator('[role="img"]').getAttribute('aria-label')).toMatch(/^Chart /);
    }
    // The knee is marked on the throughput chart.
    await expect(page.locator('#chart-throughput svg').textContent()).resolves.toContain('recommended 12');
    expect(await page.locator('.not-drawn').count()).toBe(0);
  });

  it('shows every section in order, the settings diff and the checklist', async () => {
    const { page } = report;
    const headings = await page.locator('main > section > h2').allTextContents();
    expect(headings.filter((h) => /^\d\. /.test(h))).toEqual([
      '1. Summary',
      '2. The seven steps',
      '3. Decision checklist',
      '4. Risks',
      '5. Environment',
      '6. Raw data',
    ]);
    for (const id of ['summary', 'steps', 'checklist', 'risks', 'environment', 'raw-data']) {
      expect(await page.locator(`section#${id}`).isVisible(), id).toBe(true);
    }
    const size = page.locator('table.settings-diff tbody tr', { hasText: 'max' }).first();
    expect(await size.locator('del').textContent()).toBe('10');
    expect(await size.locator('ins').textContent()).toBe('12');
    expect(await page.locator('section#checklist tbody tr').count()).toBe(8);
    expect(await page.locator('.verdict').textContent()).toContain('exit code 0');
    // A step's trial link leads to that trial's row.
    await page.locator('#steps a[href="#trial-t004"]').first().click();
    expect(await page.locator('#trial-t004').isVisible()).toBe(true);
    expect(new URL(page.url()).hash).toBe('#trial-t004');
  });

  it('shows the trial table', async () => {
    expect(await report.page.locator('section.trials tbody tr').count()).toBe(48);
  });

  it('logs no console errors (a CSP violation would be one)', () => {
    expect(report.consoleErrors).toEqual([]);
    expect(hostile.consoleErrors).toEqual([]);
  });

  it('requests nothing but the page itself', () => {
    expect(report.requests).toEqual([report.url]);
    expect(report.failedRequests).toEqual([]);
    expect(hostile.requests).toEqual([hostile.url]);
  });

  it('shows a hostile target name as text: no script element, no dialog', async () => {
    const { page } = hostile;
    await expect(page.getByText(ATTACK).first().isVisible()).resolves.toBe(true);
    expect(await page.title()).toContain(ATTACK);
    expect(await page.locator('script').count()).toBe(0);
    expect(hostile.dialogs).toEqual([]);
  });

  it('keeps the charts in print layout, and saves a screenshot', async () => {
    const { page } = report;
    await page.emulateMedia({ media: 'print' });
    for (const svg of await page.locator('figure.chart svg').all()) {
      expect((await svg.boundingBox())?.width ?? 0).toBeGreaterThan(100);
    }
    // No page break inside a figure. (An expression string: this suite is typed without the DOM library.)
    const breaks = await page.evaluate(
      "[...document.querySelectorAll('figure.chart')].map((f) => getComputedStyle(f).breakInside)",
    );
    expect(breaks).toEqual(CHART_IDS.map(() => 'avoid'));
    await page.emulateMedia({ media: 'screen' });
    await mkdir(artifactsDir, { recursive: true });
    const screenshot = join(artifactsDir, 'report.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    expect(existsSync(screenshot)).toBe(true);
    console.log(`report screenshot: ${screenshot}`);
  });
});
