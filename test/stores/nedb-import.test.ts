/**
 * 0.1's file store wrote a nedb data file. fileStore() at the same path imports it into SQLite
 * on first start: every live entry as nedb would have loaded it (updates and deletions replayed,
 * Dates as Dates), the old file kept beside it, and the import reported once.
 */
import fs from 'node:fs';
import path from 'node:path';
import Datastore from '@seald-io/nedb';
import { ObjectId } from 'bson';
import { fileStore, type AuditEntry, type AuditQuery } from 'express-audit-log';
import { blankEntry } from '../../src/entry';
import { tempDir } from '../support/stores';

const all: AuditQuery = { filter: {}, sort: [['date', 1]], skip: 0, limit: 100, select: null };
const T0 = Date.UTC(2026, 0, 10, 9, 0, 0);

function entry(i: number, overrides: Partial<AuditEntry> = {}): AuditEntry {
  return {
    ...blankEntry(new ObjectId().toHexString(), new Date(T0 + i * 1000)),
    method: 'POST',
    action: 'Create',
    endpoint: `/users/${i}`,
    user: 'alice',
    collectionName: 'users',
    documents: [`u${i}`],
    payload: { name: `n${i}`, at: new Date(T0 - i), tags: ['a', { deep: new Date(T0) }] },
    statusCode: 201,
    requestId: `r${i}`,
    ...overrides,
  };
}

describe('a 0.1 nedb data file at the path', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('is imported into SQLite on first start, with its updates and deletions, and kept as <path>.nedb-migrated', async () => {
    const file = path.join(dir, 'audit.db');
    const [a, b, c] = [entry(1), entry(2, { notes: null }), entry(3)];
    const nedb = new Datastore<AuditEntry>({ filename: file });
    await nedb.loadDatabaseAsync();
    await nedb.ensureIndexAsync({ fieldName: 'date' });
    await nedb.insertAsync([a!, b!, c!] as never);
    await nedb.updateAsync({ _id: b!._id }, { $set: { notes: 'edited' } });
    await nedb.removeAsync({ _id: c!._id }, {});
    const written = fs.readFileSync(file, 'utf8');
    // What the importer must handle: an index line, an update line and a deletion line.
    expect(written).toContain('$$indexCreated');
    expect(written).toContain('$$deleted');
    expect(written.split('\n').filter((line) => line.includes(b!._id))).toHaveLength(2);

    const warnings: Array<{ code: string; message: string }> = [];
    const store = fileStore({ path: file });
    await store.init({ ttlSeconds: null, warn: (code, message) => warnings.push({ code, message }) });
    const { docs, total } = await store.find(all);
    expect(total).toBe(2);
    expect(docs).toEqual([a, { ...b, notes: 'edited' }]);
    expect((docs[0]!.payload as { at: unknown }).at).toBeInstanceOf(Date);
    expect(await store.count({ documents: 'u2' })).toBe(1); // indexed like any stored entry
    await store.close();

    expect(warnings).toEqual([
      {
        code: 'EAUDIT_NEDB_MIGRATED',
        message: expect.stringMatching(/imported 2 entries from the express-audit-log 0.1 nedb file .* kept as .*audit\.db\.nedb-migrated/),
      },
    ]);
    expect(fs.readFileSync(`${file}.nedb-migrated`, 'utf8')).toBe(written);
    expect(fs.readFileSync(file).subarray(0, 16).toString('latin1')).toBe('SQLite format 3\u0000');
    if (process.platform !== 'win32') expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.existsSync(`${file}.importing`)).toBe(false);

    // Once: the next start opens the SQLite file as it is.
    const again = fileStore({ path: file });
    const later: string[] = [];
    await again.init({ ttlSeconds: null, warn: (code) => later.push(code) });
    expect(await again.count({})).toBe(2);
    expect(later).toEqual([]);
    await again.close();
  });

  test('lines that are not documents are skipped and counted, as nedb skipped them', async () => {
    const file = path.join(dir, 'audit.db');
    const good = entry(1);
    const nedb = new Datastore<AuditEntry>({ filename: file });
    await nedb.loadDatabaseAsync();
    await nedb.insertAsync(good as never);
    fs.appendFileSync(file, '{"_id":"torn", "date":{"$$da\n');
    const warnings: string[] = [];
    const store = fileStore({ path: file });
    await store.init({ ttlSeconds: null, warn: (_code, message) => warnings.push(message) });
    expect((await store.find(all)).docs).toEqual([good]);
    expect(warnings).toEqual([expect.stringMatching(/imported 1 entries .* 1 line\(s\) were not entries and were skipped/)]);
    await store.close();
  });
});
