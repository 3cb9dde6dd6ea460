/**
 * `GET {basePath}/export` for Express: the framework-free export (query/export.ts) written to the
 * response, one chunk at a time, the next page read only once the last chunk is written (the
 * socket's backpressure), and no more once the client has gone.
 */
import type { Request, Response } from 'express';
import { prepareExport, type ExportDetails, type ExportSettings } from '../query/export';
import type { AuditStore } from '../stores/types';
import { queryParameters } from './query-string';

export { csvCell, type ExportDetails, type ExportSettings } from '../query/export';

function write(res: Response, chunk: string): Promise<void> {
  if (res.write(chunk)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}

/** Streams the export; resolves to how many rows were sent and what was asked, or null for a HEAD (nothing exported). */
export async function streamExport(store: AuditStore, settings: ExportSettings, req: Request, res: Response): Promise<ExportDetails | null> {
  const prepared = await prepareExport(store, settings, queryParameters(req), req.method === 'HEAD');
  res.status(prepared.status);
  for (const [name, value] of Object.entries(prepared.headers)) res.setHeader(name, value);
  const { chunks } = prepared;
  if (!chunks) {
    res.end();
    return null;
  }
  try {
    while (!res.destroyed) {
      const next = await chunks.next();
      if (next.done) break;
      await write(res, next.value);
    }
  } finally {
    // The client went away: stop reading pages.
    await chunks.return(undefined);
  }
  res.end();
  return prepared.details();
}
