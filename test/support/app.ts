/**
 * A small rest-hapi-like API for the end-to-end tests: roles, users, permissions and
 * hashtags with associations, express-jwt in front, the audit middleware under test.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import { expressjwt } from 'express-jwt';
import jwt from 'jsonwebtoken';
import { ObjectId } from 'bson';
import { auditLog, type AuditLogMiddleware, type AuditLogOptions } from 'express-audit-log';

export const SECRET = 'test-secret-not-for-production';

export function token(claims: Record<string, unknown>, options: jwt.SignOptions = {}): string {
  return jwt.sign(claims, SECRET, { algorithm: 'HS256', expiresIn: '1h', ...options });
}

export const ADMIN = token({ sub: 'admin-1', scope: 'admin' });
export const USER = token({ sub: 'user-1', scope: 'user' });

interface Doc {
  _id: string;
  [key: string]: unknown;
}

export interface TestApp {
  app: express.Express;
  audit: AuditLogMiddleware;
  data: Map<string, Map<string, Doc>>;
}

export function createTestApp(options: AuditLogOptions, configure?: (app: express.Express) => void): TestApp {
  const app = express();
  const data = new Map<string, Map<string, Doc>>();
  const collection = (name: string) => {
    if (!data.has(name)) data.set(name, new Map());
    return data.get(name)!;
  };
  configure?.(app);
  app.use(express.json());
  app.use(expressjwt({ secret: SECRET, algorithms: ['HS256'], credentialsRequired: false }));
  // The tests find their entries by the echoed request id; the default (off) has its own test.
  const audit = auditLog({ echoRequestId: true, ...options });
  app.use(audit);

  const create = (name: string, body: Record<string, unknown>): Doc => {
    const doc = { _id: new ObjectId().toHexString(), ...body };
    collection(name).set(doc._id, doc);
    return doc;
  };

  app.get('/:model/:id', (req, res) => {
    const doc = collection(req.params.model as string).get(req.params.id as string);
    if (!doc) {
      res.status(404).json({ message: 'No resource was found with that id.' });
      return;
    }
    res.json(doc);
  });

  app.post('/:model', (req, res) => {
    const model = req.params.model as string;
    const items: Record<string, unknown>[] = Array.isArray(req.body) ? req.body : [req.body];
    if (model === 'user') {
      const emails = new Set([...collection('user').values()].map((u) => u.email));
      if (items.some((item) => emails.has(item.email))) {
        res.status(409).json({ statusCode: 409, error: 'Conflict', message: 'There was a duplicate key error.' });
        return;
      }
    }
    const created = items.map((item) => create(model, item));
    res.status(201).json(Array.isArray(req.body) ? created : created[0]);
  });

  app.put('/:model/:id', (req, res) => {
    const docs = collection(req.params.model as string);
    const doc = docs.get(req.params.id as string);
    if (!doc) {
      res.status(404).json({ message: 'No resource was found with that id.' });
      return;
    }
    if (req.body?.email === 'error@user.com') {
      res.status(400).json({ statusCode: 400, error: 'Bad Request', message: 'user error' });
      return;
    }
    Object.assign(doc, req.body);
    res.json(doc);
  });

  app.patch('/:model/:id', (req, res) => {
    const doc = collection(req.params.model as string).get(req.params.id as string);
    if (!doc) {
      res.status(404).json({ message: 'No resource was found with that id.' });
      return;
    }
    res.json(Object.assign(doc, req.body));
  });

  app.delete('/:model/:id', (req, res) => {
    const docs = collection(req.params.model as string);
    if (!docs.delete(req.params.id as string)) {
      res.status(404).json({ message: 'No resource was found with that id.' });
      return;
    }
    res.status(204).end();
  });

  app.delete('/:model', (req, res) => {
    const docs = collection(req.params.model as string);
    const ids: unknown[] = Array.isArray(req.body) ? req.body : [];
    for (const item of ids) docs.delete(typeof item === 'string' ? item : String((item as Doc)._id));
    res.status(204).end();
  });

  // Associations: PUT one / POST many add; DELETE one / DELETE many remove.
  const owner = (req: Request, res: Response): Doc | null => {
    const doc = collection(req.params.owner as string).get(req.params.ownerId as string);
    if (!doc) res.status(404).json({ message: 'No owner resource was found with that id.' });
    return doc ?? null;
  };
  const link = (doc: Doc, child: string, ids: string[], add: boolean) => {
    const current = new Set((doc[child] as string[] | undefined) ?? []);
    for (const id of ids) add ? current.add(id) : current.delete(id);
    doc[child] = [...current];
  };
  const childIds = (body: unknown): string[] =>
    (Array.isArray(body) ? body : []).map((item) => (typeof item === 'string' ? item : String((item as { childId: string }).childId)));

  app.put('/:owner/:ownerId/:child/:childId', (req, res) => {
    const doc = owner(req, res);
    if (doc) {
      link(doc, req.params.child as string, [req.params.childId as string], true);
      res.status(204).end();
    }
  });
  app.post('/:owner/:ownerId/:child', (req, res) => {
    const doc = owner(req, res);
    if (doc) {
      link(doc, req.params.child as string, childIds(req.body), true);
      res.status(204).end();
    }
  });
  app.delete('/:owner/:ownerId/:child/:childId', (req, res) => {
    const doc = owner(req, res);
    if (doc) {
      link(doc, req.params.child as string, [req.params.childId as string], false);
      res.status(204).end();
    }
  });
  app.delete('/:owner/:ownerId/:child', (req, res) => {
    const doc = owner(req, res);
    if (doc) {
      link(doc, req.params.child as string, childIds(req.body), false);
      res.status(204).end();
    }
  });

  app.post('/crash/now', () => {
    throw new Error('boom');
  });

  // express-jwt and handler errors: JSON, like most APIs.
  app.use((error: Error & { status?: number }, _req: Request, res: Response, _next: NextFunction) => {
    const status = error.status ?? 500;
    res.status(status).json({ statusCode: status, message: status === 500 ? 'An internal server error occurred' : error.message });
  });
  return { app, audit, data };
}
