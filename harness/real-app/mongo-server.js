'use strict';
/**
 * Starts the project's own MongoDB wire-protocol server (test/support/mongo-server) as a child
 * process, the way test/support-tests/mongo-server-cli.test.ts does: its TypeScript sources are
 * transpiled (transpile only) into a temp dir and run with plain node. Resolves { uri, stop }.
 */
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const readline = require('readline');

const root = path.resolve(__dirname, '..', '..');
const SOURCE = path.join(root, 'test', 'support', 'mongo-server');
const NODE_MODULES = path.join(root, 'node_modules');

function transpileTree(ts, from, to) {
  fs.mkdirSync(to, { recursive: true });
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const source = path.join(from, entry.name);
    if (entry.isDirectory()) transpileTree(ts, source, path.join(to, entry.name));
    else if (entry.name.endsWith('.ts')) {
      const { outputText } = ts.transpileModule(fs.readFileSync(source, 'utf8'), {
        compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
      });
      fs.writeFileSync(path.join(to, entry.name.replace(/\.ts$/, '.js')), outputText);
    }
  }
}

async function startMongoServer({ log } = {}) {
  const ts = require(path.join(NODE_MODULES, 'typescript'));
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'eal-mongo-server-'));
  transpileTree(ts, SOURCE, out);
  const child = spawn(process.execPath, [path.join(__dirname, 'mongo-server-child.js'), out, '--port', '0'], {
    env: { ...process.env, NODE_PATH: NODE_MODULES },
    stdio: ['ignore', 'pipe', log ? fs.openSync(log, 'a') : 'inherit'],
  });
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  const line = await Promise.race([
    new Promise((resolve) => readline.createInterface({ input: child.stdout }).once('line', resolve)),
    exited.then((code) => {
      throw new Error(`the MongoDB test server exited (${code}) before printing its address`);
    }),
  ]);
  const { uri } = JSON.parse(line);
  return {
    uri,
    async stop() {
      child.kill('SIGTERM');
      await exited;
      fs.rmSync(out, { recursive: true, force: true });
    },
  };
}

module.exports = { startMongoServer };

if (require.main === module) {
  startMongoServer().then(({ uri }) => console.log(uri));
}
