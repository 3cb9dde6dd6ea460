/**
 * Issue 8's end-to-end promise, as a user of the example app lives it: start the app, make a
 * request with the printed user token, open the printed admin page URL, paste the printed
 * admin token, and find that request's entry (payload redacted, hostile text shown as text).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { tempDir } from '../support/stores';
import { describeIfChromium, expectLocator, launchChromium } from './helpers';

describeIfChromium('admin page of the example app', () => {
  let child: ChildProcess;
  let output = '';
  let browser: Browser;
  let page: Page;
  const dialogs: string[] = [];

  beforeAll(async () => {
    child = spawn(process.execPath, [path.join(__dirname, '..', '..', 'example-app', 'server.js')], {
      env: { ...process.env, PORT: '0', AUDIT_DB_PATH: path.join(tempDir('eal-ui-example-'), 'audit.db'), MONGODB_URI: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk) => (output += chunk));
    child.stderr!.on('data', (chunk) => (output += chunk));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`example-app did not start:\n${output}`)), 20_000);
      const check = () => (output.includes('Admin page:') ? (clearTimeout(timer), resolve()) : setTimeout(check, 20));
      check();
    });
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  });

  const printed = (pattern: RegExp): string => {
    const match = pattern.exec(output);
    if (!match?.[1]) throw new Error(`not printed: ${pattern}\n${output}`);
    return match[1];
  };

  test('a request just made is found on the page from the printed URL', async () => {
    const adminToken = printed(/admin \(scope admin\): (\S+)/);
    const userToken = printed(/user {2}\(scope user\): {2}(\S+)/);
    const pageUrl = printed(/Admin page: (\S+)/);
    const origin = new URL(pageUrl).origin;

    const made = await fetch(`${origin}/users`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${userToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: '<script>alert(1)</script>Grace', password: 'correct horse' }),
    });
    expect(made.status).toBe(201);
    const requestId = made.headers.get('x-request-id')!;

    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    const res = await page.goto(pageUrl);
    expect(res?.status()).toBe(200);
    await page.getByLabel('Bearer token', { exact: true }).fill(adminToken);
    await page.getByRole('button', { name: 'Use token' }).click();
    await page.getByLabel('Request ID', { exact: true }).fill(requestId);
    await page.getByRole('button', { name: 'Apply filters' }).click();
    const rows = page.locator('#entries tbody tr.entry');
    await expectLocator(page, rows).toHaveCount(1);
    await expectLocator(page, rows.first().locator('td.c-user')).toHaveText('bob');
    await rows.first().click();
    const detail = page.locator('#detail');
    await expectLocator(page, detail.getByText('"[REDACTED]"').first()).toBeVisible();
    await expectLocator(page, detail.getByText(JSON.stringify('<script>alert(1)</script>Grace')).first()).toBeVisible();
    expect(await page.content()).not.toContain('correct horse');
    expect(dialogs).toEqual([]);
    await context.close();
  });
});
