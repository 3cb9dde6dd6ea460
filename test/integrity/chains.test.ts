/**
 * Chains as the writer builds them, through everything the writer goes through: several writers
 * on one log, restarts, retried batches, the spool, drops, the TTL, a store without checkpoints.
 * Each log is then verified through `GET /auditLog/verify`.
 */
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { auditLog, memoryStore, mongoStore, type AuditLogMiddleware, type AuditLogOptions, type AuditStore } from 'express-audit-log';
import type { AuditCheckpoint } from '../../src/integrity/checkpoint';
import { ADMIN, createTestApp } from '../support/app';
import { openStore, STORE_KINDS, tempDir, type StoreKind } from '../support/stores';
import { stopMongoLogs, tamperableLog } from '../support/tamper';
import { until } from '../support/wait';

const { privateKey } = generateKeyPairSync('ed25519');
const integrity = { signingKey: privateKey, checkpointEvery: 100 };

afterAll(stopMongoLogs);

async function verify(store: AuditStore, options: AuditLogOptions = {}) {
  const { app, audit } = createTestApp({ store, integrity, ...options });
  const res = await request(app).get('/auditLog/verify').set('Authorization', `Bearer ${ADMIN}`).expect(200);
  await audit.close();
  return res.body;
}

function record(audit: AuditLogMiddleware, count: number, label: string): void {
  for (let i = 0; i < count; i++) audit.record(null, { action: 'Job', notes: `${label}-${i}`, payload: { i, label, 'k.e.y': [i, { $n: i }] } });
}

async function checkpointsOf(store: AuditStore): Promise<AuditCheckpoint[]> {
  return (await store.findCheckpoints!({ after: null, limit: 100_000 })) as AuditCheckpoint[];
}

describe.each(STORE_KINDS)('on a %s store', (kind: StoreKind) => {
  test('thousands of entries from three writers at once, interleaved: three chains, every entry checked, clean', async () => {
    const opened = await openStore(kind);
    // Three writers into one log, like three app instances: the MongoDB ones each have their own store object.
    const stores =
      kind === 'mongo'
        ? [opened.store, mongoStore({ connection: opened.connection! }), mongoStore({ connection: opened.connection! })]
        : [opened.store, opened.store, opened.store];
    const writers = stores.map((store) => auditLog({ store, integrity }));
    for (let round = 0; round < 10; round++) {
      for (const [w, audit] of writers.entries()) record(audit, 70, `w${w}r${round}`);
    }
    for (const audit of writers) await audit.close();
    const body = await verify(opened.store);
    expect(body.problems).toEqual([]);
    expect(body).toMatchObject({ ok: true, checked: { chains: 4, entries: 2100, signatures: 'verified' }, unprotected: [], expired: [], dropped: [] });
    await opened.cleanup();
  });

  test('the TTL removing the oldest entries is reported as expired by policy; a hole inside what is kept is still missing', async () => {
    const log = await tamperableLog(kind);
    const store = await log.open();
    // The first 12 entries are dated 2 hours back (transform runs before the chain, so it is what gets hashed).
    let n = 0;
    const old = Date.now() - 2 * 3600_000;
    const audit = auditLog({ store, integrity, ttl: '1h', transform: (entry) => Object.assign(entry, n++ < 12 ? { date: new Date(old + n) } : {}) });
    record(audit, 30, 'ttl');
    await audit.close();
    await log.expire();
    const clean = await verify(await log.open(), { ttl: '1h' });
    expect(clean.problems).toEqual([]);
    expect(clean.ok).toBe(true);
    expect(clean.expired).toEqual([{ chain: expect.any(String), fromSeq: 1, toSeq: 12 }]);
    expect(clean.checked.entries).toBe(18);

    const reader = await log.open();
    await reader.init({ ttlSeconds: 3600 });
    const kept = await reader.find({ filter: { seq: 20 }, sort: [['seq', 1]], skip: 0, limit: 1, select: null });
    await reader.close();
    await log.removeEntry(kept.docs[0]!._id!);
    const holed = await verify(await log.open(), { ttl: '1h' });
    expect(holed.problems).toEqual([expect.objectContaining({ kind: 'missing', fromSeq: 20, toSeq: 20 })]);
    expect(holed.expired).toEqual([{ chain: expect.any(String), fromSeq: 1, toSeq: 12 }]);
    await log.cleanup();
  });
});

describe('restarts', () => {
  test('each start opens a new chain naming the newest checkpoint it found; a removed chain is then missing', async () => {
    const log = await tamperableLog('memory');
    const store = await log.open();
    const first = auditLog({ store, integrity });
    record(first, 20, 'first');
    await first.close();
    const second = auditLog({ store, integrity });
    record(second, 20, 'second');
    await second.close();

    const checkpoints = await checkpointsOf(store);
    const openings = checkpoints.filter((c) => c.seq === 0).sort((a, b) => a.at.getTime() - b.at.getTime());
    expect(openings).toHaveLength(2);
    const firstClose = checkpoints.find((c) => c.chain === openings[0]!.chain && c.seq === 20)!;
    expect(openings[0]!.previous).toBeNull();
    expect(openings[1]!.previous).toEqual({ chain: openings[0]!.chain, seq: 20, hash: firstClose.hash, at: firstClose.at });
    const clean = await verify(store);
    expect(clean).toMatchObject({ ok: true, checked: { chains: 3, entries: 40 } });

    // The first chain removed whole, entries and checkpoints: the second one's opening still names it.
    const { docs } = await store.find({ filter: { chain: openings[0]!.chain }, sort: [['seq', 1]], skip: 0, limit: 100, select: ['_id'] });
    for (const doc of docs) await log.removeEntry(doc._id!);
    for (const checkpoint of checkpoints.filter((c) => c.chain === openings[0]!.chain)) await log.removeCheckpoint(checkpoint._id);
    const body = await verify(await log.open());
    expect(body.problems).toEqual([expect.objectContaining({ kind: 'missing', chain: openings[0]!.chain, seq: 20 })]);
  });
});

/** A memory store whose inserts can be made to fail: half-way through a batch, or altogether. */
function flakyStore(): { store: AuditStore; state: { mode: 'up' | 'down' | 'half' } } {
  const inner = memoryStore();
  const state = { mode: 'up' as 'up' | 'down' | 'half' };
  const store = new Proxy(inner, {
    get(target, key) {
      if (key === 'insertMany') {
        return async (entries: Parameters<AuditStore['insertMany']>[0]) => {
          if (state.mode === 'down') throw new Error('store down');
          if (state.mode === 'half') {
            state.mode = 'up';
            await target.insertMany(entries.slice(0, Math.ceil(entries.length / 2)));
            throw new Error('connection dropped mid-batch');
          }
          return target.insertMany(entries);
        };
      }
      const value = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { store, state };
}

describe('what the writer goes through keeps the chain intact', () => {
  test('a batch retried after the store failed half-way through it', async () => {
    const { store, state } = flakyStore();
    const audit = auditLog({ store, integrity, retryMinDelayMs: 1, retryMaxDelayMs: 2 });
    await audit.flush();
    state.mode = 'half';
    record(audit, 50, 'retry');
    await until(async () => (await audit.flush(), audit.stats().written === 50), 'the retried batch to be written');
    expect(audit.stats().retried).toBeGreaterThan(0);
    await audit.close();
    expect(await verify(store)).toMatchObject({ ok: true, problems: [], checked: { entries: 50 } });
  });

  test('entries spooled while the store was down, replayed when it is back', async () => {
    const { store, state } = flakyStore();
    const spoolDir = path.join(tempDir(), 'spool');
    const audit = auditLog({ store, integrity, spoolDir, maxQueueEntries: 5, retryMinDelayMs: 1, retryMaxDelayMs: 2 });
    await audit.flush();
    state.mode = 'down';
    record(audit, 60, 'spooled');
    expect(audit.stats().spooled).toBeGreaterThan(0);
    state.mode = 'up';
    await until(async () => (await audit.flush(), audit.stats().written === 60), 'the spool to be replayed');
    expect(audit.stats().replayed).toBeGreaterThan(0);
    await audit.close();
    expect(await verify(store)).toMatchObject({ ok: true, problems: [], checked: { entries: 60 } });
    fs.rmSync(path.dirname(spoolDir), { recursive: true, force: true });
  });

  test('a process whose store never came up: the next one replays its spooled chain, and stores the opening checkpoint it could not', async () => {
    const { store, state } = flakyStore();
    const spoolDir = path.join(tempDir(), 'spool');
    const down = new Proxy(store, {
      get: (target, key) =>
        key === 'init'
          ? async () => {
              throw new Error('no database');
            }
          : Reflect.get(target, key, target),
    });
    const first = auditLog({ store: down, integrity, spoolDir, maxQueueEntries: 5 });
    record(first, 25, 'never stored');
    await first.close(100);
    expect(first.stats().spooled).toBe(25);
    state.mode = 'up';
    const second = auditLog({ store, integrity, spoolDir });
    record(second, 5, 'after restart');
    await until(async () => (await second.flush(), second.stats().written === 30), 'the spool to be replayed');
    await second.close();
    expect(await verify(store)).toMatchObject({ ok: true, problems: [], checked: { chains: 3, entries: 30 } });
    fs.rmSync(path.dirname(spoolDir), { recursive: true, force: true });
  });

  test('entries the writer dropped (a full queue and no spool) are counted by its checkpoint: dropped, not missing', async () => {
    const { store, state } = flakyStore();
    const audit = auditLog({ store, integrity, maxQueueEntries: 5, retryMinDelayMs: 1, retryMaxDelayMs: 2 });
    audit.on('error', () => undefined);
    await audit.flush();
    state.mode = 'down';
    record(audit, 20, 'overflow');
    expect(audit.stats().dropped).toBe(15);
    state.mode = 'up';
    await until(async () => (await audit.flush(), audit.stats().written === 5), 'the queued entries to be written');
    record(audit, 5, 'later');
    await audit.close();
    const body = await verify(store);
    expect(body).toMatchObject({ ok: true, problems: [], dropped: [{ chain: expect.any(String), fromSeq: 6, toSeq: 20 }], checked: { entries: 10 } });
  });
});

describe('stores', () => {
  test('a store without the checkpoint methods: entries are still chained and checked, and the answer says checkpoints are unsupported', async () => {
    const inner = memoryStore();
    const hidden = new Set(['insertCheckpoints', 'findCheckpoints', 'latestCheckpoint']);
    const store = new Proxy(inner, { get: (target, key) => (hidden.has(key as string) ? undefined : Reflect.get(target, key, target)) }) as AuditStore;
    const audit = auditLog({ store, integrity });
    record(audit, 10, 'plain');
    await audit.close();
    const clean = await verify(store);
    expect(clean).toMatchObject({ ok: true, checkpoints: 'unsupported by this store', checked: { entries: 10, checkpoints: 0 } });
    expect(clean.notes.join(' ')).toMatch(/checkpoints unsupported by this store/);
  });

  test('a store that cannot take checkpoints still gets every entry: the failures are reported (EAUDIT_CHECKPOINT) and retried on their own', async () => {
    const inner = memoryStore();
    let refuse = true;
    const store = new Proxy(inner, {
      get: (target, key) =>
        key === 'insertCheckpoints'
          ? async (checkpoints: AuditCheckpoint[]) => {
              if (refuse) throw new Error('no permission on auditLog.checkpoints');
              return target.insertCheckpoints!(checkpoints);
            }
          : Reflect.get(target, key, target),
    }) as AuditStore;
    const codes: string[] = [];
    const audit = auditLog({ store, integrity: { ...integrity, checkpointEvery: 5 }, retryMinDelayMs: 1, retryMaxDelayMs: 5 });
    audit.on('error', (error) => void codes.push(error.code));
    record(audit, 40, 'entries first');
    await until(async () => (await audit.flush(), audit.stats().written === 40), 'every entry to be written');
    expect(codes).toContain('EAUDIT_CHECKPOINT');
    expect(await inner.findCheckpoints!({ after: null, limit: 10 })).toEqual([]);
    refuse = false;
    await audit.close();
    expect(await verify(store)).toMatchObject({ ok: true, problems: [], checked: { entries: 40 } });
  });

  test('verification reads in pages: no read asks for more than 500 entries, whatever the log holds', async () => {
    const inner = memoryStore();
    const limits: number[] = [];
    const store = new Proxy(inner, {
      get: (target, key) =>
        key === 'find'
          ? async (query: Parameters<AuditStore['find']>[0]) => {
              limits.push(query.limit);
              return target.find(query);
            }
          : Reflect.get(target, key, target),
    }) as AuditStore;
    const audit = auditLog({ store: inner, integrity });
    record(audit, 2600, 'paged');
    await audit.close();
    expect(await verify(store)).toMatchObject({ ok: true, checked: { entries: 2600 } });
    expect(Math.max(...limits)).toBeLessThanOrEqual(500);
    expect(limits.length).toBeGreaterThanOrEqual(6);
  });

  test('integrity off: entries carry no chain fields (nothing is hashed)', async () => {
    const store = memoryStore();
    const audit = auditLog({ store });
    record(audit, 1, 'off');
    await audit.close();
    const { docs } = await store.find({ filter: {}, sort: [['date', 1]], skip: 0, limit: 1, select: null });
    expect(Object.keys(docs[0]!)).toEqual(expect.not.arrayContaining(['chain', 'seq', 'prevHash', 'hash']));
  });
});
