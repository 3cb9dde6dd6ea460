/**
 * The admin page on Hapi: the same four static files as the Express adapter's ui-router
 * (`src/ui/static`, framework-free), loaded without authentication on purpose (the page holds
 * no audit data; it asks for a token and calls the query routes, which check it).
 */
import type { ServerRoute } from '@hapi/hapi';
import { UI_SECURITY_HEADERS, uiAssets, type UiAsset } from '../ui/assets';

export { UI_SECURITY_HEADERS } from '../ui/assets';

type Asset = UiAsset;

/** The page's routes under `root` (the realm prefix and basePath: the page's URLs carry both). */
export function uiRoutes(root: string, basePath: string): ServerRoute[] {
  const assets = uiAssets();
  const files: Array<[string, Asset]> = [['/ui', assets.page(root)], ...[...assets.files].map(([name, asset]): [string, Asset] => [`/ui${name}`, asset])];
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
