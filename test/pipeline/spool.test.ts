/** The on-disk spool on its own: order across segments and restarts, prepend, resumable replay, damage, trust. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { auditLog, memoryStore, type AuditLogStoreError } from 'express-audit-log';
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
  await spool.close();
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
  // Closed (or dead): a spool open in another audit log of this process keeps its files.
  await second.close();
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

test('dates survive the round trip as Date objects; every other field as it was, line separators in strings included', async () => {
  const where = dir();
  const spool = new FileSpool(where, () => undefined);
  // U+2028 and U+2029 end a line for a regular expression's `.`; JSON.stringify leaves them raw.
  const original = {
    ...entry('d'),
    payload: { nested: [1, 'two', null, { three: true }], text: 'a\u2028b\u2029c\r\nd' },
    documents: ['a', 'b'],
    statusCode: 201,
  };
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
  // The reader's lock goes with it.
  await reader.close();
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

describe("trust: only what this process's user wrote is replayed", () => {
  const isRoot = process.getuid?.() === 0;
  /** A uid that is not ours, for chown (only root can give a file away). */
  const OTHER_UID = 54321;
  const asRoot = isRoot ? test : test.skip;
  const unixOnly = process.platform === 'win32' ? test.skip : test;

  function codes(errors: Error[]): string[] {
    return errors.map((error) => (error as Error & { code?: string }).code ?? 'none');
  }

  /** A segment holding `labels`, written by a spool in a directory of its own, moved to `where` under `name`. */
  function segmentFrom(labelsToWrite: string[]): string {
    const elsewhere = dir();
    const writer = new FileSpool(elsewhere, () => undefined);
    writer.append(labelsToWrite.map((label) => entry(label)));
    void writer.close();
    return path.join(elsewhere, segmentFiles(elsewhere)[0]!);
  }

  unixOnly.each([
    ['0777', 'its group and others'],
    ['0770', 'its group'],
    ['0703', 'others'],
    ['1777', 'its group and others'],
  ])(
    'a spoolDir %s (writable by %s) is refused: reported as EAUDIT_SPOOL_UNSAFE, nothing written there, left as it is, used once fixed',
    async (octal, who) => {
      const where = dir();
      const mode = parseInt(octal, 8);
      fs.chmodSync(where, mode);
      const errors: Error[] = [];
      const spool = new FileSpool(where, (error) => errors.push(error));
      expect(codes(errors)).toEqual(['EAUDIT_SPOOL_UNSAFE']);
      expect(errors[0]!.message).toContain(where);
      expect(errors[0]!.message).toContain(`can be written by ${who} (mode ${octal})`);
      expect(errors[0]!.message).toContain('chmod 700');
      expect(spool.append([entry('x')])).toBe(false);
      expect(spool.prepend([entry('y')])).toBe(false);
      expect(fs.readdirSync(where)).toEqual([]);
      // The mode is the operator's to fix, not ours: it is left as it was.
      expect(fs.statSync(where).mode & 0o7777).toBe(mode);
      fs.chmodSync(where, 0o700);
      expect(spool.append([entry('z')])).toBe(true);
      await spool.close();
      expect(await drain(where)).toEqual(['z']);
    },
  );

  asRoot('a spoolDir owned by another user is refused, even when only its owner can write it', () => {
    const where = dir();
    fs.chownSync(where, OTHER_UID, OTHER_UID);
    const errors: Error[] = [];
    const spool = new FileSpool(where, (error) => errors.push(error));
    expect(codes(errors)).toEqual(['EAUDIT_SPOOL_UNSAFE']);
    expect(errors[0]!.message).toContain(`is owned by uid ${OTHER_UID}, not by this process's uid 0`);
    expect(spool.append([entry('x')])).toBe(false);
    expect(fs.readdirSync(where)).toEqual([]);
  });

  unixOnly('a directory the spool creates is 0700, whatever the umask', () => {
    const where = path.join(dir(), 'a', 'spool');
    const before = process.umask(0);
    try {
      new FileSpool(where, (error) => {
        throw error;
      });
    } finally {
      process.umask(before);
    }
    expect(fs.statSync(where).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.dirname(where)).mode & 0o777).toBe(0o700);
  });

  unixOnly('a segment that is a symbolic link is reported and skipped, never followed, and left in place; the other segments replay', async () => {
    const where = dir();
    const target = segmentFrom(['planted']);
    const targetText = fs.readFileSync(target, 'utf8');
    fs.symlinkSync(target, path.join(where, 'spool-0000000000000001-1.ndjson'));
    fs.copyFileSync(segmentFrom(['ours']), path.join(where, 'spool-0000000000000002-1.ndjson'));
    const errors: Error[] = [];
    const reader = new FileSpool(where, (error) => errors.push(error));
    expect(labels(await reader.next(10))).toEqual(['ours']);
    await reader.ack(1);
    expect(await reader.next(10)).toEqual([]);
    expect(reader.hasPending()).toBe(false);
    expect(codes(errors)).toEqual(['EAUDIT_SPOOL_UNSAFE']);
    expect(errors[0]!.message).toMatch(/spool-0000000000000001-1\.ndjson is a symbolic link; it was skipped/);
    expect(fs.lstatSync(path.join(where, 'spool-0000000000000001-1.ndjson')).isSymbolicLink()).toBe(true);
    expect(fs.readFileSync(target, 'utf8')).toBe(targetText);
  });

  unixOnly("appends never write through a link planted under the next segment's name: a new file is made beside it", async () => {
    const where = dir();
    const outside = path.join(dir(), 'victim.txt');
    fs.writeFileSync(outside, 'untouched');
    jest.spyOn(Date, 'now').mockReturnValue(1_800_000_000_000);
    const spool = new FileSpool(where, (error) => {
      throw error;
    });
    // Planted after start, under the very name the first append would take.
    fs.symlinkSync(outside, path.join(where, `spool-${1_800_000_000_000 * 1000}-${process.pid}.ndjson`));
    expect(spool.append([entry('a')])).toBe(true);
    await spool.close();
    jest.restoreAllMocks();
    expect(fs.readFileSync(outside, 'utf8')).toBe('untouched');
    const errors: Error[] = [];
    const reader = new FileSpool(where, (error) => errors.push(error));
    const replayed: string[] = [];
    for (let next = await reader.next(10); next.length > 0; next = await reader.next(10)) {
      replayed.push(...labels(next));
      await reader.ack(next.length);
    }
    expect(replayed).toEqual(['a']);
    expect(codes(errors)).toEqual(['EAUDIT_SPOOL_UNSAFE']);
  });

  unixOnly('prepend never writes through a link planted under its temporary name', async () => {
    const where = dir();
    const outside = path.join(dir(), 'victim.txt');
    fs.writeFileSync(outside, 'untouched');
    jest.spyOn(Date, 'now').mockReturnValue(1_800_000_000_000);
    const spool = new FileSpool(where, (error) => {
      throw error;
    });
    spool.append([entry('later')]);
    fs.symlinkSync(outside, path.join(where, `spool-${1_800_000_000_000 * 1000 - 1}-${process.pid}.ndjson.tmp`));
    expect(spool.prepend([entry('earlier')])).toBe(true);
    await spool.close();
    jest.restoreAllMocks();
    expect(fs.readFileSync(outside, 'utf8')).toBe('untouched');
    expect(await drain(where)).toEqual(['earlier', 'later']);
  });

  unixOnly('a segment others can write is reported and skipped, left in place; the other segments replay', async () => {
    const where = dir();
    const loose = path.join(where, 'spool-0000000000000001-1.ndjson');
    fs.copyFileSync(segmentFrom(['loose']), loose);
    fs.chmodSync(loose, 0o622);
    fs.copyFileSync(segmentFrom(['ours']), path.join(where, 'spool-0000000000000002-1.ndjson'));
    const errors: Error[] = [];
    const reader = new FileSpool(where, (error) => errors.push(error));
    expect(labels(await reader.next(10))).toEqual(['ours']);
    expect(codes(errors)).toEqual(['EAUDIT_SPOOL_UNSAFE']);
    expect(errors[0]!.message).toMatch(/spool-0000000000000001-1\.ndjson can be written by its group and others \(mode 0622\)/);
    expect(fs.existsSync(loose)).toBe(true);
  });

  asRoot('a segment owned by another user is reported and skipped, left in place', async () => {
    const where = dir();
    const foreign = path.join(where, 'spool-0000000000000001-1.ndjson');
    fs.copyFileSync(segmentFrom(['foreign']), foreign);
    fs.chownSync(foreign, OTHER_UID, OTHER_UID);
    fs.copyFileSync(segmentFrom(['ours']), path.join(where, 'spool-0000000000000002-1.ndjson'));
    const errors: Error[] = [];
    const reader = new FileSpool(where, (error) => errors.push(error));
    expect(labels(await reader.next(10))).toEqual(['ours']);
    expect(codes(errors)).toEqual(['EAUDIT_SPOOL_UNSAFE']);
    expect(errors[0]!.message).toContain(`is owned by uid ${OTHER_UID}`);
    expect(fs.existsSync(foreign)).toBe(true);
  });

  unixOnly('a FIFO named like a segment is skipped, not waited on', async () => {
    const where = dir();
    execFileSync('mkfifo', [path.join(where, 'spool-0000000000000001-1.ndjson')]);
    const errors: Error[] = [];
    const reader = new FileSpool(where, (error) => errors.push(error));
    expect(await reader.next(10)).toEqual([]);
    expect(errors[0]!.message).toMatch(/is not a regular file/);
  });

  test('every line carries the format marker and a checksum of the entry', async () => {
    const where = dir();
    const spool = new FileSpool(where, () => undefined);
    const written = entry('marked');
    spool.append([written]);
    await spool.close();
    const [line] = fs.readFileSync(path.join(where, segmentFiles(where)[0]!), 'utf8').split('\n');
    const json = JSON.stringify(written);
    expect(line).toBe(`{"v":1,"crc":"${crc32(json).toString(16).padStart(8, '0')}","entry":${json}}`);
  });

  test('a malformed or foreign line is reported with its file and line number, never replayed; the rest of the segment replays', async () => {
    const where = dir();
    const spool = new FileSpool(where, () => undefined);
    spool.append(['a', 'b'].map((label) => entry(label)));
    await spool.close();
    const file = path.join(where, segmentFiles(where)[0]!);
    const [first, second] = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
    const legacy = (label: string, change: Record<string, unknown> = {}) => JSON.stringify({ ...entry(label), ...change });
    const lines = [
      first, // 1: replayed
      second!.replace('"notes":"b"', '"notes":"B"'), // 2: changed after it was written: checksum mismatch
      '{"hello":"world"}', // 3: foreign
      legacy('badid', { _id: 'not-an-object-id' }), // 4
      legacy('baddate', { date: 'yesterday' }), // 5
      legacy('badstatus', { statusCode: '200' }), // 6
      legacy('baddocs', { documents: [1, 2] }), // 7
      '{"v":2,"entry":{}}', // 8: a format from elsewhere
      legacy('old'), // 9: a 0.1.0 line, plain entry JSON: replayed
      '[1,2]', // 10
    ];
    fs.writeFileSync(file, lines.join('\n') + '\n');
    const errors: Error[] = [];
    const reader = new FileSpool(where, (error) => errors.push(error));
    expect(labels(await reader.next(20))).toEqual(['a', 'old']);
    expect(reader.takeUnreadable()).toBe(8);
    expect(codes(errors)).toEqual(['EAUDIT_SPOOL_CORRUPT']);
    const message = errors[0]!.message;
    // The reader adopted the segment: renamed to its own owner tag.
    expect(message).toContain(`8 unreadable line(s) in ${path.join(where, segmentFiles(where)[0]!)}`);
    expect(message).toContain('line 2 (checksum mismatch');
    expect(message).toContain('line 3 (not an audit entry: _id is not a 24-character hex id)');
    expect(message).toContain('line 4 (not an audit entry: _id');
    expect(message).toContain('line 5 (not an audit entry: date is not an ISO date)');
    expect(message).toContain('line 6 (not an audit entry: statusCode is not a number)');
    expect(message).toMatch(/and 3 more/);
    expect((errors[0] as Error & { entries: number }).entries).toBe(8);
  });

  test("lines written by 0.1.0 (the entry's JSON alone) still replay, whole", async () => {
    const where = dir();
    const old = { ...entry('old'), payload: { a: [1, { b: null }] }, documents: ['x'], statusCode: 200, custom: 'added by a transform' };
    fs.writeFileSync(path.join(where, 'spool-0000000000000001-1.ndjson'), `${JSON.stringify(old)}\n`, { mode: 0o600 });
    const reader = new FileSpool(where, (error) => {
      throw error;
    });
    const [back] = await reader.next(10);
    expect(back).toEqual(old);
  });
});

test('through auditLog(): an unsafe spoolDir is reported at startup as EAUDIT_SPOOL_UNSAFE, and what does not fit in the queue is counted as dropped', async () => {
  const where = dir();
  fs.chmodSync(where, 0o777);
  const logged: string[] = [];
  const hung = memoryStore();
  hung.insertMany = () => new Promise(() => undefined);
  const audit = auditLog({
    store: hung,
    spoolDir: where,
    maxQueueEntries: 2,
    batchSize: 1,
    logger: { warn: (m) => logged.push(m), error: (m) => logged.push(m) },
  });
  expect(logged).toEqual([
    expect.stringMatching(new RegExp(`spoolDir ${where} can be written by its group and others \\(mode 0777\\).*\\[EAUDIT_SPOOL_UNSAFE\\]`)),
  ]);
  const errors: AuditLogStoreError[] = [];
  audit.on('error', (error) => errors.push(error));
  for (let i = 0; i < 6; i++) audit.record(null, { action: 'Export', notes: String(i) });
  const stats = audit.stats();
  expect(stats).toMatchObject({ recorded: 6, spooled: 0 });
  expect(stats.dropped).toBe(6 - stats.queued);
  expect(stats.dropped).toBeGreaterThan(0);
  expect(errors.map((error) => error.code)).toContain('EAUDIT_DROPPED');
  expect(fs.readdirSync(where)).toEqual([]);
  await audit.close(0);
});

test('two spools open in one process over one directory (two audit logs) keep their own files; a closed one gives them up', async () => {
  const where = dir();
  const first = new FileSpool(where, () => undefined);
  first.append([entry('first')]);
  const second = new FileSpool(where, () => undefined);
  expect(second.hasPending()).toBe(false);
  expect(labels(await first.next(10))).toEqual(['first']);
  first.release();
  await first.close();
  await second.close();
  expect(await drain(where)).toEqual(['first']);
});
