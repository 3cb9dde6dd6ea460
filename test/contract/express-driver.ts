/** The contract app on Express 5 (see driver.ts): express-jwt's req.auth, express.json(), auditLog(). */
import type { AddressInfo } from 'net';
import express from 'express';
import { expressjwt } from 'express-jwt';
import { ObjectId } from 'bson';
import { auditLog } from 'express-audit-log';
import { SECRET } from '../support/app';
import { NOT_FOUND, type FrameworkDriver } from './driver';

const newId = () => new ObjectId().toHexString();

export const expressDriver: FrameworkDriver = {
  name: 'express',
  async start(options) {
    const app = express();
    app.use(express.json());
    app.use(expressjwt({ secret: SECRET, algorithms: ['HS256'], credentialsRequired: false }));
    const audit = auditLog(options);
    app.use(audit);
    const users = new Map<string, Record<string, unknown>>();

    app.post('/api/v1/users', (req, res) => {
      const doc = { _id: newId(), ...req.body };
      users.set(doc._id, doc);
      res.status(201).json(doc);
    });
    app.get('/api/v1/users/:id', (req, res) => {
      const doc = users.get(req.params.id);
      if (doc) res.json(doc);
      else res.status(404).json(NOT_FOUND);
    });
    app.put('/api/v1/users/:id', (req, res) => {
      const doc = users.get(req.params.id);
      if (!doc) {
        res.status(404).json(NOT_FOUND);
        return;
      }
      const updated = { ...doc, ...req.body };
      users.set(req.params.id, updated);
      res.json(updated);
    });
    app.delete('/api/v1/users/:id', (req, res) => {
      users.delete(req.params.id);
      res.status(204).end();
    });
    app.post('/api/v1/users/:id/roles', (req, res) => {
      res.status(201).json({ _id: newId(), ownerId: req.params.id, ...req.body });
    });
    app.delete('/api/v1/users/:id/roles/:roleId', (_req, res) => {
      res.status(204).end();
    });
    app.post('/auth/login', (_req, res) => {
      res.json({ token: 'x' });
    });
    app.post('/fail', (_req, res) => {
      res.status(500).json({ message: 'boom' });
    });

    const server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
    const { port } = server.address() as AddressInfo;
    return {
      url: `http://127.0.0.1:${port}`,
      audit,
      close: async () => {
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await audit.close();
      },
    };
  },
};
