/**
 * The admin page's files with no web framework: read once from `ui/static/`, the page's
 * template filled in with where the routes are, and the headers every answer under `/ui`
 * carries. Each adapter serves them (express/ui-router.ts, fastify/ui-routes.ts, hapi/ui-routes.ts).
 */
import fs from 'fs';
import path from 'path';

export const UI_STATIC_DIR = path.join(__dirname, 'static');

/** Sent with every response under `/ui`: the files, OPTIONS, 404s and 405s. */
export const UI_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-store',
  'Referrer-Policy': 'no-referrer',
};

const HTML_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

/** `/auditLog/` → `/auditLog`, `/` → `` (the root); leading slashes collapsed so URLs never become protocol-relative. */
export function normalizeBasePath(basePath: string): string {
  const trimmed = basePath.trim().replace(/\/+$/, '').replace(/^\/+/, '');
  return trimmed === '' ? '' : `/${trimmed}`;
}

export interface UiAsset {
  type: string;
  body: Buffer;
}

export interface UiAssets {
  /** The page for routes served at `root` (the full path of basePath, prefixes included). */
  page(root: string): UiAsset;
  /** The other files, by their path below `/ui`. */
  files: ReadonlyMap<string, UiAsset>;
  notFound: UiAsset;
  notAllowed: UiAsset;
}

export function uiAssets(): UiAssets {
  const read = (name: string): string => fs.readFileSync(path.join(UI_STATIC_DIR, name), 'utf8');
  const template = read('index.html');
  const pages = new Map<string, UiAsset>();
  const json = (body: object): UiAsset => ({ type: 'application/json; charset=utf-8', body: Buffer.from(JSON.stringify(body)) });
  const script = (name: string): UiAsset => ({ type: 'text/javascript; charset=utf-8', body: Buffer.from(read(name), 'utf8') });
  return {
    page(root) {
      let asset = pages.get(root);
      if (!asset) {
        // Replacement functions, not strings: a `$&` or `$'` in basePath must stay literal.
        const html = template
          .replace(/\{\{AUDIT_BASE_PATH\}\}/g, () => escapeHtml(root === '' ? '/' : root))
          .replace(/\{\{AUDIT_UI_PATH\}\}/g, () => escapeHtml(`${root}/ui`));
        asset = { type: 'text/html; charset=utf-8', body: Buffer.from(html, 'utf8') };
        if (pages.size < 16) pages.set(root, asset);
      }
      return asset;
    },
    files: new Map([
      ['/app.js', script('app.js')],
      ['/chart.js', script('chart.js')],
      ['/style.css', { type: 'text/css; charset=utf-8', body: Buffer.from(read('style.css'), 'utf8') }],
    ]),
    notFound: json({ statusCode: 404, error: 'Not Found', message: 'No such file in the admin page' }),
    notAllowed: json({ statusCode: 405, error: 'Method Not Allowed', message: 'The admin page is read-only: use GET or HEAD.' }),
  };
}
