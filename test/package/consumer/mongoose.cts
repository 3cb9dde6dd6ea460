// Only where mongoose is installed: the mongoose parts keep their types (a real Connection and
// Schema fit, the plugin's options are checked) and the store is made from the app's mongoose.
import assert = require('node:assert/strict');
import mongoose = require('mongoose');
import { auditChanges, mongoStore } from 'express-audit-log';
import { report } from './exercise.cjs';

const schema = new mongoose.Schema({ name: String });
schema.plugin(auditChanges, { ignore: ['name'] });
// @ts-expect-error: a misspelt plugin option is a type error, and an error at startup
const misspelt = () => schema.plugin(auditChanges, { ignor: ['name'] });
const stores = [mongoStore({ connection: mongoose.createConnection() }), mongoStore({ connection: mongoose.connection }), mongoStore()];
report(async () => {
  if (!stores.every((store) => typeof store.insertMany === 'function')) throw new Error('mongoStore() did not make a store');
  assert.throws(misspelt, (error: { code?: string }) => error.code === 'EAUDIT_PLUGIN');
  return `mongoose ${mongoose.version}: mongoStore and auditChanges`;
});
