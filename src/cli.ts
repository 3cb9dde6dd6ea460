#!/usr/bin/env node
/**
 * `express-audit-log verify`: checks an audit log's hash chains and signed checkpoints without
 * the app, with only the public key: an NDJSON export (`--file`) or a MongoDB collection (`--uri`).
 * Exit code 0: clean; 1: problems found; 2: could not verify (usage, unreadable input, bad key).
 */
import fs from 'fs';
import { publicKeyMap, publicKeyOf } from './integrity/signing';
import { verifyStore } from './integrity/verify';
import { loadExport } from './integrity/export-file';
import type { VerifyReport } from './integrity/report';
import type { AuditStore } from './stores/types';

const USAGE = `Usage:
  express-audit-log verify --file export.ndjson --public-key key.pem [--json]
  express-audit-log verify --uri mongodb://host/db [--db name] [--collection auditLog] --public-key key.pem [--from ISO] [--to ISO] [--json]

  --file          an NDJSON export (GET {basePath}/export?format=ndjson) from an app with integrity on
  --uri           a MongoDB connection string: the collection is read directly (needs mongoose installed)
  --db            the database, when the URI names none
  --collection    the entries' collection (default auditLog; checkpoints are in <collection>.checkpoints)
  --public-key    an Ed25519 public key (PEM file) the checkpoints must be signed with; repeat during a key rotation.
                  Without one, signatures are not checked (said in the report)
  --from, --to    with --uri: only entries dated in this range (ISO dates)
  --json          print the whole report as JSON

Exit code: 0 no problem found, 1 problems found, 2 could not verify.`;

class UsageError extends Error {}

interface Args {
  file: string | null;
  uri: string | null;
  db: string | null;
  collection: string;
  publicKeys: string[];
  from: Date | null;
  to: Date | null;
  json: boolean;
}

function parseArgs(argv: string[]): Args {
  const [command, ...rest] = argv;
  if (command === '--help' || command === '-h' || command === 'help') throw new UsageError('');
  if (command !== 'verify') throw new UsageError(command ? `unknown command '${command}'; the only command is verify.` : 'no command given.');
  const args: Args = { file: null, uri: null, db: null, collection: 'auditLog', publicKeys: [], from: null, to: null, json: false };
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i]!;
    if (flag === '--json') {
      args.json = true;
      continue;
    }
    if (flag === '--help' || flag === '-h') throw new UsageError('');
    const value = rest[++i];
    if (value === undefined || value.startsWith('--')) throw new UsageError(`${flag} needs a value.`);
    switch (flag) {
      case '--file':
        args.file = value;
        break;
      case '--uri':
        args.uri = value;
        break;
      case '--db':
        args.db = value;
        break;
      case '--collection':
        args.collection = value;
        break;
      case '--public-key':
        args.publicKeys.push(value);
        break;
      case '--from':
      case '--to': {
        const date = new Date(value);
        if (Number.isNaN(date.getTime())) throw new UsageError(`${flag} must be an ISO date like 2026-01-31T00:00:00Z; got '${value}'.`);
        args[flag === '--from' ? 'from' : 'to'] = date;
        break;
      }
      default:
        throw new UsageError(`unknown option '${flag}'.`);
    }
  }
  if (!args.file === !args.uri) throw new UsageError('give either --file or --uri.');
  if (args.file && (args.from || args.to)) throw new UsageError('--from and --to apply to --uri; an export covers the range it was exported with.');
  return args;
}

function readKeys(paths: string[]) {
  return publicKeyMap(
    paths.map((file) => {
      let pem: string;
      try {
        pem = fs.readFileSync(file, 'utf8');
      } catch (error) {
        throw new UsageError(`cannot read the public key ${file}: ${(error as Error).message}`);
      }
      try {
        return publicKeyOf(pem);
      } catch (error) {
        throw new UsageError(`${file}: ${(error as Error).message}`);
      }
    }),
  );
}

async function fromMongo(args: Args): Promise<{ store: AuditStore; close: () => Promise<void> }> {
  let mongoose: typeof import('mongoose');
  try {
    mongoose = require('mongoose') as typeof import('mongoose');
  } catch {
    throw new UsageError("--uri reads MongoDB through mongoose, which is not installed here: run 'npm install mongoose' (or verify an export with --file).");
  }
  const { mongoStore } = require('./stores/mongo-store') as typeof import('./stores/mongo-store');
  const connection = await mongoose.createConnection(args.uri!, { ...(args.db ? { dbName: args.db } : {}), serverSelectionTimeoutMS: 10_000 }).asPromise();
  return { store: mongoStore({ connection, collection: args.collection }), close: () => connection.close() };
}

function describe(report: VerifyReport, source: string): string {
  const lines = [`${report.ok ? 'OK' : 'PROBLEMS FOUND'}: ${source}`];
  const { entries, chains, checkpoints, signatures } = report.checked;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  lines.push(
    `checked ${plural(entries, 'entry').replace('entrys', 'entries')} in ${plural(chains, 'chain')} and ${plural(checkpoints, 'checkpoint')}; signatures: ${signatures}; checkpoints ${report.checkpoints}.`,
  );
  for (const problem of report.problems) lines.push(`  ${problem.kind}: ${problem.message}`);
  if (report.problemsTotal > report.problems.length) lines.push(`  … and ${report.problemsTotal - report.problems.length} more.`);
  const runs = (name: string, list: VerifyReport['expired']) =>
    list.length > 0 && lines.push(`${name}: ${list.map((run) => `${run.chain} seq ${run.fromSeq}-${run.toSeq}`).join(', ')}`);
  runs('expired by policy', report.expired);
  runs('dropped by the writer (reported when it happened)', report.dropped);
  runs('not yet covered by a checkpoint', report.unprotected);
  for (const note of report.notes) lines.push(`note: ${note}`);
  return lines.join('\n');
}

export async function main(argv: string[], out: (text: string) => void = console.log, err: (text: string) => void = console.error): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    if (error.message) err(`express-audit-log: ${error.message}\n`);
    err(USAGE);
    return 2;
  }
  let close: () => Promise<void> = async () => {};
  try {
    const publicKeys = readKeys(args.publicKeys);
    let report: VerifyReport;
    let source: string;
    if (args.file) {
      const loaded = await loadExport(args.file).catch((error: Error) => {
        throw new UsageError(error.message.startsWith(args.file!) ? error.message : `cannot read ${args.file}: ${error.message}`);
      });
      if (loaded.unusable) throw new UsageError(`${args.file} cannot be verified: ${loaded.unusable}`);
      report = await verifyStore(loaded.store, { publicKeys, presented: true, coverage: loaded.coverage, from: loaded.from, to: loaded.to });
      if (loaded.coverage === 'entries')
        report.notes.push(
          'the export was filtered: entries were checked against their hashes, links and checkpoints, but a missing entry cannot be told from one the filter left out.',
        );
      if (loaded.coverage === 'range')
        report.notes.push(
          "the export covers part of the log (a date range, capped at exportMaxRows, or cut short): gaps at the edges of each chain's part were not counted as problems.",
        );
      source = `${args.file} (${loaded.entries} entries, ${loaded.checkpoints} checkpoints)`;
    } else {
      const opened = await fromMongo(args).catch((error: Error) => {
        throw error instanceof UsageError ? error : new UsageError(`cannot connect to ${args.uri}: ${error.message}`);
      });
      close = opened.close;
      report = await verifyStore(opened.store, { publicKeys, from: args.from, to: args.to });
      source = `${args.collection} on ${args.uri}`;
    }
    out(args.json ? JSON.stringify(report, null, 2) : describe(report, source));
    return report.ok ? 0 : 1;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    err(`express-audit-log: ${error.message}`);
    return 2;
  } finally {
    await close().catch(() => undefined);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(`express-audit-log: verification failed: ${(error as Error)?.stack ?? error}`);
      process.exitCode = 2;
    },
  );
}
