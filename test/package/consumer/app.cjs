// A CommonJS app that requires the package by name.
const express = require('express');
const { auditLog, memoryStore } = require('express-audit-log');
const { exercise, report } = require('./exercise.cjs');

const app = express();
app.use(express.json());
const audit = auditLog({ store: memoryStore(), publicRoutes: true });
app.use(audit);
app.post('/things', (req, res) => res.status(201).json(req.body));
report(() => exercise(app, audit, auditLog));
