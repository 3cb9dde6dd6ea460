/**
 * A collection's indexes: what listIndexes shows, the create/drop/collMod rules mongod applies
 * (conflict codes 85/86, "all indexes already exist"), and the unique indexes it enforces.
 * Indexes are not used to answer queries; only uniqueness and TTL have effects.
 */
import type { Document } from 'bson';
import { cloneDoc, formatValue, isPlainObject } from '../bson-utils';
import { CommandError } from '../errors';
import { ID_INDEX, checkTtl, describeSpec, equivalent, findSpec, normalizeSpec, sameKey, sameOptions, ttlField, type IndexSpec } from './index-spec';
import { UniqueIndex } from './unique-index';

export interface CreateIndexesResult {
  numIndexesBefore: number;
  numIndexesAfter: number;
}

export interface TtlIndex {
  field: string;
  expireAfterSeconds: number;
}

export class IndexCatalog {
  private specs: IndexSpec[] = [{ ...ID_INDEX }];
  private uniques = new Map<string, UniqueIndex>();

  constructor(private readonly ns: string) {}

  list(): IndexSpec[] {
    return this.specs.map((s) => cloneDoc(s));
  }

  get size(): number {
    return this.specs.length;
  }

  ttlIndexes(): TtlIndex[] {
    const out: TtlIndex[] = [];
    for (const spec of this.specs) {
      const field = ttlField(spec);
      if (field !== null) out.push({ field, expireAfterSeconds: spec.expireAfterSeconds as number });
    }
    return out;
  }

  /**
   * Adds the requested indexes, all or none. `docs` are the current documents, needed to
   * build a new unique index (existing duplicates fail the build with 11000, as in mongod).
   */
  create(rawSpecs: unknown[], docs: Iterable<[string, Document]>): CreateIndexesResult {
    const before = this.specs.length;
    const working = [...this.specs];
    const added: IndexSpec[] = [];
    for (const raw of rawSpecs) {
      const spec = normalizeSpec(raw);
      if (this.alreadyExists(working, spec)) continue;
      working.push(spec);
      added.push(spec);
    }
    const newUniques = added.filter((s) => s.unique).map((s) => new UniqueIndex(s, this.ns));
    const snapshot = [...docs];
    for (const index of newUniques) {
      for (const [idKey, doc] of snapshot) {
        index.check(doc, idKey);
        index.add(doc, idKey);
      }
    }
    this.specs = working;
    for (const index of newUniques) this.uniques.set(index.spec.name, index);
    return { numIndexesBefore: before, numIndexesAfter: working.length };
  }

  /** True when an identical index exists; throws mongod's conflict errors when a clashing one does. */
  private alreadyExists(existing: IndexSpec[], spec: IndexSpec): boolean {
    const sameName = existing.find((s) => s.name === spec.name);
    const clash = `Requested index: ${describeSpec(spec)}, existing index: `;
    if (sameName) {
      const why =
        'An existing index has the same name as the requested index. When index names are not specified, they are auto generated and can cause conflicts. Please refer to our documentation. ';
      if (!sameKey(sameName, spec)) throw new CommandError(86, `${why}${clash}${describeSpec(sameName)}`);
      if (!sameOptions(sameName, spec)) throw new CommandError(85, `${why}${clash}${describeSpec(sameName)}`);
      return true;
    }
    const sameKeyed = existing.find((s) => equivalent(s, spec));
    if (sameKeyed) {
      if (sameOptions(sameKeyed, spec)) throw new CommandError(85, `Index already exists with a different name: ${sameKeyed.name}`);
      throw new CommandError(85, `An equivalent index already exists with a different name and options. ${clash}${describeSpec(sameKeyed)}`);
    }
    const isText = (s: IndexSpec): boolean => Object.values(s.key).includes('text');
    const otherText = isText(spec) ? existing.find(isText) : undefined;
    if (otherText) throw new CommandError(85, `An equivalent index already exists with a different name and options. ${clash}${describeSpec(otherText)}`);
    return false;
  }

  /** dropIndexes' `index`: a name, a key pattern, an array of names, or '*'. Returns nIndexesWas. */
  drop(target: unknown): number {
    const was = this.specs.length;
    let victims: IndexSpec[];
    if (target === '*') {
      victims = this.specs.filter((s) => s.name !== ID_INDEX.name);
    } else if (Array.isArray(target)) {
      victims = target.map((name) => this.mustFind(name));
    } else {
      victims = [this.mustFind(target)];
    }
    if (target !== '*' && victims.some((s) => s.name === ID_INDEX.name)) throw new CommandError(72, 'cannot drop _id index');
    const names = new Set(victims.map((s) => s.name));
    this.specs = this.specs.filter((s) => !names.has(s.name));
    for (const name of names) this.uniques.delete(name);
    return was;
  }

  private mustFind(target: unknown): IndexSpec {
    const spec = findSpec(this.specs, target);
    if (spec) return spec;
    if (isPlainObject(target)) throw new CommandError(27, `can't find index with key: ${formatValue(target)}`);
    if (typeof target === 'string') throw new CommandError(27, `index not found with name [${target}]`);
    throw new CommandError(14, "BSON field 'dropIndexes.index' is the wrong type, expected a string, an object or an array");
  }

  /** collMod's `index: {name | keyPattern, expireAfterSeconds?, hidden?}`; returns the reply fields. */
  modify(request: Document): Document {
    const target: unknown = request.name ?? request.keyPattern;
    if (!('expireAfterSeconds' in request) && !('hidden' in request)) throw new CommandError(72, 'no expireAfterSeconds or hidden field');
    const spec = findSpec(this.specs, target);
    if (!spec) throw new CommandError(27, `cannot find index ${formatValue(target)} for ns ${this.ns}`);
    const updated: IndexSpec = { ...spec };
    const reply: Document = {};
    if ('expireAfterSeconds' in request) {
      const seconds: unknown = request.expireAfterSeconds;
      if (typeof seconds !== 'number') throw new CommandError(72, 'expireAfterSeconds field must be a number');
      checkTtl(seconds);
      if (spec.name === ID_INDEX.name || Object.keys(spec.key).length !== 1) {
        throw new CommandError(72, 'TTL indexes are single-field indexes, compound indexes do not support TTL');
      }
      if (spec.expireAfterSeconds !== undefined) reply.expireAfterSeconds_old = spec.expireAfterSeconds;
      reply.expireAfterSeconds_new = seconds;
      updated.expireAfterSeconds = seconds;
    }
    if ('hidden' in request) {
      if (typeof request.hidden !== 'boolean') throw new CommandError(72, 'hidden field must be a boolean');
      if (spec.name === ID_INDEX.name) throw new CommandError(2, "can't hide _id index");
      reply.hidden_old = spec.hidden === true;
      reply.hidden_new = request.hidden;
      if (request.hidden) updated.hidden = true;
      else delete updated.hidden;
    }
    this.specs = this.specs.map((s) => (s === spec ? updated : s));
    return reply;
  }

  /** Throws 11000 if `doc` (owned by `idKey`) would break a unique secondary index. */
  check(doc: Document, idKey: string): void {
    for (const index of this.uniques.values()) index.check(doc, idKey);
  }

  add(doc: Document, idKey: string): void {
    for (const index of this.uniques.values()) index.add(doc, idKey);
  }

  remove(doc: Document, idKey: string): void {
    for (const index of this.uniques.values()) index.remove(doc, idKey);
  }
}
