/**
 * `include` / `exclude` on Hapi: the same prefixes and RegExps as on Express, matched the way the
 * server routes (`router.isCaseSensitive`, `router.stripTrailingSlash`), so a prefix covers what
 * the route it names answers and nothing else.
 */
import Hapi from '@hapi/hapi';
import { auditLogHapi, PLUGIN_NAME, type AuditLogHapiOptions } from 'express-audit-log/hapi';
import { memoryStore, type AuditEntry } from 'express-audit-log';

const servers: Hapi.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

async function recordedServer(options: AuditLogHapiOptions, router?: Hapi.ServerOptions['router']): Promise<Hapi.Server> {
  const server = Hapi.server({ router });
  servers.push(server);
  await server.register({ plugin: auditLogHapi, options: { store: memoryStore(), ...options } });
  for (const path of ['/role', '/role/{id}', '/health', '/kept', '/secret/{id}'])
    server.route({ method: 'POST', path, handler: (_request, h) => h.response({}).code(201) });
  await server.initialize();
  return server;
}

async function endpoints(server: Hapi.Server): Promise<Array<string | null>> {
  const audit = server.plugins[PLUGIN_NAME];
  await audit.flush();
  const { docs } = await audit.store!.find({ filter: {}, sort: [['date', 1]], skip: 0, limit: 100, select: null });
  return (docs as AuditEntry[]).map((entry) => entry.endpoint);
}

const post = (server: Hapi.Server, url: string) => server.inject({ method: 'POST', url, payload: {} }).then((res) => res.statusCode);

describe("include / exclude on Hapi follow the server's router settings", () => {
  test('include: only paths under the prefixes are recorded, a prefix covering its sub-paths and not look-alikes', async () => {
    const server = await recordedServer({ include: ['/role'] });
    expect(await post(server, '/role')).toBe(201);
    expect(await post(server, '/role/7')).toBe(201);
    expect(await post(server, '/kept')).toBe(201);
    expect(await post(server, '/roles')).toBe(404);
    expect(await endpoints(server)).toEqual(['/role', '/role/7']);
  });

  test('exclude wins over include, and takes RegExps', async () => {
    const server = await recordedServer({ include: ['/role', '/secret'], exclude: [/^\/secret\/hidden/, '/role/7'] });
    await post(server, '/role');
    await post(server, '/role/7');
    await post(server, '/secret/hidden');
    await post(server, '/secret/shown');
    await post(server, '/health');
    expect(await endpoints(server)).toEqual(['/role', '/secret/shown']);
  });

  test("case-sensitive by default, as Hapi's router is: /ROLE is another path, for the router and for include alike", async () => {
    const server = await recordedServer({ include: ['/role'] });
    expect(await post(server, '/ROLE')).toBe(404);
    expect(await post(server, '/role')).toBe(201);
    expect(await endpoints(server)).toEqual(['/role']);
  });

  test("with router.isCaseSensitive: false, include ['/role'] covers POST /ROLE, which the route answers", async () => {
    const server = await recordedServer({ include: ['/role'] }, { isCaseSensitive: false });
    expect(await post(server, '/ROLE')).toBe(201);
    expect(await post(server, '/kept')).toBe(201);
    expect(await endpoints(server)).toEqual(['/ROLE']);
  });

  test("exclude ['/health/'] skips /health only when the router strips trailing slashes (else they are different paths)", async () => {
    const strict = await recordedServer({ exclude: ['/health/'] });
    expect(await post(strict, '/health')).toBe(201);
    expect(await endpoints(strict)).toEqual(['/health']);

    const stripping = await recordedServer({ exclude: ['/health/'] }, { stripTrailingSlash: true });
    expect(await post(stripping, '/health')).toBe(201);
    expect(await post(stripping, '/health/')).toBe(201);
    expect(await post(stripping, '/kept/')).toBe(201);
    expect(await endpoints(stripping)).toEqual(['/kept']);
  });
});
