/**
 * The Hapi example app, started with node as a user would (it loads the built package by name):
 * the printed tokens work, a POST is recorded, and the admin reads it back.
 */
import path from 'node:path';
import { type ExampleApp, startExample } from '../support/example-app';
import { tempDir } from '../support/stores';

describe('example-app/hapi', () => {
  let app: ExampleApp;

  beforeAll(async () => {
    const dir = tempDir('eal-example-hapi-');
    app = await startExample(path.join(__dirname, '..', '..', 'example-app', 'hapi', 'server.js'), { PORT: '0', AUDIT_DB_PATH: path.join(dir, 'audit.db') });
  });

  afterAll(async () => {
    await app?.stop();
  });

  it('records a POST with the token user, and serves it to the admin only', async () => {
    const base = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(app.output())![1]!;
    const admin = /admin \(scope admin\): (\S+)/.exec(app.output())![1]!;
    const user = /user {2}\(scope user\): {2}(\S+)/.exec(app.output())![1]!;
    const created = await fetch(`${base}/users`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${user}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'Ada', password: 's3cret' }),
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('x-request-id')).toBeTruthy();
    expect((await fetch(`${base}/auditLog`, { headers: { Authorization: `Bearer ${user}` } })).status).toBe(403);
    const list = await fetch(`${base}/auditLog?$limit=5`, { headers: { Authorization: `Bearer ${admin}` } });
    expect(list.status).toBe(200);
    const { docs } = (await list.json()) as { docs: Array<Record<string, unknown>> };
    expect(docs[0]).toMatchObject({
      action: 'Create',
      collectionName: 'users',
      user: 'bob',
      payload: { name: 'Ada', password: '[REDACTED]' },
      statusCode: 201,
    });
    expect((await fetch(`${base}/auditLog/ui`)).status).toBe(200);
  });
});
