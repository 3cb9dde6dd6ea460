/**
 * The admin page in headless Chromium against a FAKE audit API (the real query routes live
 * elsewhere; this fake implements just enough of their contract: list, one entry, history,
 * bearer-token checks with 401/403/400 error bodies).
 *
 * Skipped (reported as skipped, never passing) when no Chromium binary is found. CI installs
 * Debian's `chromium` package; CHROMIUM_PATH overrides the default /usr/bin/chromium.
 */
import path from 'node:path';
import type { Server } from 'node:http';
import express from 'express';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { createUiRouter } from '../../src/express/ui-router';
import { closeServer, describeIfChromium, expectLocator, launchChromium, serveOnLoopback } from './helpers';

const d = describeIfChromium;

// The README's picture is refreshed only on request (UPDATE_SCREENSHOT=1), so a test run never edits the repo.
const SCREENSHOT = process.env.UPDATE_SCREENSHOT
  ? path.join(__dirname, '..', '..', 'docs', 'admin-ui.png')
  : path.join(require('node:os').tmpdir(), 'eal-admin-ui.png');

// ---- the fake API's data --------------------------------------------------------------------

interface Change {
  path: string;
  from?: unknown;
  to?: unknown;
}
interface Entry {
  _id: string;
  date: string;
  method: string | null;
  action: string | null;
  endpoint: string | null;
  user: string | null;
  collectionName: string | null;
  childCollectionName: string | null;
  associationType: string | null;
  documents: string[] | null;
  payload: unknown;
  params: unknown;
  result: unknown;
  statusCode: number | null;
  isError: boolean;
  responseMessage: string | null;
  ipAddress: string | null;
  notes: string | null;
  requestId: string | null;
  traceId: string | null;
  durationMs: number | null;
  userAgent: string | null;
  truncated: string[] | null;
  message?: string | null;
  changes?: Change[];
  tenant?: string;
}

const XSS_SCRIPT = '<script>alert(1)</script>';
const XSS_IMG = '<img src=x onerror=alert(1)>';
const NEWEST = Date.parse('2025-05-14T09:30:00.000Z');
const USERS = ['alice@example.com', 'bob@example.com', 'carol@example.com'];
const COLLECTIONS = ['orders', 'invoices', 'customers'];
const METHODS = ['POST', 'PATCH', 'PUT', 'DELETE'];
const STATUSES = [201, 200, 200, 204, 400, 404, 200, 500];

function hex(n: number): string {
  return n.toString(16).padStart(24, '0');
}

function makeEntries(): Entry[] {
  const entries: Entry[] = [];
  for (let i = 0; i < 27; i++) {
    const collection = COLLECTIONS[i % 3] ?? 'orders';
    const method = METHODS[i % 4] ?? 'POST';
    const status = STATUSES[i % 8] ?? 200;
    const doc = collection === 'orders' && i % 2 === 0 ? 'ord-1001' : `${collection.slice(0, 3)}-${2000 + i}`;
    const action = `${method === 'POST' ? 'create' : method === 'DELETE' ? 'delete' : 'update'}-${collection.replace(/s$/, '')}`;
    entries.push({
      _id: hex(0x6640a000 + i),
      date: new Date(NEWEST - i * 7 * 60_000).toISOString(),
      method,
      action,
      endpoint: `/api/${collection}/${doc}`,
      user: USERS[i % 3] ?? null,
      collectionName: collection,
      childCollectionName: null,
      associationType: null,
      documents: [doc],
      payload: { note: `change #${i}`, total: 10 * i, lines: [{ sku: `SKU-${i}`, qty: (i % 4) + 1 }] },
      params: { id: doc },
      result: status >= 400 ? { error: 'Something went wrong' } : { _id: doc, ok: true },
      statusCode: status,
      isError: status >= 400,
      responseMessage: status >= 400 ? 'Request failed' : 'OK',
      ipAddress: `10.0.0.${i + 1}`,
      notes: null,
      requestId: `req-${1000 + i}`,
      traceId: null,
      durationMs: 5 + ((i * 37) % 240),
      userAgent: 'Mozilla/5.0 (test)',
      truncated: null,
      ...(method === 'PATCH' && { tenant: 'acme-corp' }),
      changes:
        method === 'PATCH'
          ? [
              { path: 'total', from: 10 * i - 5, to: 10 * i },
              { path: 'status', from: 'open', to: 'paid' },
            ]
          : undefined,
    });
  }
  // The hostile entry: oldest, so it never shows on the first page.
  entries.push({
    _id: hex(0x66400bad),
    date: new Date(NEWEST - 40 * 24 * 3600_000).toISOString(),
    method: 'POST',
    action: `create-${XSS_SCRIPT}`,
    endpoint: `/api/x/${XSS_IMG}`,
    user: XSS_IMG,
    collectionName: `evil${XSS_SCRIPT}`,
    childCollectionName: null,
    associationType: null,
    documents: [`doc${XSS_IMG}`],
    payload: { comment: XSS_SCRIPT, [XSS_IMG]: XSS_IMG, nested: { html: '<b>bold</b>' } },
    params: null,
    result: XSS_IMG,
    statusCode: 201,
    isError: false,
    responseMessage: XSS_SCRIPT,
    ipAddress: '203.0.113.9',
    notes: XSS_IMG,
    requestId: 'req-xss',
    traceId: null,
    durationMs: 12,
    userAgent: XSS_SCRIPT,
    truncated: null,
    message: `${XSS_IMG} published`,
  });
  // Stored out of date order: the page relies on the API's `$sort`.
  return entries.reverse();
}

// ---- the fake API ---------------------------------------------------------------------------

const FILTERS = ['user', 'action', 'collectionName', 'method', 'statusCode', 'isError', 'requestId', 'documents'] as const;
const SORTABLE = ['date', 'method', 'action', 'collectionName', 'user', 'statusCode', 'durationMs'] as const;
type Sortable = (typeof SORTABLE)[number];

function httpError(res: express.Response, statusCode: number, error: string, message: string): void {
  res.status(statusCode).json({ statusCode, error, message });
}

function listBody(all: Entry[], limit: number, page: number) {
  const total = all.length;
  const totalPages = Math.ceil(total / limit);
  const docs = all.slice((page - 1) * limit, page * limit);
  return {
    docs,
    pages: { current: page, prev: page - 1, hasPrev: page > 1, next: page + 1, hasNext: page < totalPages, total: totalPages },
    items: { limit, begin: total === 0 ? 0 : (page - 1) * limit + 1, end: (page - 1) * limit + docs.length, total },
  };
}

function compare(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  return (a as number | string) < (b as number | string) ? -1 : 1;
}

function queryString(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function pageParams(req: express.Request, res: express.Response): { limit: number; page: number } | null {
  const limit = Number(queryString(req.query.$limit) ?? 20);
  const page = Number(queryString(req.query.$page) ?? 1);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    httpError(res, 400, 'Bad Request', '$limit must be an integer from 1 to 1000');
    return null;
  }
  if (!Number.isInteger(page) || page < 1) {
    httpError(res, 400, 'Bad Request', '$page must be a positive integer');
    return null;
  }
  return { limit, page };
}

function fakeApi(entries: Entry[], requests: string[]): express.Express {
  const app = express();
  // The UI router is public: mounted before the auth check, as in the real audit router.
  app.use('/auditLog', createUiRouter({ basePath: '/auditLog' }));
  app.use('/auditLog', (req, res, next) => {
    requests.push(req.originalUrl);
    const auth = req.get('authorization') ?? '';
    const token = /^Bearer (.+)$/.exec(auth)?.[1];
    if (token === 'good') return next();
    if (token === 'noscope') return httpError(res, 403, 'Forbidden', 'Insufficient scope');
    return httpError(res, 401, 'Unauthorized', token ? 'invalid token' : 'No authorization token was found');
  });

  app.get('/auditLog', (req, res) => {
    const paging = pageParams(req, res);
    if (!paging) return;
    let rows = entries.slice();
    for (const f of FILTERS) {
      const v = queryString(req.query[f]);
      if (v === undefined) continue;
      if (f === 'statusCode' && !/^\d+$/.test(v)) return httpError(res, 400, 'Bad Request', `statusCode must be a number, got "${v}"`);
      rows = rows.filter((e) => {
        const field = e[f];
        if (Array.isArray(field)) return field.includes(v);
        return String(field) === v;
      });
    }
    for (const bound of ['from', 'to'] as const) {
      const v = queryString(req.query[bound]);
      if (v === undefined) continue;
      const t = Date.parse(v);
      if (Number.isNaN(t)) return httpError(res, 400, 'Bad Request', `Invalid "${bound}": not a date or a duration: ${v}`);
      rows = rows.filter((e) => (bound === 'from' ? Date.parse(e.date) >= t : Date.parse(e.date) <= t));
    }
    const term = queryString(req.query.$term);
    if (term) {
      rows = rows.filter((e) =>
        [e.action, e.endpoint, e.user, e.collectionName, e.responseMessage, e.notes].some((s) => typeof s === 'string' && s.includes(term)),
      );
    }
    const sort = queryString(req.query.$sort) ?? '-date';
    const key = sort.replace(/^-/, '');
    if (!(SORTABLE as readonly string[]).includes(key)) return httpError(res, 400, 'Bad Request', `Cannot sort by "${key}"`);
    const dir = sort.startsWith('-') ? -1 : 1;
    rows.sort((a, b) => dir * compare(a[key as Sortable], b[key as Sortable]) || compare(a._id, b._id));
    res.json(listBody(rows, paging.limit, paging.page));
  });

  app.get('/auditLog/history/:collection/:id', (req, res) => {
    const paging = pageParams(req, res);
    if (!paging) return;
    const { collection, id } = req.params;
    const rows = entries.filter((e) => e.collectionName === collection && (e.documents ?? []).includes(id)).sort((a, b) => compare(b.date, a.date));
    res.json(listBody(rows, paging.limit, paging.page));
  });

  app.get('/auditLog/:id', (req, res) => {
    const entry = entries.find((e) => e._id === req.params.id);
    if (!entry) return httpError(res, 404, 'Not Found', `No entry ${req.params.id}`);
    res.json(entry);
  });
  return app;
}

// ---- the suite ------------------------------------------------------------------------------

d('admin page in Chromium', () => {
  const entries = makeEntries();
  const byDateDesc = entries.slice().sort((a, b) => compare(b.date, a.date));
  const requests: string[] = [];
  let server: Server;
  let origin: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let dialogs: string[];
  let problems: string[];

  beforeAll(async () => {
    ({ server, origin } = await serveOnLoopback(fakeApi(entries, requests)));
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await closeServer(server);
  });

  beforeEach(async () => {
    requests.length = 0;
    dialogs = [];
    problems = [];
    context = await browser.newContext({ viewport: { width: 1280, height: 800 }, timezoneId: 'UTC' });
    context.setDefaultTimeout(10_000);
    page = await context.newPage();
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    // CSP violations (an inline style or script slipping in) and script errors show up here.
    page.on('console', (msg) => {
      if (msg.type() === 'error' && !/Failed to load resource/.test(msg.text())) problems.push(msg.text());
    });
    page.on('pageerror', (err) => problems.push(String(err)));
  });

  afterEach(async () => {
    await context.close();
    expect(dialogs).toEqual([]);
    expect(problems).toEqual([]);
  });

  const expectL = (locator: Locator) => expectLocator(page, locator);

  async function open(hash = ''): Promise<void> {
    await page.goto(`${origin}/auditLog/ui${hash}`);
  }

  async function signIn(token = 'good'): Promise<void> {
    await page.getByLabel('Bearer token', { exact: true }).fill(token);
    await page.getByRole('button', { name: 'Use token' }).click();
  }

  const rows = () => page.locator('#entries tbody tr.entry');
  // The list and entry calls; the chart's stats calls are tested on the real route (activity.browser.test.ts).
  const apiRequests = () => requests.filter((r) => !r.startsWith('/auditLog/ui') && !r.startsWith('/auditLog/stats'));

  async function dates(): Promise<string[]> {
    return rows()
      .locator('td.c-date time')
      .evaluateAll((els) => els.map((e) => e.getAttribute('datetime') ?? ''));
  }

  test('asks for a token, keeps it in sessionStorage only, then lists entries newest first', async () => {
    await open();
    await expectL(page.getByRole('heading', { name: 'Enter a bearer token' })).toBeVisible();
    expect(apiRequests()).toEqual([]);
    await signIn();
    await expectL(rows()).toHaveCount(20);
    await expectL(page.locator('#page-info')).toHaveText('Page 1 of 2');
    await expectL(page.locator('#summary')).toHaveText(`Showing 1–20 of ${entries.length} entries`);
    const shown = await dates();
    expect(shown).toEqual(byDateDesc.slice(0, 20).map((e) => e.date));
    expect(shown[0]).toBe(byDateDesc[0]?.date);
    await expectL(rows().first().locator('td.c-user')).toHaveText(byDateDesc[0]?.user ?? '');
    expect(decodeURIComponent(apiRequests()[0] ?? '')).toBe('/auditLog?$sort=-date');
    const storage = await page.evaluate('[sessionStorage.length, localStorage.length, document.cookie]');
    expect(storage).toEqual([1, 0, '']);
    await page.screenshot({ path: SCREENSHOT });
  });

  test("filters by user: the request has user= and only that user's rows show", async () => {
    await open();
    await signIn();
    await expectL(rows()).toHaveCount(20);
    await page.getByLabel('User', { exact: true }).fill('bob@example.com');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    const expected = entries.filter((e) => e.user === 'bob@example.com').length;
    await expectL(rows()).toHaveCount(expected);
    await expectL(rows().locator('td.c-user')).toHaveText(Array(expected).fill('bob@example.com'));
    const last = apiRequests().at(-1) ?? '';
    expect(last).toContain('user=bob%40example.com');
    expect(page.url()).toContain('user=bob%40example.com');
    // A reload keeps the filter (it lives in the URL hash) and the token (sessionStorage).
    await page.reload();
    await expectL(page.getByLabel('User', { exact: true })).toHaveValue('bob@example.com');
    await expectL(rows()).toHaveCount(expected);
  });

  test('errors-only and status filters, paging and sortable headers', async () => {
    await open();
    await signIn();
    await expectL(rows()).toHaveCount(20);
    await page.getByRole('button', { name: /Next/ }).click();
    await expectL(page.locator('#page-info')).toHaveText('Page 2 of 2');
    await expectL(rows()).toHaveCount(entries.length - 20);
    expect(apiRequests().at(-1)).toContain('%24page=2');
    await expectL(page.getByRole('button', { name: /Next/ })).toBeDisabled();
    await page.getByRole('button', { name: /Previous/ }).click();
    await expectL(page.locator('#page-info')).toHaveText('Page 1 of 2');

    const statusHeader = page.locator('th[data-sort="statusCode"]');
    await statusHeader.getByRole('button').click();
    await expectL(statusHeader).toHaveAttribute('aria-sort', 'ascending');
    expect(apiRequests().at(-1)).toContain('%24sort=statusCode');
    await expectL(rows().first().locator('td.c-status')).toHaveText('200');
    await statusHeader.getByRole('button').click();
    await expectL(statusHeader).toHaveAttribute('aria-sort', 'descending');
    expect(apiRequests().at(-1)).toContain('%24sort=-statusCode');
    await expectL(rows().first().locator('td.c-status')).toHaveText('500');
    await expectL(page.locator('th[data-sort="date"]')).toHaveAttribute('aria-sort', 'none');

    await page.getByLabel('Errors only', { exact: true }).check();
    await page.getByRole('button', { name: 'Apply filters' }).click();
    const errors = entries.filter((e) => e.isError).length;
    await expectL(rows()).toHaveCount(errors);
    const last = apiRequests().at(-1) ?? '';
    expect(last).toContain('isError=true');
    expect(last).toContain('%24sort=-statusCode');
    await expectL(rows().locator('td.c-status')).toHaveText(Array(errors).fill(/^(4|5)\d\d$/));

    await page.getByLabel('Status code', { exact: true }).fill('404');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expectL(rows()).toHaveCount(entries.filter((e) => e.statusCode === 404).length);
    expect(apiRequests().at(-1)).toContain('statusCode=404');

    await page.getByRole('button', { name: 'Reset' }).click();
    await expectL(rows()).toHaveCount(20);
    await expectL(page.getByLabel('Errors only', { exact: true })).toBeChecked(false);
    await expectL(page.getByLabel('Status code', { exact: true })).toHaveValue('');
  });

  test('clicking a row opens its details: payload, params, result, changes, facts', async () => {
    await open();
    await signIn();
    const patch = byDateDesc.find((e) => e.method === 'PATCH');
    if (!patch) throw new Error('fixture has no PATCH entry');
    await page.locator(`tr[data-id="${patch._id}"]`).click();
    const detail = page.getByRole('region', { name: `Entry ${patch._id}` });
    await expectL(detail).toBeVisible();
    await expectL(detail.getByText(JSON.stringify((patch.payload as { note: string }).note))).toBeVisible();
    await expectL(detail.getByText(`"SKU-`)).toBeVisible();
    await expectL(detail.locator('dd').filter({ hasText: patch.endpoint ?? '' })).toHaveCount(1);
    await expectL(detail.locator('dd').filter({ hasText: patch.ipAddress ?? '' })).toHaveCount(1);
    await expectL(detail.locator('dd').filter({ hasText: `${patch.durationMs} ms` })).toHaveCount(1);
    await expectL(detail.locator('dt').filter({ hasText: 'Tenant' })).toHaveCount(1);
    await expectL(detail.locator('dd').filter({ hasText: 'acme-corp' })).toHaveCount(1);
    await expectL(detail.getByRole('link', { name: patch.requestId ?? '' })).toBeVisible();
    await expectL(detail.locator('summary').filter({ hasText: 'Changes (2)' })).toBeVisible();
    await expectL(detail.locator('table.changes tbody tr')).toHaveCount(2);
    await expectL(detail.locator('table.changes')).toContainText('"paid"');
    expect(apiRequests()).toContain(`/auditLog/${patch._id}`);

    // The JSON tree is collapsible.
    const payloadLines = detail.locator('details.section').filter({ hasText: 'Payload' }).locator('details.json-node').filter({ hasText: 'lines' }).first();
    await expectL(payloadLines.getByText('"SKU-', { exact: false })).toBeVisible();
    await payloadLines.locator('> summary').click();
    await expectL(payloadLines.getByText('"SKU-', { exact: false })).toBeHidden();

    await detail.getByRole('button', { name: 'Close details' }).click();
    await expectL(detail).toBeHidden();
  });

  test("a document link opens that document's history", async () => {
    await open();
    await signIn();
    const target = byDateDesc.find((e) => e.documents?.includes('ord-1001'));
    if (!target) throw new Error('fixture has no ord-1001 entry');
    await page.locator(`tr[data-id="${target._id}"]`).click();
    await page.getByRole('link', { name: 'History of orders ord-1001' }).click();
    await expectL(page.getByRole('heading', { name: 'History of orders / ord-1001' })).toBeVisible();
    const touching = byDateDesc.filter((e) => e.collectionName === 'orders' && e.documents?.includes('ord-1001'));
    expect(touching.length).toBeGreaterThan(2);
    await expectL(rows()).toHaveCount(touching.length);
    expect(await dates()).toEqual(touching.map((e) => e.date));
    await expectL(rows().locator('td.c-endpoint')).toHaveText(Array(touching.length).fill('/api/orders/ord-1001'));
    expect(apiRequests().at(-1)).toBe('/auditLog/history/orders/ord-1001');
    await expectL(page.getByRole('search')).toBeHidden();
    // Back to the list.
    await page.getByRole('link', { name: '← All entries' }).click();
    await expectL(rows()).toHaveCount(20);
  });

  test('XSS: hostile data renders as literal text, no dialog, no injected element', async () => {
    await open();
    await signIn();
    await expectL(rows()).toHaveCount(20);
    await page.getByLabel('Request ID', { exact: true }).fill('req-xss');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expectL(rows()).toHaveCount(1);
    const row = rows().first();
    await expectL(row.locator('td.c-user')).toHaveText(XSS_IMG);
    await expectL(row.locator('td.c-endpoint')).toHaveText(`/api/x/${XSS_IMG}`);
    await expectL(row.locator('td.c-action')).toHaveText(`create-${XSS_SCRIPT}`);
    await row.click();
    const detail = page.locator('#detail');
    await expectL(detail.getByText(JSON.stringify(XSS_SCRIPT))).toBeVisible();
    await expectL(detail.getByText('"<b>bold</b>"')).toBeVisible();
    // action, collection, response message, user agent
    await expectL(detail.locator('dd').filter({ hasText: XSS_SCRIPT })).toHaveCount(4);
    await expectL(detail.locator('dd').filter({ hasText: XSS_IMG })).toHaveCount(4); // endpoint, user, message, notes
    await expectL(detail.locator('dd').filter({ hasText: `${XSS_IMG} published` })).toHaveCount(1);
    await expectL(detail.getByRole('link', { name: `History of evil${XSS_SCRIPT} doc${XSS_IMG}` })).toBeVisible();

    // The hostile document id survives the round trip through the hash and the API path.
    await detail.getByRole('link', { name: `History of evil${XSS_SCRIPT} doc${XSS_IMG}` }).click();
    await expectL(rows()).toHaveCount(1);
    await expectL(page.getByRole('heading', { name: `History of evil${XSS_SCRIPT} / doc${XSS_IMG}` })).toBeVisible();

    const injected = await page.evaluate(
      '({ imgs: document.images.length, scripts: document.scripts.length, bold: document.querySelectorAll("b").length,' +
        ' handlers: document.querySelectorAll("[onerror],[onload],[onclick]").length })',
    );
    expect(injected).toEqual({ imgs: 0, scripts: 2, bold: 0, handlers: 0 });
    expect(dialogs).toEqual([]);
  });

  test('a hostile hash lands in the inputs as text', async () => {
    await page.goto(`${origin}/auditLog/ui#/?user=${encodeURIComponent(XSS_IMG)}&$term=${encodeURIComponent(XSS_SCRIPT)}`);
    await signIn();
    await expectL(page.getByLabel('User', { exact: true })).toHaveValue(XSS_IMG);
    await expectL(page.getByLabel('Text', { exact: true })).toHaveValue(XSS_SCRIPT);
    // The hostile entry is the one whose user and text these are.
    await expectL(rows()).toHaveCount(1);
    await expectL(rows().first().locator('td.c-user')).toHaveText(XSS_IMG);
    const last = apiRequests().at(-1) ?? '';
    const sent = new URL(last, origin).searchParams;
    expect([sent.get('user'), sent.get('$term')]).toEqual([XSS_IMG, XSS_SCRIPT]);
    expect(await page.evaluate('document.images.length')).toBe(0);
  });

  test('a rejected token (401) shows a clear message and asks again', async () => {
    await open();
    await signIn('expired');
    await expectL(page.getByRole('alert')).toContainText('Your token was rejected (401)');
    await expectL(page.getByLabel('Bearer token', { exact: true })).toBeVisible();
    await expectL(page.locator('#app-view')).toBeHidden();
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
    // A good token then works.
    await signIn('good');
    await expectL(rows()).toHaveCount(20);
    await expectL(page.getByRole('alert')).toBeHidden();
  });

  test('a token without the scope (403) shows a clear message', async () => {
    await open();
    await signIn('noscope');
    await expectL(page.getByRole('alert')).toContainText('Your token lacks the audit scope (403)');
    await expectL(page.getByRole('alert')).toContainText('Insufficient scope');
    await expectL(page.getByLabel('Bearer token', { exact: true })).toBeVisible();
  });

  test("a 400 shows the API's message", async () => {
    await open();
    await signIn();
    await expectL(rows()).toHaveCount(20);
    await page.getByLabel('From', { exact: true }).fill('last tuesday');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expectL(page.getByRole('alert')).toHaveText('The query was refused (400): Invalid "from": not a date or a duration: last tuesday');
    await expectL(rows()).toHaveCount(0);
    // Fixing the filter clears the message.
    await page.getByLabel('From', { exact: true }).fill('');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expectL(rows()).toHaveCount(20);
    await expectL(page.getByRole('alert')).toBeHidden();
  });

  test('"Forget token" clears sessionStorage and the data', async () => {
    await open();
    await signIn();
    await expectL(rows()).toHaveCount(20);
    await page.getByRole('button', { name: 'Forget token' }).click();
    await expectL(page.getByLabel('Bearer token', { exact: true })).toBeVisible();
    await expectL(page.getByLabel('Bearer token', { exact: true })).toBeFocused();
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
    await expectL(page.locator('#entries tbody tr')).toHaveCount(0);
    const before = apiRequests().length;
    await page.reload();
    await expectL(page.getByLabel('Bearer token', { exact: true })).toBeVisible();
    expect(apiRequests().length).toBe(before);
  });

  test('keyboard: Tab reaches a row, Enter opens its details, Escape returns to the row', async () => {
    await open();
    await signIn();
    await expectL(rows()).toHaveCount(20);
    let onRow = false;
    for (let i = 0; i < 60 && !onRow; i++) {
      await page.keyboard.press('Tab');
      onRow = (await page.evaluate('document.activeElement?.matches("#entries tbody tr.entry") === true')) === true;
    }
    expect(onRow).toBe(true);
    const id = await page.evaluate('document.activeElement.getAttribute("data-id")');
    expect(id).toBe(byDateDesc[0]?._id);
    // The focused row has a visible focus ring.
    const outline = await page.evaluate('getComputedStyle(document.activeElement).outlineStyle');
    expect(outline).not.toBe('none');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    const second = byDateDesc[1];
    await expectL(page.getByRole('heading', { name: `Entry ${second?._id}` })).toBeFocused();
    await expectL(page.locator('#detail')).toContainText(second?.endpoint ?? 'missing');
    await page.keyboard.press('Escape');
    await expectL(page.locator('#detail')).toBeHidden();
    await expectL(page.locator(`tr[data-id="${second?._id}"]`)).toBeFocused();
  });

  test('every input has a label and every button a name', async () => {
    await open();
    await signIn();
    await expectL(rows()).toHaveCount(20);
    const unnamed = await page.evaluate(
      '[...document.querySelectorAll("input, select, button")].filter((el) => !(el.labels?.length || el.textContent.trim() || el.getAttribute("aria-label"))).map((el) => el.outerHTML)',
    );
    expect(unnamed).toEqual([]);
  });

  test('a phone-sized viewport (390x844) has no horizontal overflow of the body', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await open();
    await signIn();
    await expectL(rows()).toHaveCount(20);
    const overflow = '[document.documentElement.scrollWidth, document.body.scrollWidth, window.innerWidth]';
    const [docWidth, bodyWidth, inner] = (await page.evaluate(overflow)) as number[];
    expect(docWidth).toBeLessThanOrEqual(inner ?? 0);
    expect(bodyWidth).toBeLessThanOrEqual(inner ?? 0);
    // The table scrolls inside its own box instead.
    const wrap = (await page.evaluate('(() => { const w = document.querySelector(".table-wrap"); return [w.scrollWidth, w.clientWidth]; })()')) as number[];
    expect(wrap[0]).toBeGreaterThan(wrap[1] ?? 0);
    // Details open without widening the page either, even with long hostile strings.
    await page.getByLabel('Request ID', { exact: true }).fill('req-xss');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expectL(rows()).toHaveCount(1);
    await rows().first().click();
    await expectL(page.locator('#detail')).toBeVisible();
    await expectL(page.locator('#detail').getByText(JSON.stringify(XSS_SCRIPT))).toBeVisible();
    const [docWidth2, , inner2] = (await page.evaluate(overflow)) as number[];
    expect(docWidth2).toBeLessThanOrEqual(inner2 ?? 0);
  });
});
