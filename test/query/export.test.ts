/**
 * The framework-free export: validated parameters in, an async iterable of text chunks out, one
 * page per chunk, read only when pulled. Each adapter writes the chunks to its response.
 */
import { memoryStore, type AuditEntry } from 'express-audit-log';
import { blankEntry } from '../../src/entry';
import { prepareExport } from '../../src/query/export';

const SETTINGS = { maxRows: 10_000, defaultLimit: 50, maxLimit: 1000 };

async function storeOf(count: number) {
  const store = memoryStore();
  await store.init({ ttlSeconds: null });
  const entries: AuditEntry[] = [];
  for (let i = 0; i < count; i++) {
    entries.push({ ...blankEntry(i.toString(16).padStart(24, '0'), new Date(Date.UTC(2026, 0, 1, 0, 0, i))), action: 'Create', method: 'POST' });
  }
  await store.insertMany(entries);
  return store;
}

describe('prepareExport', () => {
  it('yields NDJSON pages newest first, and counts only the rows pulled', async () => {
    const store = await storeOf(1200);
    const prepared = await prepareExport(store, SETTINGS, { format: 'ndjson' }, false);
    expect(prepared.headers['Content-Type']).toBe('application/x-ndjson; charset=utf-8');
    const first = await prepared.chunks!.next();
    const lines = (first.value as string).trim().split('\n');
    expect(lines).toHaveLength(500);
    expect(JSON.parse(lines[0]!)._id).toBe((1199).toString(16).padStart(24, '0'));
    expect(prepared.details()).toMatchObject({ rows: 500, format: 'ndjson', capped: false });
    const rest: string[] = [];
    for await (const chunk of prepared.chunks!) rest.push(chunk);
    expect(rest.join('').trim().split('\n')).toHaveLength(700);
    expect(prepared.details().rows).toBe(1200);
  });

  it('gives a CSV header line first, and nothing to read for a HEAD', async () => {
    const store = await storeOf(2);
    const csv = await prepareExport(store, SETTINGS, { format: 'csv', $select: ['_id', 'action'] }, false);
    const text: string[] = [];
    for await (const chunk of csv.chunks!) text.push(chunk);
    expect(text.join('').split('\r\n')).toEqual(['_id,action', `${'1'.padStart(24, '0')},Create`, `${'0'.padStart(24, '0')},Create`, '']);
    const head = await prepareExport(store, SETTINGS, { format: 'csv' }, true);
    expect(head.chunks).toBeNull();
    expect(head.details().rows).toBe(0);
  });

  it('refuses an unknown format before reading anything', async () => {
    await expect(prepareExport(await storeOf(0), SETTINGS, { format: 'xml' }, false)).rejects.toMatchObject({ parameter: 'format' });
  });
});
