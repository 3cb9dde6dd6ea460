/**
 * cli.ts runs the server in its own process for the benchmark, compiled to plain JavaScript.
 * The test transpiles the server's sources (transpile only, so it stays fast) and runs them
 * with plain node: no jest or ts-jest in the loop.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import mongoose from 'mongoose';
import ts from 'typescript';

const SOURCE = path.join(__dirname, '..', 'support', 'mongo-server');
const NODE_MODULES = path.join(__dirname, '..', '..', 'node_modules');

function transpileTree(from: string, to: string): void {
  fs.mkdirSync(to, { recursive: true });
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const source = path.join(from, entry.name);
    if (entry.isDirectory()) {
      transpileTree(source, path.join(to, entry.name));
    } else if (entry.name.endsWith('.ts')) {
      const { outputText } = ts.transpileModule(fs.readFileSync(source, 'utf8'), {
        compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
      });
      fs.writeFileSync(path.join(to, entry.name.replace(/\.ts$/, '.js')), outputText);
    }
  }
}

test('prints {"uri"} on one line, serves mongoose, and exits 0 on SIGTERM', async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'mongo-cli-'));
  transpileTree(SOURCE, out);
  const child = spawn(process.execPath, [path.join(out, 'cli.js'), '--port', '0', '--ttl-interval', '50'], {
    env: { ...process.env, NODE_PATH: NODE_MODULES },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    const [line] = await Promise.race([
      readline
        .createInterface({ input: child.stdout })
        [Symbol.asyncIterator]()
        .next()
        .then((r) => [r.value as string]),
      exited.then((code) => [`exited early with ${code}`]),
    ]);
    const { uri } = JSON.parse(line ?? '') as { uri: string };
    expect(uri).toMatch(/^mongodb:\/\/127\.0\.0\.1:\d+$/);
    const c = await mongoose.createConnection(uri, { dbName: 'cli', serverSelectionTimeoutMS: 5000 }).asPromise();
    await c.collection('x').insertOne({ a: 1 });
    expect(await c.collection('x').countDocuments()).toBe(1);
    await c.close();
    child.kill('SIGTERM');
    // Bounded, so a server that fails to stop fails this test instead of leaving a stray process.
    const stillRunning = new Promise<string>((resolve) => setTimeout(() => resolve('still running 10 s after SIGTERM'), 10_000).unref());
    expect(await Promise.race([exited, stillRunning])).toBe(0);
  } finally {
    child.kill('SIGKILL');
    fs.rmSync(out, { recursive: true, force: true });
  }
});
