/**
 * The writer's promises, against a store driven by hand: order, no duplicates, one write at a
 * time, bounded memory, backoff with jitter, flush and close semantics, the spool hand-over.
 * Waits are on conditions (until) or fake timers, never on the clock.
 */
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { FileSpool } from '../../src/pipeline/spool';
import { Writer, type AuditStats } from '../../src/pipeline/writer';
import { fuzzRuns } from '../support/fast-check';
import { until } from '../support/wait';
import { FakeStore, Reports, entry, segmentFiles, settings, tempDirs } from './fakes';

const spoolDir = tempDirs();

function notes(entries: Array<{ notes: string | null }>): string[] {
  return entries.map((e) => e.notes ?? '');
}

/** Entries come in by being recorded or read back from the spool, and go out written, spooled or dropped, or are still queued. */
function expectBalanced(stats: AuditStats): void {
  expect({ in: stats.recorded + stats.replayed, out: stats.written + stats.spooled + stats.dropped + stats.queued }).toEqual({
    in: stats.recorded + stats.replayed,
    out: stats.recorded + stats.replayed,
  });
}

function range(n: number, prefix = ''): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}${i}`);
}

describe('writing', () => {
  test('a batch the store half-wrote before failing is retried: every entry stored once, in order', async () => {
    const store = new FakeStore();
    const reports = new Reports();
    store.mode = 'half';
    // 15 with batches of 10: a first batch of 10, then 5 (no backlog big enough to write more at once).
    const writer = new Writer(store, settings({ batchSize: 10 }), reports.report);
    const labels = range(15);
    for (const label of labels) writer.push(entry(label), 100);
    await until(() => writer.stats().written === 15, 'all 15 written');
    expect(notes(store.stored)).toEqual(labels);
    // The first 5 ids were sent twice (the retry), and stored once.
    expect(store.attempts.length).toBeGreaterThan(15);
    expect(new Set(store.stored.map((e) => e._id)).size).toBe(15);
    expect(writer.stats()).toMatchObject({ recorded: 15, written: 15, failed: 10, retried: 10, dropped: 0, queued: 0, queuedBytes: 0 });
    expect(reports.codes()).toEqual(['EAUDIT_STORE_WRITE']);
    await writer.close();
  });

  test('a full batch is written at once, not after flushIntervalMs; a partial one waits for it', async () => {
    const store = new FakeStore();
    const writer = new Writer(store, settings({ batchSize: 5, flushIntervalMs: 600_000 }), new Reports().report);
    writer.push(entry('first'), 100);
    await writer.flush(); // the store has started; the queue is empty
    for (const label of range(5)) writer.push(entry(label), 100);
    await until(() => writer.stats().written === 6, 'the full batch written long before flushIntervalMs');
    for (const label of range(2, 'late-')) writer.push(entry(label), 100);
    await new Promise((resolve) => setImmediate(resolve));
    expect(writer.stats()).toMatchObject({ written: 6, queued: 2 });
    await writer.close();
    expect(notes(store.stored)).toEqual(['first', ...range(5), ...range(2, 'late-')]);
  });

  test('the store starting late: entries wait, the start is retried, then they are written', async () => {
    const store = new FakeStore();
    const reports = new Reports();
    store.initMode = 'down';
    const writer = new Writer(store, settings(), reports.report);
    for (const label of range(3)) writer.push(entry(label), 100);
    await until(() => reports.errors.length >= 2, 'two failed starts');
    expect(writer.stats()).toMatchObject({ written: 0, queued: 3 });
    store.initMode = 'up';
    await until(() => writer.stats().written === 3, 'written once the store started');
    expect(reports.codes()).toEqual(['EAUDIT_STORE_INIT']);
    await writer.close();
  });

  test('property: whatever the interleaving of pushes, flushes, outages and partial writes, one write runs at a time and the store gets every entry once, in push order', async () => {
    const command = fc.oneof(
      fc.record({ op: fc.constant('push' as const), n: fc.integer({ min: 1, max: 15 }) }),
      fc.record({ op: fc.constant('flush' as const) }),
      fc.record({ op: fc.constant('mode' as const), mode: fc.constantFrom('up' as const, 'down' as const, 'half' as const) }),
      fc.record({ op: fc.constant('tick' as const) }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(command, { maxLength: 30 }),
        fc.integer({ min: 1, max: 8 }),
        fc.option(fc.integer({ min: 1, max: 20 }), { nil: null }),
        async (commands, batchSize, spoolPast) => {
          const store = new FakeStore();
          // Half the runs with a spool behind a small queue, so entries also travel through the disk.
          const spool = spoolPast === null ? null : new FileSpool(spoolDir(), () => undefined);
          const writer = new Writer(store, settings({ batchSize, flushIntervalMs: 0, maxQueueEntries: spoolPast ?? 1000 }), () => undefined, spool);
          const pushed: string[] = [];
          const flushes: Array<Promise<void>> = [];
          for (const c of commands) {
            if (c.op === 'push')
              for (let i = 0; i < c.n; i++) {
                const label = String(pushed.length);
                pushed.push(label);
                writer.push(entry(label), 10);
              }
            if (c.op === 'flush') flushes.push(writer.flush());
            if (c.op === 'mode') store.mode = c.mode;
            if (c.op === 'tick') await new Promise((resolve) => setImmediate(resolve));
            expectBalanced(writer.stats());
          }
          store.mode = 'up';
          await Promise.all(flushes);
          await until(() => writer.stats().written === pushed.length, 'everything written');
          expect(store.maxActive).toBeLessThanOrEqual(1);
          expect(notes(store.stored)).toEqual(pushed);
          const { recorded, written, dropped, queued, queuedBytes, spooled, replayed } = writer.stats();
          expect({ recorded, written, dropped, queued, queuedBytes }).toEqual({
            recorded: pushed.length,
            written: pushed.length,
            dropped: 0,
            queued: 0,
            queuedBytes: 0,
          });
          expect(replayed).toBe(spooled);
          expectBalanced(writer.stats());
          await writer.close();
        },
      ),
      { numRuns: fuzzRuns(60) },
    );
  });
});

describe('entries the store can never take', () => {
  test('a rejected batch is written again one entry at a time: the bad entry is dropped and reported, the rest stored in order, nothing blocked', async () => {
    const store = new FakeStore();
    const reports = new Reports();
    store.poison.add('bad');
    const writer = new Writer(store, settings({ batchSize: 10, flushIntervalMs: 0 }), reports.report);
    const labels = ['0', '1', '2', 'bad', '3', '4', '5', '6', '7', '8', '9', '10'];
    for (const label of labels) writer.push(entry(label), 100);
    await until(() => writer.stats().written === 11, 'the good entries written');
    expect(notes(store.stored)).toEqual(labels.filter((label) => label !== 'bad'));
    expect(writer.stats()).toMatchObject({ recorded: 12, written: 11, dropped: 1, queued: 0, queuedBytes: 0 });
    expect(reports.codes()).toEqual(['EAUDIT_DROPPED']);
    expect(reports.errors[0]!.message).toMatch(/rejected entry [0-9a-f]{24} \(cannot encode bad\)/);
    await writer.close();
  });

  test('the same when the bad entry comes back from the spool', async () => {
    const dir = spoolDir();
    const seed = new FileSpool(dir, () => undefined);
    seed.append(['a', 'b', 'bad', 'c'].map((label) => entry(label)));
    await seed.close();
    const store = new FakeStore();
    const reports = new Reports();
    store.poison.add('bad');
    const writer = new Writer(store, settings(), reports.report, new FileSpool(dir, () => undefined));
    await until(() => writer.stats().replayed === 3 && segmentFiles(dir).length === 0, 'the good entries replayed');
    expect(notes(store.stored)).toEqual(['a', 'b', 'c']);
    expect(writer.stats()).toMatchObject({ replayed: 3, written: 3, dropped: 1 });
    expect(reports.codes()).toEqual(['EAUDIT_DROPPED']);
    await writer.close();
  });
});

describe('bounded memory', () => {
  test('property: queued ≤ maxQueueEntries and queuedBytes ≤ maxQueueBytes at every moment, the batch in flight included; the rest is spooled or dropped and counted', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 4000 }), { minLength: 1, maxLength: 80 }),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1024, max: 16_384 }),
        fc.boolean(),
        async (sizes, maxQueueEntries, maxQueueBytes, withSpool) => {
          const store = new FakeStore();
          store.mode = 'hang'; // the first batch is taken and never answered: the store is down
          const spool = withSpool ? new FileSpool(spoolDir(), () => undefined) : null;
          const writer = new Writer(store, settings({ batchSize: 5, maxQueueEntries, maxQueueBytes }), () => undefined, spool);
          for (const bytes of sizes) {
            writer.push(entry(), bytes);
            const stats = writer.stats();
            expect(stats.queued).toBeLessThanOrEqual(maxQueueEntries);
            expect(stats.queuedBytes).toBeLessThanOrEqual(maxQueueBytes);
            await new Promise((resolve) => setImmediate(resolve));
          }
          const stats = writer.stats();
          expect(stats.recorded).toBe(sizes.length);
          expect(stats.queued + (withSpool ? stats.spooled : stats.dropped)).toBe(sizes.length);
          if (!withSpool) expect(stats.spooled).toBe(0);
          else expect(stats.dropped).toBe(0);
          store.mode = 'up';
          store.release();
          await writer.close(0);
        },
      ),
      { numRuns: fuzzRuns(40) },
    );
  });

  test('without a spool, what does not fit is dropped, counted and reported; the writer carries on', async () => {
    const store = new FakeStore();
    const reports = new Reports();
    store.mode = 'hang';
    const writer = new Writer(store, settings({ batchSize: 2, maxQueueEntries: 3 }), reports.report);
    for (const label of range(5)) writer.push(entry(label), 100);
    expect(writer.stats()).toMatchObject({ recorded: 5, queued: 3, dropped: 2 });
    expect(reports.codes()).toEqual(['EAUDIT_DROPPED']);
    expect(reports.errors.reduce((sum, error) => sum + error.entries, 0)).toBe(2);
    store.mode = 'up';
    store.release();
    await until(() => writer.stats().written === 3, 'the three kept entries written');
    expect(notes(store.stored)).toEqual(['0', '1', '2']);
    await writer.close();
  });
});

describe('retry timing', () => {
  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  /** The gaps between write attempts while the store stays down, with Math.random fixed. */
  async function gaps(random: number, attempts: number): Promise<number[]> {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask', 'performance', 'hrtime'] });
    jest.spyOn(Math, 'random').mockReturnValue(random);
    const store = new FakeStore();
    store.mode = 'down';
    const times: number[] = [];
    const insert = store.insertMany.bind(store);
    store.insertMany = (entries) => {
      times.push(Date.now());
      return insert(entries);
    };
    const writer = new Writer(store, settings({ flushIntervalMs: 0, retryMinDelayMs: 100, retryMaxDelayMs: 1000 }), () => undefined);
    writer.push(entry(), 100);
    while (times.length < attempts) await jest.advanceTimersByTimeAsync(10);
    const result = times.slice(1).map((time, i) => time - times[i]!);
    store.mode = 'up';
    await jest.advanceTimersByTimeAsync(2000);
    expect(writer.stats().written).toBe(1);
    await writer.close();
    return result;
  }

  test('exponential backoff: the delay doubles from retryMinDelayMs up to retryMaxDelayMs, with jitter in its upper half', async () => {
    // Ceilings 100, 200, 400, 800, 1000, 1000 ms. Jitter picks a delay between half the ceiling and all of it.
    const low = await gaps(0, 7);
    const high = await gaps(0.999, 7);
    const near = (values: number[]) => values.map((v) => Math.round(v / 10) * 10);
    expect(near(low)).toEqual([50, 100, 200, 400, 500, 500]);
    expect(near(high)).toEqual([100, 200, 400, 800, 1000, 1000]);
  });
});

describe('flush()', () => {
  test('waits for everything recorded before it, and only that: entries that keep arriving cannot hold it up', async () => {
    const store = new FakeStore();
    store.mode = 'hang';
    const writer = new Writer(store, settings({ flushIntervalMs: 0, batchSize: 1 }), () => undefined);
    writer.push(entry('a'), 100);
    await until(() => store.hung() === 1, "a's write in flight");
    writer.push(entry('b'), 100);
    let flushed = false;
    const flushing = writer.flush().then(() => {
      flushed = true;
    });
    writer.push(entry('c'), 100); // after the flush() call: not its business
    store.release(); // a is written; b's write starts and hangs
    await until(() => store.hung() === 1 && store.stored.length === 1, "b's write in flight");
    expect(flushed).toBe(false);
    store.release(); // b is written; c's write starts and hangs
    await flushing;
    expect(notes(store.stored)).toEqual(['a', 'b']);
    expect(store.hung()).toBe(1);
    store.mode = 'up';
    store.release();
    await until(() => writer.stats().written === 3, 'c written later');
    await writer.close();
  });
});

describe('close(deadline)', () => {
  test('with a store that never answers: resolves at the deadline, spools the batch in flight and the queue; a late answer changes nothing', async () => {
    const dir = spoolDir();
    const store = new FakeStore();
    const reports = new Reports();
    store.mode = 'hang';
    // Batches of 3: 3 in flight, 2 queued (5 is no backlog big enough to write more at once).
    const writer = new Writer(store, settings({ batchSize: 3 }), reports.report, new FileSpool(dir, () => undefined));
    for (const label of range(5)) writer.push(entry(label), 100);
    await until(() => store.hung() === 1, 'a batch in flight');
    const first = writer.close(20);
    expect(writer.close(20)).toBe(first); // a second call is the same close
    await first;
    expect(writer.stats()).toMatchObject({ recorded: 5, written: 0, spooled: 5, dropped: 0, queued: 0, queuedBytes: 0 });
    expect(store.closed).toBe(true);
    store.mode = 'up';
    store.release();
    await new Promise((resolve) => setImmediate(resolve));
    expect(writer.stats()).toMatchObject({ written: 0, spooled: 5, queued: 0 });
    // After close, entries are refused loudly.
    writer.push(entry('late'), 100);
    expect(writer.stats()).toMatchObject({ recorded: 6, dropped: 1 });
    expect(reports.codes()).toContain('EAUDIT_CLOSED');

    // The store did take the abandoned batch, late.
    expect(notes(store.stored)).toEqual(['0', '1', '2']);
    // The next start replays all five, in order; the three it already had are not stored twice.
    const restarted = new Writer(store, settings(), () => undefined, new FileSpool(dir, () => undefined));
    await until(() => restarted.stats().replayed === 5, 'replayed on the next start');
    expect(notes(store.stored)).toEqual(range(5));
    expect(segmentFiles(dir)).toEqual([]);
    await restarted.close();
  });

  test('without a spool, what the deadline leaves is counted as dropped and reported', async () => {
    const store = new FakeStore();
    const reports = new Reports();
    store.mode = 'down';
    const writer = new Writer(store, settings(), reports.report);
    for (const label of range(4)) writer.push(entry(label), 100);
    await writer.close(20);
    expect(writer.stats()).toMatchObject({ recorded: 4, written: 0, dropped: 4, queued: 0 });
    expect(reports.codes()).toEqual(['EAUDIT_DROPPED', 'EAUDIT_STORE_WRITE']);
  });

  test.each([
    [Number.NaN, 1],
    ['soon' as unknown as number, 1],
    [Number.POSITIVE_INFINITY, 1],
    [-5, 0],
  ])('a deadline of %p still closes (the default, the longest a timer can wait, or now)', async (deadline, written) => {
    const store = new FakeStore();
    const writer = new Writer(store, settings(), () => undefined);
    writer.push(entry('x'), 100);
    await writer.close(deadline);
    expect(writer.stats()).toMatchObject({ written, dropped: 1 - written, queued: 0 });
  });

  test('flushes the queue before the deadline when the store answers; retries until then', async () => {
    const store = new FakeStore();
    store.mode = 'half';
    const writer = new Writer(store, settings({ flushIntervalMs: 60_000, batchSize: 100 }), () => undefined);
    for (const label of range(7)) writer.push(entry(label), 100);
    await writer.close(10_000);
    expect(notes(store.stored)).toEqual(range(7));
    expect(writer.stats()).toMatchObject({ written: 7, dropped: 0, spooled: 0 });
  });

  test('what was still in memory goes before what was already spooled: the next start replays in recording order', async () => {
    const dir = spoolDir();
    const store = new FakeStore();
    store.mode = 'down';
    const writer = new Writer(store, settings({ maxQueueEntries: 5, batchSize: 2 }), () => undefined, new FileSpool(dir, () => undefined));
    const labels = range(12);
    for (const label of labels) writer.push(entry(label), 100);
    expect(writer.stats()).toMatchObject({ queued: 5, spooled: 7 });
    await writer.close(20);
    expect(writer.stats()).toMatchObject({ queued: 0, spooled: 12, dropped: 0 });

    const next = new FakeStore();
    const restarted = new Writer(next, settings(), () => undefined, new FileSpool(dir, () => undefined));
    await until(() => restarted.stats().replayed === 12, 'replayed');
    expect(notes(next.stored)).toEqual(labels);
    await restarted.close();
  });
});

describe('the spool', () => {
  test('an outage longer than the queue: memory first, then the spool, replayed in order when the store is back; new entries wait behind it', async () => {
    const dir = spoolDir();
    const store = new FakeStore();
    store.mode = 'down';
    const writer = new Writer(store, settings({ maxQueueEntries: 4, batchSize: 3 }), () => undefined, new FileSpool(dir, () => undefined));
    const before = range(20, 'a');
    for (const label of before) writer.push(entry(label), 100);
    expect(writer.stats()).toMatchObject({ queued: 4, spooled: 16 });
    // The store comes back but its first replay hangs: entries recorded now must queue behind the spool.
    store.mode = 'hang';
    await until(() => store.hung() === 1, 'the first write after the outage');
    const during = range(5, 'b');
    for (const label of during) writer.push(entry(label), 100);
    store.mode = 'up';
    store.release();
    await until(() => writer.stats().written === 25, 'everything written');
    expect(notes(store.stored)).toEqual([...before, ...during]);
    expect(writer.stats()).toMatchObject({ recorded: 25, written: 25, spooled: 21, replayed: 21, dropped: 0, queued: 0 });
    expectBalanced(writer.stats());
    expect(segmentFiles(dir)).toEqual([]);
    await writer.close();
  });

  test('concurrent flushes never replay a segment twice or skip one', async () => {
    const dir = spoolDir();
    // Three segments, left by a process that could not write them.
    for (const prefix of ['x', 'y', 'z']) {
      const spool = new FileSpool(dir, () => undefined);
      spool.append(range(30, prefix).map((label) => entry(label)));
      await spool.close();
    }
    expect(segmentFiles(dir)).toHaveLength(3);
    const store = new FakeStore();
    const writer = new Writer(store, settings({ batchSize: 7 }), () => undefined, new FileSpool(dir, () => undefined));
    await Promise.all([writer.flush(), writer.flush(), writer.flush()]);
    await until(() => writer.stats().replayed === 90, 'all replayed');
    expect(notes(store.stored)).toEqual([...range(30, 'x'), ...range(30, 'y'), ...range(30, 'z')]);
    expect(store.attempts).toHaveLength(90); // each entry sent once
    expect(store.maxActive).toBe(1);
    expect(segmentFiles(dir)).toEqual([]);
    await writer.close();
  });

  test('a replay that fails part-way resumes where it stopped: nothing is sent twice, nothing counted twice', async () => {
    const dir = spoolDir();
    const seed = new FileSpool(dir, () => undefined);
    seed.append(range(10).map((label) => entry(label)));
    await seed.close();
    const store = new FakeStore();
    const reports = new Reports();
    let calls = 0;
    const insert = store.insertMany.bind(store);
    store.insertMany = (entries) => (++calls === 2 ? Promise.reject(new Error('blip')) : insert(entries));
    const writer = new Writer(store, settings({ batchSize: 4 }), reports.report, new FileSpool(dir, () => undefined));
    await until(() => writer.stats().replayed === 10, 'replayed');
    expect(notes(store.stored)).toEqual(range(10));
    // Four calls: 0-3, 4-7 (failed), 4-7 again, 8-9. Nothing before the failure was sent again.
    expect(calls).toBe(4);
    expect(store.attempts).toHaveLength(10);
    expect(writer.stats()).toMatchObject({ replayed: 10, written: 10, failed: 4 });
    expect(reports.codes()).toEqual(['EAUDIT_SPOOL_REPLAY']);
    await writer.close();
  });

  test('a process that died mid-append: its segments are replayed on the next start; a torn last line is counted as dropped', async () => {
    const dir = spoolDir();
    // The dead process: it spooled five entries one by one, never closed, and its last append was torn.
    const dead = new FileSpool(dir, () => undefined);
    for (const label of range(5)) dead.append([entry(label)]);
    // In one process, releasing its lock is how the "dead" spool gives up its files (a real kill: test/pipeline/shared-spool.test.ts).
    await dead.close();
    const [segment] = segmentFiles(dir);
    fs.appendFileSync(path.join(dir, segment!), '{"_id":"65f0c0ffee', 'utf8');

    const store = new FakeStore();
    const reports = new Reports();
    const restarted = new Writer(store, settings(), reports.report, new FileSpool(dir, () => undefined));
    await until(() => restarted.stats().replayed === 5, 'replayed');
    expect(notes(store.stored)).toEqual(range(5));
    expect(restarted.stats()).toMatchObject({ replayed: 5, written: 5, dropped: 1 });
    expect(reports.codes()).toEqual(['EAUDIT_DROPPED']);
    expect(segmentFiles(dir)).toEqual([]);
    await restarted.close();
  });

  test('a spool that cannot be written: the entry is dropped, counted and reported; nothing throws', async () => {
    const parent = spoolDir();
    const blocked = path.join(parent, 'not-a-dir');
    fs.writeFileSync(blocked, 'a file where the spool directory should be');
    const spoolErrors: Error[] = [];
    const spool = new FileSpool(path.join(blocked, 'spool'), (error) => spoolErrors.push(error));
    expect(spoolErrors).toHaveLength(1);
    const store = new FakeStore();
    const reports = new Reports();
    store.mode = 'down';
    const writer = new Writer(store, settings({ maxQueueEntries: 2 }), reports.report, spool);
    for (const label of range(5)) writer.push(entry(label), 100);
    expect(writer.stats()).toMatchObject({ recorded: 5, queued: 2, spooled: 0, dropped: 3 });
    expect(reports.codes()).toContain('EAUDIT_DROPPED');
    expect(reports.errors.find((error) => error.code === 'EAUDIT_DROPPED')!.message).toMatch(/spool could not be written/);
    store.mode = 'up';
    await until(() => writer.stats().written === 2, 'the queued entries written');
    await writer.close();
  });
});

test('a backlog is written in larger calls (up to 10 × batchSize), still in order and once each', async () => {
  const store = new FakeStore();
  store.mode = 'hang';
  const sizes: number[] = [];
  const insert = store.insertMany.bind(store);
  store.insertMany = (entries) => {
    sizes.push(entries.length);
    return insert(entries);
  };
  const writer = new Writer(store, settings({ batchSize: 10 }), () => undefined);
  for (const label of range(5)) writer.push(entry(label), 100);
  await until(() => store.hung() === 1, 'a first batch in flight');
  for (const label of range(200, 'b')) writer.push(entry(label), 100);
  store.mode = 'up';
  store.release();
  await until(() => writer.stats().written === 205, 'all written');
  expect(sizes).toEqual([5, 100, 100]);
  expect(notes(store.stored)).toEqual([...range(5), ...range(200, 'b')]);
  await writer.close();
});

describe('flush(deadlineMs)', () => {
  // An app's test file that loads the app but never connects mongoose: flush() in its afterAll must not wait out the connect timeout.
  test('with a store that never starts, it resolves at its deadline, entries still queued', async () => {
    const store = new FakeStore();
    store.init = () => new Promise<void>(() => undefined);
    const writer = new Writer(store, settings(), new Reports().report);
    await writer.flush(20);
    writer.push(entry('waiting'), 100);
    await writer.flush(20);
    expect(writer.stats()).toMatchObject({ recorded: 1, written: 0, queued: 1 });
  });
});
