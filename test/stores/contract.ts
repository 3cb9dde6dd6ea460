/**
 * The store contract: what every AuditStore must do, as one suite. contract.test.ts runs it
 * against the memory, embedded-file and MongoDB stores; run it against your own store too.
 */
import { ObjectId } from 'bson';
import type { AuditEntry, AuditQuery, AuditStore } from 'express-audit-log';
import { storesHolds, storesRetention } from '../../src/stores/types';
import type { AuditCheckpoint } from '../../src/integrity/checkpoint';
import { until } from '../support/wait';

export interface ContractTarget {
  /** A fresh, empty store. */
  open(): Promise<AuditStore>;
  /** Makes expired entries disappear now (a TTL pass); stores that filter on read may do nothing. */
  expire(store: AuditStore): Promise<void>;
  /** False for a store without the optional checkpoint methods (integrity then cannot see truncation); the stores shipped have them. */
  checkpoints?: boolean;
  cleanup(): Promise<void>;
}

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 5, 1, 12, 0, 0);

function entry(i: number, overrides: Partial<AuditEntry> = {}): AuditEntry {
  return {
    _id: new ObjectId().toHexString(),
    date: new Date(T0 - i * 60_000),
    method: i % 2 ? 'DELETE' : 'POST',
    action: i % 2 ? 'Delete' : 'Create',
    endpoint: `/items/${i}`,
    user: `user-${i % 3}`,
    collectionName: i < 5 ? 'items' : 'orders',
    childCollectionName: null,
    associationType: null,
    documents: [`id-${i}`, 'common'],
    payload: { i, tags: ['a', 'b'], nested: { n: i } },
    params: { id: String(i) },
    result: i % 4 ? null : { ok: true },
    statusCode: i % 5 === 0 ? 500 : 200,
    isError: i % 5 === 0,
    responseMessage: i % 5 === 0 ? 'Internal error (x)' : null,
    ipAddress: '10.0.0.1',
    notes: i === 3 ? 'Needle in [a] hay*stack' : null,
    requestId: `req-${i}`,
    traceId: null,
    durationMs: i / 10,
    userAgent: 'jest',
    truncated: null,
    ...overrides,
  };
}

const all = (overrides: Partial<AuditQuery> = {}): AuditQuery => ({ filter: {}, sort: [['date', -1]], skip: 0, limit: 100, select: null, ...overrides });

export function storeContract(name: string, target: () => ContractTarget): void {
  describe(`AuditStore contract: ${name}`, () => {
    let t: ContractTarget;
    let store: AuditStore;
    const seeded = Array.from({ length: 12 }, (_, i) => entry(i));

    beforeAll(async () => {
      t = target();
      store = await t.open();
      await store.init({ ttlSeconds: null });
      await store.insertMany(seeded);
    });
    afterAll(async () => {
      await store.close();
      await t.cleanup();
    });

    test('insert then find returns the entries as given, dates as Dates', async () => {
      const { docs, total } = await store.find(all());
      expect(total).toBe(12);
      const byId = new Map(docs.map((d) => [d._id, d]));
      for (const e of seeded) {
        const got = byId.get(e._id)!;
        expect(got).toEqual(e);
        expect(got.date).toBeInstanceOf(Date);
      }
    });

    test('a retried batch with already-stored ids counts as written and duplicates nothing', async () => {
      const extra = entry(100, { user: 'retry', action: 'Retry', statusCode: 200, isError: false, collectionName: 'retries', responseMessage: null });
      await store.insertMany([seeded[0]!, extra, seeded[1]!]);
      expect(await store.count({})).toBe(13);
      const found = await store.findById(extra._id);
      expect(found?.endpoint).toBe('/items/100');
    });

    test('filters: equality, $in, array contains, ranges, $or/$and/$nor/$not/$exists/$ne/$all/$size/$elemMatch', async () => {
      const ids = async (filter: Record<string, unknown>) => (await store.find(all({ filter, sort: [['date', -1]] }))).docs.map((d) => d.requestId).sort();
      expect(await ids({ user: 'user-1' })).toEqual(['req-1', 'req-10', 'req-4', 'req-7']);
      expect(await ids({ user: { $in: ['user-1', 'user-2'] }, isError: true })).toEqual(['req-10', 'req-5']);
      expect(await ids({ documents: 'id-7' })).toEqual(['req-7']);
      expect(await ids({ documents: { $all: ['id-7', 'common'] } })).toEqual(['req-7']);
      expect(await ids({ documents: { $size: 2 }, statusCode: { $gte: 500 } })).toEqual(['req-0', 'req-10', 'req-5']);
      expect(await ids({ date: { $gte: new Date(T0 - 2 * 60_000), $lte: new Date(T0) } })).toEqual(['req-0', 'req-1', 'req-2']);
      expect(await ids({ $or: [{ statusCode: { $eq: 500 } }, { 'payload.nested.n': 3 }] })).toEqual(['req-0', 'req-10', 'req-3', 'req-5']);
      expect(await ids({ $and: [{ collectionName: 'items' }, { action: { $ne: 'Create' } }] })).toEqual(['req-1', 'req-3']);
      expect(await ids({ $nor: [{ collectionName: 'orders' }, { action: 'Delete' }] })).toEqual(['req-0', 'req-100', 'req-2', 'req-4']);
      expect(await ids({ collectionName: 'items', durationMs: { $not: { $lt: 0.2 } } })).toEqual(['req-2', 'req-3', 'req-4']);
      expect(await ids({ notes: { $exists: true, $ne: null } })).toEqual(['req-3']);
      expect(await ids({ 'payload.tags': { $elemMatch: { $eq: 'b' } }, collectionName: 'items', user: 'user-0' })).toEqual(['req-0', 'req-3']);
      expect(await ids({ user: { $nin: ['user-0', 'user-1'] }, collectionName: 'items' })).toEqual(['req-2']);
    });

    // MongoDB's meaning of a filter, which every store must give (the same ids on memory, file and
    // MongoDB): only own keys exist, arrays are looked into, null also finds a missing path,
    // comparisons stay within one type, $all is an $and of equalities.
    test("$where semantics are MongoDB's: own keys only, arrays, null vs missing, type bracketing, $all, $size, $elemMatch", async () => {
      const own = await t.open();
      await own.init({ ttlSeconds: null });
      const made = {
        A: entry(0, { requestId: 'A', payload: { s: 'str', arr: [1, { k: 1 }], n: 5, nul: null, tags: ['a', 'b'] } }),
        B: entry(1, { requestId: 'B', payload: { arr: [], s: 7 } }),
        C: entry(2, { requestId: 'C', payload: null }),
        D: entry(3, { requestId: 'D', payload: { arr: [2, 3], obj: { x: 1 } }, notes: 'x\u0000y' }),
      };
      await own.insertMany(Object.values(made));
      const table: Array<[Record<string, unknown>, string[]]> = [
        [{ 'payload.constructor': { $exists: true } }, []],
        [{ 'payload.toString': { $exists: true } }, []],
        [{ 'payload.hasOwnProperty': null }, ['A', 'B', 'C', 'D']],
        [{ 'payload.s.length': 3 }, []],
        [{ 'payload.arr.length': 2 }, []],
        [{ 'payload.arr': { $exists: true } }, ['A', 'B', 'D']],
        [{ 'payload.arr.0': { $exists: true } }, ['A', 'D']],
        [{ 'payload.arr': { $size: 0 } }, ['B']],
        [{ 'payload.arr': { $size: 3 } }, []],
        [{ 'payload.arr': { $size: 2 } }, ['A', 'D']],
        [{ 'payload.arr': { $not: { $size: 0 } } }, ['A', 'C', 'D']],
        [{ 'payload.arr.1.k': 1 }, ['A']],
        [{ 'payload.arr.k': 1 }, ['A']],
        [{ 'payload.arr.0': 1 }, ['A']],
        [{ 'payload.arr': 1 }, ['A']],
        [{ 'payload.arr': [2, 3] }, ['D']],
        [{ 'payload.arr': { $gt: 2 } }, ['D']],
        [{ 'payload.s': { $gt: 'a' } }, ['A']],
        [{ 'payload.s': { $gt: 1 } }, ['B']],
        [{ 'payload.n': { $gt: 'a' } }, []],
        [{ 'payload.n': { $lt: true } }, []],
        [{ 'payload.s': { $in: ['str', 7] } }, ['A', 'B']],
        [{ 'payload.nul': null }, ['A', 'B', 'C', 'D']],
        [{ 'payload.nul': { $exists: true } }, ['A']],
        [{ 'payload.missing': null }, ['A', 'B', 'C', 'D']],
        [{ 'payload.missing': { $ne: null } }, []],
        [{ 'payload.s': { $gte: null } }, ['C', 'D']],
        [{ 'payload.s': { $gt: null } }, []],
        [{ payload: null }, ['C']],
        [{ 'payload.arr': { $all: [] } }, []],
        [{ 'payload.n': { $all: [5] } }, ['A']],
        [{ 'payload.tags': { $all: ['a', 'b'] } }, ['A']],
        [{ 'payload.nul': { $all: [null] } }, ['A', 'B', 'C', 'D']],
        [{ 'payload.tags': { $elemMatch: { $eq: 'b' } } }, ['A']],
        [{ 'payload.arr': { $elemMatch: { k: 1 } } }, ['A']],
        [{ $nor: [{ 'payload.arr': { $exists: true } }] }, ['C']],
        // biome-ignore lint/suspicious/noControlCharactersInRegex: a NUL in a pattern is the case under test
        [{ notes: { $regex: /x\x00Y/i } }, ['D']],
      ];
      const byId = new Map(Object.entries(made).map(([name, e]) => [e._id, name]));
      const got: Array<[string, string[]]> = [];
      for (const [filter] of table) {
        const { docs } = await own.find(all({ filter }));
        got.push([JSON.stringify(filter), docs.map((d) => byId.get(d._id!)!).sort()]);
      }
      await own.close();
      expect(got).toEqual(table.map(([filter, ids]) => [JSON.stringify(filter), ids]));
    });

    test('literal term search (escaped, case-insensitive)', async () => {
      const { docs } = await store.find(all({ filter: { $or: [{ notes: { $regex: /in \[a\] HAY\*s/i } }, { user: { $regex: /in \[a\] HAY\*s/i } }] } }));
      expect(docs.map((d) => d.requestId)).toEqual(['req-3']);
    });

    test('sort, skip, limit and a stable order for ties', async () => {
      const byStatus = await store.find(
        all({
          sort: [
            ['statusCode', -1],
            ['date', 1],
          ],
          skip: 1,
          limit: 3,
        }),
      );
      expect(byStatus.docs.map((d) => d.requestId)).toEqual(['req-5', 'req-0', 'req-100']);
      expect(byStatus.total).toBe(13);
      // Ties on the sort key still page deterministically (the stores break ties by _id).
      const pageA = await store.find(all({ sort: [['collectionName', 1]], skip: 0, limit: 6 }));
      const pageB = await store.find(all({ sort: [['collectionName', 1]], skip: 6, limit: 7 }));
      const seen = [...pageA.docs, ...pageB.docs].map((d) => d._id);
      expect(new Set(seen).size).toBe(13);
    });

    test('select returns only the asked fields and _id', async () => {
      const { docs } = await store.find(all({ select: ['_id', 'user', 'payload'], limit: 1 }));
      expect(Object.keys(docs[0]!).sort()).toEqual(['_id', 'payload', 'user']);
    });

    test('count and findById', async () => {
      expect(await store.count({ action: 'Create' })).toBe(6);
      expect(await store.findById(seeded[4]!._id)).toEqual(seeded[4]);
      expect(await store.findById(new ObjectId().toHexString())).toBeNull();
    });

    // Last among the tests on the shared store: it adds an entry the counts above do not expect.
    test('Dates inside payload, result and changes come back as Dates, and filters reach into them', async () => {
      const at = new Date(T0 - 5 * DAY);
      const e = entry(200, {
        requestId: 'dates',
        payload: { at, list: [at, 'x'], deep: { at, n: 1 } },
        result: { when: at },
        changes: [{ collectionName: 'items', document: 'id-1', op: 'update', path: 'due', from: at, to: new Date(T0) }],
      });
      await store.insertMany([e]);
      const got = await store.findById(e._id);
      expect(got).toEqual(e);
      expect((got!.payload as { deep: { at: unknown } }).deep.at).toBeInstanceOf(Date);
      expect((got!.changes as Array<{ to: unknown }>)[0]!.to).toBeInstanceOf(Date);
      const { docs } = await store.find(all({ filter: { 'payload.deep.n': 1, 'result.when': at }, select: ['_id', 'payload'] }));
      expect(docs).toEqual([{ _id: e._id, payload: e.payload }]);
    });

    // Found by the integrity round-trip property: bson looks field names up in the driver's
    // `fieldsAsRaw` map, so `constructor` found Object.prototype's and the array came back as raw bytes.
    test('an array of documents under a key named like an Object.prototype member reads back as stored', async () => {
      const own = await t.open();
      await own.init({ ttlSeconds: null });
      const e = entry(0, { payload: [{ constructor: [{}], valueOf: [{ a: 1 }], toString: [[{ b: 2 }]] }] as never, result: { hasOwnProperty: [{}] } });
      await own.insertMany([e]);
      expect(await own.findById(e._id)).toEqual(e);
      expect((await own.find(all({ filter: { _id: e._id } }))).docs).toEqual([e]);
      await own.close();
    });

    // The optional integrity methods, as the lead's port of each store must keep them.
    test('checkpoints: stored apart, idempotent by _id, read back in _id order after a given _id, the newest by at; dates as Dates; the TTL never removes them', async () => {
      const own = await t.open();
      if (t.checkpoints === false) {
        expect(own.insertCheckpoints ?? own.findCheckpoints ?? own.latestCheckpoint).toBeUndefined();
        return;
      }
      await own.init({ ttlSeconds: 3600, integrity: true });
      const old = new Date(Date.now() - 10 * DAY);
      const checkpoint = (chain: string, seq: number, at: Date): AuditCheckpoint => ({
        _id: `${chain}:${String(seq).padStart(16, '0')}`,
        chain,
        seq,
        hash: seq === 0 ? null : 'ab'.repeat(32),
        count: seq,
        dropped: 0,
        firstDate: seq === 0 ? null : old,
        lastDate: seq === 0 ? null : at,
        at,
        ttlSeconds: 3600,
        ...(seq === 0 ? { previous: null } : {}),
        keyId: 'k1',
        signature: 'c2ln',
      });
      const a = 'a'.repeat(24);
      const b = 'b'.repeat(24);
      const made = [
        checkpoint(b, 0, new Date(old.getTime() + 3000)),
        checkpoint(a, 1000, new Date(old.getTime() + 2000)),
        checkpoint(a, 0, old),
        checkpoint(a, 20, new Date(old.getTime() + 1000)),
      ];
      expect(await own.latestCheckpoint!()).toBeNull();
      await own.insertCheckpoints!(made);
      await own.insertCheckpoints!([made[1]!, { ...made[2]!, count: 99 }]); // a retry: already written, kept as first stored
      await t.expire(own);
      const all = await own.findCheckpoints!({ after: null, limit: 10 });
      expect(all.map((c) => c._id)).toEqual([`${a}:0000000000000000`, `${a}:0000000000000020`, `${a}:0000000000001000`, `${b}:0000000000000000`]);
      expect(all[0]).toEqual(made[2]);
      expect(all[1]!.at).toBeInstanceOf(Date);
      expect((await own.findCheckpoints!({ after: all[1]!._id, limit: 1 })).map((c) => c._id)).toEqual([all[2]!._id]);
      expect(await own.findCheckpoints!({ after: `${b}:`, limit: 5 })).toEqual([made[0]]);
      expect(await own.latestCheckpoint!()).toEqual(made[0]);
      await own.close();
    });

    test('TTL: an entry older than the ttl disappears, a fresh one stays', async () => {
      const ttlStore = await t.open();
      await ttlStore.init({ ttlSeconds: 3600 });
      const old = entry(0, { date: new Date(Date.now() - DAY), requestId: 'old' });
      const fresh = entry(0, { date: new Date(), requestId: 'fresh' });
      await ttlStore.insertMany([old, fresh]);
      await t.expire(ttlStore);
      await until(async () => (await ttlStore.count({ requestId: 'old' })) === 0, 'the expired entry to disappear', 120_000);
      expect(await ttlStore.findById(fresh._id)).not.toBeNull();
      expect(await ttlStore.findById(old._id)).toBeNull();
      await ttlStore.close();
    });

    test("expiry is each entry's own expireAt: past it, gone; null or absent, kept; a stamped expireAt wins over the ttl", async () => {
      const own = await t.open();
      await own.init({ ttlSeconds: 3600 });
      const past = entry(0, { date: new Date(), expireAt: new Date(Date.now() - 1000), requestId: 'past' });
      const kept = entry(0, { date: new Date(Date.now() - DAY), expireAt: null, requestId: 'kept' });
      const later = entry(0, { date: new Date(Date.now() - DAY), expireAt: new Date(Date.now() + DAY), requestId: 'later' });
      await own.insertMany([past, kept, later]);
      await t.expire(own);
      await until(async () => (await own.count({ requestId: 'past' })) === 0, 'the expired entry to disappear', 120_000);
      expect((await own.findById(kept._id))!.expireAt).toBeNull();
      expect((await own.findById(later._id))!.expireAt).toEqual(later.expireAt);
      await own.close();
    });

    test('holds: stored apart and idempotent; marking clears the expiry, releasing gives back what expiryOf says; restamp skips held entries; the retention policy is kept', async () => {
      const own = await t.open();
      if (!storesHolds(own) || !storesRetention(own)) return void (await own.close());
      await own.init({ ttlSeconds: 3600 });
      const now = Date.now();
      const a = entry(1, { date: new Date(now), user: 'a' });
      const b = entry(2, { date: new Date(now), user: 'b' });
      await own.insertMany([a, b]);
      const hold = {
        _id: new ObjectId().toHexString(),
        reason: 'r',
        filter: { user: 'a' },
        placedAt: new Date(now),
        placedBy: 'p',
        releasedAt: null,
        releasedBy: null,
      };
      await own.insertHold(hold);
      await own.insertHold(hold);
      expect(await own.findHolds()).toEqual([hold]);

      expect(await own.markHeld({ user: 'a' }, hold._id)).toBe(1);
      expect(await own.markHeld({ user: 'a' }, hold._id)).toBe(1);
      expect(await own.findById(a._id)).toMatchObject({ expireAt: null, holds: [hold._id] });
      expect(await own.count({ holds: hold._id })).toBe(1);

      expect(await own.restamp({}, 60)).toBe(1);
      expect((await own.findById(a._id))!.expireAt).toBeNull();
      expect((await own.findById(b._id))!.expireAt).toEqual(new Date(now + 60_000));
      expect(await own.restamp({ user: 'b' }, undefined)).toBe(1);
      expect((await own.findById(b._id))!.expireAt).toBeUndefined();
      expect(await own.restamp({ user: 'b' }, null)).toBe(1);
      expect((await own.findById(b._id))!.expireAt).toBeNull();

      const releasedAt = new Date(now + 1000);
      expect(await own.releaseHold(hold._id, releasedAt, 'q')).toEqual({ hold: { ...hold, releasedAt, releasedBy: 'q' }, changed: true });
      expect((await own.releaseHold(hold._id, new Date(), 'z'))!.changed).toBe(false);
      expect(await own.releaseHold(new ObjectId().toHexString(), new Date(), 'z')).toBeNull();
      expect(await own.unmarkHeld(hold._id, (e) => new Date(e.date.getTime() + 7_000))).toBe(1);
      expect(await own.unmarkHeld(hold._id, () => undefined)).toBe(0);
      const back = await own.findById(a._id);
      expect(back!.holds).toBeUndefined();
      expect(back!.expireAt).toEqual(new Date(now + 7_000));

      expect(await own.retentionPolicy()).toBeNull();
      await own.setRetentionPolicy('p1');
      await own.setRetentionPolicy('p2');
      expect(await own.retentionPolicy()).toBe('p2');
      await own.close();
    });
  });
}
