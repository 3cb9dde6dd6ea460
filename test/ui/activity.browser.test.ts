/**
 * The admin page's activity chart and top lists in headless Chromium, on the REAL stats route
 * (memory store): bars per bucket with errors highlighted, a click on a bar narrows the table to
 * that bucket, a click on a top user filters by that user. Writes the README's screenshot when
 * UPDATE_SCREENSHOT=1. Skipped (reported as skipped) when no Chromium binary is found.
 */
import os from 'node:os';
import path from 'node:path';
import type { Server } from 'node:http';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import request from 'supertest';
import { memoryStore, type AuditEntry } from 'express-audit-log';
import { blankEntry } from '../../src/entry';
import { ADMIN, createTestApp, type TestApp } from '../support/app';
import { closeServer, describeIfChromium, expectLocator, launchChromium, serveOnLoopback } from './helpers';

const SCREENSHOT = process.env.UPDATE_SCREENSHOT
  ? path.join(__dirname, '..', '..', 'docs', 'admin-activity.png')
  : path.join(os.tmpdir(), 'eal-admin-activity.png');

const DAY = '2026-03-02';
const USERS = ['alice@example.com', 'bob@example.com', 'carol@example.com', 'dave@example.com'];
const COLLECTIONS = ['orders', 'invoices', 'customers'];
const ACTIONS = ['Create', 'Update', 'Update', 'Delete'];

/** A working day's traffic, fixed: busier around 10:00 and 15:00, errors now and then. */
function dayOfEntries(): AuditEntry[] {
  const entries: AuditEntry[] = [];
  for (let minute = 7 * 60; minute < 19 * 60; minute += 7) {
    const hour = minute / 60;
    const busy = Math.round(3 * Math.exp(-((hour - 10) ** 2)) + 4 * Math.exp(-((hour - 15) ** 2) / 2));
    for (let k = 0; k <= busy; k++) {
      const i = entries.length;
      const at = new Date(`${DAY}T00:00:00Z`).getTime() + minute * 60_000 + k * 1000;
      const statusCode = i % 17 === 0 ? 500 : i % 11 === 0 ? 404 : 200;
      entries.push({
        ...blankEntry(i.toString(16).padStart(24, '0'), new Date(at)),
        method: 'PATCH',
        action: ACTIONS[i % 4]!,
        endpoint: `/${COLLECTIONS[i % 3]}/${i}`,
        collectionName: COLLECTIONS[i % 3]!,
        user: USERS[(i * 7 + Math.floor(i / 5)) % 4]!,
        statusCode,
        isError: statusCode >= 400,
      });
    }
  }
  return entries;
}

describeIfChromium('activity chart on the real stats route', () => {
  let t: TestApp;
  let server: Server;
  let origin: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const entries = dayOfEntries();
  const expectL = (locator: Locator) => expectLocator(page, locator);
  const rows = () => page.locator('#entries tbody tr.entry');
  const bars = () => page.locator('#chart g.bucket');

  beforeAll(async () => {
    const store = memoryStore();
    t = createTestApp({ store, scope: 'admin' });
    await t.audit.flush();
    await store.insertMany(entries);
    ({ server, origin } = await serveOnLoopback(t.app));
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await closeServer(server);
    await t?.audit.close();
  });
  beforeEach(async () => {
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: 'UTC' });
    page = await context.newPage();
  });
  afterEach(() => context.close());

  async function open(hash: string): Promise<void> {
    await page.goto(`${origin}/auditLog/ui#${hash}`);
    await page.getByLabel('Bearer token', { exact: true }).fill(ADMIN);
    await page.getByRole('button', { name: 'Use token' }).click();
  }

  test('one bar per bucket, errors drawn apart, top users/actions/collections listed', async () => {
    await open(`/?from=${DAY}T06:00:00Z&to=${DAY}T19:59:59Z`);
    // 14 hours: 15-minute buckets (56), the smallest interval giving at most 100.
    await expectL(bars()).toHaveCount(56);
    const errorBuckets = new Set(entries.filter((e) => e.isError).map((e) => Math.floor(e.date.getTime() / 900_000)));
    await expectL(page.locator('#chart g.bucket.has-errors')).toHaveCount(errorBuckets.size);
    await expectL(page.locator('#chart rect.bar-err')).toHaveCount(errorBuckets.size);
    const errors = entries.filter((e) => e.isError).length;
    await expectL(page.locator('#chart svg')).toHaveAttribute(
      'aria-label',
      `Activity 2026-03-02 06:00 to 2026-03-02 19:59, per 15m: ${entries.length} entries, ${errors} errors`,
    );
    await expectL(bars().first()).toHaveAttribute('aria-label', '2026-03-02 06:00: 0 entries, 0 errors');

    const tops = page.locator('#tops .top-list');
    await expectL(tops.locator('h3')).toHaveText(['Top users', 'Top actions', 'Top collections']);
    const perAction = (action: string) => entries.filter((e) => e.action === action).length;
    await expectL(tops.nth(1).locator('li button')).toHaveText(['Update', 'Create', 'Delete']);
    await expectL(tops.nth(1).locator('li .n').first()).toContainText(String(perAction('Update')));
    await page.screenshot({ path: SCREENSHOT, fullPage: false });
  });

  test('a click on a bar narrows the table to that bucket; a click on a top user filters by them', async () => {
    await open(`/?from=${DAY}T06:00:00Z&to=${DAY}T19:59:59Z`);
    const start = Date.parse(`${DAY}T10:00:00Z`);
    const inBucket = entries.filter((e) => e.date.getTime() >= start && e.date.getTime() < start + 900_000);
    expect(inBucket.length).toBeGreaterThan(1);
    await page.locator(`#chart g.bucket[data-start="${new Date(start).toISOString()}"]`).click();
    await expectL(rows()).toHaveCount(inBucket.length);
    await expectL(page.getByLabel('From', { exact: true })).toHaveValue('2026-03-02T10:00:00.000Z');
    await expectL(page.getByLabel('To', { exact: true })).toHaveValue('2026-03-02T10:14:59.999Z');
    // The chart follows the table's filter: one bucket of 15 minutes, now in 1-minute buckets.
    await expectL(bars()).toHaveCount(15);

    const bob = inBucket.filter((e) => e.user === 'bob@example.com').length;
    await page.locator('#tops .top-list').first().getByRole('button', { name: 'bob@example.com' }).click();
    await expectL(rows()).toHaveCount(bob);
    await expectL(page.getByLabel('User', { exact: true })).toHaveValue('bob@example.com');
  });

  test('a bar is reachable with the keyboard and picked with Enter', async () => {
    await open(`/?from=${DAY}T15:00:00Z&to=${DAY}T15:59:59Z`);
    await expectL(bars()).toHaveCount(60);
    await bars().nth(30).focus();
    await page.keyboard.press('Enter');
    await expectL(page.getByLabel('From', { exact: true })).toHaveValue('2026-03-02T15:30:00.000Z');
    // Entries come every 7 minutes: 15:30 has none, and the table says so.
    await expectL(page.locator('#entries tbody tr.empty')).toHaveText('No entries match.');
  });

  test('with user sealed by encryption, the chart and the other top lists still show (no top users)', async () => {
    const sealed = createTestApp({ store: memoryStore(), scope: 'admin', encryption: { masterKey: Buffer.alloc(32, 7) } });
    const served = await serveOnLoopback(sealed.app);
    try {
      await request(sealed.app).post('/users').set('Authorization', `Bearer ${ADMIN}`).send({ name: 'a' }).expect(201);
      await page.goto(`${served.origin}/auditLog/ui`);
      await page.getByLabel('Bearer token', { exact: true }).fill(ADMIN);
      await page.getByRole('button', { name: 'Use token' }).click();
      await expectL(page.locator('#chart rect.bar')).toHaveCount(1);
      await expectL(page.locator('#tops .top-list h3')).toHaveText(['Top actions', 'Top collections']);
    } finally {
      await closeServer(served.server);
      await sealed.audit.close();
    }
  });
});
