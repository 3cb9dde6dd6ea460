/**
 * The Fastify example app, as a new user meets it: started with node (after the build), it prints
 * tokens and curl lines; every printed curl line runs verbatim and does what its comment says.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from './support/stores';

const run = promisify(execFile);
const hasCurl = (() => {
  try {
    execFileSync('curl', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const describeWithCurl = hasCurl ? describe : describe.skip;

describeWithCurl('example-app/fastify', () => {
  let child: ChildProcess;
  let output = '';

  beforeAll(async () => {
    const dir = tempDir('eal-example-fastify-');
    child = spawn(process.execPath, [path.join(__dirname, '..', 'example-app', 'fastify', 'server.js')], {
      env: { ...process.env, PORT: '0', AUDIT_DB_PATH: path.join(dir, 'audit.db') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk) => (output += chunk));
    child.stderr!.on('data', (chunk) => (output += chunk));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`example-app/fastify did not start:\n${output}`)), 20_000);
      const check = () => {
        if (output.includes('Admin page:')) {
          clearTimeout(timer);
          resolve();
        } else if (child.exitCode !== null) {
          clearTimeout(timer);
          reject(new Error(`example-app/fastify exited:\n${output}`));
        } else setTimeout(check, 20);
      };
      check();
    });
  });

  afterAll(async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  });

  test('the printed curl lines work verbatim', async () => {
    const lines = output
      .split('\n')
      .filter((line) => line.trim().startsWith('curl '))
      .map((line) => line.trim());
    const answers: Array<Record<string, any>> = [];
    for (const line of lines) {
      const { stdout } = await run('sh', ['-c', line.replace(/\s+#.*$/, '')]);
      answers.push(JSON.parse(stdout));
    }
    const [created, anonymous, list, forbidden] = answers;
    expect(created).toMatchObject({ name: 'Ada', createdBy: 'bob' });
    expect(anonymous).toMatchObject({ statusCode: 401 });
    expect(list!.docs.map(({ _id, ...entry }: Record<string, unknown>) => entry)).toEqual([
      { action: 'Create', endpoint: '/users', user: null, statusCode: 401, payload: { name: 'no token' } },
      { action: 'Create', endpoint: '/users', user: 'bob', statusCode: 201, payload: { name: 'Ada', password: '[REDACTED]' } },
    ]);
    expect(forbidden).toMatchObject({ statusCode: 403 });
  });

  test('SIGTERM closes Fastify, and the audit log with it, and exits cleanly', async () => {
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
