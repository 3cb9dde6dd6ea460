/**
 * The admin page under `{basePath}/ui`, for Fastify (the files: ui/assets.ts). Loaded without
 * authentication, on purpose: it holds no audit data; it asks for a token and calls the query
 * routes, which check it. Registered before `{basePath}/:id`, or `/ui` would be taken for an id.
 */
import type { FastifyInstance, FastifyReply, RouteShorthandOptions } from 'fastify';
import { normalizeBasePath, UI_SECURITY_HEADERS, uiAssets, type UiAsset } from '../ui/assets';

const ALLOW = 'GET, HEAD, OPTIONS';
const READ_ONLY_REFUSED = ['DELETE', 'PATCH', 'POST', 'PUT'];

function send(reply: FastifyReply, asset: UiAsset, status = 200): FastifyReply {
  return reply.code(status).headers(UI_SECURITY_HEADERS).type(asset.type).send(asset.body);
}

export function registerUiRoutes(app: FastifyInstance, basePath: string, options: RouteShorthandOptions): void {
  const assets = uiAssets();
  const base = normalizeBasePath(basePath);
  // The page's URLs carry the prefix the routes were registered under (register(plugin, { prefix })).
  const root = normalizeBasePath(`${app.prefix}${base}`);
  const files = new Map<string, UiAsset>([['/ui', assets.page(root)], ...[...assets.files].map(([name, asset]) => [`/ui${name}`, asset] as [string, UiAsset])]);
  for (const [name, asset] of files) {
    app.get(`${base}${name}`, options, async (_request, reply) => send(reply, asset));
    app.options(`${base}${name}`, options, async (_request, reply) => reply.code(204).headers(UI_SECURITY_HEADERS).header('Allow', ALLOW).send());
    app.route({
      ...options,
      method: READ_ONLY_REFUSED,
      url: `${base}${name}`,
      handler: async (_request, reply) => send(reply.header('Allow', ALLOW), assets.notAllowed, 405),
    });
  }
  app.all(`${base}/ui/*`, options, async (_request, reply) => send(reply, assets.notFound, 404));
}
