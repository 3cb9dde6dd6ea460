/** The example's resources: users, roles and groups kept in memory, with associations. */
const express = require('express');
const { randomUUID } = require('node:crypto');
const { audited, auditLog } = require('express-audit-log');

function requireUser(req, res, next) {
  if (!req.auth) return res.status(401).json({ statusCode: 401, error: 'Unauthorized', message: 'Send a bearer token (see the tokens printed at start).' });
  next();
}

function createResources() {
  const router = express.Router();
  const collections = { users: new Map(), roles: new Map(), groups: new Map() };
  const collectionOf = (name, res) => {
    const docs = collections[name];
    if (!docs) res.status(404).json({ statusCode: 404, error: 'Not Found', message: `No collection '${name}'. Try users, roles or groups.` });
    return docs;
  };

  router.get('/:collection', (req, res) => {
    const docs = collectionOf(req.params.collection, res);
    if (docs) res.json([...docs.values()]);
  });
  router.get('/:collection/:id', (req, res) => {
    const docs = collectionOf(req.params.collection, res);
    if (!docs) return;
    const doc = docs.get(req.params.id);
    if (!doc) return res.status(404).json({ statusCode: 404, error: 'Not Found', message: 'No resource was found with that id.' });
    res.json(doc);
  });

  router.post('/:collection', requireUser, (req, res) => {
    const docs = collectionOf(req.params.collection, res);
    if (!docs) return;
    const items = Array.isArray(req.body) ? req.body : [req.body];
    if (items.some((item) => !item || typeof item.name !== 'string')) {
      return res.status(400).json({ statusCode: 400, error: 'Bad Request', message: 'Each item needs a "name" string.' });
    }
    const created = items.map(({ password, ...fields }) => {
      const doc = { _id: randomUUID(), ...fields, createdBy: req.auth.sub };
      docs.set(doc._id, doc);
      return doc;
    });
    res.status(201).json(Array.isArray(req.body) ? created : created[0]);
  });

  router.put('/:collection/:id', requireUser, (req, res) => {
    const docs = collectionOf(req.params.collection, res);
    if (!docs) return;
    const doc = docs.get(req.params.id);
    if (!doc) return res.status(404).json({ statusCode: 404, error: 'Not Found', message: 'No resource was found with that id.' });
    Object.assign(doc, req.body, { _id: doc._id });
    res.json(doc);
  });

  router.delete('/:collection/:id', requireUser, (req, res) => {
    const docs = collectionOf(req.params.collection, res);
    if (!docs) return;
    if (!docs.delete(req.params.id)) return res.status(404).json({ statusCode: 404, error: 'Not Found', message: 'No resource was found with that id.' });
    res.status(204).end();
  });

  // Associations: PUT/DELETE one child, POST/DELETE many ([id, ...] or [{ childId }, ...]).
  const link = (add) => (req, res) => {
    const owners = collectionOf(req.params.collection, res);
    if (!owners) return;
    const owner = owners.get(req.params.id);
    if (!owner) return res.status(404).json({ statusCode: 404, error: 'Not Found', message: 'No owner resource was found with that id.' });
    const ids = req.params.childId ? [req.params.childId] : (Array.isArray(req.body) ? req.body : []).map((x) => (typeof x === 'string' ? x : x && x.childId));
    const set = new Set(owner[req.params.child] || []);
    for (const id of ids.filter(Boolean)) add ? set.add(id) : set.delete(id);
    owner[req.params.child] = [...set];
    res.status(200).json(owner);
  };
  // An audited service function: each call is an entry of its own (arguments, result or error,
  // duration), carrying the calling request's user and request id.
  const archiveGroup = audited(
    (id) => {
      const group = collections.groups.get(id);
      if (!group) throw Object.assign(new Error('No group with that id.'), { status: 404 });
      group.archived = true;
      return group;
    },
    { action: 'group.archive', collectionName: 'groups', documents: ([id]) => [id] },
  );

  router.post('/groups/:id/archive', requireUser, (req, res, next) => {
    // Without this the path would read as an association (/groups/:id/archive); say what it is.
    auditLog.annotate(req, { action: 'Archive', childCollectionName: null, associationType: null });
    try {
      res.json(archiveGroup(req.params.id));
    } catch (error) {
      next(error);
    }
  });

  router.put('/:collection/:id/:child/:childId', requireUser, link(true));
  router.post('/:collection/:id/:child', requireUser, link(true));
  router.delete('/:collection/:id/:child/:childId', requireUser, link(false));
  router.delete('/:collection/:id/:child', requireUser, link(false));
  return router;
}

module.exports = { createResources };
