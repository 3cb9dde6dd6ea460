/** fileStore's data file: only its owner may read it (and its -wal/-shm files), from creation, on reopening, and when it was created looser. */
import fs from 'node:fs';
import path from 'node:path';
import express from 'express';
import request from 'supertest';
import { auditLog, fileStore } from 'express-audit-log';
import { tempDir } from '../support/stores';

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
