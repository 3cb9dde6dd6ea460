/**
 * The admin page against the REAL middleware and query routes (memory store, express-jwt), as
 * mounted by `auditLog({ ui: true })`: checks that the page and the routes agree on the contract.
 * Skipped when no Chromium binary is found, like browser.test.ts.
 */
import type { Server } from 'node:http';
import request from 'supertest';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { memoryStore } from 'express-audit-log';
import { ADMIN, USER, createTestApp, type TestApp } from '../support/app';
import { closeServer, describeIfChromium, expectLocator, launchChromium, serveOnLoopback } from './helpers';

const XSS = '<img src=x onerror=alert(1)>';

describeIfChromium('admin page on the real audit routes', () => {
  let t: TestApp;
  let server: Server;
  let origin: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let dialogs: string[];
  let roleId: string;
  const expectL = (locator: Locator) => expectLocator(page, locator);
  const rows = () => page.locator('#entries tbody tr.entry');

  beforeAll(async () => {
    t = createTestApp({ store: memoryStore(), scope: 'admin' });
    const auth = { Authorization: `Bearer ${ADMIN}` };
    const created = await request(t.app).post('/role').set(auth).send({ name: 'editor', description: XSS }).expect(201);
    roleId = created.body._id;
    await request(t.app).put(`/role/${roleId}`).set(auth).send({ name: 'chief editor' }).expect(200);
    await request(t.app).post('/permission').set(auth).send({ name: 'read' }).expect(201);
    await t.audit.flush();
    ({ server, origin } = await serveOnLoopback(t.app));
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await closeServer(server);
    await t?.audit.close();
  });

  beforeEach(async () => {
    dialogs = [];
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
  });
  afterEach(async () => {
    await context.close();
    expect(dialogs).toEqual([]);
  });

  async function signIn(token: string): Promise<void> {
    const res = await page.goto(`${origin}/auditLog/ui`);
    expect(res?.status()).toBe(200);
    expect(res?.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.getByLabel('Bearer token', { exact: true }).fill(token);
    await page.getByRole('button', { name: 'Use token' }).click();
  }

  test('lists the recorded requests, opens one, follows a document to its history', async () => {
    await signIn(ADMIN);
    await expectL(rows()).toHaveCount(3);
    await expectL(rows().locator('td.c-method')).toHaveText(['POST', 'PUT', 'POST']);
    await expectL(rows().locator('td.c-collection')).toHaveText(['permission', 'role', 'role']);

    await rows().nth(2).click();
    const detail = page.locator('#detail');
    const payload = detail.locator('details.section', { has: page.getByText('Payload', { exact: true }) });
    await expectL(payload.getByText(JSON.stringify(XSS))).toBeVisible();
    await detail.getByRole('link', { name: `History of role ${roleId}` }).click();
    await expectL(page.getByRole('heading', { name: `History of role / ${roleId}` })).toBeVisible();
    await expectL(rows()).toHaveCount(2);
    await expectL(rows().locator('td.c-method')).toHaveText(['PUT', 'POST']);
    expect(await page.evaluate('document.images.length')).toBe(0);
  });

  test('filters and sorts through the real query parser', async () => {
    await signIn(ADMIN);
    await expectL(rows()).toHaveCount(3);
    await page.getByLabel('Collection', { exact: true }).fill('role');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expectL(rows()).toHaveCount(2);
    await page.locator('th[data-sort="method"] button').click();
    await expectL(rows().locator('td.c-method')).toHaveText(['POST', 'PUT']);
    await page.getByLabel('From', { exact: true }).fill('not a date');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expectL(page.getByRole('alert')).toContainText('The query was refused (400):');
    await expectL(page.getByRole('alert')).toContainText('from');
  });

  test('a token without the admin scope gets the 403 message; a malformed one the 401 message', async () => {
    await signIn(USER);
    await expectL(page.getByRole('alert')).toContainText('Your token lacks the audit scope (403)');
    await page.getByLabel('Bearer token', { exact: true }).fill('not-a-jwt');
    await page.getByRole('button', { name: 'Use token' }).click();
    await expectL(page.getByRole('alert')).toContainText('Your token was rejected (401)');
  });
});
