/**
 * What the read routes (list, one entry, history, export) do differently with encryption on,
 * framework-free: filters on `user` also match the blind index, a `$select` of sealed fields also
 * reads `sealed` (and `_id`, its associated data), and every entry is opened before it is shown.
 */
import type { AuditEntry, FieldName } from '../entry';
import type { AuditFilter, AuditQuery } from '../stores/types';
import type { ErasedMarker, Keyring } from './keyring';
import { withUserIndex } from './user-filter';

export class EncryptedReads {
  constructor(
    private readonly keyring: Keyring,
    private readonly sealedFields: readonly string[],
  ) {}

  filter(filter: AuditFilter): AuditFilter {
    return Object.keys(filter).length === 0 ? filter : withUserIndex(filter, (user) => this.keyring.subjectsOf(user));
  }

  /** The query to send to the store: user filters translated, the select widened to what opening needs. */
  query(query: AuditQuery): AuditQuery {
    return { ...query, filter: this.filter(query.filter), select: this.select(query.select) };
  }

  select(select: FieldName[] | null): FieldName[] | null {
    if (!select || !select.some((field) => this.sealedFields.includes(field))) return select;
    return [...new Set<FieldName>([...select, 'sealed', '_id'])];
  }

  /** The entries opened (or marked erased), trimmed back to `select` (plus the `erased` marker). */
  async reveal<T extends Partial<AuditEntry>>(docs: readonly T[], select: readonly FieldName[] | null = null): Promise<Array<T & Partial<ErasedMarker>>> {
    const opened = await this.keyring.reveal(docs);
    if (!select) return opened;
    const keep = new Set<string>([...select, 'erased']);
    return opened.map((doc) => Object.fromEntries(Object.entries(doc).filter(([key]) => keep.has(key))) as T & Partial<ErasedMarker>);
  }
}
