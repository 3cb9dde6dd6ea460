/**
 * The query routes' flush: they write what is queued before they read (read-your-writes), but a
 * stalled store must not hang every read.
 */
import type { Writer } from '../pipeline/writer';

/**
 * How long a query route waits for the writer before it reads (or answers a manual entry):
 * long enough for a healthy store to take a batch, short enough that a stalled one does not
 * hang every read. Then the read goes on with what the store has.
 */
const ROUTE_FLUSH_DEADLINE_MS = 1000;

/** True when the promise settled before the time was up, false at the deadline; never rejects. */
function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
    timer.unref();
  });
  return Promise.race([
    promise.then(
      () => true,
      () => true,
    ),
    timeout,
  ]).finally(() => clearTimeout(timer));
}

/**
 * `writer.flush()` bounded by ROUTE_FLUSH_DEADLINE_MS for the query routes. While a flush that
 * outlived its deadline is still running (the store stalls), later calls do not wait at all:
 * one slow read per stall, not one per read.
 */
export function boundedFlush(writer: Writer): () => Promise<void> {
  let stalled: Promise<void> | null = null;
  return async () => {
    if (stalled) return;
    const flushing = writer.flush();
    if (await within(flushing, ROUTE_FLUSH_DEADLINE_MS)) return;
    const clear = () => {
      stalled = null;
    };
    stalled = flushing.then(clear, clear);
  };
}
