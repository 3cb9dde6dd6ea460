/**
 * Tells a caller when particular entries are in the store. The writer only knows batches; a
 * manual entry posted over HTTP wants to answer 201 once its own entries are written. The
 * writer is given a store whose `insertMany` reports each confirmed id here, and only ids
 * someone is waiting for are kept, so recording costs one Map size check per batch.
 */
import type { AuditStore } from '../stores/types';

export class WriteReceipts {
  /** Ids waited for → whether the store has confirmed them. */
  private readonly waiting = new Map<string, boolean>();

  /** The store as the writer should see it: the same store, reporting what it confirmed. */
  watch(store: AuditStore): AuditStore {
    return new Proxy(store, {
      get: (target, key) => {
        if (key === 'insertMany') {
          return async (entries: Parameters<AuditStore['insertMany']>[0]) => {
            await target.insertMany(entries);
            if (this.waiting.size === 0) return;
            for (const entry of entries) if (this.waiting.has(entry._id)) this.waiting.set(entry._id, true);
          };
        }
        const value: unknown = Reflect.get(target, key, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  }

  /** Starts waiting for these ids; call before they are queued, and `release` them after. */
  expect(ids: readonly string[]): void {
    for (const id of ids) this.waiting.set(id, false);
  }

  /** True when the store confirmed every one of these ids. */
  confirmed(ids: readonly string[]): boolean {
    return ids.every((id) => this.waiting.get(id) === true);
  }

  release(ids: readonly string[]): void {
    for (const id of ids) this.waiting.delete(id);
  }
}
