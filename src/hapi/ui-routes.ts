/**
 * The admin page on Hapi: the same four static files as the Express adapter's ui-router
 * (`src/ui/static`, framework-free), loaded without authentication on purpose (the page holds
 * no audit data; it asks for a token and calls the query routes, which check it).
 */
import type { ServerRoute } from '@hapi/hapi';
import { UI_SECURITY_HEADERS, uiAssets, type UiAsset } from '../ui/assets';
import { ownValidation, UNREAD } from './routes';

export { UI_SECURITY_HEADERS } from '../ui/assets';

type Asset = UiAsset;

/** What the page's files answer to, as on Express. */
const ALLOW = 'GET, HEAD, OPTIONS';

/** The page's routes under `root` (the realm prefix and basePath: the page's URLs carry both). */
export function uiRoutes(root: string, basePath: string): ServerRoute[] {
  const assets = uiAssets();
  const files: Array<[string, Asset]> = [['/ui', assets.page(root)], ...[...assets.files].map(([name, asset]): [string, Asset] => [`/ui${name}`, asset])];
  const secured = <R extends { header(name: string, value: string): R }>(response: R): R => {
    for (const [name, value] of Object.entries(UI_SECURITY_HEADERS)) response.header(name, value);
    return response;
  };
  const routes: ServerRoute[] = files.flatMap(([file, { type, body }]): ServerRoute[] => [
    {
      method: 'GET',
      path: `${basePath}${file}`,
      options: { auth: false, ...ownValidation('GET') },
      handler: (_request, h) => secured(h.response(body).type(type)),
    },
    // The page is read-only: OPTIONS says so, other methods get 405, with Allow, as on Express.
    {
      method: '*',
      path: `${basePath}${file}`,
      options: { auth: false, payload: UNREAD, ...ownValidation('*') },
      handler: (request, h) =>
        request.method === 'options'
          ? secured(h.response().code(204)).header('Allow', ALLOW)
          : secured(h.response(assets.notAllowed.body).type(assets.notAllowed.type).code(405)).header('Allow', ALLOW),
    },
  ]);
  // Anything else under /ui is answered here, so it never reaches the authenticated routes.
  routes.push({
    method: '*',
    path: `${basePath}/ui/{rest*}`,
    options: { auth: false, payload: UNREAD, ...ownValidation('*') },
    handler: (_request, h) => secured(h.response(assets.notFound.body).type(assets.notFound.type).code(404)),
  });
  return routes;
}
