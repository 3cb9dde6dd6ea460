/**
 * The example app, as a new user meets it: started with node, it prints tokens and curl lines;
 * every printed curl line runs verbatim and does what its comment says.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from './support/stores';

const run = promisify(execFile);
const hasCurl = (() => {
  try {
    require('node:child_process').execFileSync('curl', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const describeWithCurl = hasCurl ? describe : describe.skip;

describeWithCurl('example-app', () => {
  let child: ChildProcess;
  let output = '';
  let dir = '';

  beforeAll(async () => {
    dir = tempDir('eal-example-');
    child = spawn(process.execPath, [path.join(__dirname, '..', 'example-app', 'server.js')], {
      env: { ...process.env, PORT: '0', AUDIT_DB_PATH: path.join(dir, 'audit.db'), MONGODB_URI: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk) => (output += chunk));
    child.stderr!.on('data', (chunk) => (output += chunk));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`example-app did not start:\n${output}`)), 20_000);
      const check = () => {
        if (output.includes('Admin page:')) {
          clearTimeout(timer);
          resolve();
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
    expect(lines.length).toBeGreaterThanOrEqual(5);
    const answers: unknown[] = [];
    for (const line of lines) {
      const { stdout } = await run('sh', ['-c', line.replace(/\s+#.*$/, '')]);
      answers.push(JSON.parse(stdout));
    }
    const [created, group, anonymous, list, filtered, forbidden, verified, offline] = answers as Array<Record<string, any>>;
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
    expect(output).toMatch(/signed with the dev key .*integrity-dev-private\.pem \(made now\)/);
  });

  // After the curl lines: the store opens its file when it first has work, not when the app starts.
  test('without MONGODB_URI it keeps entries in an SQLite file at AUDIT_DB_PATH', () => {
    expect(output).toContain('embedded SQLite file store');
    expect(fs.readFileSync(path.join(dir, 'audit.db')).subarray(0, 16).toString('latin1')).toBe('SQLite format 3\u0000');
  });

  test('SIGTERM flushes and exits cleanly', async () => {
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
