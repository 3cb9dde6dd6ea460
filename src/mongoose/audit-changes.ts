/**
 * `schema.plugin(auditChanges)`: records which paths an update or delete changed, with the
 * values before and after, for writes made through mongoose while an audit context is active
 * (a recorded request, an audited call inside one, `audit.runWithContext()`).
 *
 * How: before the write it reads the one document the write will touch (`findOne` with the
 * query's filter, sort and session, lean); after it, it reads that document again by `_id`
 * and compares. So each audited write costs two small reads, and nothing at all when no
 * context is active. In a request, the changes join the request's entry (`changes`); in a
 * job's context, or with the `audit` option outside any context, each write becomes an entry
 * of its own ('Update'/'Delete', documents: [id]).
 *
 * What it cannot see: writes that bypass mongoose middleware (`Model.collection.*`, the raw
 * driver, `bulkWrite`, `insertMany`), `updateMany`/`deleteMany` (no single document to read),
 * and creates (the request's payload already has them).
 */
import { idString } from '../capture/documents';
import { REDACTED } from '../capture/redact';
import { AuditLogConfigError, show } from '../errors';
import { collectChanges } from '../events/changes';
import {
  currentContext,
  markContextConsumed,
  MAX_CHANGES,
  SINK,
  type AuditContext,
  type AuditHandle,
  type EventSink,
  type PendingChange,
  type SinkHolder,
} from '../events/context';
import { emitEntry } from '../events/record';
import { diffDocuments } from './diff';

/**
 * A mongoose `Schema` (mongoose 8 or 9), as far as the types need to say: structural, so the
 * package's types compile in apps without mongoose, and `schema.plugin(auditChanges)` still
 * type-checks the options.
 */
export interface MongooseSchemaLike {
  pre(...args: never[]): unknown;
  post(...args: never[]): unknown;
  get(key: string): unknown;
}

export interface AuditChangesOptions {
  /** Record writes made outside any audit context into this instance. Without it they are not recorded. */
  audit?: AuditHandle;
  /** The `collectionName` stored with the changes. Defaults to the model's collection name. */
  collectionName?: string;
  /** More dotted paths never reported. `_id`, the version key and the `updatedAt` timestamp always are skipped. */
  ignore?: string[];
}

// The few members used here, typed loosely: mongoose's generics cannot describe one hook for many models.
// biome-ignore-start lint/suspicious/noExplicitAny: mongoose's hook `this` and query types, loosely on purpose
type Lean = Record<string, unknown> & { _id?: unknown };
interface ModelLike {
  findOne(filter: unknown): any;
  collection: { collectionName: string };
}
interface HookSchema {
  pre(ops: string | string[], options: { document: boolean; query: boolean }, fn: (this: any) => Promise<void>): unknown;
  post(ops: string | string[], options: { document: boolean; query: boolean }, fn: (this: any, res: unknown) => Promise<void>): unknown;
  get(key: string): unknown;
}
// biome-ignore-end lint/suspicious/noExplicitAny: end of the loosely typed members

interface Target {
  sink: EventSink;
  context: AuditContext | undefined;
}

interface Pending extends Target {
  before: Lean;
  model: ModelLike;
  session: unknown;
}

const QUERY_UPDATES = ['updateOne', 'findOneAndUpdate', 'replaceOne', 'findOneAndReplace'];
const QUERY_DELETES = ['deleteOne', 'findOneAndDelete'];
const MAX_DEPTH = 32;

function checkOptions(options: unknown): { sink: EventSink | null | undefined; collectionName: string | null; ignore: string[] } {
  const fail = (option: string, message: string): never => {
    throw new AuditLogConfigError('EAUDIT_PLUGIN', option, message);
  };
  if (options === null || typeof options !== 'object' || Array.isArray(options))
    fail('options', `auditChanges options must be an object; got ${show(options)}.`);
  const { audit, collectionName, ignore, ...rest } = options as AuditChangesOptions;
  for (const key of Object.keys(rest)) fail(key, `auditChanges got unknown option '${key}'; accepted: audit, collectionName, ignore.`);
  if (audit !== undefined && (audit === null || (typeof audit !== 'function' && typeof audit !== 'object') || !(SINK in audit)))
    fail('audit', `auditChanges audit must be the handle auditLog() returned; got ${show(audit)}.`);
  if (collectionName !== undefined && (typeof collectionName !== 'string' || collectionName === ''))
    fail('collectionName', `auditChanges collectionName must be a non-empty string; got ${show(collectionName)}.`);
  if (ignore !== undefined && (!Array.isArray(ignore) || ignore.some((path) => typeof path !== 'string')))
    fail('ignore', `auditChanges ignore must be an array of dotted paths; got ${show(ignore)}.`);
  return { sink: audit === undefined ? undefined : ((audit as SinkHolder)[SINK] ?? null), collectionName: collectionName ?? null, ignore: ignore ?? [] };
}

/** Skipped always: the id is the change's `document`, the version key and updatedAt change on every write. */
function alwaysIgnored(schema: HookSchema): string[] {
  const paths = ['_id'];
  const versionKey = schema.get('versionKey');
  paths.push(typeof versionKey === 'string' ? versionKey : '__v');
  const timestamps = schema.get('timestamps') as { updatedAt?: unknown } | boolean | undefined;
  const updatedAt = typeof timestamps === 'object' && timestamps !== null ? timestamps.updatedAt : undefined;
  paths.push(typeof updatedAt === 'string' ? updatedAt : 'updatedAt');
  return paths;
}

export function auditChanges(schema: MongooseSchemaLike, options: AuditChangesOptions = {}): void {
  const settings = checkOptions(options);
  markContextConsumed();
  const hooks = schema as unknown as HookSchema;
  const ignore = new Set([...alwaysIgnored(hooks), ...settings.ignore]);
  // Per plugin use, not per module: state between a pre hook and its post hook.
  const pending = new WeakMap<object, Pending>();

  /** Where a write made now should go, or null to not look at it at all. */
  function target(): Target | null {
    const context = currentContext();
    if (context) return context.sink ? { sink: context.sink, context } : null;
    return settings.sink ? { sink: settings.sink, context: undefined } : null;
  }

  async function remember(key: object, found: Target, model: ModelLike, filter: unknown, sort: unknown, session: unknown): Promise<void> {
    try {
      let query = model.findOne(filter);
      if (sort) query = query.sort(sort);
      if (session) query = query.session(session);
      const before = (await query.lean().exec()) as Lean | null;
      if (before) pending.set(key, { ...found, before, model, session });
    } catch (error) {
      found.sink.fail(error);
    }
  }

  function report(state: Pending, op: PendingChange['op'], after: Lean | null): void {
    const { sink, context, before, model } = state;
    const paths = diffDocuments(before, after ?? undefined, {
      ignore,
      isSecret: sink.limits.isSecret,
      redacted: REDACTED,
      maxDepth: MAX_DEPTH,
      maxChanges: MAX_CHANGES,
    });
    if (paths.length === 0) return;
    const collectionName = settings.collectionName ?? model.collection.collectionName;
    const document = idString(before._id);
    const changes: PendingChange[] = paths.map((change) => ({ collectionName, document, op, ...change }));
    if (context && collectChanges(context, changes)) return;
    emitEntry(sink, context, {
      action: op === 'update' ? 'Update' : 'Delete',
      collectionName,
      documents: document === null ? null : [document],
      changes: { list: changes, dropped: 0 },
    });
  }

  async function afterUpdate(key: object): Promise<void> {
    const state = pending.get(key);
    if (!state) return;
    pending.delete(key);
    try {
      let query = state.model.findOne({ _id: state.before._id });
      if (state.session) query = query.session(state.session);
      const after = (await query.lean().exec()) as Lean | null;
      // Gone by now (deleted meanwhile): nothing to compare with.
      if (after) report(state, 'update', after);
    } catch (error) {
      state.sink.fail(error);
    }
  }

  function afterDelete(key: object, res: unknown): void {
    const state = pending.get(key);
    if (!state) return;
    pending.delete(key);
    const deleted = res !== null && !(typeof res === 'object' && (res as { deletedCount?: unknown }).deletedCount === 0);
    try {
      if (deleted) report(state, 'delete', null);
    } catch (error) {
      state.sink.fail(error);
    }
  }

  // Query writes: Model.updateOne(), findOneAndUpdate(), findByIdAndUpdate(), deleteOne(), doc.deleteOne(), …
  hooks.pre([...QUERY_UPDATES, ...QUERY_DELETES], { document: false, query: true }, async function beforeQuery() {
    const found = target();
    if (!found) return;
    const opts = this.getOptions() as { sort?: unknown; session?: unknown };
    await remember(this, found, this.model as ModelLike, this.getFilter(), opts.sort, opts.session);
  });
  hooks.post(QUERY_UPDATES, { document: false, query: true }, async function afterQueryUpdate() {
    await afterUpdate(this);
  });
  hooks.post(QUERY_DELETES, { document: false, query: true }, async function afterQueryDelete(res) {
    afterDelete(this, res);
  });

  // Document writes: doc.save() of a loaded document. (doc.deleteOne() runs the query hooks
  // above with its own filter, so hooking it here as well would record it twice.)
  hooks.pre('save', { document: true, query: false }, async function beforeSave() {
    if (this.isNew || this.$isSubdocument) return;
    const found = target();
    if (!found) return;
    await remember(this, found, this.constructor as ModelLike, { _id: this._id }, null, this.$session?.());
  });
  hooks.post('save', { document: true, query: false }, async function afterSave() {
    await afterUpdate(this);
  });
}
