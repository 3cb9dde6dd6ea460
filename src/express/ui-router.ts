/**
 * The admin page: four static files (index.html, app.js, chart.js, style.css) served by a small router
 * that the audit router mounts at `basePath`, so the paths here are relative (`/ui`, ...).
 *
 * The page is loaded WITHOUT authentication, on purpose: it is public chrome that holds no audit
 * data. It asks the person for a bearer token (kept in the tab's sessionStorage only) and calls
 * the query routes, which enforce the token and its scope. Mount this router before the
 * authentication middleware and before the `/:id` route, or `GET /ui` would be taken for an id.
 *
 * The files are read once, when the router is created, from `ui/static/` (framework-free, beside
 * this adapter's folder): `src/ui/static` under ts-jest, `dist/ui/static` once the build has copied it.
 */
import fs from 'fs';
import path from 'path';
import { Router, type Response } from 'express';

export interface UiRouterOptions {
  /** Where the audit routes are mounted, e.g. `/auditLog`. Written into the page's meta tag. */
  basePath: string;
}

export const UI_STATIC_DIR = path.join(__dirname, '..', 'ui', 'static');

/** Sent with every response under `/ui`: the files, OPTIONS, 404s and 405s. */
export const UI_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-store',
  'Referrer-Policy': 'no-referrer',
};

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for an HTML attribute value or element content. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

/**
 * `/auditLog/` → `/auditLog`, `auditLog` → `/auditLog`, `/` → `` (the root). Leading slashes are
 * collapsed so the asset URLs can never become protocol-relative (`//host/...`).
 */
export function normalizeBasePath(basePath: string): string {
  const trimmed = basePath.trim().replace(/\/+$/, '').replace(/^\/+/, '');
  return trimmed === '' ? '' : `/${trimmed}`;
}

interface Asset {
  type: string;
  body: Buffer;
}

function send(res: Response, asset: Asset, status = 200): void {
  res.status(status).set(UI_SECURITY_HEADERS).set('Content-Type', asset.type).send(asset.body);
}

export function createUiRouter(opts: UiRouterOptions): Router {
  const base = normalizeBasePath(opts.basePath);
  const read = (name: string): string => fs.readFileSync(path.join(UI_STATIC_DIR, name), 'utf8');

  const template = read('index.html');
  // Replacement functions, not strings: a `$&` or `$'` in basePath must stay literal.
  const pageFor = (root: string): Asset => ({
    type: 'text/html; charset=utf-8',
    body: Buffer.from(
      template
        .replace(/\{\{AUDIT_BASE_PATH\}\}/g, () => escapeHtml(root === '' ? '/' : root))
        .replace(/\{\{AUDIT_UI_PATH\}\}/g, () => escapeHtml(`${root}/ui`)),
      'utf8',
    ),
  });
  // The app may mount the middleware under a prefix (app.use('/api', audit)): then req.baseUrl is
  // that prefix plus basePath, and the page's URLs must carry the prefix too. Memoised per prefix.
  const pages = new Map<string, Asset>();
  const page = (baseUrl: string): Asset => {
    const root = base !== '' && baseUrl.endsWith(base) ? normalizeBasePath(baseUrl) : base;
    let asset = pages.get(root);
    if (!asset) {
      asset = pageFor(root);
      if (pages.size < 16) pages.set(root, asset);
    }
    return asset;
  };
  const script: Asset = { type: 'text/javascript; charset=utf-8', body: Buffer.from(read('app.js'), 'utf8') };
  const chart: Asset = { type: 'text/javascript; charset=utf-8', body: Buffer.from(read('chart.js'), 'utf8') };
  const style: Asset = { type: 'text/css; charset=utf-8', body: Buffer.from(read('style.css'), 'utf8') };
  const json = (body: object): Asset => ({ type: 'application/json; charset=utf-8', body: Buffer.from(JSON.stringify(body)) });
  const notFound = json({ statusCode: 404, error: 'Not Found', message: 'No such file in the admin page' });
  const notAllowed = json({ statusCode: 405, error: 'Method Not Allowed', message: 'The admin page is read-only: use GET or HEAD.' });
  const FILES = ['/ui', '/ui/app.js', '/ui/chart.js', '/ui/style.css'];
  const ALLOW = 'GET, HEAD, OPTIONS';

  // Case-sensitive like the query router; non-strict, so `/ui` also answers `/ui/`.
  const router = Router({ caseSensitive: true, strict: false });
  // First, so that no answer under /ui goes out without them, whichever handler (or Express itself) sends it.
  router.use('/ui', (_req, res, next) => {
    res.set(UI_SECURITY_HEADERS);
    next();
  });
  router.get('/ui', (req, res) => send(res, page(req.baseUrl)));
  router.get('/ui/app.js', (_req, res) => send(res, script));
  router.get('/ui/chart.js', (_req, res) => send(res, chart));
  router.get('/ui/style.css', (_req, res) => send(res, style));
  router.options(FILES, (_req, res) => {
    res.status(204).set('Allow', ALLOW).end();
  });
  router.all(FILES, (_req, res) => {
    res.set('Allow', ALLOW);
    send(res, notAllowed, 405);
  });
  // Anything else under /ui is answered here, so it never reaches the authenticated routes. A
  // RegExp, not '/ui/*rest': Express 4 reads '*rest' as "anything, then the letters rest".
  router.all(/^\/ui\/./, (_req, res) => send(res, notFound, 404));
  return router;
}
