/**
 * An NDJSON export read back for offline verification: its entries and checkpoints loaded into a
 * memory store (the verifier's one input), and what the export says it covers.
 */
import fs from 'fs';
import readline from 'readline';
import type { AuditEntry } from '../entry';
import { memoryStore } from '../stores/memory-store';
import type { AuditStore } from '../stores/types';
import { reviveCheckpoint, type AuditCheckpoint } from './checkpoint';
import type { Coverage } from './chain-walk';

export interface ExportHeader {
  version: number;
  at: string;
  from: string | null;
  to: string | null;
  filtered: boolean;
  selected: boolean;
}

export interface LoadedExport {
  store: AuditStore;
  header: ExportHeader | null;
  entries: number;
  checkpoints: number;
  /** What the file holds of the log: a full export, a date range of it, or a filtered selection. */
  coverage: Coverage;
  from: Date | null;
  to: Date | null;
  /** Why the file cannot be verified at all, or null. */
  unusable: string | null;
}

const BATCH = 1000;

export async function loadExport(file: string): Promise<LoadedExport> {
  const store = memoryStore({ maxEntries: Number.MAX_SAFE_INTEGER, sweepIntervalMs: 0 });
  await store.init({ ttlSeconds: null });
  let header: ExportHeader | null = null;
  let capped = false;
  let ended = false;
  let entries = 0;
  let checkpoints = 0;
  let batch: AuditEntry[] = [];
  const found: AuditCheckpoint[] = [];
  const lines = readline.createInterface({ input: fs.createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  let number = 0;
  for await (const line of lines) {
    number++;
    if (line.trim() === '') continue;
    let value: Record<string, unknown>;
    try {
      value = JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw new Error(`${file}:${number} is not JSON: not an NDJSON export of the audit log.`);
    }
    if (value.export && typeof value.export === 'object') header = value.export as ExportHeader;
    else if (value.checkpoint && typeof value.checkpoint === 'object') found.push(reviveCheckpoint(value.checkpoint as Record<string, unknown>));
    else if (value.exported && typeof value.exported === 'object') {
      ended = true;
      capped = (value.exported as { capped?: unknown }).capped === true;
    } else {
      // Dates come as ISO strings; the canonical form reads them the same, and ranges need Dates.
      batch.push({ ...(value as unknown as AuditEntry), date: new Date(value.date as string) });
      if (batch.length >= BATCH) {
        await store.insertMany(batch);
        entries += batch.length;
        batch = [];
      }
    }
  }
  await store.insertMany(batch);
  entries += batch.length;
  checkpoints = found.length;
  await store.insertCheckpoints!(found);

  let unusable: string | null = null;
  if (!header)
    unusable =
      'it has no {"export":…} header line: it was not exported with integrity on (or it is a CSV export, which cannot carry types). Export again as NDJSON from an app with the integrity option.';
  else if (header.selected) unusable = 'it was exported with $select: only whole entries can be checked against their hashes. Export again without $select.';
  const coverage: Coverage = header?.filtered ? 'entries' : header?.from || header?.to || capped || !ended ? 'range' : 'full';
  return {
    store,
    header,
    entries,
    checkpoints,
    coverage,
    from: header?.from ? new Date(header.from) : null,
    to: header?.to ? new Date(header.to) : null,
    unusable,
  };
}
