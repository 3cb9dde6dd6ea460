'use strict';
/**
 * saisilinus/node-express-mongoose-typescript-boilerplate: the TypeScript port of
 * node-express-boilerplate, on mongoose 7, passport 0.6, jest 27 + ts-jest, @faker-js data.
 * Same routes (/v1/auth, /v1/users), tests next to the modules. Its tsconfig is strict with
 * noEmitOnError, so the added line must type-check against the package's types and the app's
 * @types/express 4 (ts-jest emits nothing for a file with a type error, and the suite cannot run).
 */
const fs = require('fs');
const path = require('path');
const base = require('./node-express-boilerplate');

module.exports = {
  ...base,
  name: 'saisilinus/node-express-mongoose-typescript-boilerplate',
  // A bare git dir of the app; EAL_MIRRORS names the directory holding such copies (owner+name/repo).
  mirror: require('node:path').join(process.env.EAL_MIRRORS || '.mirror', 'saisilinus+node-express-mongoose-typescript-boilerplate/repo'),
  appFile: 'src/app.ts',
  /** What a TypeScript user writes (the README's passport recipe; this app types req.user as its IUserDoc), plus the harness's hook. */
  importLine: "import { auditLog } from 'express-audit-log';",
  line: "app.use((globalThis as any).__ealHarness.register(auditLog({ ttl: '1d', scope: ['admin'], getAuth: (req) => (req.user ? { user: req.user.id, scopes: [req.user.role] } : null), ...(globalThis as any).__ealHarness.options() })));",
  typecheck: ['node_modules/typescript/bin/tsc', '--noEmit', '-p', '.'],
  env(mongoUri) {
    return { ...base.env(mongoUri), MONGODB_URL: `${mongoUri}/node-ts-boilerplate`, CLIENT_URL: 'http://localhost:5000' };
  },
  /** Its `npm test`: `cross-env NODE_OPTIONS=--experimental-vm-modules jest -i --colors --verbose --detectOpenHandles`. */
  jestArgs: ['-i'],
  nodeOptions: '--experimental-vm-modules',
  patch(appDir) {
    const file = path.join(appDir, this.appFile);
    const source = fs.readFileSync(file, 'utf8');
    if (!source.includes(this.anchor)) throw new Error(`${this.appFile} no longer contains ${JSON.stringify(this.anchor)}: update the anchor in ${__filename}`);
    fs.writeFileSync(file, `${this.importLine}\n${source.replace(this.anchor, `${this.anchor}\n${this.line}`)}`);
    return () => fs.writeFileSync(file, source);
  },
};
