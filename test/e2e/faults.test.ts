/**
 * Store outages, dropped connections, restarts and slow replies, against the real mongoose
 * driver talking to the in-process wire-protocol server, whose fault injection makes each
 * failure happen on cue. Nothing here waits on the clock: every wait is on a condition or an
 * event (a command reaching the server, an 'error' from the middleware).
 */
import fs from 'node:fs';
import path from 'node:path';
import mongoose from 'mongoose';
import { mongoStore, type AuditEntry, type AuditLogOptions, type AuditLogStoreError } from 'express-audit-log';
import { createTestApp, type TestApp } from '../support/app';
import type { CommandEvent, MongoTestServer } from '../support/mongo-server';
import { startMongo, stopMongo, type MongoTarget } from '../support/mongo';
import { tempDir } from '../support/stores';
import { until } from '../support/wait';
import { pool, send, serve, type Served } from '../pipeline/http-load';

// Fault injection needs the in-process server; against a real MONGODB_URI these are skipped.
const describeFaults = process.env.MONGODB_URI ? describe.skip : describe;

/** Resolves when the next command called `name` reaches the server. */
function nextCommand(server: MongoTestServer, name: string): Promise<CommandEvent> {
  return new Promise((resolve) => {
    const listener = (event: CommandEvent): void => {
      if (event.name !== name) return;
      server.off('command', listener);
      resolve(event);
    };
    server.on('command', listener);
  });
}

describeFaults('faults (MongoDB store, wire-protocol server with fault injection)', () => {
  let target: MongoTarget;
  let server: MongoTestServer;
  let connection: mongoose.Connection;
  let dir: string;
  const cleanups: Array<() => Promise<void>> = [];

  beforeEach(async () => {
    target = await startMongo();
    server = target.server!;
    connection = await mongoose.createConnection(target.uri, { dbName: target.dbName, serverSelectionTimeoutMS: 500 }).asPromise();
    dir = tempDir('eal-faults-');
  });

  afterEach(async () => {
    server.faults.clear();
    await server.faults.refuseConnections(false);
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await connection.close();
    await stopMongo(target);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const collection = () => connection.db!.collection<{ _id: unknown; requestId: string }>('auditLog');

  interface Harness extends TestApp {
    served: Served;
    errors: AuditLogStoreError[];
    /** Entry ids in the order the middleware handed them to the writer. */
    order: string[];
    post(index: number, body?: unknown): Promise<number>;
  }

  async function start(options: AuditLogOptions = {}, started = true): Promise<Harness> {
    const order: string[] = [];
    const { transform, ...rest } = options;
    const t = createTestApp({
      store: mongoStore({ connection }),
      retryMinDelayMs: 5,
      retryMaxDelayMs: 50,
      ...rest,
      transform: (entry, req) => {
        order.push(entry._id);
        return transform ? transform(entry, req) : entry;
      },
    });
    const errors: AuditLogStoreError[] = [];
    t.audit.on('error', (error) => errors.push(error));
    if (started) await t.audit.flush(); // the store has started (and any spool is replayed)
    const served = await serve(t.app);
    cleanups.push(async () => {
      await served.close();
      await t.audit.close(1000);
    });
    const post = async (index: number, body: unknown = { name: `role-${index}` }) =>
      (await send(served, 'POST', '/role', { body, headers: { 'x-request-id': `req-${index}` } })).status;
    return { ...t, served, errors, order, post };
  }

  /** A response can reach the client a moment before the server's 'finish' event records it. */
  function allRecorded(h: Harness, count: number): Promise<void> {
    return until(() => h.audit.stats().recorded === count, `${count} recorded`);
  }

  async function storedIds(): Promise<string[]> {
    const docs = await collection()
      .find({}, { projection: { _id: 1 } })
      .toArray();
    return docs.map((doc) => String(doc._id));
  }

  async function expectEachOnce(count: number): Promise<void> {
    expect(await collection().countDocuments()).toBe(count);
    expect(await collection().distinct('requestId')).toHaveLength(count);
  }

  function spoolFiles(): string[] {
    return fs.existsSync(dir) ? fs.readdirSync(dir).filter((name) => name.endsWith('.ndjson')) : [];
  }

  test('(1) the store refuses connections during 2,000 requests, then comes back: all 2,000 entries stored once each, in recording order', async () => {
    const h = await start({ spoolDir: dir, maxQueueEntries: 500, batchSize: 100 });
    await server.faults.refuseConnections(true);

    const statuses = await pool(2000, 50, (i) => h.post(i));
    expect(statuses.every((status) => status === 201)).toBe(true);
    await allRecorded(h, 2000);
    await until(() => h.errors.some((error) => error.code === 'EAUDIT_STORE_WRITE'), 'a write that failed during the outage');
    const down = h.audit.stats();
    expect(down).toMatchObject({ recorded: 2000, written: 0, dropped: 0 });
    expect(down.queued).toBeLessThanOrEqual(500);
    expect(down.spooled).toBe(2000 - down.queued);
    expect(spoolFiles().length).toBeGreaterThan(0);

    await server.faults.refuseConnections(false);
    await until(() => h.audit.stats().written === 2000, 'all 2,000 written', 30_000);
    await expectEachOnce(2000);
    expect(await storedIds()).toEqual(h.order);
    expect(h.audit.stats()).toMatchObject({ recorded: 2000, written: 2000, replayed: down.spooled, dropped: 0, queued: 0, queuedBytes: 0 });
    expect(h.audit.stats().retried).toBeGreaterThan(0);
    // recorded + replayed = written + spooled + dropped + queued (docs/guarantees.md, "stats")
    const { recorded, replayed, written, spooled, dropped, queued } = h.audit.stats();
    expect(recorded + replayed).toBe(written + spooled + dropped + queued);
    expect(spoolFiles()).toEqual([]);
  });

  test.each(['after', 'before'] as const)(
    '(2) the connection drops in the middle of a batch (%s the server ran it): retried, no loss, no duplicates',
    async (when) => {
      const h = await start({ batchSize: 50, flushIntervalMs: 5 });
      for (let i = 0; i < 20; i++) expect(await h.post(i)).toBe(201);
      await until(() => h.audit.stats().written === 20, 'the first entries written');
      const insertsBefore = server.commandCounts().insert ?? 0;

      server.faults.dropConnection({ command: 'insert', when, count: 1 });
      const statuses = await pool(180, 20, (i) => h.post(20 + i));
      expect(statuses.every((status) => status === 201)).toBe(true);
      await until(() => h.audit.stats().written === 200, 'all 200 written');

      await expectEachOnce(200);
      expect(await storedIds()).toEqual(h.order);
      const stats = h.audit.stats();
      expect(stats).toMatchObject({ recorded: 200, written: 200, dropped: 0 });
      expect(stats.failed).toBeGreaterThan(0);
      expect(stats.retried).toBeGreaterThan(0);
      expect([...new Set(h.errors.map((error) => error.code))]).toEqual(['EAUDIT_STORE_WRITE']);
      // The failed batch reached the server again: that retry is what could have duplicated it.
      expect((server.commandCounts().insert ?? 0) - insertsBefore).toBeGreaterThanOrEqual(2);
    },
  );

  test('(3) restarted with a non-empty spool: the spool is replayed on start, in order, before newer entries, once each', async () => {
    // The first process: the store is down, its queue overflows to the spool, close() spools the rest.
    const first = await start({ spoolDir: dir, maxQueueEntries: 100, batchSize: 100 });
    await server.faults.refuseConnections(true);
    const statuses = await pool(300, 20, (i) => first.post(i));
    expect(statuses.every((status) => status === 201)).toBe(true);
    await allRecorded(first, 300);
    await first.served.close();
    await first.audit.close(50);
    expect(first.audit.stats()).toMatchObject({ recorded: 300, written: 0, spooled: 300, dropped: 0, queued: 0 });
    expect(spoolFiles().length).toBeGreaterThan(0);

    // The next process, same spoolDir, the store is back. It takes new requests while it replays.
    await server.faults.refuseConnections(false);
    const second = await start({ spoolDir: dir }, false);
    for (let i = 300; i < 310; i++) expect(await second.post(i)).toBe(201);
    await until(async () => (await collection().countDocuments()) === 310, 'the spool and the new entries stored');
    await until(() => spoolFiles().length === 0, 'the spool emptied');
    await expectEachOnce(310);
    expect(await storedIds()).toEqual([...first.order, ...second.order]);
    expect(second.audit.stats()).toMatchObject({ recorded: 10, replayed: 310, written: 310, dropped: 0 });
  });

  test('(4) a slow store never slows the responses: all answered while the first insert is still unanswered', async () => {
    const h = await start({ batchSize: 10, flushIntervalMs: 1 });
    server.faults.delay(120_000, { command: 'insert' });
    const firstInsert = nextCommand(server, 'insert');
    expect(await h.post(0)).toBe(201);
    await firstInsert;

    const statuses = await pool(199, 20, (i) => h.post(1 + i));
    expect(statuses.every((status) => status === 201)).toBe(true);
    await allRecorded(h, 200);
    // Every response is out; the store has not confirmed a single entry yet.
    expect(h.audit.stats()).toMatchObject({ recorded: 200, written: 0 });

    server.faults.clear(); // the held reply goes out
    await until(() => h.audit.stats().written === 200, 'all written once the store answers');
    await expectEachOnce(200);
  });

  test("(5) while the store is down, memory stays within maxQueueBytes by the queue's own accounting; the rest is spooled", async () => {
    const maxQueueBytes = 64 * 1024;
    const h = await start({ spoolDir: dir, maxQueueBytes, maxQueueEntries: 100_000, batchSize: 20 });
    await server.faults.refuseConnections(true);
    let peak = 0;
    await pool(300, 10, async (i) => {
      const status = await h.post(i, { name: `role-${i}`, blob: 'x'.repeat(1000) });
      peak = Math.max(peak, h.audit.stats().queuedBytes);
      return status;
    });
    await allRecorded(h, 300);
    const down = h.audit.stats();
    expect(peak).toBeLessThanOrEqual(maxQueueBytes);
    expect(down.queuedBytes).toBeLessThanOrEqual(maxQueueBytes);
    // The accounting is real: each entry carries ~2 KB of payload and result, and the queue filled up.
    expect(down.queuedBytes / down.queued).toBeGreaterThan(2000);
    expect(down.queuedBytes + 2 * (down.queuedBytes / down.queued)).toBeGreaterThan(maxQueueBytes);
    expect(down).toMatchObject({ recorded: 300, written: 0, dropped: 0 });
    expect(down.spooled).toBe(300 - down.queued);

    await server.faults.refuseConnections(false);
    await until(() => h.audit.stats().written === 300, 'all written after the outage');
    await expectEachOnce(300);
  });

  test('no spool, or a spool that cannot be written: entries past the queue are dropped, counted and reported; the app keeps serving', async () => {
    const blocker = path.join(dir, 'a-file');
    fs.writeFileSync(blocker, 'not a directory');
    const logged: string[] = [];
    const unwritable = await start({
      spoolDir: path.join(blocker, 'spool'),
      maxQueueEntries: 10,
      logger: { warn: (m) => logged.push(m), error: (m) => logged.push(m) },
    });
    const noSpool = await start({ maxQueueEntries: 10 });
    await server.faults.refuseConnections(true);
    for (const h of [unwritable, noSpool]) {
      const statuses = await pool(40, 10, (i) => h.post(i));
      expect(statuses.every((status) => status === 201)).toBe(true);
      await allRecorded(h, 40);
      const stats = h.audit.stats();
      expect(stats).toMatchObject({ recorded: 40, spooled: 0 });
      expect(stats.queued).toBeLessThanOrEqual(10);
      expect(stats.dropped).toBe(40 - stats.queued);
      const dropped = h.errors.filter((error) => error.code === 'EAUDIT_DROPPED');
      expect(dropped.reduce((sum, error) => sum + error.entries, 0)).toBe(stats.dropped);
    }
    expect(unwritable.errors.some((error) => error.code === 'EAUDIT_SPOOL')).toBe(true);
    expect(unwritable.errors.find((error) => error.code === 'EAUDIT_DROPPED')!.message).toMatch(/spool could not be written/);
    expect(noSpool.errors.find((error) => error.code === 'EAUDIT_DROPPED')!.message).toMatch(/no spoolDir is configured/);

    await server.faults.refuseConnections(false);
    await until(() => [unwritable, noSpool].every((h) => h.audit.stats().queued === 0), 'the kept entries written');
    const kept = unwritable.audit.stats().written + noSpool.audit.stats().written;
    expect(kept).toBe(80 - unwritable.audit.stats().dropped - noSpool.audit.stats().dropped);
    expect(await collection().countDocuments()).toBe(kept);
  });

  test("entries the store can never take (the app's transform made them 16.5 and 20 MiB) are dropped and reported; the entries around them are written, nothing blocks", async () => {
    const h = await start({
      batchSize: 50,
      flushIntervalMs: 60_000,
      transform: (entry: AuditEntry) => {
        const mib = (entry.payload as { huge?: number } | null)?.huge;
        return mib ? { ...entry, notes: 'n'.repeat(mib * 1024 * 1024) } : entry;
      },
    });
    for (let i = 0; i < 12; i++) expect(await h.post(i, i === 3 ? { huge: 16.5 } : i === 8 ? { huge: 20 } : { name: `role-${i}` })).toBe(201);
    await until(() => h.audit.stats().recorded === 12, 'twelve recorded');
    await h.audit.flush(); // one batch of twelve: the driver refuses it whole
    expect(h.audit.stats()).toMatchObject({ recorded: 12, written: 10, dropped: 2, queued: 0 });
    const dropped = h.errors.filter((error) => error.code === 'EAUDIT_DROPPED');
    expect(dropped.map((error) => error.message)).toEqual([
      expect.stringMatching(/rejected entry [0-9a-f]{24} .*larger than the maximum size/),
      // The 20 MiB one: mongodb 7 (mongoose 9) overflows its serializer's buffer (a RangeError, "out of
      // range"); mongodb 6 (mongoose 8) checks the size first. Either way it is rejected, dropped, reported.
      expect.stringMatching(/rejected entry [0-9a-f]{24} .*(out of range|larger than the maximum size)/),
    ]);
    expect(await collection().distinct('requestId')).toEqual(expect.not.arrayContaining(['req-3', 'req-8']));
    expect(await storedIds()).toEqual(h.order.filter((_, i) => i !== 3 && i !== 8));
    await expectEachOnce(10);
  });

  test('close(deadline) with a store that holds its replies: resolves by the deadline, spools the batch in flight; a second call is the same close; the next start writes nothing twice', async () => {
    const h = await start({ spoolDir: dir, batchSize: 25, flushIntervalMs: 1 });
    server.faults.delay(120_000, { command: 'insert' });
    const firstInsert = nextCommand(server, 'insert');
    const statuses = await pool(100, 10, (i) => h.post(i));
    expect(statuses.every((status) => status === 201)).toBe(true);
    await allRecorded(h, 100);
    const held = ((await firstInsert).body.documents as unknown[]).length; // ran on the server; its reply is held

    await h.served.close();
    const closing = h.audit.close(100);
    expect(h.audit.close(100)).toBe(closing);
    await closing;
    expect(h.audit.stats()).toMatchObject({ recorded: 100, written: 0, spooled: 100, dropped: 0, queued: 0 });
    server.faults.clear(); // the late reply changes nothing
    expect(h.audit.stats()).toMatchObject({ written: 0, spooled: 100 });
    // The held batch is in the collection already; the spool holds it too.
    expect(held).toBeGreaterThan(0);
    expect(await collection().countDocuments()).toBe(held);

    const next = await start({ spoolDir: dir });
    await until(() => next.audit.stats().replayed === 100, 'the spool replayed');
    await expectEachOnce(100);
    expect(await storedIds()).toEqual(h.order);
  });
});
