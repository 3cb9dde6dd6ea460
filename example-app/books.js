/**
 * Books, stored in MongoDB (only when MONGODB_URI is set): the mongoose diff plugin adds
 * `changes: [{ path, from, to }]` to each request's entry, and publishing goes through an
 * audited service function, recorded as its own entry under the same request id.
 */
const express = require('express');
const mongoose = require('mongoose');
const { audited, auditChanges, auditLog } = require('express-audit-log');

function createBooks(connection) {
  const schema = new mongoose.Schema(
    { title: { type: String, required: true }, status: { type: String, default: 'draft' }, isbn: String },
    { timestamps: true },
  );
  schema.plugin(auditChanges);
  const Book = connection.models.Book || connection.model('Book', schema);

  const publishBook = audited(
    async (id) => {
      const book = await Book.findByIdAndUpdate(id, { status: 'published' }, { returnDocument: 'after' }).lean();
      if (!book) throw Object.assign(new Error('No book with that id.'), { status: 404 });
      return book;
    },
    { action: 'book.publish.service', collectionName: 'books', documents: ([id]) => [id] },
  );

  const requireUser = (req, res, next) =>
    req.auth ? next() : res.status(401).json({ statusCode: 401, error: 'Unauthorized', message: 'Send a bearer token.' });
  const router = express.Router();
  router.get('/books', async (req, res) => res.json(await Book.find().lean()));
  router.post('/books', requireUser, async (req, res) => res.status(201).json(await Book.create(req.body)));
  router.patch('/books/:id', requireUser, async (req, res) => {
    const book = await Book.findById(req.params.id);
    if (!book) return res.status(404).json({ statusCode: 404, error: 'Not Found', message: 'No book with that id.' });
    book.set(req.body);
    res.json(await book.save());
  });
  router.delete('/books/:id', requireUser, async (req, res) => {
    await Book.deleteOne({ _id: req.params.id });
    res.status(204).end();
  });
  router.post('/books/:id/publish', requireUser, async (req, res, next) => {
    auditLog.annotate(req, { action: 'book.publish', collectionName: 'books', documents: [req.params.id] });
    try {
      res.json(await publishBook(req.params.id));
    } catch (error) {
      next(error);
    }
  });
  return router;
}

module.exports = { createBooks };
