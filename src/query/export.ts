/**
 * `GET {basePath}/export?format=ndjson|csv`, with no framework: the list route's filters, as an
 * async iterable of text chunks each adapter writes to its response (express/export.ts). Pages are read
 * with keyset pagination (date, then _id, both descending) rather than `$skip`, so each page is
 * an indexed range read on MongoDB and memory stays one page deep whatever the row count; the
 * adapter pulls the next page only once the last one is written (the socket's backpressure). The export itself is recorded.
 *
 * The first page is read before anything is sent, so a failing store answers with the routes'
 * usual JSON error (503), in both formats, rather than a broken download; only a failure after
 * the first rows cuts the stream. `HEAD` validates the query and answers the headers a `GET`
 * would, without reading the store or being recorded.
 *
 * With integrity on, an NDJSON export can be verified offline (`express-audit-log verify --file`):
 * it opens with an `{"export":{…}}` line saying what was asked, the entries carry their chain
 * fields, and after them come `{"checkpoint":{…}}` lines (every checkpoint of the chains
 * exported, and those their opening checkpoints name) and a closing `{"exported":{rows,capped}}`.
 */
import { FIELD_NAMES, type AuditEntry, type FieldName } from '../entry';
import { AuditLogQueryError } from '../errors';
import { decodeKeys } from '../capture/keys';
import { parseListQuery } from './list-query';
import { EXPORT_REFUSED } from './parameters';
import { storesCheckpoints, type AuditFilter, type AuditStore } from '../stores/types';
import { checkpointId, type AuditCheckpoint, type PreviousChain } from '../integrity/checkpoint';
import type { EncryptedReads } from '../encryption/reads';

const PAGE = 500;
/** A CSV column: an entry field, or `erased`, the marker encrypted logs add to entries whose subject was erased. */
type CsvColumn = FieldName | 'erased';
const JSON_COLUMNS = new Set<FieldName>(['payload', 'params', 'result', 'documents', 'truncated']);

/** A CSV cell: formula-looking text is defused with a leading quote (OWASP), then quoted as needed. */
export function csvCell(value: unknown): string {
  let text: string;
  if (value === null || value === undefined) text = '';
  else if (value instanceof Date) text = value.toISOString();
  else if (typeof value === 'object') text = JSON.stringify(value);
  else text = String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function csvRow(doc: Partial<AuditEntry>, columns: readonly CsvColumn[]): string {
  const row = doc as Record<string, unknown>;
  return `${columns.map((column) => csvCell(JSON_COLUMNS.has(column as FieldName) ? (row[column] ?? null) : row[column])).join(',')}\r\n`;
}

function decoded(doc: Partial<AuditEntry>): Partial<AuditEntry> {
  const out = { ...doc };
  for (const field of ['payload', 'params', 'result'] as const) {
    if (out[field] != null) out[field] = decodeKeys(out[field]) as AuditEntry['payload'];
  }
  return out;
}

export interface ExportSettings {
  maxRows: number;
  defaultLimit: number;
  maxLimit: number;
  /** Integrity is on: NDJSON exports carry the lines an offline verification needs. */
  integrity?: boolean;
  /** Narrows the export's filter to what the caller may read (its tenant's entries). */
  restrict?: (filter: AuditFilter) => AuditFilter;
  /** Encryption is on: user filters match the blind index, and rows are opened (or marked erased) before they are written. */
  reads?: EncryptedReads | null;
}

/** The checkpoints an offline verification of these chains needs: all of theirs, and the ones their openings name. */
async function* checkpointLines(store: AuditStore, chains: ReadonlySet<string>): AsyncGenerator<string> {
  if (!storesCheckpoints(store) || chains.size === 0) return;
  const named: PreviousChain[] = [];
  let after: string | null = null;
  for (;;) {
    const page: AuditCheckpoint[] = await store.findCheckpoints({ after, limit: PAGE });
    let chunk = '';
    for (const checkpoint of page) {
      if (!chains.has(checkpoint.chain)) continue;
      chunk += `${JSON.stringify({ checkpoint })}\n`;
      if (checkpoint.previous && !chains.has(checkpoint.previous.chain)) named.push(checkpoint.previous);
    }
    if (chunk) yield chunk;
    if (page.length < PAGE) break;
    after = page[page.length - 1]!._id;
  }
  for (const previous of named) {
    const [checkpoint] = await store.findCheckpoints({
      after: previous.seq === 0 ? `${previous.chain}:` : checkpointId(previous.chain, previous.seq - 1),
      limit: 1,
    });
    if (checkpoint?._id === checkpointId(previous.chain, previous.seq)) yield `${JSON.stringify({ checkpoint })}\n`;
  }
}

export interface ExportDetails {
  rows: number;
  format: string;
  query: Record<string, unknown>;
  capped: boolean;
}

/** A validated export, its first page read: what to answer, and the chunks to send. */
export interface PreparedExport {
  status: 200;
  headers: Record<string, string>;
  /** Null for a HEAD: nothing is read nor exported. Pull a chunk only once the last one is written. */
  chunks: AsyncGenerator<string> | null;
  /** How many rows the chunks pulled so far held, and what was asked: the export's recorded entry. */
  details(): ExportDetails;
}

/**
 * Validates the export's parameters (throws AuditLogQueryError) and, unless `head`, reads the
 * first page before anything is sent: until the first chunk, a store failure is still a clean JSON error.
 */
export async function prepareExport(store: AuditStore, settings: ExportSettings, parameters: Record<string, unknown>, head: boolean): Promise<PreparedExport> {
  const raw = { ...parameters };
  const format = raw.format ?? 'ndjson';
  delete raw.format;
  if (format !== 'ndjson' && format !== 'csv') throw new AuditLogQueryError('format', `format must be ndjson or csv; got '${String(format).slice(0, 32)}'.`);
  for (const name of EXPORT_REFUSED) {
    if (raw[name] !== undefined)
      throw new AuditLogQueryError(name, `${name} does not apply to exports: they stream every match, newest first, up to ${settings.maxRows} rows.`);
  }
  const { query } = parseListQuery(raw, settings);
  if (settings.restrict) query.filter = settings.restrict(query.filter);
  const reads = settings.reads ?? null;
  const columns: readonly CsvColumn[] = [...(query.select ?? FIELD_NAMES), ...(reads ? (['erased'] as const) : [])];
  const plainSelect = query.select ? [...new Set<FieldName>([...query.select, 'date', '_id'])] : null;
  const select = reads ? reads.select(plainSelect) : plainSelect;
  if (reads) query.filter = reads.filter(query.filter);
  const page = async (after: { date: Date; _id: string } | null, limit: number) => {
    const keyset: AuditFilter | null = after ? { $or: [{ date: { $lt: after.date } }, { date: after.date, _id: { $lt: after._id } }] } : null;
    const filter: AuditFilter = keyset ? (Object.keys(query.filter).length ? { $and: [query.filter, keyset] } : keyset) : query.filter;
    const found = await store.find({
      filter,
      sort: [
        ['date', -1],
        ['_id', -1],
      ],
      skip: 0,
      limit,
      select,
    });
    return reads ? { ...found, docs: await reads.reveal(found.docs) } : found;
  };
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const headers = {
    'Content-Type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
    'Content-Disposition': `attachment; filename="auditLog-${stamp}.${format === 'csv' ? 'csv' : 'ndjson'}"`,
  };
  let rows = 0;
  const details = (): ExportDetails => ({ rows, format, query: raw, capped: rows >= settings.maxRows });
  if (head) return { status: 200, headers, chunks: null, details };

  // Read before sending: until the first chunk, a store failure is still a clean JSON error.
  const first = (await page(null, Math.min(PAGE, settings.maxRows))).docs;
  async function* chunks(): AsyncGenerator<string> {
    let docs = first;
    if (format === 'csv') yield `${columns.join(',')}\r\n`;
    const verifiable = settings.integrity === true && format === 'ndjson';
    if (verifiable) {
      const { from, to, $select: _select, ...filters } = raw;
      const range = parseListQuery({ ...(from !== undefined && { from }), ...(to !== undefined && { to }) }, settings).query.filter as {
        date?: { $gte?: Date; $lte?: Date };
      };
      const header = {
        version: 1,
        at: new Date().toISOString(),
        from: range.date?.$gte?.toISOString() ?? null,
        to: range.date?.$lte?.toISOString() ?? null,
        filtered: Object.keys(filters).length > 0,
        selected: query.select !== null,
      };
      yield `${JSON.stringify({ export: header })}\n`;
    }
    const chains = new Set<string>();

    let after: { date: Date; _id: string } | null = null;
    while (rows < settings.maxRows) {
      const limit = Math.min(PAGE, settings.maxRows - rows);
      if (after) docs = (await page(after, limit)).docs;
      if (docs.length === 0) break;
      let chunk = '';
      for (const doc of docs) {
        const shown = decoded(doc);
        if (query.select)
          for (const key of Object.keys(shown))
            if (!(query.select as string[]).includes(key) && key !== 'erased') delete (shown as Record<string, unknown>)[key];
        chunk += format === 'csv' ? csvRow(shown, columns) : `${JSON.stringify(shown)}\n`;
        if (verifiable && typeof doc.chain === 'string') chains.add(doc.chain);
      }
      rows += docs.length;
      yield chunk;
      const last = docs[docs.length - 1]!;
      after = { date: new Date(last.date as Date), _id: String(last._id) };
      if (docs.length < limit) break;
    }
    if (verifiable) {
      yield* checkpointLines(store, chains);
      yield `${JSON.stringify({ exported: { rows, capped: rows >= settings.maxRows } })}\n`;
    }
  }
  return { status: 200, headers, chunks: chunks(), details };
}
