/**
 * The admin page on Hapi: the same four static files as the Express adapter's ui-router
 * (`src/ui/static`, framework-free), loaded without authentication on purpose (the page holds
 * no audit data; it asks for a token and calls the query routes, which check it).
 */
import fs from 'fs';
import path from 'path';
import type { ServerRoute } from '@hapi/hapi';

const UI_STATIC_DIR = path.join(__dirname, '..', 'ui', 'static');

/** The Express adapter's headers for the page: a strict CSP, no caching, no referrer. */
export const UI_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-store',
  'Referrer-Policy': 'no-referrer',
};

const HTML_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

interface Asset {
  type: string;
  body: Buffer;
}

/** The page's routes under `root` (the realm prefix and basePath: the page's URLs carry both). */
export function uiRoutes(root: string, basePath: string): ServerRoute[] {
  const read = (name: string): string => fs.readFileSync(path.join(UI_STATIC_DIR, name), 'utf8');
  const page: Asset = {
    type: 'text/html; charset=utf-8',
    body: Buffer.from(
      read('index.html')
        // Replacement functions, not strings: a `$&` in basePath must stay literal.
        .replace(/\{\{AUDIT_BASE_PATH\}\}/g, () => escapeHtml(root === '' ? '/' : root))
        .replace(/\{\{AUDIT_UI_PATH\}\}/g, () => escapeHtml(`${root}/ui`)),
      'utf8',
    ),
  };
  const asset = (name: string, type: string): Asset => ({ type, body: Buffer.from(read(name), 'utf8') });
  const files: Array<[string, Asset]> = [
    ['/ui', page],
    ['/ui/app.js', asset('app.js', 'text/javascript; charset=utf-8')],
    ['/ui/chart.js', asset('chart.js', 'text/javascript; charset=utf-8')],
    ['/ui/style.css', asset('style.css', 'text/css; charset=utf-8')],
  ];
  const routes: ServerRoute[] = files.map(([file, { type, body }]) => ({
    method: 'GET',
    path: `${basePath}${file}`,
    options: { auth: false },
    handler: (_request, h) => {
      const response = h.response(body).type(type);
      for (const [name, value] of Object.entries(UI_SECURITY_HEADERS)) response.header(name, value);
      return response;
    },
  }));
  // Anything else under /ui is answered here, so it never reaches the authenticated routes.
  routes.push({
    method: '*',
    path: `${basePath}/ui/{rest*}`,
    options: { auth: false },
    handler: (_request, h) => {
      const response = h.response({ statusCode: 404, error: 'Not Found', message: 'No such file in the admin page' }).code(404);
      for (const [name, value] of Object.entries(UI_SECURITY_HEADERS)) response.header(name, value);
      return response;
    },
  });
  return routes;
}
