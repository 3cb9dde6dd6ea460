// TypeScript, module nodenext, compiled to an ES module.
import express, { type Request, type Response } from 'express';
import { auditLog, memoryStore, type AuditLogMiddleware } from 'express-audit-log';
import helpers from './exercise.cjs';

const app = express();
app.use(express.json());
const audit: AuditLogMiddleware = auditLog({ store: memoryStore(), publicRoutes: true });
app.use(audit);
app.post('/things', (req: Request, res: Response) => {
  res.status(201).json(req.body);
});
helpers.report(() => helpers.exercise(app, audit, auditLog));
