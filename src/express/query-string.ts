/**
 * The query routes' parameters, read from the URL with Node's querystring (Express 5's default
 * 'simple' parser) whatever the app's `query parser` setting. Express 4 defaults to qs, which
 * turns `user[$ne]=x` into `{ user: { $ne: 'x' } }` and `a[0]=x` into arrays; any app can opt
 * into it. Reading the URL ourselves keeps every parameter, its meaning and the name a 400
 * gives the same on Express 4 and 5, with either parser.
 */
import { parse } from 'querystring';
import type { Request } from 'express';

export function queryParameters(req: Request): Record<string, unknown> {
  const url = req.url ?? '';
  const at = url.indexOf('?');
  return at === -1 ? {} : parse(url.slice(at + 1));
}
