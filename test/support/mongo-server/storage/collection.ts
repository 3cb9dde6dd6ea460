/**
 * One collection: documents in natural (insertion) order, keyed by their serialized `_id`
 * so duplicate checks and lookups are O(1) even at 100k documents.
 *
 * Stored documents are never mutated: updates store a new object. Query results and open
 * cursors can therefore hold references instead of copies.
 */
import { UUID, type Document } from 'bson';
import { keyOf } from '../bson-utils';
import type { DocSource } from '../query/filter';
import { IndexCatalog } from './index-catalog';
import { duplicateKeyError } from './unique-index';

export class Collection implements DocSource {
  readonly uuid = new UUID();
  readonly indexes: IndexCatalog;
  private readonly docs = new Map<string, Document>();

  constructor(
    readonly db: string,
    readonly name: string,
    readonly options: Document = {},
  ) {
    this.indexes = new IndexCatalog(this.ns);
  }

  get ns(): string {
    return `${this.db}.${this.name}`;
  }

  get count(): number {
    return this.docs.size;
  }

  all(): Document[] {
    return [...this.docs.values()];
  }

  entries(): IterableIterator<[string, Document]> {
    return this.docs.entries();
  }

  byId(id: unknown): Document | undefined {
    return this.docs.get(keyOf(id));
  }

  /** Stores a new document (its `_id` already set and first). Throws 11000 on a duplicate key. */
  insert(doc: Document): void {
    const idKey = keyOf(doc._id);
    if (this.docs.has(idKey)) throw duplicateKeyError(this.ns, '_id_', { _id: 1 }, { _id: doc._id });
    this.indexes.check(doc, idKey);
    this.docs.set(idKey, doc);
    this.indexes.add(doc, idKey);
  }

  /** Swaps a stored document for its updated version (same `_id`); keeps its natural position. */
  replace(previous: Document, next: Document): void {
    const idKey = keyOf(previous._id);
    this.indexes.check(next, idKey);
    this.indexes.remove(previous, idKey);
    this.docs.set(idKey, next);
    this.indexes.add(next, idKey);
  }

  remove(doc: Document): boolean {
    const idKey = keyOf(doc._id);
    if (!this.docs.has(idKey)) return false;
    this.docs.delete(idKey);
    this.indexes.remove(doc, idKey);
    return true;
  }
}
