/**
 * The example app, as a new user meets it: started with node, it prints tokens and curl lines;
 * every printed curl line runs verbatim and does what its comment says.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describeWithCurl, type ExampleApp, runCurlLines, startExample } from './support/example-app';
import { tempDir } from './support/stores';

describeWithCurl('example-app', () => {
  let app: ExampleApp;
  let dir = '';

  beforeAll(async () => {
    dir = tempDir('eal-example-');
    app = await startExample(path.join(__dirname, '..', 'example-app', 'server.js'), { PORT: '0', AUDIT_DB_PATH: path.join(dir, 'audit.db'), MONGODB_URI: '' });
  });

  afterAll(async () => {
    await app?.stop();
  });

  test('the printed curl lines work verbatim', async () => {
    const answers = await runCurlLines(app.output());
    expect(answers.length).toBeGreaterThanOrEqual(5);
    const [created, group, anonymous, list, filtered, forbidden, verified, offline] = answers;
    expect(created).toMatchObject({ name: 'Ada', createdBy: 'bob' });
    expect(group).toMatchObject({ name: 'ops' });
    expect(anonymous).toMatchObject({ statusCode: 401 });
    expect(list!.items.total).toBe(3);
    expect(list!.docs.map((d: { statusCode: number }) => d.statusCode).sort()).toEqual([201, 201, 401]);
    expect(filtered!.docs.map((d: { payload: unknown }) => d.payload)).toEqual([{ name: 'ops' }, { name: 'Ada', password: '[REDACTED]' }]);
    expect(forbidden).toMatchObject({ statusCode: 403 });
    // Integrity with the dev key made at start: the route, then the offline command on an export with the public key.
    expect(verified).toMatchObject({ ok: true, problems: [], checked: { signatures: 'verified' } });
    expect(verified!.checked.entries).toBeGreaterThanOrEqual(3);
    expect(offline).toMatchObject({ ok: true, problems: [], checked: { signatures: 'verified' } });
    expect(offline!.checked.entries).toBeGreaterThanOrEqual(3);
    expect(app.output()).toMatch(/signed with the dev key .*integrity-dev-private\.pem \(made now\)/);
  });

  // After the curl lines: the store opens its file when it first has work, not when the app starts.
  test('without MONGODB_URI it keeps entries in an SQLite file at AUDIT_DB_PATH', () => {
    expect(app.output()).toContain('embedded SQLite file store');
    expect(fs.readFileSync(path.join(dir, 'audit.db')).subarray(0, 16).toString('latin1')).toBe('SQLite format 3\u0000');
  });

  test('SIGTERM flushes and exits cleanly', async () => {
    expect(await app.stop()).toBe(0);
  });
});
