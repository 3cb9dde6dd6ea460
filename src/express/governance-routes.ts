/**
 * The data-governance routes, translated to and from src/governance (which holds their logic):
 * `GET {basePath}/retention` (the rules in force, with what they govern), and the legal holds,
 * `POST/GET {basePath}/holds` and `DELETE {basePath}/holds/:id`, behind `holdScope` on top of
 * `scope` (no holdScope: 403). Placing and releasing a hold are recorded entries.
 */
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { EventFields } from '../events/record';
import type { Governance } from '../governance/holds';
import { retentionReport } from '../governance/retention-report';
import type { Config } from '../options';
import { isObjectIdString } from '../query/coerce';
import { describeRule, scopeAllows, scopesOf } from '../query/scope';
import type { AuditStore } from '../stores/types';
import { authOf, userOf } from './request-user';

export interface GovernanceRouteContext {
  config: Config;
  store: AuditStore;
  governance: Governance;
  flushPending(): Promise<void>;
  recordGovernance(req: Request, fields: EventFields): void;
}

type Handler = (req: Request, res: Response, next: NextFunction) => void;

export interface RouteHelpers {
  /** 401/403 by `scope`, open with publicRoutes. */
  authorize: Handler;
  /** 401/403 by `scope`, whatever publicRoutes says. */
  checkAuth: Handler;
  run(handler: (req: Request, res: Response) => Promise<void>): Handler;
  sendError(res: Response, statusCode: number, message: string, extra?: Record<string, unknown>): void;
  /**
   * With tenants (`getTenant`): only callers reading across tenants (`tenantScope`) pass. The
   * retention report counts every tenant's entries and a hold covers them: neither is one tenant's.
   */
  acrossTenants: Handler;
}

/** Registers the routes on the query router; call it before the `${base}/:id` route. */
export function mountGovernanceRoutes(router: Router, ctx: GovernanceRouteContext, helpers: RouteHelpers): void {
  const { config, governance } = ctx;
  const { authorize, checkAuth, run, sendError, acrossTenants } = helpers;
  const base = config.basePath;

  router.get(
    `${base}/retention`,
    authorize,
    acrossTenants,
    run(async (_req, res) => {
      await ctx.flushPending();
      res.json(await retentionReport(ctx.store, config.retention, config.ttlSeconds));
    }),
  );

  /** Holds stop deletion: never public, and `holdScope` on top of `scope`. */
  function authorizeHolds(req: Request, res: Response, next: NextFunction): void {
    checkAuth(req, res, () => {
      const rule = config.holdScope;
      if (!rule) return sendError(res, 403, 'Legal holds are turned off: set the holdScope option (the scope a caller needs to place and release holds).');
      const auth = authOf(req, config);
      if (!auth || !scopeAllows(rule, scopesOf(auth.scopes))) return sendError(res, 403, `Insufficient scope: legal holds need ${describeRule(rule)}.`);
      if (!governance.holdStore) return sendError(res, 501, 'This store does not implement legal holds.');
      acrossTenants(req, res, next);
    });
  }

  router.post(
    `${base}/holds`,
    authorizeHolds,
    express.json({ limit: '64kb' }),
    run(async (req, res) => {
      if (!req.is('application/json')) return sendError(res, 415, 'Send the hold as JSON with Content-Type: application/json.');
      const body = (req.body ?? {}) as { filter?: unknown; reason?: unknown };
      const { hold, held } = await governance.place({ filter: body.filter, reason: body.reason }, userOf(req, config));
      ctx.recordGovernance(req, {
        action: 'PlaceHold',
        collectionName: 'auditLog',
        documents: [hold._id],
        payload: { filter: hold.filter, reason: hold.reason },
        result: { held },
      });
      res.status(201).json({ ...hold, active: true, held });
    }),
  );

  router.get(
    `${base}/holds`,
    authorizeHolds,
    run(async (_req, res) => {
      const holds = await governance.list();
      res.json(holds.map((hold) => ({ ...hold, active: hold.releasedAt === null })));
    }),
  );

  router.delete(
    `${base}/holds/:id`,
    authorizeHolds,
    run(async (req, res) => {
      const id = (req.params as { id: string }).id;
      if (!isObjectIdString(id)) return sendError(res, 404, 'No hold was found with that id.');
      const outcome = await governance.release(id.toLowerCase(), userOf(req, config));
      if (!outcome) return sendError(res, 404, 'No hold was found with that id.');
      if (outcome.changed) {
        ctx.recordGovernance(req, {
          action: 'ReleaseHold',
          collectionName: 'auditLog',
          documents: [outcome.hold._id],
          payload: { reason: outcome.hold.reason },
          result: { released: outcome.released },
        });
      }
      res.json({ ...outcome.hold, active: false, released: outcome.released });
    }),
  );
}
