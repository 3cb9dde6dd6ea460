/** Small helpers for the event suites: read what a store holds, capture warnings. */
import express from 'express';
import { expressjwt } from 'express-jwt';
import type { AuditEntry, AuditLogMiddleware, AuditStore } from 'express-audit-log';
import { SECRET } from '../support/app';
import { settle } from '../support/wait';

export async function all(store: AuditStore): Promise<AuditEntry[]> {
  return (await store.find({ filter: {}, sort: [['date', 1]], skip: 0, limit: 1000, select: null })).docs as AuditEntry[];
}

/** Waits for `count` entries in all to be written, then returns everything stored. */
export async function stored(audit: AuditLogMiddleware, count: number): Promise<AuditEntry[]> {
  await settle(audit, count);
  return all(audit.store!);
}

/** Collects the warnings the package emits while `fn` runs (a spy: Jest's sandbox hides the real process events). */
export async function warningsDuring(fn: () => unknown | Promise<unknown>): Promise<Array<{ message: string; code?: string }>> {
  const spy = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
  try {
    await fn();
    return spy.mock.calls.map(([warning, options]) => ({
      message: String(warning),
      code: typeof options === 'object' && options !== null ? (options as { code?: string }).code : undefined,
    }));
  } finally {
    spy.mockRestore();
  }
}

/** An app like the README's: body parser, express-jwt, the audit middleware, then the app's routes. */
export function appWith(audit: AuditLogMiddleware, routes: (app: express.Express) => void): express.Express {
  const app = express();
  app.use(express.json());
  app.use(expressjwt({ secret: SECRET, algorithms: ['HS256'], credentialsRequired: false }));
  app.use(audit);
  routes(app);
  return app;
}

/** What `call` throws (undefined when it returns), so a test can assert on the error's fields. */
export function thrownBy(call: () => unknown): unknown {
  try {
    call();
  } catch (error) {
    return error;
  }
  return undefined;
}
