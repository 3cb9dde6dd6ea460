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
import { Router, type Response } from 'express';
import { normalizeBasePath, UI_SECURITY_HEADERS, uiAssets, type UiAsset } from '../ui/assets';

export { escapeHtml, normalizeBasePath, UI_SECURITY_HEADERS, UI_STATIC_DIR } from '../ui/assets';

export interface UiRouterOptions {
  /** Where the audit routes are mounted, e.g. `/auditLog`. Written into the page's meta tag. */
  basePath: string;
}

type Asset = UiAsset;

function send(res: Response, asset: Asset, status = 200): void {
  res.status(status).set(UI_SECURITY_HEADERS).set('Content-Type', asset.type).send(asset.body);
}

export function createUiRouter(opts: UiRouterOptions): Router {
  const base = normalizeBasePath(opts.basePath);
  const assets = uiAssets();
  // The app may mount the middleware under a prefix (app.use('/api', audit)): then req.baseUrl is
  // that prefix plus basePath, and the page's URLs must carry the prefix too (assets memoise per root).
  const page = (baseUrl: string): Asset => assets.page(base !== '' && baseUrl.endsWith(base) ? normalizeBasePath(baseUrl) : base);
  const script = assets.files.get('/app.js')!;
  const chart = assets.files.get('/chart.js')!;
  const style = assets.files.get('/style.css')!;
  const { notFound, notAllowed } = assets;
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
