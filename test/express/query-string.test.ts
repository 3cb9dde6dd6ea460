/**
 * The query routes read their parameters the same way whatever the app's `query parser`: Express 4's
 * default (qs, 'extended') and an Express 5 app that opts into it give the same answers, and the
 * same parameter names in a 400, as Express 5's default.
 */
import request from 'supertest';
import { memoryStore } from 'express-audit-log';
import { ADMIN, createTestApp, type TestApp } from '../support/app';

describe.each(['extended', 'simple'])("query routes with app.set('query parser', '%s')", (parser) => {
  let t: TestApp;
  const get = (url: string) => request(t.app).get(url).set('Authorization', `Bearer ${ADMIN}`);

  beforeAll(async () => {
    t = createTestApp({ store: memoryStore(), scope: 'admin' }, (app) => app.set('query parser', parser));
    await request(t.app).post('/role').set('Authorization', `Bearer ${ADMIN}`).send({ name: 'a' }).expect(201);
    await request(t.app).post('/role').set('Authorization', `Bearer ${ADMIN}`).send({ name: 'b' }).expect(201);
    await t.audit.flush();
  });
  afterAll(() => t.audit.close());

  test.each([
    ['/auditLog?user[$ne]=x', 'user[$ne]'],
    ['/auditLog?$where[user]=x', '$where[user]'],
    ['/auditLog/export?collectionName[$regex]=.', 'collectionName[$regex]'],
    ['/auditLog/history/role/1?documents[0]=x', 'documents[0]'],
    ['/auditLog/0123456789abcdef01234567?$select[0]=user', '$select[0]'],
  ])('GET %s is a 400 naming %s', async (url, parameter) => {
    const res = await get(url).expect(400);
    expect(res.body.parameter).toBe(parameter);
  });

  test('repeated parameters still mean $in, and nested names do not reach the store as operators', async () => {
    const both = await get('/auditLog?collectionName=role&collectionName=user&$select=collectionName').expect(200);
    expect(both.body.docs).toHaveLength(2);
    expect(both.body.docs.map((d: { collectionName: string }) => d.collectionName)).toEqual(['role', 'role']);
    const count = await get('/auditLog?$count=true&action=Create').expect(200);
    expect(count.body).toBe(2);
  });
});
