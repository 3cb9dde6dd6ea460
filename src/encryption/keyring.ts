/**
 * Crypto-shredding. Each subject (an entry's `user`) gets a random AES-256 data key; the entry's
 * personal fields are sealed with it (AES-256-GCM, the entry's `_id` as associated data, so a
 * sealed value cannot be moved to another entry) and the key is stored wrapped by the master
 * key. Erasing a user deletes their data keys: their entries stay, hashed as stored, but nobody
 * can read the sealed fields any more.
 *
 * Sealing is synchronous (it runs in the writer's push(), before the integrity chain hashes the
 * entry): a subject without a cached key gets a new one at once, held as pending until the
 * store has it; `persistPending()` runs before every batch is inserted, so no stored entry names
 * a key that was never stored. A user may so have several data keys (one per process, and a new
 * one when the cache evicted theirs): erasure deletes them all, by blind index.
 */
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, type KeyObject } from 'crypto';
import type { AuditEntry } from '../entry';
import type { DataKeyRecord } from './data-key';
import { blindIndex, unwrapDataKey, wrapDataKey, type MasterKey } from './master-keys';
import { formatSealed, parseSealed } from './sealed-format';
import type { DataKeyStore } from './store';

/** The fields that may be sealed; the others are structural (dates, ids, the chain) and stay readable. */
export const SEALABLE_FIELDS = ['user', 'ipAddress', 'userAgent', 'payload', 'params', 'result', 'changes', 'message', 'notes', 'responseMessage'] as const;
export type SealableField = (typeof SEALABLE_FIELDS)[number];
/** Personal by default. `message` too: an action template such as '{user} published …' writes the user into it. */
export const DEFAULT_SEALED_FIELDS: readonly SealableField[] = ['user', 'ipAddress', 'userAgent', 'payload', 'params', 'result', 'changes', 'message'];

export interface KeyringSettings {
  /** The current master key first, then the previous ones (still unwrap, still index). */
  masterKeys: readonly MasterKey[];
  fields: readonly SealableField[];
  /** Unwrapped data keys kept in memory, for writing and for reading each. */
  cacheSize: number;
}

interface WriteKey {
  id: string;
  /** As a KeyObject: createCipheriv takes it without copying the key again for every entry. */
  secret: KeyObject;
  /** The user's blind index under the current master key. */
  subject: string;
  /** GCM nonces: a fresh key used by this process only, so a counter never repeats. */
  counter: number;
}

interface ReadKey {
  key: Buffer;
  subject: string;
}

/** AES-256-GCM of a short text under a data key, bound to `aad`: base64 of iv | tag | ciphertext. */
function sealText(key: Buffer, iv: Buffer, aad: string, text: string): string {
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
}

function openText(key: Buffer, aad: string, sealed: string | Buffer): string | null {
  try {
    const bytes = typeof sealed === 'string' ? Buffer.from(sealed, 'base64') : sealed;
    const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, 12));
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(bytes.subarray(12, 28));
    return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}

/** A Map used as an LRU: a hit is moved to the end, the oldest is evicted past `size`. */
function remember<K, V>(map: Map<K, V>, key: K, value: V, size: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > size) map.delete(map.keys().next().value as K);
}

/** What reading shows of an entry whose data key is gone: the sealed fields null, and this marker. */
export interface ErasedMarker {
  erased: true;
}

/** One entry as readers see it: its sealed fields opened with the page's keys, or null and `erased: true` when its key is gone. */
function open<T extends Partial<AuditEntry>>(doc: T, keys: ReadonlyMap<string, Buffer>): T & Partial<ErasedMarker> {
  const record = doc as Record<string, unknown>;
  const parts = parseSealed(record.sealed);
  if (!parts) return doc;
  const out: Record<string, unknown> = Object.assign({}, record);
  const key = keys.get(parts.keyId);
  let values: Record<string, unknown> | null = null;
  if (key && typeof record._id === 'string') {
    const text = openText(key, record._id, parts.box);
    try {
      values = text === null ? null : (JSON.parse(text) as Record<string, unknown>);
    } catch {
      values = null;
    }
  }
  // An altered ciphertext fails GCM's tag and is shown as unreadable too; verify reports the alteration.
  for (const field of parts.fields) out[field] = values ? (values[field] ?? null) : null;
  if (!values) out.erased = true;
  return out as T & Partial<ErasedMarker>;
}

export class Keyring {
  private readonly current: MasterKey;
  private readonly byId: ReadonlyMap<string, MasterKey>;
  /** By user id: a cached user costs no HMAC for the blind index. */
  private readonly writeKeys = new Map<string, WriteKey>();
  private readonly readKeys = new Map<string, ReadKey>();
  private readonly pending = new Map<string, DataKeyRecord>();

  constructor(
    private readonly store: DataKeyStore,
    private readonly settings: KeyringSettings,
  ) {
    this.current = settings.masterKeys[0]!;
    this.byId = new Map(settings.masterKeys.map((key) => [key.id, key]));
  }

  /** The user's blind index under every configured master key (the current one first). */
  subjectsOf(user: string): string[] {
    return [...new Set(this.settings.masterKeys.map((key) => blindIndex(key, user)))];
  }

  /**
   * A copy of the entry with its personal fields sealed, or the entry itself when it has no user
   * (no subject to erase it by) or nothing to seal. Never mutates the entry given.
   */
  seal(entry: AuditEntry): AuditEntry {
    const user = entry.user;
    if (typeof user !== 'string' || user === '') return entry;
    const record = entry as unknown as Record<string, unknown>;
    const names: string[] = [];
    const values: Record<string, unknown> = {};
    for (const field of this.settings.fields) {
      const value = record[field];
      if (value === null || value === undefined) continue;
      names.push(field);
      values[field] = value;
    }
    const writeKey = this.writeKeys.get(user) ?? this.newWriteKey(user);
    const iv = Buffer.alloc(12);
    iv.writeUIntBE(++writeKey.counter, 6, 6);
    const cipher = createCipheriv('aes-256-gcm', writeKey.secret, iv);
    cipher.setAAD(Buffer.from(entry._id, 'utf8'));
    const body = cipher.update(JSON.stringify(values), 'utf8');
    cipher.final(); // GCM is a stream mode: nothing more comes out, but the tag needs it
    const box = Buffer.allocUnsafe(28 + body.length);
    iv.copy(box, 0);
    cipher.getAuthTag().copy(box, 12);
    body.copy(box, 28);
    // Object.assign, not a spread: on an entry's 30 fields V8's spread measured 5× slower, on the write path of every entry.
    const sealed: Record<string, unknown> = Object.assign({}, record, { subject: writeKey.subject, sealed: formatSealed(writeKey.id, names, box) });
    for (const field of names) sealed[field] = null;
    return sealed as unknown as AuditEntry;
  }

  private newWriteKey(user: string): WriteKey {
    const subject = blindIndex(this.current, user);
    const key = randomBytes(32);
    const id = randomBytes(12).toString('hex');
    // Nonce 0 seals the owner; entries count from 1.
    const writeKey: WriteKey = { id, secret: createSecretKey(key), subject, counter: 0 };
    this.pending.set(id, {
      _id: id,
      subject,
      wrapped: wrapDataKey(this.current, id, key),
      masterKeyId: this.current.id,
      owner: sealText(key, Buffer.alloc(12), id, user),
      createdAt: new Date(),
    });
    remember(this.writeKeys, user, writeKey, this.settings.cacheSize);
    remember(this.readKeys, id, { key, subject }, this.settings.cacheSize);
    return writeKey;
  }

  /** Stores the data keys made since the last call; called before each batch of entries is inserted. Throws what the store throws (the batch is retried). */
  async persistPending(): Promise<void> {
    if (this.pending.size === 0) return;
    const records = [...this.pending.values()];
    await this.store.insertDataKeys(records);
    for (const record of records) if (this.pending.get(record._id) === record) this.pending.delete(record._id);
  }

  /**
   * The entries as readers see them: sealed fields opened, or, when the entry's data key is gone
   * (erased), set to null with `erased: true`. Entries without `sealed` are returned as they are.
   * Returns new objects; the store's are not changed.
   */
  async reveal<T extends Partial<AuditEntry>>(docs: readonly T[]): Promise<Array<T & Partial<ErasedMarker>>> {
    // This page's keys, whatever the cache evicts while it fills.
    const keys = new Map<string, Buffer>();
    const wanted = new Set<string>();
    for (const doc of docs) {
      const parts = parseSealed((doc as Record<string, unknown>).sealed);
      if (!parts || keys.has(parts.keyId)) continue;
      const cached = this.readKeys.get(parts.keyId);
      if (cached) keys.set(parts.keyId, cached.key);
      else wanted.add(parts.keyId);
    }
    if (wanted.size > 0) {
      for (const record of await this.store.findDataKeys({ ids: [...wanted] })) {
        const master = this.byId.get(record.masterKeyId);
        const key = master ? unwrapDataKey(master, record._id, record.wrapped) : null;
        if (!key) continue;
        keys.set(record._id, key);
        remember(this.readKeys, record._id, { key, subject: record.subject }, this.settings.cacheSize);
      }
    }
    return docs.map((doc) => open(doc, keys));
  }

  /**
   * Erases subjects: forgets their data keys here (cache and pending), lets `flush` write what
   * is queued (a batch in flight may be storing one of their keys), then deletes every key of
   * theirs from the store, and forgets again what a read cached meanwhile. An entry of theirs
   * recorded during the erasure may get a new key that the delete also catches: erasure wins.
   * Resolves to how many keys the store deleted.
   */
  async erase(subjects: readonly string[], flush: () => Promise<void>): Promise<number> {
    const doomed = new Set(subjects);
    this.forget(doomed);
    await flush();
    const deleted = await this.store.deleteDataKeys([...doomed]);
    this.forget(doomed);
    return deleted;
  }

  private forget(doomed: ReadonlySet<string>): void {
    for (const [user, writeKey] of this.writeKeys) if (doomed.has(writeKey.subject)) this.writeKeys.delete(user);
    for (const [id, record] of this.pending) if (doomed.has(record.subject)) this.pending.delete(id);
    for (const [id, readKey] of this.readKeys) if (doomed.has(readKey.subject)) this.readKeys.delete(id);
  }

  /**
   * Re-wraps every stored data key that is not under the current master key (pages of 500, in
   * `_id` order). Keys erased meanwhile stay erased: the store only replaces keys it still has.
   */
  async rewrapAll(): Promise<{ rewrapped: number; unreadable: number }> {
    let after: string | null = null;
    let rewrapped = 0;
    let unreadable = 0;
    for (;;) {
      const page = await this.store.findDataKeys({ after, limit: 500 });
      const updates: DataKeyRecord[] = [];
      for (const record of page) {
        if (record.masterKeyId === this.current.id) continue;
        const master = this.byId.get(record.masterKeyId);
        const key = master ? unwrapDataKey(master, record._id, record.wrapped) : null;
        if (!key) {
          unreadable++;
          continue;
        }
        // Re-indexed too: erasures and filters under the new key alone find it.
        const user = openText(key, record._id, record.owner);
        const subject = user === null ? record.subject : blindIndex(this.current, user);
        updates.push({ ...record, subject, wrapped: wrapDataKey(this.current, record._id, key), masterKeyId: this.current.id });
      }
      if (updates.length > 0) await this.store.updateDataKeys(updates);
      rewrapped += updates.length;
      if (page.length < 500) break;
      after = page[page.length - 1]!._id;
    }
    return { rewrapped, unreadable };
  }
}
