'use strict';
/**
 * What the harness needs to know about hagopj13/node-express-boilerplate (Express 4, mongoose 5,
 * passport-jwt, jest 26 + supertest): where its app file is, where the one line goes, and the
 * environment its config reads. Nothing here is committed into the app: run.js applies the
 * patch to a temporary checkout at run time.
 */
const fs = require('fs');
const path = require('path');

module.exports = {
  name: 'hagopj13/node-express-boilerplate',
  // A bare git dir of the app; EAL_MIRRORS names the directory holding such copies (owner+name/repo).
  mirror: require('node:path').join(process.env.EAL_MIRRORS || '.mirror', 'hagopj13+node-express-boilerplate/repo'),
  appFile: 'src/app.js',
  /** After passport.initialize() (so req.user exists by the time the routes run) and the body parsers, before `app.use('/v1', routes)`. */
  anchor: 'app.use(passport.initialize());',
  // The one line a user adds, wrapped so the harness can reach the instance and give it the store:
  // app.use(auditLog({ ttl: '1d', scope: ['admin'] })) plus a store choice, and the README's
  // passport recipe (getAuth), since this app authenticates with passport-jwt (req.user, a user
  // document with one `role`). EAL_PLAIN_LINE=1 leaves getAuth out (on a package without it).
  line: "app.use(__ealHarness.register(require('express-audit-log').auditLog({ ttl: '1d', scope: ['admin'], ...(process.env.EAL_PLAIN_LINE === '1' ? {} : { getAuth: (req) => (req.user ? { user: req.user.id, scopes: [req.user.role] } : null) }), ...__ealHarness.options() })));",
  env(mongoUri) {
    return {
      NODE_ENV: 'test',
      MONGODB_URL: `${mongoUri}/node-boilerplate`, // the app's config appends '-test'
      JWT_SECRET: 'thisisasamplesecret',
      JWT_ACCESS_EXPIRATION_MINUTES: '30',
      JWT_REFRESH_EXPIRATION_DAYS: '30',
    };
  },
  /** Its `npm test` is `jest -i --colors --verbose --detectOpenHandles`. */
  jestArgs: ['-i'],
  nodeOptions: '',
  patch(appDir) {
    const file = path.join(appDir, this.appFile);
    const source = fs.readFileSync(file, 'utf8');
    if (!source.includes(this.anchor)) throw new Error(`${this.appFile} no longer contains ${JSON.stringify(this.anchor)}: update the anchor in ${__filename}`);
    fs.writeFileSync(file, source.replace(this.anchor, `${this.anchor}\n${this.line}`));
    return () => fs.writeFileSync(file, source);
  },
};
