/**
 * All databases of one server, shared by every client connection (the driver spreads one
 * client's commands over a monitor and several pool connections).
 */
import type { Document } from 'bson';
import { CommandError } from '../errors';
import { Collection } from './collection';

export class Storage {
  private readonly dbs = new Map<string, Map<string, Collection>>();

  get(db: string, name: string): Collection | undefined {
    return this.dbs.get(db)?.get(name);
  }

  /** Like mongod's implicit creation on first insert/upsert/createIndexes. */
  ensure(db: string, name: string): { collection: Collection; created: boolean } {
    const existing = this.get(db, name);
    if (existing) return { collection: existing, created: false };
    return { collection: this.create(db, name), created: true };
  }

  create(db: string, name: string, options: Document = {}): Collection {
    validateName(db, name);
    if (this.get(db, name)) throw new CommandError(48, `Collection ${db}.${name} already exists.`);
    let collections = this.dbs.get(db);
    if (!collections) {
      collections = new Map();
      this.dbs.set(db, collections);
    }
    const collection = new Collection(db, name, options);
    collections.set(name, collection);
    return collection;
  }

  drop(db: string, name: string): Collection | undefined {
    const collections = this.dbs.get(db);
    const collection = collections?.get(name);
    if (!collections || !collection) return undefined;
    collections.delete(name);
    if (collections.size === 0) this.dbs.delete(db);
    return collection;
  }

  dropDatabase(db: string): boolean {
    return this.dbs.delete(db);
  }

  collections(db: string): Collection[] {
    return [...(this.dbs.get(db)?.values() ?? [])];
  }

  databases(): string[] {
    return [...this.dbs.keys()];
  }

  *allCollections(): IterableIterator<Collection> {
    for (const collections of this.dbs.values()) yield* collections.values();
  }
}

function validateName(db: string, name: string): void {
  if (db === '' || /[/\\. "$]/.test(db)) throw new CommandError(73, `Invalid database name: '${db}'`);
  if (typeof name !== 'string' || name === '' || name.includes('$') || name.startsWith('.') || name.includes('\0')) {
    throw new CommandError(73, `Invalid collection name: ${String(name)}`);
  }
}
