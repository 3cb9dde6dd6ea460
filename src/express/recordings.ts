/**
 * The requests being recorded, by response: the recorder's state, kept in a WeakMap rather than
 * on `res` (see recorder.ts for why). Its own module so that events code can ask for a
 * request's id without importing the recorder.
 */
import type { Response } from 'express';
import type { Recording } from './entry-builder';

export const RECORDINGS = new WeakMap<Response, Recording>();

/** The request id the recorder gave this response, if it records it: record(req, …) reuses it. */
export function recordingRequestId(res: Response | undefined): string | undefined {
  return res ? RECORDINGS.get(res)?.requestId : undefined;
}
