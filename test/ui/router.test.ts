import fs from 'node:fs';
import path from 'node:path';
import express from 'express';
import request from 'supertest';
import { createUiRouter, escapeHtml, normalizeBasePath, UI_STATIC_DIR } from '../../src/express/ui-router';

const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

function appFor(basePath: string, mountAt = basePath): express.Express {
  const app = express();
  app.use(mountAt, createUiRouter({ basePath }));
  return app;
}

function expectSecurityHeaders(res: request.Response): void {
  expect(res.headers['content-security-policy']).toBe(CSP);
  expect(res.headers['x-content-type-options']).toBe('nosniff');
  expect(res.headers['cache-control']).toBe('no-store');
  expect(res.headers['referrer-policy']).toBe('no-referrer');
}

describe('createUiRouter', () => {
  const app = appFor('/auditLog');

  test.each([
    ['/auditLog/ui', 'text/html; charset=utf-8'],
    ['/auditLog/ui/', 'text/html; charset=utf-8'],
    ['/auditLog/ui/app.js', 'text/javascript; charset=utf-8'],
    ['/auditLog/ui/style.css', 'text/css; charset=utf-8'],
  ])('GET %s is served with %s and the security headers, without any auth', async (url, type) => {
    const res = await request(app).get(url);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe(type);
    expectSecurityHeaders(res);
    expect(res.text.length).toBeGreaterThan(100);
  });

  test('serves the files from disk unchanged (js, css)', async () => {
    const js = await request(app).get('/auditLog/ui/app.js');
    expect(js.text).toBe(fs.readFileSync(path.join(UI_STATIC_DIR, 'app.js'), 'utf8'));
    const css = await request(app).get('/auditLog/ui/style.css');
    expect(css.text).toBe(fs.readFileSync(path.join(UI_STATIC_DIR, 'style.css'), 'utf8'));
  });

  test('fills in the base path and the asset URLs', async () => {
    const res = await request(app).get('/auditLog/ui');
    expect(res.text).toContain('<meta name="audit-base-path" content="/auditLog">');
    expect(res.text).toContain('<script src="/auditLog/ui/app.js" defer></script>');
    expect(res.text).toContain('<link rel="stylesheet" href="/auditLog/ui/style.css">');
    expect(res.text).not.toContain('{{');
  });

  test('the HTML has no inline script, no inline style and no event-handler attributes', async () => {
    const { text } = await request(app).get('/auditLog/ui');
    const scripts = text.match(/<script\b[^>]*>/gi) ?? [];
    expect(scripts).toEqual(['<script src="/auditLog/ui/chart.js" defer>', '<script src="/auditLog/ui/app.js" defer>']);
    // Every <script> is empty: nothing between the opening and closing tag.
    expect(text).not.toMatch(/<script\b[^>]*>[^<]+<\/script>/i);
    expect(text).not.toMatch(/<style\b/i);
    expect(text).not.toMatch(/\sstyle\s*=/i);
    expect(text).not.toMatch(/\son[a-z]+\s*=/i);
    expect(text).not.toMatch(/javascript:/i);
  });

  test('the script never writes HTML from data', () => {
    const js = fs.readFileSync(path.join(UI_STATIC_DIR, 'app.js'), 'utf8');
    expect(js).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function/);
  });

  test('HEAD works and sends no body', async () => {
    const res = await request(app).head('/auditLog/ui/app.js');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expectSecurityHeaders(res);
  });

  test.each([
    '/auditLog/ui/index.html',
    '/auditLog/ui/router.ts',
    '/auditLog/ui/static/app.js',
    '/auditLog/ui/app.js.map',
    '/auditLog/ui/..%2frouter.ts',
    '/auditLog/ui/%2e%2e/%2e%2e/package.json',
    '/auditLog/ui/app.js/x',
  ])('GET %s is a 404 (with the security headers)', async (url) => {
    const res = await request(app).get(url);
    expect(res.status).toBe(404);
    expectSecurityHeaders(res);
    expect(res.body).toEqual({ statusCode: 404, error: 'Not Found', message: expect.any(String) });
    expect(res.text).not.toContain('createUiRouter');
  });

  test.each(['/auditLog/ui', '/auditLog/ui/', '/auditLog/ui/app.js', '/auditLog/ui/style.css'])(
    'OPTIONS %s: 204 with Allow and the security headers',
    async (url) => {
      const res = await request(app).options(url);
      expect(res.status).toBe(204);
      expect(res.headers.allow).toBe('GET, HEAD, OPTIONS');
      expectSecurityHeaders(res);
    },
  );

  test.each(['post', 'put', 'patch', 'delete'] as const)('%s on a page file: 405 with Allow and the security headers', async (method) => {
    for (const url of ['/auditLog/ui', '/auditLog/ui/app.js']) {
      const res = await request(app)[method](url);
      expect({ url, status: res.status, allow: res.headers.allow }).toEqual({ url, status: 405, allow: 'GET, HEAD, OPTIONS' });
      expectSecurityHeaders(res);
      expect(res.body).toEqual({ statusCode: 405, error: 'Method Not Allowed', message: expect.any(String) });
    }
  });

  test('OPTIONS and other methods on a missing file: 404 with the security headers', async () => {
    for (const method of ['options', 'post', 'delete'] as const) {
      const res = await request(app)[method]('/auditLog/ui/missing.js');
      expect(res.status).toBe(404);
      expectSecurityHeaders(res);
    }
  });

  test('paths outside /ui are left to the next handler', async () => {
    const outer = express();
    outer.use('/auditLog', createUiRouter({ basePath: '/auditLog' }));
    outer.get('/auditLog/:id', (req, res) => {
      res.json({ id: req.params.id });
    });
    expect((await request(outer).get('/auditLog/abc')).body).toEqual({ id: 'abc' });
    expect((await request(outer).get('/auditLog/ui')).headers['content-type']).toBe('text/html; charset=utf-8');
    expect((await request(outer).post('/auditLog/ui/app.js')).status).toBe(405);
    // Case-sensitive, like the query router: `/UI` is not the page (here it falls to `/:id`).
    expect((await request(outer).get('/auditLog/UI')).body).toEqual({ id: 'UI' });
  });

  test('HTML-escapes a hostile basePath in the meta tag and the asset URLs', async () => {
    const hostile = `/x"><script>alert(1)</script><img src=x onerror=alert(1)>'$&$'`;
    const res = await request(appFor(hostile, '/mounted')).get('/mounted/ui');
    expect(res.status).toBe(200);
    const escaped = escapeHtml(hostile);
    expect(escaped).toBe('/x&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;&#39;$&amp;$&#39;');
    expect(res.text).toContain(`<meta name="audit-base-path" content="${escaped}">`);
    expect(res.text).toContain(`<script src="${escaped}/ui/app.js" defer></script>`);
    expect(res.text).not.toContain('<script>alert(1)');
    expect(res.text).not.toContain('<img');
    expect(res.text.match(/<script\b/gi)).toHaveLength(2);
  });

  test('a basePath cannot make the asset URLs protocol-relative', async () => {
    const res = await request(appFor('//evil.example/', '/m')).get('/m/ui');
    expect(res.text).toContain('<meta name="audit-base-path" content="/evil.example">');
    expect(res.text).toContain('<script src="/evil.example/ui/app.js" defer></script>');
    expect(res.text).not.toContain('"//');
  });

  test('a root basePath', async () => {
    const res = await request(appFor('/', '/')).get('/ui');
    expect(res.text).toContain('<meta name="audit-base-path" content="/">');
    expect(res.text).toContain('<script src="/ui/app.js" defer></script>');
  });

  test('normalizeBasePath', () => {
    expect(normalizeBasePath('/auditLog')).toBe('/auditLog');
    expect(normalizeBasePath('/auditLog/')).toBe('/auditLog');
    expect(normalizeBasePath('auditLog')).toBe('/auditLog');
    expect(normalizeBasePath('/')).toBe('');
    expect(normalizeBasePath('')).toBe('');
    expect(normalizeBasePath('///a/b//')).toBe('/a/b');
  });

  test('the static files stay small (each < 30 KB, < 40 KB together)', () => {
    const sizes = fs.readdirSync(UI_STATIC_DIR).map((f) => fs.statSync(path.join(UI_STATIC_DIR, f)).size);
    expect(sizes).toHaveLength(4);
    for (const size of sizes) expect(size).toBeLessThan(30 * 1024);
    expect(sizes.reduce((a, b) => a + b, 0)).toBeLessThan(40 * 1024);
  });
});

test("mounted by auditLog(): OPTIONS and a POST on the page carry the CSP, not only the query routes' headers", async () => {
  const { auditLog, memoryStore } = await import('express-audit-log');
  const audit = auditLog({ store: memoryStore() });
  const app = express().use(audit);
  const options = await request(app).options('/auditLog/ui');
  expect(options.status).toBe(204);
  expectSecurityHeaders(options);
  const post = await request(app).post('/auditLog/ui').send({});
  expect(post.status).toBe(405);
  expectSecurityHeaders(post);
  await audit.close();
});

test('under an app prefix (app.use("/api", audit)) the page points at the prefixed routes', async () => {
  const { auditLog, memoryStore } = await import('express-audit-log');
  const audit = auditLog({ store: memoryStore() });
  const app = express().use('/api', audit);
  const res = await request(app).get('/api/auditLog/ui').expect(200);
  expect(res.text).toContain('<meta name="audit-base-path" content="/api/auditLog">');
  expect(res.text).toContain('<script src="/api/auditLog/ui/app.js" defer></script>');
  await audit.close();
});
