/**
 * The Hapi example app, started with node as a user would (it loads the built package by name):
 * the printed tokens work, a POST is recorded, and the admin reads it back.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { tempDir } from '../support/stores';

describe('example-app/hapi', () => {
  let child: ChildProcess;
  let output = '';

  beforeAll(async () => {
    const dir = tempDir('eal-example-hapi-');
    child = spawn(process.execPath, [path.join(__dirname, '..', '..', 'example-app', 'hapi', 'server.js')], {
      env: { ...process.env, PORT: '0', AUDIT_DB_PATH: path.join(dir, 'audit.db') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk) => (output += chunk));
    child.stderr!.on('data', (chunk) => (output += chunk));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`example-app/hapi did not start:\n${output}`)), 20_000);
      const check = () => (output.includes('Admin page:') ? (clearTimeout(timer), resolve()) : setTimeout(check, 50));
      check();
    });
  });

  afterAll(async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  });

  it('records a POST with the token user, and serves it to the admin only', async () => {
    const base = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)![1]!;
    const admin = /admin \(scope admin\): (\S+)/.exec(output)![1]!;
    const user = /user {2}\(scope user\): {2}(\S+)/.exec(output)![1]!;
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
