// An ES module app that imports the package by name (named exports from the CommonJS build).
import express from 'express';
import { auditLog, memoryStore } from 'express-audit-log';
import helpers from './exercise.cjs';

const app = express();
app.use(express.json());
const audit = auditLog({ store: memoryStore(), publicRoutes: true });
app.use(audit);
app.post('/things', (req, res) => res.status(201).json(req.body));
helpers.report(() => helpers.exercise(app, audit, auditLog));
