/**
 * fileStore on SQLite: its data file only its owner may read (and its -wal/-shm files), TTL as
 * MongoDB's, rejected entries, a foreign file refused, and the binding an optional peer dependency.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ObjectId } from 'bson';
import express from 'express';
import request from 'supertest';
import { auditLog, fileStore, type AuditEntry } from 'express-audit-log';
import { blankEntry } from '../../src/entry';
import { tempDir } from '../support/stores';
import { until } from '../support/wait';

const modeOf = (file: string) => fs.statSync(file).mode & 0o777;
const posix = process.platform !== 'win32';

(posix ? describe : describe.skip)('fileStore data file mode', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function recordOne(file: string): Promise<Array<{ code?: string; message: string }>> {
    const errors: Array<{ code?: string; message: string }> = [];
    const audit = auditLog({ store: fileStore({ path: file }) });
    audit.on('error', (error: Error & { code?: string }) => errors.push({ code: error.code, message: error.message }));
    const app = express();
    app.use(express.json());
    app.use(audit);
    app.post('/things', (_req, res) => {
      res.status(201).json({ ok: true });
    });
    await request(app).post('/things').send({ secretish: 'body' }).expect(201);
    await audit.flush();
    await audit.close();
    return errors;
  }

  test('a new data file (and the directory it creates) is 0600 (0700), so are its -wal and -shm files, and reopening keeps them so', async () => {
    const file = path.join(dir, 'nested', 'audit.db');
    expect(await recordOne(file)).toEqual([]);
    expect(modeOf(file)).toBe(0o600);
    expect(modeOf(path.dirname(file))).toBe(0o700);
    await recordOne(file);
    expect(modeOf(file)).toBe(0o600);
    for (const side of [`${file}-wal`, `${file}-shm`]) if (fs.existsSync(side)) expect(modeOf(side)).toBe(0o600);
    const store = fileStore({ path: file });
    await store.init({ ttlSeconds: null });
    // While open, SQLite keeps its WAL and shared-memory files beside the database: with its mode.
    expect(modeOf(`${file}-wal`)).toBe(0o600);
    expect(modeOf(`${file}-shm`)).toBe(0o600);
    expect(await store.count({ collectionName: 'things' })).toBe(2);
    await store.close();
  });

  test('an existing data file others can read is made 0600, and that is reported with EAUDIT_FILE_MODE', async () => {
    const file = path.join(dir, 'audit.db');
    fs.writeFileSync(file, '', { mode: 0o644 });
    fs.chmodSync(file, 0o666);
    const errors = await recordOne(file);
    expect(modeOf(file)).toBe(0o600);
    expect(errors).toEqual([{ code: 'EAUDIT_FILE_MODE', message: expect.stringMatching(/was readable or writable by others \(mode 0666\); it is now 0600/) }]);
  });
});

describe('fileStore on SQLite', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const HOUR = 3_600_000;
  let n = 0;
  function made(date: Date, overrides: Partial<AuditEntry> = {}): AuditEntry {
    n += 1;
    return { ...blankEntry(new ObjectId().toHexString(), date), method: 'POST', action: 'Create', user: 'u', requestId: `r${n}`, ...overrides };
  }

  /** What the file holds, whatever the TTL says now: a store opened without one. */
  async function stored(file: string): Promise<number> {
    const store = fileStore({ path: file });
    await store.init({ ttlSeconds: null });
    const count = await store.count({});
    await store.close();
    return count;
  }

  test('each entry expires at its own expireAt (the store alone never moves a stored expiry; auditLog() re-applies a changed policy at start), and expired entries are deleted, not only hidden', async () => {
    const file = path.join(dir, 'audit.db');
    const dayTtl = fileStore({ path: file });
    await dayTtl.init({ ttlSeconds: 86_400 });
    const old = made(new Date(Date.now() - 2 * HOUR));
    const gone = { ...made(new Date(Date.now() - 2 * HOUR)), expireAt: new Date(Date.now() - HOUR) };
    await dayTtl.insertMany([old, gone]);
    expect((await dayTtl.findById(old._id))!.expireAt).toEqual(new Date(old.date.getTime() + 86_400_000));
    await dayTtl.close();

    const hourTtl = fileStore({ path: file, sweepIntervalMs: 20 });
    await hourTtl.init({ ttlSeconds: 3600 });
    // Written under the day ttl: kept its expiry. Past its own expiry: gone.
    expect(await hourTtl.findById(old._id)).not.toBeNull();
    expect(await hourTtl.findById(gone._id)).toBeNull();
    const later = made(new Date(Date.now() - 2 * HOUR));
    await hourTtl.insertMany([later]);
    expect(await hourTtl.findById(later._id)).toBeNull();
    // Deleted from the file (by the sweep), not only filtered out of reads.
    await until(async () => (await stored(file)) === 1, 'the expired entries to be deleted');
    await hourTtl.close();
  });

  test('a file written before expireAt existed: the columns are added, and its entries get date + ttl at start', async () => {
    const file = path.join(dir, 'audit.db');
    const first = fileStore({ path: file });
    await first.init({ ttlSeconds: null });
    const old = made(new Date(Date.now() - 2 * HOUR));
    const fresh = made(new Date());
    await first.insertMany([old, fresh]);
    await first.close();
    // What 0.1.x left: no expireAt or holds column.
    const Database = require('better-sqlite3');
    const db = new Database(file);
    db.exec('DROP INDEX audit_log_expire; ALTER TABLE audit_log DROP COLUMN "expireAt"; ALTER TABLE audit_log DROP COLUMN holds');
    db.close();

    const store = fileStore({ path: file });
    await store.init({ ttlSeconds: 3600 });
    expect(await store.findById(old._id)).toBeNull();
    expect((await store.findById(fresh._id))!.expireAt).toEqual(new Date(fresh.date.getTime() + 3_600_000));
    await store.close();
  });

  test('the sweep timer deletes entries as they expire, thousands at a time, and close() stops it', async () => {
    const file = path.join(dir, 'audit.db');
    const store = fileStore({ path: file, sweepIntervalMs: 20 });
    await store.init({ ttlSeconds: 1 });
    // Not yet expired at start: only the timer can delete them.
    const soon = Array.from({ length: 2500 }, () => made(new Date(Date.now() - 500)));
    await store.insertMany(soon);
    await store.insertMany([made(new Date(Date.now() + HOUR))]);
    await until(async () => (await stored(file)) === 1, 'the timer to delete 2,500 expired entries');
    await store.close();
    await expect(store.count({})).rejects.toThrow(/closed/);
  });

  test('an entry that can never be stored is rejected (the writer drops it), and nothing of its batch is written', async () => {
    const store = fileStore({ path: path.join(dir, 'audit.db') });
    await store.init({ ttlSeconds: null });
    const bad = made(new Date(Number.NaN));
    await expect(store.insertMany([made(new Date()), bad])).rejects.toMatchObject({
      rejected: true,
      message: expect.stringMatching(/date must be a valid Date/),
    });
    expect(await store.count({})).toBe(0); // one transaction per batch: nothing of it was written
    await store.close();
  });

  test('a file that is neither SQLite nor a nedb data file is refused at start, and left alone', async () => {
    const file = path.join(dir, 'notes.txt');
    fs.writeFileSync(file, 'my notes\n', { mode: 0o600 });
    const store = fileStore({ path: file });
    await expect(store.init({ ttlSeconds: null })).rejects.toThrow(/neither an SQLite database nor a nedb data file.*another path/);
    expect(fs.readFileSync(file, 'utf8')).toBe('my notes\n');
    await store.close();
  });
});

describe('fileStore: fields added to the entry after a file was made', () => {
  test('a file without the tenant column gets it at start, keeps its entries, and indexes tenant and date when getTenant is on', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'audit.db');
    try {
      const old = { ...blankEntry(new ObjectId().toHexString(), new Date()), action: 'Create', user: 'u' };
      const first = fileStore({ path: file });
      await first.init({ ttlSeconds: null });
      await first.insertMany([old]);
      await first.close();
      // The file as a build before tenants made it.
      const Database = require('better-sqlite3');
      const raw = new Database(file);
      raw.exec('ALTER TABLE audit_log DROP COLUMN "tenant"');
      raw.close();

      const store = fileStore({ path: file });
      await store.init({ ttlSeconds: null, tenants: true });
      const mine = { ...blankEntry(new ObjectId().toHexString(), new Date()), action: 'Update', tenant: 'acme' };
      await store.insertMany([mine]);
      expect(await store.findById(old._id)).toEqual(expect.objectContaining({ _id: old._id, user: 'u' }));
      expect((await store.find({ filter: { tenant: 'acme' }, sort: [], skip: 0, limit: 10, select: null })).docs).toEqual([mine]);
      await store.close();

      const check = new Database(file, { readonly: true });
      const indexes = check
        .prepare("SELECT name FROM sqlite_master WHERE type = 'index'")
        .all()
        .map((row: { name: string }) => row.name);
      check.close();
      expect(indexes).toContain('audit_log_tenant_date');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

test('a file made before a field existed gets its column on open (the encryption fields; past 32 fields, absent ones stay absent)', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'audit.db');
  const first = fileStore({ path: file });
  await first.init({ ttlSeconds: null });
  await first.close();
  // As an earlier version left it: no subject or sealed column.
  const Database = require('better-sqlite3');
  const db = new Database(file);
  db.exec('ALTER TABLE audit_log DROP COLUMN "subject"; ALTER TABLE audit_log DROP COLUMN "sealed"');
  db.close();

  const store = fileStore({ path: file });
  await store.init({ ttlSeconds: null, encryption: true });
  const plain = blankEntry(new ObjectId().toHexString(), new Date());
  const sealed = { ...blankEntry(new ObjectId().toHexString(), new Date()), subject: 's', sealed: '1:k::' };
  await store.insertMany([plain, sealed]);
  expect(await store.findById(plain._id)).not.toHaveProperty('sealed');
  expect(await store.findById(sealed._id)).toMatchObject({ subject: 's', sealed: '1:k::' });
  expect(await store.count({ subject: 's' })).toBe(1);
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('better-sqlite3 is an optional peer dependency', () => {
  test('fileStore() without it throws at start, naming the install command', () => {
    jest.isolateModules(() => {
      jest.doMock('better-sqlite3', () => {
        throw Object.assign(new Error("Cannot find module 'better-sqlite3' from 'src/stores/sqlite-driver.ts'"), { code: 'MODULE_NOT_FOUND' });
      });
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const isolated = require('express-audit-log') as typeof import('express-audit-log');
      expect(() => isolated.fileStore({ path: 'audit.db' })).toThrow(
        expect.objectContaining({ code: 'EAUDIT_NO_SQLITE', message: expect.stringContaining('npm install better-sqlite3@12') }),
      );
      // The other stores do not need it.
      expect(() => isolated.memoryStore()).not.toThrow();
    });
  });

  test('an app that does not use fileStore() never loads the native module', () => {
    const dist = path.join(__dirname, '..', '..', 'dist', 'index.js');
    const script = `const audit = require(${JSON.stringify(dist)}); audit.auditLog({ store: audit.memoryStore() }); audit.mongoStore; console.log(JSON.stringify(Object.keys(require.cache).filter((file) => file.includes('better-sqlite3'))))`;
    expect(JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }))).toEqual([]);
  });
});
