/**
 * The data-governance routes for Express, translated to and from the framework-free service
 * (query/service.ts, over src/governance): `GET {basePath}/retention` (the rules in force, with
 * what they govern), and the legal holds, `POST/GET {basePath}/holds` and `DELETE {basePath}/holds/:id`,
 * behind `holdScope` on top of `scope` (no holdScope: 403). Placing and releasing a hold are recorded entries.
 */
import express, { type NextFunction, type Request, type Response, type RequestHandler, type Router } from 'express';
import type { Config } from '../options';
import { BODY_LIMITS, errorAnswer, type Gate, type QueryAnswer, type QueryCaller, type QueryService } from '../query/service';

export interface GovernanceRouteContext {
  config: Config;
}

export interface RouteHelpers {
  service: QueryService;
  callerOf(req: Request): QueryCaller;
  /** A service gate as Express middleware. */
  gate(check: (caller: QueryCaller) => Gate): (req: Request, res: Response, next: NextFunction) => void;
  /** A route whose whole answer comes from the service. */
  answer(handler: (req: Request) => Promise<QueryAnswer> | QueryAnswer): RequestHandler;
}

/** Registers the routes on the query router; call it before the `${base}/:id` route. */
export function mountGovernanceRoutes(router: Router, ctx: GovernanceRouteContext, helpers: RouteHelpers): void {
  const { service, callerOf, gate, answer } = helpers;
  const base = ctx.config.basePath;

  router.get(
    `${base}/retention`,
    gate(service.authorize),
    gate(service.acrossTenants),
    answer(() => service.retention()),
  );

  // Holds stop deletion: never public, and `holdScope` on top of `scope`.
  const authorizeHolds = gate(service.authorizeHolds);
  router.post(
    `${base}/holds`,
    authorizeHolds,
    express.json({ limit: BODY_LIMITS.holds }),
    answer((req) => {
      if (!req.is('application/json')) return errorAnswer(415, 'Send the hold as JSON with Content-Type: application/json.');
      return service.placeHold(callerOf(req), req.body);
    }),
  );
  router.get(
    `${base}/holds`,
    authorizeHolds,
    answer(() => service.listHolds()),
  );
  router.delete(
    `${base}/holds/:id`,
    authorizeHolds,
    answer((req) => service.releaseHold(callerOf(req), (req.params as { id: string }).id)),
  );
}
