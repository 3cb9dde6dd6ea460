// TypeScript with moduleResolution bundler (module preserve), as Vite, esbuild or tsx users compile it.
import express, { type Request, type Response } from 'express';
import { auditLog, memoryStore, type AuditStore } from 'express-audit-log';
import helpers from './exercise.cjs';

const store: AuditStore = memoryStore();
const app = express();
app.use(express.json());
const audit = auditLog({ store, publicRoutes: true });
app.use(audit);
app.post('/things', (req: Request, res: Response) => {
  res.status(201).json(req.body);
});
helpers.report(() => helpers.exercise(app, audit, auditLog));
