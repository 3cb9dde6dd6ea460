/**
 * `GET /auditLog/openapi.json`: a valid OpenAPI 3.1 document (checked by
 * @seriousme/openapi-schema-validator, run as its CLI: the package is ESM-only), whose
 * parameters are exactly what the routes accept and whose response schemas the routes' real
 * answers satisfy (checked with ajv's JSON Schema 2020-12, OpenAPI 3.1's dialect).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import request from 'supertest';
import { memoryStore } from 'express-audit-log';
import { ADMIN, USER, createTestApp, token, type TestApp } from '../support/app';
import { tempDir } from '../support/stores';
import { generateKeyPairSync, randomBytes } from 'node:crypto';

// biome-ignore lint/suspicious/noExplicitAny: a parsed JSON document, walked by path in assertions
type Doc = Record<string, any>;

const VALIDATOR = path.join(__dirname, '../../node_modules/@seriousme/openapi-schema-validator/bin/validate-api-cli.js');

/** Runs the validator on a document; resolves to its verdict (the CLI exits 1 when invalid). */
function validateOpenApi(document: unknown): { valid: boolean; errors?: unknown } {
  const dir = tempDir('eal-openapi-');
  const file = path.join(dir, 'openapi.json');
  fs.writeFileSync(file, JSON.stringify(document));
  try {
    return JSON.parse(execFileSync(process.execPath, [VALIDATOR, file], { encoding: 'utf8' }));
  } catch (error) {
    return JSON.parse((error as { stdout: string }).stdout);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const { privateKey } = generateKeyPairSync('ed25519');

describe('the OpenAPI description', () => {
  let t: TestApp;
  let spec: Doc;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  const admin = (url: string) => request(t.app).get(url).set('Authorization', `Bearer ${ADMIN}`);

  /** Checks a real answer against the schema the description gives for that route and status. */
  function conforms(pathKey: string, status: number, body: unknown, method = 'get'): void {
    const response = spec.paths[pathKey]?.[method]?.responses?.[status];
    expect(response).toBeDefined();
    const schema = response.content['application/json'].schema;
    const id = `https://eal.test/${method}${pathKey}/${status}`;
    const validate = ajv.getSchema(id) ?? ajv.compile({ $id: id, components: spec.components, ...schema });
    const ok = validate(body);
    expect([pathKey, status, ok ? null : validate.errors]).toEqual([pathKey, status, null]);
  }

  beforeAll(async () => {
    t = createTestApp({ store: memoryStore(), scope: 'admin', integrity: { signingKey: privateKey } });
    await request(t.app).post('/users').set('Authorization', `Bearer ${USER}`).send({ name: 'a', password: 'x' }).expect(201);
    await request(t.app).delete('/users/000000000000000000000000').set('Authorization', `Bearer ${USER}`).expect(404);
    spec = (await admin('/auditLog/openapi.json').expect(200).expect('Content-Type', /json/)).body;
  });
  afterAll(() => t.audit.close());

  test('is valid OpenAPI 3.1 for the validator (which does refuse a broken one)', () => {
    expect(spec.openapi).toBe('3.1.0');
    expect(validateOpenApi(spec)).toEqual({ valid: true });
    const broken = { ...spec, paths: { '/auditLog': { get: { responses: { 200: { content: {} } } } } } };
    expect(validateOpenApi(broken).valid).toBe(false);
  });

  test('has the scope of the list route, and is public with publicRoutes', async () => {
    await request(t.app).get('/auditLog/openapi.json').expect(401);
    await request(t.app).get('/auditLog/openapi.json').set('Authorization', `Bearer ${USER}`).expect(403);
    const open = createTestApp({ store: memoryStore(), publicRoutes: true, basePath: '/audit', ui: false });
    const res = await request(open.app).get('/audit/openapi.json').expect(200);
    expect(Object.keys(res.body.paths)).toEqual([
      '/audit',
      '/audit/stats',
      '/audit/history/{collection}/{id}',
      '/audit/export',
      '/audit/verify',
      '/audit/retention',
      '/audit/holds',
      '/audit/holds/{id}',
      '/audit/erasures',
      '/audit/openapi.json',
      '/audit/{id}',
    ]);
    expect(res.body.paths['/audit'].get.security).toEqual([]);
    expect(res.body.paths['/audit'].post.security).toBeUndefined();
    expect(validateOpenApi(res.body)).toEqual({ valid: true });
    await open.audit.close();
  });

  test('describes exactly the parameters the list and stats routes accept', async () => {
    for (const [route, pathKey] of [
      ['/auditLog', '/auditLog'],
      ['/auditLog/stats', '/auditLog/stats'],
    ] as const) {
      const refused = await admin(`${route}?notAParameter=1`).expect(400);
      const accepted = (refused.body.message as string)
        .replace(/.*Accepted: /, '')
        .replace(/\.$/, '')
        .split(', ');
      const described = spec.paths[pathKey].get.parameters.map((p: Doc) => p.name);
      expect(described.sort()).toEqual(accepted.sort());
    }
  });

  test("describes the export route's parameters: the list's, less those it refuses, plus format", async () => {
    const list = spec.paths['/auditLog'].get.parameters.map((p: Doc) => p.name as string);
    const described = spec.paths['/auditLog/export'].get.parameters.map((p: Doc) => p.name as string);
    const refused: string[] = [];
    for (const name of list) {
      const res = await admin(`/auditLog/export?${encodeURIComponent(name)}=1`);
      if (res.status === 400 && res.body.parameter === name && /does not apply to exports/.test(res.body.message)) refused.push(name);
    }
    expect(refused.sort()).toEqual(['$count', '$limit', '$page', '$skip', '$sort']);
    expect(described.sort()).toEqual([...list.filter((name: string) => !refused.includes(name)), 'format'].sort());
  });

  test('the entry schema has every field of the entry, as the routes return it', async () => {
    const full = (await admin('/auditLog?$limit=1').expect(200)).body.docs[0];
    expect(Object.keys(spec.components.schemas.Entry.properties)).toEqual(expect.arrayContaining(Object.keys(full)));
    expect(spec.components.schemas.Entry.properties.isError).toEqual({ type: 'boolean' });
  });

  test('real answers satisfy the described response schemas', async () => {
    const manual = await request(t.app)
      .post('/auditLog')
      .set('Authorization', `Bearer ${ADMIN}`)
      .send({ action: 'Export', notes: 'n', documents: ['a'] })
      .expect(201);
    conforms('/auditLog', 201, manual.body, 'post');
    const many = await request(t.app)
      .post('/auditLog')
      .set('Authorization', `Bearer ${ADMIN}`)
      .send([{ action: 'Login' }])
      .expect(201);
    conforms('/auditLog', 201, many.body, 'post');

    const list = await admin('/auditLog').expect(200);
    expect(list.body.docs.length).toBeGreaterThanOrEqual(4);
    conforms('/auditLog', 200, list.body);
    conforms('/auditLog', 200, (await admin('/auditLog?$count=true').expect(200)).body);
    conforms('/auditLog', 200, (await admin('/auditLog?$select=action,user').expect(200)).body);
    conforms('/auditLog/{id}', 200, (await admin(`/auditLog/${manual.body._id}`).expect(200)).body);
    conforms('/auditLog/history/{collection}/{id}', 200, (await admin('/auditLog/history/users/000000000000000000000000').expect(200)).body);
    conforms('/auditLog/stats', 200, (await admin('/auditLog/stats?interval=1h').expect(200)).body);
    conforms('/auditLog/stats', 200, (await admin('/auditLog/stats?groupBy=statusCode').expect(200)).body);
    conforms('/auditLog/verify', 200, (await admin('/auditLog/verify').expect(200)).body);

    conforms('/auditLog', 400, (await admin('/auditLog?$limit=0').expect(400)).body);
    conforms('/auditLog', 401, (await request(t.app).get('/auditLog').expect(401)).body);
    conforms('/auditLog/stats', 400, (await admin('/auditLog/stats?groupBy=x').expect(400)).body);
    conforms('/auditLog/{id}', 404, (await admin('/auditLog/0123456789abcdef01234567').expect(404)).body);
  });

  test('real answers of the governance routes satisfy their schemas (retention, holds, erasures)', async () => {
    const governed = createTestApp({
      store: memoryStore(),
      scope: 'admin',
      ttl: '1d',
      retention: [{ action: 'Login', ttl: '30d' }],
      holdScope: 'legal',
      encryption: { masterKey: randomBytes(32) },
      eraseScope: 'privacy',
    });
    const officer = token({ sub: 'officer', scope: 'admin legal privacy' });
    const as = (req: request.Test) => req.set('Authorization', `Bearer ${officer}`);
    try {
      await request(governed.app).post('/users').set('Authorization', `Bearer ${USER}`).send({ name: 'a' }).expect(201);
      const own = (await as(request(governed.app).get('/auditLog/openapi.json')).expect(200)).body;
      expect(own.paths).toEqual(spec.paths);
      // Described, not just 'an object': a wrong answer would fail the checks below.
      for (const [name, field] of [
        ['RetentionReport', 'rules'],
        ['Hold', 'placedAt'],
        ['Erasure', 'erased'],
      ] as const)
        expect(own.components.schemas[name].required).toContain(field);
      conforms('/auditLog/retention', 200, (await as(request(governed.app).get('/auditLog/retention')).expect(200)).body);
      const placed = await as(request(governed.app).post('/auditLog/holds'))
        .send({ filter: { action: 'Create' }, reason: 'case 7' })
        .expect(201);
      conforms('/auditLog/holds', 201, placed.body, 'post');
      conforms('/auditLog/holds', 200, (await as(request(governed.app).get('/auditLog/holds')).expect(200)).body);
      conforms('/auditLog/holds/{id}', 200, (await as(request(governed.app).delete(`/auditLog/holds/${placed.body._id}`)).expect(200)).body, 'delete');
      conforms('/auditLog/erasures', 200, (await as(request(governed.app).post('/auditLog/erasures')).send({ user: 'someone' }).expect(200)).body, 'post');
    } finally {
      await governed.audit.close();
    }
  });

  test("the schemas are strict enough to catch a wrong answer (the stats answer's buckets)", () => {
    const schema = spec.paths['/auditLog/stats'].get.responses[200].content['application/json'].schema;
    const validate = ajv.compile({ $id: 'https://eal.test/strict', components: spec.components, ...schema });
    const answer = {
      from: 'x',
      to: 'y',
      interval: '1h',
      intervalMs: 3600000,
      groupBy: null,
      count: 1,
      errors: 0,
      buckets: [{ start: 1 }],
      groups: [],
      groupsTotal: 0,
    };
    expect(validate(answer)).toBe(false);
  });
});
