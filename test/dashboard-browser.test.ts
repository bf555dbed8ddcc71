/**
 * A real browser on the real example: examples/dashboard runs as a child process on 127.0.0.1,
 * Debian's Chromium (driven by playwright-core, no browser download) loads the page, the numbers
 * on it are checked against the database (queried here independently), and a screenshot is saved
 * to test-output/auth-card.png.
 *
 * Chromium: `apt-get update && apt-get install -y chromium` (/usr/bin/chromium). Without it this
 * test fails under CI=true and is skipped, with a message, elsewhere.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CHROMIUM = process.env.AUTH_KIT_CHROMIUM ?? '/usr/bin/chromium';
const SCREENSHOT = join(ROOT, 'test-output', 'auth-card.png');
const HOUR = 3_600_000;

const chromiumMissing = !existsSync(CHROMIUM);

/** Starts the example server; resolves with its URL once it prints it. */
function startServer(databaseFile: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'examples/dashboard/server.ts')], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', DATABASE_URL: `sqlite:///${databaseFile}`, DASHBOARD_SEED: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`the dashboard did not start in 120 s:\n${output}`)), 120_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolvePromise({ child, url: match[1] });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the dashboard exited with ${code}:\n${output}`));
    });
  });
}

if (chromiumMissing && process.env.CI === 'true') {
  describe('dashboard in a real browser', () => {
    it('needs Chromium under CI', () => {
      throw new Error(`${CHROMIUM} is missing: run \`apt-get update && apt-get install -y chromium\``);
    });
  });
} else if (chromiumMissing) {
  console.warn(`[auth-kit tests] SKIPPING the browser test: ${CHROMIUM} is missing (apt-get install -y chromium)`);
  describe('dashboard in a real browser', () => {
    it.skip(`shows the database numbers (skipped: ${CHROMIUM} is missing)`, () => undefined);
  });
} else {
  describe('dashboard in a real browser', () => {
    let dir: string;
    let child: ChildProcess | undefined;
    let url: string;
    let browser: Browser | undefined;
    let databaseFile: string;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'auth-kit-dashboard-'));
      databaseFile = join(dir, 'dashboard.db');
      ({ child, url } = await startServer(databaseFile));
      browser = await chromium.launch({
        executablePath: CHROMIUM,
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
      });
    }, 180_000);

    afterAll(async () => {
      await browser?.close();
      if (child && child.exitCode === null) {
        const exited = new Promise((r) => child!.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('shows the database numbers, loads nothing else, and looks right', async () => {
      const context = await browser!.newContext({ viewport: { width: 860, height: 400 }, deviceScaleFactor: 2, colorScheme: 'light' });
      const page = await context.newPage();
      const requests: string[] = [];
      const consoleErrors: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
      const response = await page.goto(url, { waitUntil: 'load' });
      expect(response!.status()).toBe(200);
      expect(response!.headers()['content-type']).toBe('text/html; charset=utf-8');
      expect(response!.headers()['content-security-policy']).toContain("default-src 'none'");

      const card = page.locator('article.akc');
      const checkedAt = new Date((await card.getAttribute('data-checked-at'))!);
      expect(Number.isNaN(checkedAt.getTime())).toBe(false);
      const text = async (metric: string) => ((await page.locator(`[data-metric="${metric}"]`).first().textContent()) ?? '').trim();
      const number = async (metric: string) => Number((await text(metric)).replace(/,/g, ''));

      // The database, read independently at the same instant the status was computed.
      const db = new Database(databaseFile, { readonly: true, fileMustExist: true });
      const count = (query: string, ...params: unknown[]) => (db.prepare(query).get(...params) as { n: number }).n;
      const expected = {
        totalUsers: count('select count(*) as n from auth_users'),
        activeUsers: count('select count(*) as n from auth_users where is_active = 1'),
        failedLogins24h: count(
          "select count(*) as n from auth_events where type = 'login_failed' and created_at >= ?",
          new Date(checkedAt.getTime() - 24 * HOUR).toISOString(),
        ),
        activeSessions: count(
          'select count(*) as n from auth_sessions where used_at is null and revoked_at is null and expires_at > ?',
          checkedAt.toISOString(),
        ),
      };
      const hourly = (hour: string) =>
        count(
          "select count(*) as n from auth_events where type = 'login_failed' and created_at >= ? and created_at < ?",
          hour,
          new Date(new Date(hour).getTime() + HOUR).toISOString(),
        );
      // The seed made something worth looking at.
      expect(expected.totalUsers).toBe(12);
      expect(expected.activeUsers).toBe(10);
      expect(expected.failedLogins24h).toBeGreaterThan(10);
      expect(expected.activeSessions).toBeGreaterThan(0);
      expect(count("select count(*) as n from auth_events where type = 'login_throttled'")).toBeGreaterThan(0);

      for (const [metric, value] of Object.entries(expected)) {
        expect(await number(metric), metric).toBe(value);
      }
      const bars = await page.locator('svg rect[data-hour]').evaluateAll((rects) =>
        rects.map((r) => ({ hour: r.getAttribute('data-hour')!, count: Number(r.getAttribute('data-count')), height: Number(r.getAttribute('height')), title: r.querySelector('title')?.textContent ?? '' })),
      );
      expect(bars).toHaveLength(24);
      const currentHour = new Date(Math.floor(checkedAt.getTime() / HOUR) * HOUR).toISOString();
      expect(bars.at(-1)!.hour).toBe(currentHour);
      for (const bar of bars) {
        expect(bar.count, bar.hour).toBe(hourly(bar.hour));
        expect(bar.title).toMatch(new RegExp(`: ${bar.count} failed login`));
      }
      db.close();
      // Taller bars for larger counts.
      const sorted = [...bars].sort((a, b) => a.count - b.count);
      for (let i = 1; i < sorted.length; i++) {
        if (sorted[i].count > sorted[i - 1].count) expect(sorted[i].height).toBeGreaterThan(sorted[i - 1].height);
      }
      expect(await text('status')).toBe('Healthy');
      expect(await text('tokenValidation')).toBe('✓ ok');
      expect(await text('jwtAlgorithm')).toBe('HS256');
      expect(await text('avgTokenLifetime')).toBe('30m');
      expect(await text('database')).toBe('sqlite');
      expect(await page.locator('[data-metric="securityFeatures"] li').allTextContents()).toEqual(
        expect.arrayContaining(['argon2id m=19456,t=2,p=1', 'lockout 5/15m', 'refresh token rotation']),
      );
      expect(await text('configurationIssues')).toBe('None');

      // Accessible chart: an image with a title and a description that exist.
      const svg = page.locator('svg[role="img"]');
      const labelled = (await svg.getAttribute('aria-labelledby'))!.split(' ');
      for (const id of labelled) expect(await page.locator(`[id="${id}"]`).count()).toBe(1);
      expect(await page.locator(`[id="${labelled[0]}"]`).textContent()).toContain('Failed logins per hour');

      // Self-contained: one request (the page), no script, nothing broken.
      expect(requests).toEqual([url]);
      expect(await page.locator('script').count()).toBe(0);
      expect(consoleErrors).toEqual([]);
      expect(await page.title()).toBe('Auth status · Healthy');

      mkdirSync(dirname(SCREENSHOT), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      const png = readFileSync(SCREENSHOT);
      expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
      expect(png.length).toBeGreaterThan(20_000);
      await context.close();
    }, 120_000);
  });
}
