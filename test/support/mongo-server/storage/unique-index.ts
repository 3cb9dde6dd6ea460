/**
 * Enforces one unique index: a Map from index key to the owning document's `_id` key, so
 * checks are O(1) per document. Keys follow mongod: a missing field is null (so two documents
 * without it collide) unless the index is sparse; arrays give one key per element.
 */
import type { Document } from 'bson';
import type { Query } from 'mingo';
import { formatValue, keyOf, valuesAtPath } from '../bson-utils';
import { CommandError } from '../errors';
import type { IndexSpec } from './index-spec';
import { compileFilter } from '../query/filter';

interface IndexKey {
  key: string;
  value: Document;
}

export function duplicateKeyError(ns: string, indexName: string, keyPattern: Document, keyValue: Document): CommandError {
  return new CommandError(11000, `E11000 duplicate key error collection: ${ns} index: ${indexName} dup key: ${formatValue(keyValue)}`, {
    keyPattern,
    keyValue,
  });
}

export class UniqueIndex {
  private readonly owners = new Map<string, string>();
  private readonly fields: string[];
  private readonly partial: Query | null;

  constructor(
    readonly spec: IndexSpec,
    private readonly ns: string,
  ) {
    this.fields = Object.keys(spec.key);
    this.partial = spec.partialFilterExpression ? compileFilter(spec.partialFilterExpression, 'partialFilterExpression') : null;
  }

  /** Throws 11000 if `doc` would take a key owned by a document other than `idKey`. */
  check(doc: Document, idKey: string): void {
    for (const { key, value } of this.keysOf(doc)) {
      const owner = this.owners.get(key);
      if (owner !== undefined && owner !== idKey) throw duplicateKeyError(this.ns, this.spec.name, this.spec.key, value);
    }
  }

  add(doc: Document, idKey: string): void {
    for (const { key } of this.keysOf(doc)) this.owners.set(key, idKey);
  }

  remove(doc: Document, idKey: string): void {
    for (const { key } of this.keysOf(doc)) if (this.owners.get(key) === idKey) this.owners.delete(key);
  }

  private keysOf(doc: Document): IndexKey[] {
    if (this.partial && !this.partial.test(doc)) return [];
    const perField = this.fields.map((field) => {
      const values = valuesAtPath(doc, field);
      return values.length > 0 ? dedupe(values) : [null];
    });
    if (this.spec.sparse && this.fields.every((f) => valuesAtPath(doc, f).length === 0)) return [];
    // Cartesian product: a compound key with an array field gives one key per element.
    let combos: unknown[][] = [[]];
    for (const values of perField) combos = combos.flatMap((combo) => values.map((v) => [...combo, v]));
    return combos.map((combo) => {
      const value: Document = {};
      this.fields.forEach((field, i) => (value[field] = combo[i]));
      return { key: keyOf(combo), value };
    });
  }
}

function dedupe(values: unknown[]): unknown[] {
  const seen = new Map<string, unknown>();
  for (const v of values) seen.set(keyOf(v), v);
  return [...seen.values()];
}
