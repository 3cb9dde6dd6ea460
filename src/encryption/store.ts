/** The optional store methods encryption needs (see src/stores/types.ts), as one capability. */
import type { AuditStore, StoreInitConfig } from '../stores/types';

export type DataKeyStore = Required<Pick<AuditStore, 'insertDataKeys' | 'findDataKeys' | 'updateDataKeys' | 'deleteDataKeys'>>;

/** True when the store implements the four data key methods. */
export function storesDataKeys(store: AuditStore): store is AuditStore & DataKeyStore {
  return (
    typeof store.insertDataKeys === 'function' &&
    typeof store.findDataKeys === 'function' &&
    typeof store.updateDataKeys === 'function' &&
    typeof store.deleteDataKeys === 'function'
  );
}

/**
 * The store as the writer sees it with encryption on: data keys made since the last batch are
 * stored before the batch's entries (a failure fails the batch, which is retried), and `init`
 * creates the indexes user filters and erasures use.
 */
export function withDataKeys(store: AuditStore, persistPending: () => Promise<void>): AuditStore {
  return new Proxy(store, {
    get: (target, key) => {
      if (key === 'insertMany')
        return async (entries: Parameters<AuditStore['insertMany']>[0]) => {
          await persistPending();
          await target.insertMany(entries);
        };
      if (key === 'init') return (config: StoreInitConfig) => target.init({ ...config, encryption: true });
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
