'use strict';
/** The Express app: counter → express.json() → the variant's middleware → the routes. */
const express = require('express');
const items = require('./items');

async function listen(variant, counter) {
  const app = express();
  app.disable('x-powered-by');
  app.use(counter);
  app.use(express.json({ limit: '1mb' })); // the size scenario posts 100 KB bodies
  for (const mw of variant.middleware) app.use(mw);
  app.post('/items', (req, res) => {
    res.status(201).json(items.create(req.body));
  });
  app.put('/items/:id', (req, res) => {
    res.json(items.update(req.params.id, req.body));
  });
  app.delete('/items/:id', (req, res) => {
    res.json(items.remove(req.params.id));
  });
  app.get('/items/:id', (req, res) => {
    res.json(items.read(req.params.id));
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  server.keepAliveTimeout = 60_000;
  return {
    server,
    audit: variant.audit || null,
    close: async () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

module.exports = { listen };
