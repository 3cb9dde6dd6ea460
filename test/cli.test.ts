/**
 * `express-audit-log verify`, the offline check: on an NDJSON export and on a MongoDB collection,
 * it finds what the verify route finds, and says so with its exit code.
 */
import { generateKeyPairSync } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import mongoose from 'mongoose';
import { ObjectId } from 'bson';
import { mongoStore, type AuditEntry, type AuditStore } from 'express-audit-log';
import { main } from '../src/cli';
import { ADMIN, createTestApp } from './support/app';
import { tempDir } from './support/stores';
import { startMongo, stopMongo } from './support/mongo';
import { stopMongoLogs, tamperableLog, type TamperLog } from './support/tamper';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const integrity = { signingKey: privateKey, checkpointEvery: 10 };
const dir = tempDir('eal-cli-');
const keyFile = path.join(dir, 'key.pem');
fs.writeFileSync(keyFile, publicKey.export({ type: 'spki', format: 'pem' }));
const CLI = path.join(__dirname, '..', 'dist', 'cli.js');

afterAll(async () => {
  await stopMongoLogs();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(
    argv,
    (text) => {
      out += `${text}\n`;
    },
    (text) => {
      err += `${text}\n`;
    },
  );
  return { code, out, err };
}

async function writeLog(store: AuditStore, count = 30): Promise<AuditEntry[]> {
  const { app, audit } = createTestApp({ store, integrity });
  for (let i = 0; i < count; i++)
    await request(app)
      .post('/thing')
      .set('Authorization', `Bearer ${ADMIN}`)
      .send({ name: `t${i}`, 'a.b': { $c: [i] }, at: '2026-01-01' })
      .expect(201);
  await audit.close();
  return (await store.find({ filter: {}, sort: [['seq', 1]], skip: 0, limit: 1000, select: null })).docs as AuditEntry[];
}

/** The route's report and an export of the same log, through one app on the store. */
async function routeAndExport(log: TamperLog, query = ''): Promise<{ route: { problems: Array<Record<string, unknown>> }; file: string }> {
  const { app, audit } = createTestApp({ store: await log.open(), integrity });
  const route = (await request(app).get('/auditLog/verify').set('Authorization', `Bearer ${ADMIN}`).expect(200)).body;
  const exported = await request(app)
    .get(`/auditLog/export?format=ndjson${query}`)
    .set('Authorization', `Bearer ${ADMIN}`)
    .buffer(true)
    .parse((res, done) => {
      let text = '';
      res.on('data', (chunk: Buffer) => {
        text += chunk.toString('utf8');
      });
      res.on('end', () => done(null, text));
    })
    .expect(200);
  await audit.close();
  const file = path.join(dir, `export-${new ObjectId().toHexString()}.ndjson`);
  fs.writeFileSync(file, exported.body as string);
  return { route, file };
}

const kinds = (problems: Array<Record<string, unknown>>) =>
  problems.map(({ kind, seq, fromSeq, toSeq, entryId, checkpointId }) => JSON.stringify({ kind, seq, fromSeq, toSeq, entryId, checkpointId })).sort();

describe('on an NDJSON export', () => {
  let log: TamperLog;
  let entries: AuditEntry[];

  beforeEach(async () => {
    log = await tamperableLog('memory');
    entries = await writeLog(await log.open());
  });

  test('an untouched log: OK, exit 0, every entry and checkpoint read', async () => {
    const { route, file } = await routeAndExport(log);
    expect(route.problems).toEqual([]);
    const lines = fs
      .readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(Object.keys(lines[0])).toEqual(['export']);
    expect(lines.at(-1)).toEqual({ exported: { rows: 30, capped: false } });
    // How many checkpoints 30 entries give depends on how the writer's batches fell (a batch that
    // crosses checkpointEvery ends with one); the export must carry every one of their chain's.
    const chain = entries[0]!.chain;
    const stored = (await (await log.open()).findCheckpoints!({ after: null, limit: 1000 })).filter((checkpoint) => checkpoint.chain === chain);
    expect(stored.length).toBeGreaterThanOrEqual(2);
    expect(lines.filter((line) => line.checkpoint).length).toBe(stored.length);
    const result = await cli('verify', '--file', file, '--public-key', keyFile);
    expect(result).toMatchObject({ code: 0, err: '' });
    expect(result.out).toMatch(/^OK: .*\nchecked 30 entries in 1 chain and \d+ checkpoints; signatures: verified/);
  });

  test('the same problems as the route, each tampering at once: exit 1', async () => {
    await log.updateEntry(entries[3]!._id, (doc) => {
      doc.payload.name = 'mallory';
    });
    await log.removeEntry(entries[12]!._id);
    await log.updateEntry(entries[20]!._id, (doc) => {
      doc.seq = 22;
    });
    await log.updateEntry(entries[21]!._id, (doc) => {
      doc.seq = 21;
    });
    for (const entry of entries.slice(-2)) await log.removeEntry(entry._id);
    await log.insertEntry({ ...entries[5]!, _id: new ObjectId().toHexString(), payload: { name: 'forged' } } as AuditEntry);
    const { route, file } = await routeAndExport(log);
    expect(new Set(route.problems.map((p) => p.kind))).toEqual(new Set(['modified', 'missing', 'reordered', 'truncated', 'inserted']));
    const result = await cli('verify', '--file', file, '--public-key', keyFile, '--json');
    expect(result.code).toBe(1);
    expect(kinds(JSON.parse(result.out).problems)).toEqual(kinds(route.problems));
  });

  test('an export line edited after the fact (an entry, a checkpoint): modified and checkpoint-signature, exit 1', async () => {
    const { file } = await routeAndExport(log);
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    const at = lines.findIndex((line) => line.includes('"name":"t7"'));
    lines[at] = lines[at]!.replace('"name":"t7"', '"name":"t8"');
    const checkpoint = lines.findIndex((line) => line.startsWith('{"checkpoint"') && !line.includes('"seq":0,'));
    lines[checkpoint] = lines[checkpoint]!.replace(/"count":(\d+)/, (_, n) => `"count":${Number(n) + 1}`);
    fs.writeFileSync(file, lines.join('\n'));
    const result = await cli('verify', '--file', file, '--public-key', keyFile, '--json');
    expect(result.code).toBe(1);
    expect(
      JSON.parse(result.out)
        .problems.map((p: { kind: string }) => p.kind)
        .sort(),
    ).toEqual(['checkpoint-signature', 'modified']);
  });

  test('a date-range export: gaps at its edges are not problems; a filtered one checks what it holds', async () => {
    const middle = entries[15]!.date.toISOString();
    const { file: ranged } = await routeAndExport(log, `&from=${encodeURIComponent(middle)}`);
    const range = await cli('verify', '--file', ranged, '--public-key', keyFile, '--json');
    expect(range.code).toBe(0);
    expect(JSON.parse(range.out).notes.join(' ')).toMatch(/covers part of the log/);
    const { file: filtered } = await routeAndExport(log, '&statusCode=201');
    expect((await cli('verify', '--file', filtered, '--public-key', keyFile)).code).toBe(0);
  });

  test('the built command itself: exit code 1 on problems, 0 when clean', async () => {
    const { file: clean } = await routeAndExport(log);
    await log.removeEntry(entries[10]!._id);
    const { file: holed } = await routeAndExport(log);
    const run = (file: string) => spawnSync(process.execPath, [CLI, 'verify', '--file', file, '--public-key', keyFile], { encoding: 'utf8' });
    expect(run(clean)).toMatchObject({ status: 0, stdout: expect.stringMatching(/^OK/) });
    expect(run(holed)).toMatchObject({ status: 1, stdout: expect.stringMatching(/^PROBLEMS FOUND[\s\S]*missing: seq 11 of chain/) });
  });
});

describe('on a MongoDB collection (--uri)', () => {
  test('clean, then an entry deleted behind the driver: exit 0, then 1 naming it', async () => {
    const target = await startMongo();
    const connection = await mongoose.createConnection(target.uri, { dbName: target.dbName }).asPromise();
    const entries = await writeLog(mongoStore({ connection, collection: 'audited' }), 20);
    const args = ['verify', '--uri', target.uri, '--db', target.dbName, '--collection', 'audited', '--public-key', keyFile];
    const clean = await cli(...args);
    expect(clean).toMatchObject({ code: 0 });
    expect(clean.out).toMatch(/checked 20 entries in 1 chain and/);
    const stored = target.server?.collection(target.dbName, 'audited');
    if (stored) stored.remove(stored.byId(new ObjectId(entries[4]!._id))!);
    else await connection.db!.collection('audited').deleteOne({ _id: new ObjectId(entries[4]!._id) });
    const holed = await cli(...args, '--json');
    expect(holed.code).toBe(1);
    expect(JSON.parse(holed.out).problems).toEqual([expect.objectContaining({ kind: 'missing', fromSeq: 5, toSeq: 5 })]);
    await connection.close();
    await stopMongo(target);
  });
});

describe('usage: exit 2 with what would work', () => {
  test.each([
    [[], /no command given/],
    [['check'], /unknown command 'check'/],
    [['verify'], /give either --file or --uri/],
    [['verify', '--file', 'a', '--uri', 'b'], /give either --file or --uri/],
    [['verify', '--file'], /--file needs a value/],
    [['verify', '--file', 'x.ndjson', '--bogus', '1'], /unknown option '--bogus'/],
    [['verify', '--uri', 'mongodb://127.0.0.1:1', '--from', 'yesterday'], /--from must be an ISO date/],
    [['verify', '--file', '/nonexistent/export.ndjson'], /cannot read \/nonexistent\/export.ndjson/],
    [['verify', '--file', 'x.ndjson', '--public-key', '/nonexistent/key.pem'], /cannot read the public key/],
  ])('%j', async (argv, message) => {
    const result = await cli(...(argv as string[]));
    expect(result.code).toBe(2);
    expect(result.err).toMatch(message);
    expect(result.out).toBe('');
  });

  test('a private key or an RSA key as --public-key, a CSV export, an export with $select: refused, saying why', async () => {
    const rsa = path.join(dir, 'rsa.pem');
    fs.writeFileSync(rsa, generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }));
    const csv = path.join(dir, 'export.csv');
    fs.writeFileSync(csv, '_id,date\n');
    const file = path.join(dir, 'x.ndjson');
    fs.writeFileSync(file, '');
    expect((await cli('verify', '--file', file, '--public-key', rsa)).err).toMatch(/must be an Ed25519 key; got a rsa key/);
    expect((await cli('verify', '--file', csv)).err).toMatch(/is not JSON: not an NDJSON export/);
    expect((await cli('verify', '--file', file)).err).toMatch(/has no \{"export":…\} header line/);
    const selected = path.join(dir, 'selected.ndjson');
    fs.writeFileSync(selected, `${JSON.stringify({ export: { version: 1, from: null, to: null, filtered: false, selected: true } })}\n`);
    expect(await cli('verify', '--file', selected)).toMatchObject({ code: 2, err: expect.stringMatching(/exported with \$select/) });
  });
});
