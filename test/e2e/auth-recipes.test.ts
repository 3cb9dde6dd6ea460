/**
 * The README's auth recipes, run with the real packages: express-jwt (the default, no option),
 * passport + passport-jwt and express-session (each with `getAuth`). For each: a recorded entry
 * carries the right user, and the query routes answer 401 without auth, 403 without the scope,
 * 200 with it.
 */
import express from 'express';
import session from 'express-session';
import { expressjwt } from 'express-jwt';
import passport from 'passport';
import { ExtractJwt, Strategy as JwtStrategy } from 'passport-jwt';
import request from 'supertest';
import { auditLog, memoryStore, type AuditLogMiddleware } from 'express-audit-log';
import { SECRET, token } from '../support/app';
import { settle } from '../support/wait';

interface Recipe {
  app: express.Express;
  audit: AuditLogMiddleware;
  /** Makes the request as someone with these roles, or anonymously with null. */
  as(user: { id: string; roles: string[] } | null): Promise<request.Agent>;
}

function routes(app: express.Express): void {
  app.post('/users', (req, res) => {
    res.status(201).json({ _id: 'u-9', ...req.body });
  });
}

function expressJwtRecipe(): Recipe {
  const app = express();
  app.use(express.json());
  app.use(expressjwt({ secret: SECRET, algorithms: ['HS256'], credentialsRequired: false }));
  const audit = auditLog({ store: memoryStore(), scope: 'admin' });
  app.use(audit);
  routes(app);
  return {
    app,
    audit,
    as: async (user) => {
      const agent = request.agent(app);
      return user ? agent.set('Authorization', `Bearer ${token({ sub: user.id, scope: user.roles })}`) : agent;
    },
  };
}

function passportJwtRecipe(): Recipe {
  // An instance of its own, so this suite leaves the passport singleton alone.
  const auth = new passport.Passport();
  auth.use(
    new JwtStrategy(
      { jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(), secretOrKey: SECRET, algorithms: ['HS256'] },
      (payload: { sub: string; roles: string[] }, done: (error: unknown, user?: Express.User | false) => void) =>
        done(null, { id: payload.sub, roles: payload.roles }),
    ),
  );
  const app = express();
  app.use(express.json());
  app.use(auth.initialize());
  // Optional authentication: a valid token sets req.user, no token leaves it unset.
  app.use((req, res, next) => {
    auth.authenticate('jwt', { session: false }, (error: unknown, user: Express.User | false) => {
      if (error) return next(error);
      if (user) req.user = user;
      next();
    })(req, res, next);
  });
  const audit = auditLog({
    store: memoryStore(),
    scope: 'admin',
    getAuth: (req) => (req.user ? { user: (req.user as { id: string }).id, scopes: (req.user as { roles: string[] }).roles } : null),
  });
  app.use(audit);
  routes(app);
  return {
    app,
    audit,
    as: async (user) => {
      const agent = request.agent(app);
      return user ? agent.set('Authorization', `Bearer ${token({ sub: user.id, roles: user.roles })}`) : agent;
    },
  };
}

declare module 'express-session' {
  interface SessionData {
    account?: { id: string; roles: string[] };
  }
}

function sessionRecipe(): Recipe {
  const app = express();
  app.use(express.json());
  app.use(session({ secret: 'test-session-secret', resave: false, saveUninitialized: false }));
  // The app's own login; sessions carry the account from then on.
  app.post('/login', (req, res) => {
    req.session.account = { id: req.body.id, roles: req.body.roles };
    res.status(204).end();
  });
  const audit = auditLog({
    store: memoryStore(),
    scope: 'admin',
    exclude: ['/login'],
    getAuth: (req) => (req.session?.account ? { user: req.session.account.id, scopes: req.session.account.roles } : null),
  });
  app.use(audit);
  routes(app);
  return {
    app,
    audit,
    as: async (user) => {
      const agent = request.agent(app);
      if (user) await agent.post('/login').send(user).expect(204);
      return agent;
    },
  };
}

describe.each([
  ['express-jwt (req.auth, no option)', expressJwtRecipe],
  ['passport + passport-jwt (req.user, getAuth)', passportJwtRecipe],
  ['express-session (req.session, getAuth)', sessionRecipe],
])('%s', (_name, make) => {
  let recipe: Recipe;
  beforeAll(() => {
    recipe = make();
  });
  afterAll(() => recipe.audit.close());

  test('a recorded request carries the signed-in user', async () => {
    const agent = await recipe.as({ id: 'alice', roles: ['editor'] });
    await agent.post('/users').send({ name: 'Bob' }).expect(201);
    await settle(recipe.audit, 1);
    const admin = await recipe.as({ id: 'root', roles: ['admin'] });
    const res = await admin.get('/auditLog').query({ collectionName: 'users' }).expect(200);
    expect(res.body.docs).toEqual([expect.objectContaining({ action: 'Create', user: 'alice', statusCode: 201 })]);
  });

  test('the query routes: 401 without auth, 403 without the scope, 200 with it', async () => {
    const anonymous = await (await recipe.as(null)).get('/auditLog');
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toEqual({ statusCode: 401, error: 'Unauthorized', message: expect.stringContaining('Authentication required') });
    const editor = await (await recipe.as({ id: 'alice', roles: ['editor'] })).get('/auditLog');
    expect(editor.status).toBe(403);
    expect(editor.body.message).toBe('Insufficient scope: the audit log needs one of [admin].');
    await (await recipe.as({ id: 'root', roles: ['admin'] })).get('/auditLog').expect(200);
  });
});

describe('getAuth', () => {
  test('a single role as a string (req.user.role) is a scope', async () => {
    const app = express();
    app.use((req, _res, next) => {
      const role = req.headers['x-role'];
      if (typeof role === 'string') (req as express.Request & { account?: unknown }).account = { id: 'u1', role };
      next();
    });
    const audit = auditLog({
      store: memoryStore(),
      scope: 'admin',
      getAuth: (req) => {
        const account = (req as express.Request & { account?: { id: string; role: string } }).account;
        return account ? { user: account.id, scopes: account.role } : null;
      },
    });
    app.use(audit);
    await request(app).get('/auditLog').set('x-role', 'admin').expect(200);
    await request(app).get('/auditLog').set('x-role', 'viewer').expect(403);
    await request(app).get('/auditLog').expect(401);
    await audit.close();
  });

  test('getUser still decides the recorded user', async () => {
    const app = express();
    const audit = auditLog({ store: memoryStore(), publicRoutes: true, getAuth: () => ({ user: 'from-auth' }), getUser: () => 'from-getUser' });
    app.use(audit);
    app.post('/things', (_req, res) => {
      res.status(201).json({ id: 1 });
    });
    await request(app).post('/things').expect(201);
    await settle(audit, 1);
    const res = await request(app).get('/auditLog').expect(200);
    expect(res.body.docs[0].user).toBe('from-getUser');
    await audit.close();
  });

  test('a getAuth that throws or returns a Promise: the routes answer 500 and report it, the app answers as usual and the entry has no user', async () => {
    for (const getAuth of [
      () => {
        throw new Error('session store down');
      },
      () => Promise.resolve({ user: 'u1' }),
    ]) {
      const app = express();
      const audit = auditLog({ store: memoryStore(), getAuth: getAuth as never });
      const errors: Array<{ code: string; message: string }> = [];
      audit.on('error', (error) => errors.push(error));
      app.use(audit);
      app.post('/things', (_req, res) => {
        res.status(201).json({ id: 1 });
      });
      await request(app).post('/things').expect(201);
      const res = await request(app).get('/auditLog');
      expect(res.status).toBe(500);
      expect(res.body.message).toMatch(/getAuth option failed/);
      expect(errors).toEqual([expect.objectContaining({ code: 'EAUDIT_AUTH' })]);
      expect(errors[0]!.message).toMatch(/session store down|Promise/);
      await settle(audit, 1);
      const [entry] = (await audit.store!.find({ filter: {}, sort: [], skip: 0, limit: 10, select: null })).docs;
      expect(entry?.user).toBeNull();
      await audit.close();
    }
  });
});

describe('long user ids', () => {
  const app = express();
  app.use(express.json());
  app.use(expressjwt({ secret: SECRET, algorithms: ['HS256'], credentialsRequired: false }));
  const audit = auditLog({ store: memoryStore(), publicRoutes: true });
  app.use(audit);
  app.post('/things', (_req, res) => {
    res.status(201).json({ id: 1 });
  });
  afterAll(() => audit.close());

  const userRecordedFor = async (sub: string): Promise<string | null> => {
    const before = audit.stats().recorded;
    await request(app)
      .post('/things')
      .set('Authorization', `Bearer ${token({ sub })}`)
      .expect(201);
    await settle(audit, before + 1);
    const res = await request(app).get('/auditLog').query({ $limit: 1 }).expect(200);
    return res.body.docs[0].user;
  };

  test('a sub over 256 characters is recorded as it is, up to 1024', async () => {
    const sub = `samlp|${'x'.repeat(300)}`;
    expect(await userRecordedFor(sub)).toBe(sub);
    const longest = 'y'.repeat(1024);
    expect(await userRecordedFor(longest)).toBe(longest);
  });

  test('a sub over 1024 characters keeps its start and a mark with a hash of the whole: cut, but still distinct', async () => {
    const a = `${'z'.repeat(1500)}a`;
    const b = `${'z'.repeat(1500)}b`;
    const userA = (await userRecordedFor(a))!;
    const userB = (await userRecordedFor(b))!;
    expect(userA).toHaveLength(1024);
    expect(userA).toMatch(/^z+…\[sha256:[0-9a-f]{16}\]$/);
    expect(userB).not.toBe(userA);
    expect(await userRecordedFor(a)).toBe(userA); // stable: one user, one id
  });
});
