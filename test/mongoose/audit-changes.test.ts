/**
 * The auditChanges mongoose plugin against the MongoDB test server: which writes it sees, what
 * it records, where the record goes, and that it never gets in the way of the write.
 */
import mongoose from 'mongoose';
import { auditChanges, auditLog, memoryStore, type AuditChange, type AuditLogMiddleware } from 'express-audit-log';
import { openStore, type OpenedStore } from '../support/stores';
import { until } from '../support/wait';
import { all, stored } from '../events/helpers';

interface Book {
  title: string;
  status?: string;
  meta?: { pages?: number; tags?: string[]; publisher?: { name?: string; city?: string } };
  apiKey?: string;
  credentials?: { password?: string; user?: string };
  notes?: string;
}

let opened: OpenedStore;
let connection: mongoose.Connection;
let Book: mongoose.Model<Book>;
let Loose: mongoose.Model<Book>;
let audit: AuditLogMiddleware;
let fallback: AuditLogMiddleware;

beforeAll(async () => {
  opened = await openStore('mongo');
  connection = opened.connection!;
  const shape = {
    title: String,
    status: String,
    meta: { pages: Number, tags: [String], publisher: { name: String, city: String } },
    apiKey: String,
    credentials: { password: String, user: String },
    notes: String,
  };
  const schema = new mongoose.Schema<Book>(shape, { timestamps: true });
  schema.plugin(auditChanges, { ignore: ['notes'] });
  Book = connection.model<Book>('Book', schema);
  // A second model whose plugin records writes made outside any context into `fallback`.
  fallback = auditLog({ store: memoryStore() });
  const looseSchema = new mongoose.Schema<Book>(shape);
  looseSchema.plugin(auditChanges, { audit: fallback, collectionName: 'loose-books' });
  Loose = connection.model<Book>('Loose', looseSchema);
});

afterAll(async () => {
  await fallback.close();
  await opened.cleanup();
});

beforeEach(() => {
  audit = auditLog({ store: memoryStore(), maxFieldBytes: 4096 });
});
afterEach(() => audit.close());

const job = <T>(fn: () => Promise<T>) => audit.runWithContext({ user: 'job:1', requestId: 'job-run-1' }, fn);

async function newBook(fields: Partial<Book> = {}) {
  return Book.create({
    title: 'Dune',
    status: 'draft',
    meta: { pages: 412, tags: ['sf'], publisher: { name: 'Chilton', city: 'Philadelphia' } },
    apiKey: 'k-1',
    ...fields,
  });
}

const change = (fields: Partial<AuditChange>) => expect.objectContaining(fields);

describe('in a job context (runWithContext): each write becomes an entry of its own', () => {
  test('save of a loaded document: changed paths with before and after, nested by dotted path; _id, __v and updatedAt skipped', async () => {
    const book = await newBook();
    await job(async () => {
      const loaded = (await Book.findById(book._id))!;
      loaded.title = 'Dune Messiah';
      loaded.meta!.publisher!.city = 'New York';
      loaded.meta!.tags = ['sf', 'classic'];
      loaded.status = undefined;
      await loaded.save();
    });
    const [entry] = await stored(audit, 1);
    expect(entry).toMatchObject({ action: 'Update', collectionName: 'books', documents: [book.id], user: 'job:1', requestId: 'job-run-1', method: null });
    const id = book.id as string;
    expect(entry!.changes).toEqual([
      { collectionName: 'books', document: id, op: 'update', path: 'title', from: 'Dune', to: 'Dune Messiah' },
      { collectionName: 'books', document: id, op: 'update', path: 'status', from: 'draft' },
      { collectionName: 'books', document: id, op: 'update', path: 'meta.tags', from: ['sf'], to: ['sf', 'classic'] },
      { collectionName: 'books', document: id, op: 'update', path: 'meta.publisher.city', from: 'Philadelphia', to: 'New York' },
    ]);
    expect(entry!.changes!.map((c) => c.path)).not.toEqual(expect.arrayContaining(['updatedAt']));
  });

  test('findOneAndUpdate, findByIdAndUpdate and updateOne: the one document the filter picks', async () => {
    const a = await newBook({ title: 'A' });
    const b = await newBook({ title: 'B' });
    await job(async () => {
      await Book.findOneAndUpdate({ title: 'A' }, { $set: { status: 'review' } });
      await Book.findByIdAndUpdate(b._id, { 'meta.pages': 500 }, { returnDocument: 'after' });
      await Book.updateOne({ _id: a._id }, { $set: { status: 'published' }, $unset: { apiKey: 1 } });
    });
    const entries = await stored(audit, 3);
    expect(entries.map((e) => [e.documents, e.changes])).toEqual([
      [[a.id], [change({ path: 'status', from: 'draft', to: 'review' })]],
      [[b.id], [change({ path: 'meta.pages', from: 412, to: 500 })]],
      [[a.id], [change({ path: 'status', from: 'review', to: 'published' }), change({ path: 'apiKey', from: '[REDACTED]' })]],
    ]);
  });

  test('deleteOne (query and document) and findOneAndDelete: every path of the deleted document, with no `to`', async () => {
    const a = await newBook({ title: 'gone-1' });
    const b = await newBook({ title: 'gone-2' });
    const c = await newBook({ title: 'gone-3' });
    await job(async () => {
      await Book.deleteOne({ _id: a._id });
      await b.deleteOne();
      await Book.findOneAndDelete({ title: 'gone-3' });
      await Book.deleteOne({ title: 'no such book' });
    });
    const entries = await stored(audit, 3);
    expect(entries.map((e) => [e.action, e.documents])).toEqual([
      ['Delete', [a.id]],
      ['Delete', [b.id]],
      ['Delete', [c.id]],
    ]);
    const changes = entries[0]!.changes!;
    expect(changes.every((x) => x.op === 'delete' && !('to' in x))).toBe(true);
    expect(changes.map((x) => x.path)).toEqual(expect.arrayContaining(['title', 'status', 'meta', 'apiKey', 'createdAt']));
    expect(changes.find((x) => x.path === 'meta')!.from).toEqual({ pages: 412, tags: ['sf'], publisher: { name: 'Chilton', city: 'Philadelphia' } });
    expect(changes.find((x) => x.path === 'apiKey')!.from).toBe('[REDACTED]');
  });

  test('secrets are redacted by any segment of their path, on both sides, and the path is still reported', async () => {
    const book = await newBook({ credentials: { user: 'svc', password: 'old-pass' } });
    await job(() => Book.updateOne({ _id: book._id }, { $set: { 'credentials.password': 'new-pass', apiKey: 'k-2' } }).exec());
    const [entry] = await stored(audit, 1);
    expect(entry!.changes).toEqual([
      change({ path: 'apiKey', from: '[REDACTED]', to: '[REDACTED]' }),
      change({ path: 'credentials.password', from: '[REDACTED]', to: '[REDACTED]' }),
    ]);
    expect(JSON.stringify(entry)).not.toMatch(/pass'|old-pass|new-pass|k-2/);
  });

  test('an update that changes nothing, or only ignored paths, records nothing', async () => {
    const book = await newBook();
    await job(async () => {
      await Book.updateOne({ _id: book._id }, { $set: { title: 'Dune' } });
      await Book.updateOne({ _id: book._id }, { $set: { notes: 'ignored by the plugin option' } });
    });
    await audit.flush();
    expect(audit.stats().recorded).toBe(0);
  });

  test('a huge value is capped like a payload and the entry says so', async () => {
    const book = await newBook();
    await job(() => Book.updateOne({ _id: book._id }, { $set: { title: 't'.repeat(10_000) } }).exec());
    const [entry] = await stored(audit, 1);
    expect(entry!.changes![0]!.to).toMatch(/^\[Truncated/);
    expect(entry!.truncated).toEqual(['changes']);
  });
});

describe('outside any context', () => {
  test('writes are not looked at: no extra reads, nothing recorded', async () => {
    const book = await newBook();
    const findOne = jest.spyOn(Book, 'findOne');
    await Book.updateOne({ _id: book._id }, { $set: { title: 'quiet' } });
    await Book.deleteOne({ _id: book._id });
    expect(findOne).not.toHaveBeenCalled();
    findOne.mockRestore();
    await audit.flush();
    expect(audit.stats().recorded).toBe(0);
  });

  test('with the plugin option { audit }, they are recorded there, with no user', async () => {
    const doc = await Loose.create({ title: 'loose' });
    await Loose.updateOne({ _id: doc._id }, { $set: { title: 'tight' } });
    const [entry] = await stored(fallback, 1);
    expect(entry).toMatchObject({ action: 'Update', collectionName: 'loose-books', documents: [doc.id], user: null, requestId: null });
    expect(entry!.changes).toEqual([change({ collectionName: 'loose-books', path: 'title', from: 'loose', to: 'tight' })]);
  });

  test("a disabled instance's context records nothing and reads nothing", async () => {
    const off = auditLog({ enabled: false });
    const book = await newBook();
    const findOne = jest.spyOn(Book, 'findOne');
    await off.runWithContext({ user: 'u' }, () => Book.updateOne({ _id: book._id }, { $set: { title: 'x' } }).exec());
    expect(findOne).not.toHaveBeenCalled();
    findOne.mockRestore();
  });
});

describe('what it cannot see (documented limits)', () => {
  test('updateMany, deleteMany, creates and raw driver writes are not recorded', async () => {
    const book = await newBook({ title: 'many' });
    await job(async () => {
      await Book.create({ title: 'created' });
      await Book.updateMany({ title: 'many' }, { $set: { status: 'bulk' } });
      await Book.collection.updateOne({ _id: book._id }, { $set: { status: 'raw' } });
      await Book.deleteMany({ title: 'created' });
    });
    await audit.flush();
    expect(audit.stats().recorded).toBe(0);
  });
});

describe('it never gets in the way of the write', () => {
  test('a failing read before the write is reported through the error event; the write goes through', async () => {
    const book = await newBook();
    const errors: Error[] = [];
    audit.on('error', (error) => errors.push(error));
    const findOne = jest.spyOn(Book, 'findOne').mockImplementation(() => {
      throw new Error('read refused');
    });
    try {
      await job(() => Book.updateOne({ _id: book._id }, { $set: { title: 'still written' } }).exec());
    } finally {
      findOne.mockRestore();
    }
    expect((await Book.findById(book._id).lean())!.title).toBe('still written');
    await until(() => errors.length === 1, 'the failure reported');
    expect(errors[0]).toMatchObject({ code: 'EAUDIT_CAPTURE' });
    expect(errors[0]!.message).toMatch(/read refused/);
    expect(await all(audit.store!)).toEqual([]);
  });

  test('a write that fails is not recorded and its error reaches the caller unchanged', async () => {
    const Strict = connection.model('StrictBook', new mongoose.Schema({ title: { type: String, required: true } }).plugin(auditChanges));
    const doc = await Strict.create({ title: 'x' });
    doc.title = undefined as never;
    await expect(job(() => doc.save())).rejects.toThrow(/title.*required/);
    await audit.flush();
    expect(audit.stats().recorded).toBe(0);
  });

  test('bad plugin options fail when the plugin is applied', () => {
    expect(() => new mongoose.Schema({}).plugin(auditChanges, { audit: {} as never })).toThrow(
      expect.objectContaining({ code: 'EAUDIT_PLUGIN', option: 'audit' }),
    );
    expect(() => new mongoose.Schema({}).plugin(auditChanges, { ignored: [] } as never)).toThrow(
      expect.objectContaining({ code: 'EAUDIT_PLUGIN', option: 'ignored' }),
    );
  });
});
