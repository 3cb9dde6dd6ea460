/**
 * `auditLogHapi`, the Hapi 21 adapter: the framework-free core (options, store, writer, events:
 * src/core/) plus the recorder (recorder.ts) and the query routes and admin page as Hapi routes.
 *
 *   await server.register({ plugin: auditLogHapi, options: { ttl: '1d', scope: ['admin'] } });
 *
 * The handle (`record()`, `audited()`, `flush()`, `close()`, `stats()`, `annotate()`, events) is
 * `server.plugins['express-audit-log']`; the store is closed when the server stops.
 */
import type { Plugin, Request, RouteOptions, Server } from '@hapi/hapi';
import { annotate as annotateRequest } from '../capture/annotate';
import { createAuditCore } from '../core/audit-core';
import { SHUTDOWN_SETTLE_MS } from '../core/in-flight';
import type { AuditHandleMembers } from '../core/handle';
import type { ErasureRequest, ErasureResult } from '../encryption/erasure';
import type { AuditLogStoreError } from '../errors';
import { SINK, type EventSink } from '../events/context';
import { eventMethods } from '../events/handle';
import type { AuditAnnotation, AuditCoreOptions } from '../options';
import { installRecorder } from './recorder';
import { contextOfRequest, recordedContext } from './request-context';
import { queryRoutes } from './routes';
import { uiRoutes } from './ui-routes';

export const PLUGIN_NAME = 'express-audit-log';

/** The options: the package's own (callbacks get Hapi's `request`), and which auth strategies authenticate the query routes. */
export type AuditLogHapiOptions = AuditCoreOptions<Request> & {
  /**
   * The strategies that authenticate the query routes (in mode 'try': the routes answer 401 and
   * 403 themselves). Defaults to the server's default strategies when it has them, else none
   * (then only `getAuth` can authenticate a caller).
   */
  strategies?: string[];
};

export interface AuditLogHapiHandle extends AuditHandleMembers<Request> {}

declare module '@hapi/hapi' {
  interface PluginProperties {
    'express-audit-log': AuditLogHapiHandle;
  }
}

function routeAuth(server: Server, strategies: string[] | undefined): RouteOptions['auth'] {
  const chosen = strategies ?? (server.auth.settings.default as { strategies?: string[] } | undefined)?.strategies;
  if (!chosen || chosen.length === 0) return false;
  return { mode: 'try', strategies: chosen, access: { scope: false, entity: 'any' } } as RouteOptions['auth'];
}

function register(server: Server, options: AuditLogHapiOptions | undefined): void {
  const { strategies, ...coreOptions } = options ?? {};
  const core = createAuditCore<Request>(coreOptions, { contextOf: (req, sink) => contextOfRequest(req as Request, sink) });
  const sink: EventSink | null = core.enabled ? core.sink : null;
  const handle = {
    ...eventMethods(sink),
    enabled: core.enabled,
    store: core.store,
    flush: core.flush,
    close: core.close,
    stats: core.stats,
    annotate: annotateRequest as (request: Request, annotation: AuditAnnotation) => void,
    erase: async (request: ErasureRequest): Promise<ErasureResult> => {
      const { entry: _entry, ...result } = await core.erase(request, null);
      return result;
    },
    rotateMasterKey: core.rotateMasterKey,
  } as AuditLogHapiHandle;
  for (const [key, value] of Object.entries(handle)) server.expose(key, value);
  // The exposed object is the handle the app holds: `audited(fn, { audit })` reads its sink, `on()` chains on it.
  const exposed = server.plugins[PLUGIN_NAME] as AuditLogHapiHandle;
  Object.defineProperty(exposed, SINK, { value: sink });
  for (const method of ['on', 'once', 'off'] as const) {
    server.expose(method, (event: 'error', listener: (error: AuditLogStoreError) => void) => (core.events[method](event, listener), exposed));
  }
  if (!core.enabled) {
    server.ext('onPostStop', () => core.close());
    return;
  }

  const { config } = core;
  const base = config.basePath;
  const prefix = (server.realm.modifiers.route.prefix as string | undefined) ?? '';
  const ownRoot = `${prefix}${base}`;
  const isOwnPath = (path: string) => config.routes && path.startsWith(ownRoot) && (path.length === ownRoot.length || path.charCodeAt(ownRoot.length) === 47);
  const recorder = installRecorder(
    server,
    config,
    { config, limits: core.limits, newId: core.newId, inferAssociation: core.inferAssociation, fail: core.report },
    {
      push: core.sink.push,
      fail: core.report,
      context: (request, requestId) => recordedContext(request, core.sink, requestId),
      isOwnPath,
      // The Express adapter's routes ignore one trailing slash (`/auditLog/` is the list, `/auditLog/ui/`
      // the page) whatever the app's settings; Hapi's router minds it unless the server strips it.
      // So the plugin's own paths lose it before routing; other paths pay one endsWith.
      trimOwnSlash: config.routes,
    },
  );
  // Hapi's stop runs onPostStop before it ends the requests whose connections it cut: they are
  // recorded (as cut off, past a second) before the audit log closes.
  server.ext('onPostStop', async () => {
    await recorder.settle(SHUTDOWN_SETTLE_MS);
    await core.close();
  });
  if (config.routes) {
    const routes = queryRoutes(core, routeAuth(server, strategies));
    if (config.ui) routes.unshift(...uiRoutes(ownRoot, base));
    server.route(routes);
  }
}

/** The Hapi plugin: `await server.register({ plugin: auditLogHapi, options })`. */
export const auditLogHapi: Plugin<AuditLogHapiOptions> = {
  name: PLUGIN_NAME,
  version: '0.1.0',
  register,
};
