// TypeScript, module nodenext, compiled to CommonJS: the package's types with skipLibCheck false.
import express = require('express');
import { auditLog, memoryStore, type AuditEntry, type AuditLogOptions } from 'express-audit-log';
import { exercise, report } from './exercise.cjs';

const options: AuditLogOptions = { store: memoryStore(), publicRoutes: true };
const app = express();
app.use(express.json());
const audit = auditLog(options);
app.use(audit);
app.post('/things', (req: express.Request, res: express.Response) => {
  res.status(201).json(req.body);
});
const collection: AuditEntry['collectionName'] = 'things';
report(() => exercise(app, audit, auditLog).then((message) => `${message}, ${collection}`));
