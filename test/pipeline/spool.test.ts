/** The on-disk spool on its own: order across segments and restarts, prepend, resumable replay, damage. */
import fs from 'node:fs';
import path from 'node:path';
import { FileSpool } from '../../src/pipeline/spool';
import type { AuditEntry } from '../../src/entry';
import { entry, segmentFiles, tempDirs } from './fakes';

const dir = tempDirs();
afterEach(() => jest.restoreAllMocks());

function labels(entries: AuditEntry[]): string[] {
  return entries.map((e) => e.notes ?? '');
}

function range(n: number, prefix = ''): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}${i}`);
}

/** Everything a fresh spool on `where` replays, acknowledging as it goes. */
async function drain(where: string, batch = 50): Promise<string[]> {
  const spool = new FileSpool(where, (error) => {
    throw error;
  });
  const out: string[] = [];
  for (;;) {
    const next = await spool.next(batch);
    if (next.length === 0) break;
    out.push(...labels(next));
    await spool.ack(next.length);
  }
  expect(spool.hasPending()).toBe(false);
  return out;
}

test('entries come back in the order they were appended, across segments and restarts; fully replayed segments are deleted', async () => {
  const where = dir();
  // Enough bytes for several 1 MiB segments, appended by two successive "processes".
  const blob = 'z'.repeat(2000);
  const first = new FileSpool(where, () => undefined);
  for (const label of range(700, 'a')) first.append([{ ...entry(label), payload: blob }]);
  await first.close();
  const second = new FileSpool(where, () => undefined);
  for (const label of range(700, 'b')) second.append([{ ...entry(label), payload: blob }]);
  expect(segmentFiles(where).length).toBeGreaterThan(2);
  expect(await drain(where)).toEqual([...range(700, 'a'), ...range(700, 'b')]);
  expect(segmentFiles(where)).toEqual([]);
});

test('a clock that steps back cannot reorder segments', async () => {
  const where = dir();
  const now = jest.spyOn(Date, 'now').mockReturnValue(2_000_000_000_000);
  const first = new FileSpool(where, () => undefined);
  first.append([entry('early')]);
  await first.close();
  now.mockReturnValue(1_000_000_000_000); // an hour... or years back
  const second = new FileSpool(where, () => undefined);
  second.append([entry('late')]);
  await second.close();
  now.mockRestore();
  expect(await drain(where)).toEqual(['early', 'late']);
});

test('prepend puts entries before everything pending, even before segments of an earlier process', async () => {
  const where = dir();
  const earlier = new FileSpool(where, () => undefined);
  earlier.append(['x0', 'x1'].map((label) => entry(label)));
  await earlier.close();
  const spool = new FileSpool(where, () => undefined);
  spool.append([entry('y0')]);
  expect(spool.prepend(['p0', 'p1'].map((label) => entry(label)))).toBe(true);
  expect(spool.prepend([entry('q0')])).toBe(true);
  await spool.close();
  expect(await drain(where)).toEqual(['q0', 'p0', 'p1', 'x0', 'x1', 'y0']);
});

test('replay is resumable: a released batch comes back from where acknowledgement stopped', async () => {
  const where = dir();
  const spool = new FileSpool(where, () => undefined);
  spool.append(range(10).map((label) => entry(label)));
  expect(labels(await spool.next(4))).toEqual(range(4));
  await spool.ack(4);
  expect(labels(await spool.next(4))).toEqual(['4', '5', '6', '7']);
  spool.release(); // the write of 4..7 failed
  expect(labels(await spool.next(4))).toEqual(['4', '5', '6', '7']);
  await spool.ack(4);
  // Appends during replay go to a new segment, after the one being read.
  spool.append([entry('new')]);
  expect(labels(await spool.next(10))).toEqual(['8', '9']);
  await spool.ack(2);
  expect(labels(await spool.next(10))).toEqual(['new']);
  await spool.ack(1);
  expect(spool.hasPending()).toBe(false);
  expect(await spool.next(10)).toEqual([]);
});

test('dates survive the round trip as Date objects; every other field as it was', async () => {
  const where = dir();
  const spool = new FileSpool(where, () => undefined);
  const original = { ...entry('d'), payload: { nested: [1, 'two', null, { three: true }] }, documents: ['a', 'b'], statusCode: 201 };
  spool.append([original]);
  const [back] = await spool.next(1);
  expect(back!.date).toBeInstanceOf(Date);
  expect(back).toEqual(original);
});

test('damage: a torn last line and lines that are not entries are skipped, counted once and reported; the rest replays', async () => {
  const where = dir();
  const spool = new FileSpool(where, () => undefined);
  spool.append(['a', 'b'].map((label) => entry(label)));
  await spool.close();
  const [file] = segmentFiles(where);
  fs.appendFileSync(path.join(where, file!), '42\nnull\n{"_id":"65f0c0ffee65f0c0ffee65f0","date":"2026-01-01T00:00:00Z","notes":"c"}\n{"_id":"65f0', 'utf8');
  const errors: Error[] = [];
  const reader = new FileSpool(where, (error) => errors.push(error));
  expect(labels(await reader.next(10))).toEqual(['a', 'b', 'c']);
  expect(reader.takeUnreadable()).toBe(3);
  reader.release();
  await reader.next(10); // loaded again after a failed write: not counted again
  expect(reader.takeUnreadable()).toBe(0);
  expect(errors).toHaveLength(1);
  expect(errors[0]!.message).toMatch(/3 unreadable line/);
});

test('a segment removed by hand is skipped; unrelated files in the directory are left alone', async () => {
  const where = dir();
  const spool = new FileSpool(where, () => undefined);
  spool.append([entry('gone')]);
  await spool.close();
  fs.writeFileSync(path.join(where, 'notes.txt'), 'keep me');
  const reader = new FileSpool(where, () => undefined);
  fs.rmSync(path.join(where, segmentFiles(where)[0]!));
  expect(await reader.next(10)).toEqual([]);
  expect(reader.hasPending()).toBe(false);
  expect(fs.readdirSync(where)).toEqual(['notes.txt']);
});

test('a directory that cannot be created is reported, not thrown; appends fail until it can be, then work', async () => {
  const parent = dir();
  const blocked = path.join(parent, 'blocked');
  fs.writeFileSync(blocked, 'a file in the way');
  const errors: Error[] = [];
  const spool = new FileSpool(path.join(blocked, 'spool'), (error) => errors.push(error));
  expect(errors).toHaveLength(1);
  expect(spool.append([entry('x')])).toBe(false);
  expect(spool.prepend([entry('y')])).toBe(false);
  expect(spool.hasPending()).toBe(false);
  fs.rmSync(blocked);
  fs.mkdirSync(blocked);
  expect(spool.append([entry('z')])).toBe(true);
  await spool.close();
  expect(await drain(path.join(blocked, 'spool'))).toEqual(['z']);
});

test('files are private to the process owner', async () => {
  const where = path.join(dir(), 'spool');
  const spool = new FileSpool(where, () => undefined);
  spool.append([entry('secret')]);
  await spool.close();
  expect(fs.statSync(where).mode & 0o777).toBe(0o700);
  expect(fs.statSync(path.join(where, segmentFiles(where)[0]!)).mode & 0o777).toBe(0o600);
});
