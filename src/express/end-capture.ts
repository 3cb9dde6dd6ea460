/**
 * `durability: 'journal'` builds and journals a request's entry inside `res.end()`, before the
 * response's last bytes are handed to the socket: a client that got its whole answer had its
 * entry on disk first. `end` is wrapped once, on the object of the prototype chain that defines
 * Express's `send` (Express's own response object, which every app inherits; Node's
 * ServerResponse and http client requests are left alone), so a response that is not being
 * recorded in journal mode costs one WeakMap lookup, and apps without journal mode pay nothing.
 */
import type { Response } from 'express';
import { RECORDINGS } from './recordings';

const PATCHED = Symbol.for('express-audit-log.end-patched');

type End = ((this: Response, ...args: unknown[]) => Response) & { [PATCHED]?: true };

export function isEndPatched(res: Response): boolean {
  return (res.end as End)[PATCHED] === true;
}

/** Wraps `end` on the object that defines `send`, once. */
export function patchEnd(res: Response): void {
  let owner: object | null = Object.getPrototypeOf(res) as object | null;
  while (owner && !Object.prototype.hasOwnProperty.call(owner, 'send')) owner = Object.getPrototypeOf(owner) as object | null;
  if (!owner) return;
  const original = (owner as { end?: End }).end;
  if (typeof original !== 'function' || original[PATCHED]) return;
  const own = Object.getOwnPropertyDescriptor(owner, 'end');
  if (own && !own.configurable) return;
  const patched = function end(this: Response, ...args: unknown[]): Response {
    try {
      const rec = RECORDINGS.get(this);
      if (rec?.onEnd) rec.onEnd(this, rec);
    } catch {
      // the entry is for the audit log: the response goes out regardless
    }
    return original.apply(this, args);
  } as End;
  patched[PATCHED] = true;
  Object.defineProperty(owner, 'end', { value: patched, writable: true, configurable: true, enumerable: own?.enumerable ?? false });
}
