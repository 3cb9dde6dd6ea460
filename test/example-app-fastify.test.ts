/**
 * The Fastify example app, as a new user meets it: started with node (after the build), it prints
 * tokens and curl lines; every printed curl line runs verbatim and does what its comment says.
 */
import path from 'node:path';
import { describeWithCurl, type ExampleApp, runCurlLines, startExample } from './support/example-app';
import { tempDir } from './support/stores';

describeWithCurl('example-app/fastify', () => {
  let app: ExampleApp;

  beforeAll(async () => {
    const dir = tempDir('eal-example-fastify-');
    app = await startExample(path.join(__dirname, '..', 'example-app', 'fastify', 'server.js'), { PORT: '0', AUDIT_DB_PATH: path.join(dir, 'audit.db') });
  });

  afterAll(async () => {
    await app?.stop();
  });

  test('the printed curl lines work verbatim', async () => {
    const [created, anonymous, list, forbidden] = await runCurlLines(app.output());
    expect(created).toMatchObject({ name: 'Ada', createdBy: 'bob' });
    expect(anonymous).toMatchObject({ statusCode: 401 });
    expect(list!.docs.map(({ _id, ...entry }: Record<string, unknown>) => entry)).toEqual([
      { action: 'Create', endpoint: '/users', user: null, statusCode: 401, payload: { name: 'no token' } },
      { action: 'Create', endpoint: '/users', user: 'bob', statusCode: 201, payload: { name: 'Ada', password: '[REDACTED]' } },
    ]);
    expect(forbidden).toMatchObject({ statusCode: 403 });
  });

  test('SIGTERM closes Fastify, and the audit log with it, and exits cleanly', async () => {
    expect(await app.stop()).toBe(0);
  });
});
