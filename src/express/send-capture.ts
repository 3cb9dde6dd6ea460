/**
 * Sees the response body through `res.send`, patched once where the response's prototype
 * chain defines it (Express's shared response object, which every app and sub-app inherits;
 * `res.json`, `res.jsonp` and `res.sendStatus` end there too). The patch is transparent: the
 * property keeps its descriptor (enumerability included), every argument reaches the original,
 * and a response that is not being recorded costs one WeakMap lookup.
 */
import type { Response } from 'express';
import { RECORDINGS } from './recordings';
import { hasAnyKey } from './route-capture';

const PATCHED = Symbol.for('express-audit-log.send-patched');

type Send = ((this: Response, ...args: unknown[]) => Response) & { [PATCHED]?: true };

function observe(res: Response, body: unknown): void {
  const rec = RECORDINGS.get(res);
  if (!rec) return;
  if (typeof body === 'string' || Buffer.isBuffer(body)) rec.body = body;
  // Params are normally noted when the route dispatches (route-capture.ts); this covers a
  // response sent from a param callback or a route-less handler that still has params.
  if (rec.params === null && hasAnyKey(res.req?.params)) rec.params = res.req.params;
}

export function isSendPatched(res: Response): boolean {
  return (res.send as Send)[PATCHED] === true;
}

/** Patches `send` where the response's prototype chain defines it, once per defining object. */
export function patchSend(res: Response): void {
  let owner: object | null = Object.getPrototypeOf(res) as object | null;
  while (owner && !Object.prototype.hasOwnProperty.call(owner, 'send')) owner = Object.getPrototypeOf(owner) as object | null;
  if (!owner) return;
  const descriptor = Object.getOwnPropertyDescriptor(owner, 'send');
  const original = descriptor?.value as Send | undefined;
  if (!descriptor || typeof original !== 'function' || original[PATCHED] || !descriptor.configurable) return;
  const patched = function send(this: Response, ...args: unknown[]): Response {
    try {
      // Express 4 still takes the deprecated res.send(status, body): the body is then the second argument.
      observe(this, typeof args[0] === 'number' && args.length > 1 ? args[1] : args[0]);
    } catch {
      // the body is only for the audit entry: the response goes out regardless
    }
    return original.apply(this, args);
  } as Send;
  patched[PATCHED] = true;
  Object.defineProperty(owner, 'send', { ...descriptor, value: patched });
}
