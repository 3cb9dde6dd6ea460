/**
 * The recorded requests an adapter has started and not finished. A framework's own shutdown (Fastify's
 * `close()`, Hapi's `stop()`) can end before the requests whose connections it cut are finished, and
 * the audit log closes with it: `settle()` lets those requests be recorded first.
 */
/** How long a framework's shutdown waits for the recorded requests in flight before recording them as cut off. */
export const SHUTDOWN_SETTLE_MS = 1000;

export class InFlight<R extends object> {
  private readonly requests = new Set<R>();
  private emptied: (() => void) | null = null;

  add(request: R): void {
    this.requests.add(request);
  }

  /** The request was recorded (or given up): it no longer holds up a shutdown. */
  delete(request: R): void {
    if (this.requests.delete(request) && this.emptied && this.requests.size === 0) this.emptied();
  }

  /**
   * Waits (at most `ms`) until every request in flight has finished, then hands each one still
   * in flight to `cutOff`, which records it as what it is by then: a request whose client was cut off.
   */
  async settle(ms: number, cutOff: (request: R) => void): Promise<void> {
    if (this.requests.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        this.emptied = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.emptied = null;
    }
    for (const request of [...this.requests]) cutOff(request);
  }
}
