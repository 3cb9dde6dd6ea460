/**
 * Shared by the browser suites: finding and launching Chromium, and a small stand-in for
 * @playwright/test's web-first assertions (playwright-core ships no `expect`).
 */
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** Without a Chromium binary the suites are reported as skipped, never as passing. */
export const describeIfChromium: jest.Describe = fs.existsSync(CHROMIUM) ? describe : describe.skip;

/** Serves an app on a free port of 127.0.0.1, for the browser to load; resolves to the server and its origin. */
export async function serveOnLoopback(app: { listen(port: number, host: string, ready: () => void): Server }): Promise<{ server: Server; origin: string }> {
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** Closes a server started by serveOnLoopback, if it started. */
export function closeServer(server: Server | undefined): Promise<void> {
  if (!server) return Promise.resolve();
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  // A page still open holds keep-alive connections (and may have a request in flight): close()
  // alone would wait for them, up to the test's timeout on a slow machine.
  server.closeAllConnections();
  return closed;
}

/** launch() gives every browser a fresh temporary profile (user-data-dir), removed on close. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
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
}

const TIMEOUT_MS = 10_000;

/**
 * Re-reads a probe on every animation frame of the page until the jest assertion passes, or
 * throws the assertion's error after 10 s. No fixed sleeps: this is what expect.poll does.
 */
export async function retry<T>(page: Page, probe: () => Promise<T>, check: (value: T) => void): Promise<void> {
  const deadline = Date.now() + TIMEOUT_MS;
  for (;;) {
    const value = await probe();
    try {
      check(value);
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    await page.evaluate('new Promise((resolve) => requestAnimationFrame(() => resolve(null)))').catch(() => undefined);
  }
}

function matches(actual: string, expected: string | RegExp): boolean {
  return typeof expected === 'string' ? actual.trim() === expected : expected.test(actual.trim());
}

/** Web-first assertions on a locator: visibility uses the locator's own auto-waiting. */
export function expectLocator(page: Page, locator: Locator) {
  const poll = <T>(probe: () => Promise<T>, check: (value: T) => void) => retry(page, probe, check);
  const text = async () => (await locator.textContent()) ?? '';
  return {
    toBeVisible: () => locator.waitFor({ state: 'visible' }),
    toBeHidden: () => locator.waitFor({ state: 'hidden' }),
    toHaveCount: (n: number) =>
      poll(
        () => locator.count(),
        (v) => expect(v).toBe(n),
      ),
    toHaveText: (expected: string | RegExp | Array<string | RegExp>) =>
      Array.isArray(expected)
        ? poll(
            () => locator.allTextContents(),
            (v) => {
              expect(v.map((t) => t.trim())).toHaveLength(expected.length);
              v.forEach((t, i) => expect([t.trim(), matches(t, expected[i] ?? '')]).toEqual([t.trim(), true]));
            },
          )
        : poll(text, (v) => expect([v.trim(), matches(v, expected)]).toEqual([v.trim(), true])),
    toContainText: (s: string) => poll(text, (v) => expect(v).toContain(s)),
    toHaveAttribute: (name: string, value: string) =>
      poll(
        () => locator.getAttribute(name),
        (v) => expect(v).toBe(value),
      ),
    toHaveValue: (value: string) =>
      poll(
        () => locator.inputValue(),
        (v) => expect(v).toBe(value),
      ),
    toBeChecked: (checked = true) =>
      poll(
        () => locator.isChecked(),
        (v) => expect(v).toBe(checked),
      ),
    toBeDisabled: () =>
      poll(
        () => locator.isDisabled(),
        (v) => expect(v).toBe(true),
      ),
    toBeFocused: () =>
      poll(
        () => locator.evaluate((el) => el === el.ownerDocument.activeElement),
        (v) => expect(v).toBe(true),
      ),
  };
}
