/**
 * Tamper evidence on every store: the log is written through the app, changed behind the
 * product's back (test/support/tamper.ts), and `GET /auditLog/verify` must find each change and
 * name its kind, and nothing else.
 */
import { generateKeyPairSync } from 'node:crypto';
import request from 'supertest';
import { ObjectId } from 'bson';
import type { AuditEntry } from 'express-audit-log';
import { hashEntry } from '../../src/integrity/canonical';
import { ADMIN, createTestApp } from '../support/app';
import { STORE_KINDS, type StoreKind } from '../support/stores';
import { stopMongoLogs, tamperableLog, type TamperLog } from '../support/tamper';

const { privateKey } = generateKeyPairSync('ed25519');
const ENTRIES = 30;
const integrity = { signingKey: privateKey, checkpointEvery: 10 };

afterAll(stopMongoLogs);

/** Writes ENTRIES requests through an app with integrity on, closes it (a last checkpoint), and returns the entries by seq. */
async function writeLog(log: TamperLog): Promise<AuditEntry[]> {
  const store = await log.open();
  const { app, audit } = createTestApp({ store, integrity });
  for (let i = 0; i < ENTRIES; i++) {
    await request(app)
      .post('/thing')
      .set('Authorization', `Bearer ${ADMIN}`)
      .send({ name: `t${i}`, 'dotted.key': i, $op: 'x', when: '2026-01-01T00:00:00.000Z' })
      .expect(201);
  }
  await audit.flush();
  const { docs } = await store.find({ filter: {}, sort: [['seq', 1]], skip: 0, limit: 1000, select: null });
  await audit.close();
  expect(docs.map((doc) => doc.seq)).toEqual(Array.from({ length: ENTRIES }, (_, i) => i + 1));
  return docs as AuditEntry[];
}

/** Verifies the log as it stands through the route of a new app on the same store. */
async function verify(log: TamperLog) {
  const store = await log.open();
  const { app, audit } = createTestApp({ store, integrity });
  const res = await request(app).get('/auditLog/verify').set('Authorization', `Bearer ${ADMIN}`).expect(200);
  await audit.close();
  return res.body;
}

/** The problems, reduced to what the test names. */
function found(body: { problems: Array<Record<string, unknown>> }) {
  return body.problems.map(({ kind, seq, fromSeq, toSeq, entryId, checkpointId }) => ({
    kind,
    ...(seq !== undefined && { seq }),
    ...(fromSeq !== undefined && { fromSeq, toSeq }),
    ...(entryId !== undefined && { entryId }),
    ...(checkpointId !== undefined && { checkpointId }),
  }));
}

describe.each(STORE_KINDS)('tampering with a %s store', (kind: StoreKind) => {
  let log: TamperLog;
  let entries: AuditEntry[];

  beforeEach(async () => {
    log = await tamperableLog(kind);
    entries = await writeLog(log);
  });
  afterEach(async () => {
    await log.cleanup();
  });

  test('an untouched log verifies clean: every entry, both chains, signed checkpoints', async () => {
    const body = await verify(log);
    expect(body.problems).toEqual([]);
    expect(body).toMatchObject({ ok: true, checked: { chains: 2, entries: ENTRIES, signatures: 'verified' }, checkpoints: 'supported', unprotected: [] });
    // Two opening checkpoints, and at least the one close() wrote (more when batches crossed checkpointEvery).
    expect(body.checked.checkpoints).toBeGreaterThanOrEqual(3);
  });

  test("a stored entry's payload modified: modified, at its seq", async () => {
    await log.updateEntry(entries[6]!._id, (doc) => {
      doc.payload.name = 'mallory';
    });
    expect(found(await verify(log))).toEqual([{ kind: 'modified', seq: 7, entryId: entries[6]!._id }]);
  });

  test("an entry moved into another tenant behind the product's back: modified (tenant is hashed like every field)", async () => {
    await log.updateEntry(entries[8]!._id, (doc) => {
      doc.tenant = 'globex';
    });
    expect(found(await verify(log))).toEqual([{ kind: 'modified', seq: 9, entryId: entries[8]!._id }]);
  });

  test('an entry deleted from the middle: missing, at its seq', async () => {
    await log.removeEntry(entries[14]!._id);
    expect(found(await verify(log))).toEqual([{ kind: 'missing', fromSeq: 15, toSeq: 15 }]);
  });

  test('forged entries, one without chain fields and one claiming a place in the chain: inserted, both', async () => {
    const { chain: _c, seq: _s, prevHash: _p, hash: _h, ...plain } = entries[3]!;
    const unchained = { ...plain, _id: new ObjectId().toHexString(), date: new Date(), payload: { name: 'forged' } } as AuditEntry;
    const claiming = { ...entries[19]!, _id: new ObjectId().toHexString(), payload: { name: 'forged too' } } as AuditEntry;
    await log.insertEntry(unchained);
    await log.insertEntry(claiming);
    const problems = found(await verify(log));
    expect(problems).toHaveLength(2);
    expect(problems).toEqual(
      expect.arrayContaining([
        { kind: 'inserted', entryId: unchained._id },
        { kind: 'inserted', seq: 20, entryId: claiming._id },
      ]),
    );
  });

  test("two entries swapped (each moved to the other one's place): reordered, both", async () => {
    await log.updateEntry(entries[4]!._id, (doc) => {
      doc.seq = 6;
    });
    await log.updateEntry(entries[5]!._id, (doc) => {
      doc.seq = 5;
    });
    const problems = found(await verify(log));
    expect(problems).toHaveLength(2);
    expect(problems).toEqual(
      expect.arrayContaining([
        { kind: 'reordered', seq: 6, entryId: entries[4]!._id },
        { kind: 'reordered', seq: 5, entryId: entries[5]!._id },
      ]),
    );
  });

  test('the tail truncated (the last three entries deleted): truncated, the run a checkpoint covers', async () => {
    for (const entry of entries.slice(-3)) await log.removeEntry(entry._id);
    expect(found(await verify(log))).toEqual([{ kind: 'truncated', fromSeq: ENTRIES - 2, toSeq: ENTRIES }]);
  });

  test('the chain rebuilt after a change (every later hash recomputed): checkpoint-mismatch at each checkpoint after it', async () => {
    // Someone who knows the chain changes entry 4 and rehashes it and everything after: every link holds.
    let prevHash = entries[2]!.hash!;
    const rebuilt = new Map<string, { payload: unknown; prevHash: string; hash: string }>();
    for (const entry of entries.slice(3)) {
      const payload = entry.seq === 4 ? { ...(entry.payload as object), name: 'mallory' } : entry.payload;
      const hash = hashEntry({ ...entry, payload, prevHash });
      rebuilt.set(entry._id, { payload, prevHash, hash });
      prevHash = hash;
    }
    for (const [id, fields] of rebuilt) {
      await log.updateEntry(id, (doc) => {
        doc.payload = fields.payload;
        doc.prevHash = fields.prevHash;
        doc.hash = fields.hash;
      });
    }
    // Every checkpoint from there on names it (the one close() wrote at seq 30 at least), and nothing else does.
    const problems = found(await verify(log));
    expect(problems.length).toBeGreaterThanOrEqual(1);
    expect(new Set(problems.map((p) => p.kind))).toEqual(new Set(['checkpoint-mismatch']));
    expect(Math.min(...problems.map((p) => p.seq as number))).toBeGreaterThanOrEqual(4);
    expect(problems.at(-1)).toMatchObject({ seq: ENTRIES });
  });

  test('a checkpoint altered: checkpoint-signature, naming it', async () => {
    const id = `${entries[0]!.chain}:${String(ENTRIES).padStart(16, '0')}`;
    await log.updateCheckpoint(id, (doc) => {
      doc.count += 1;
    });
    expect(found(await verify(log))).toEqual([{ kind: 'checkpoint-signature', seq: ENTRIES, checkpointId: id }]);
  });
});
