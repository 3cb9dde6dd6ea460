/**
 * Validates the body of `POST {basePath}`: manual entries, one object or an array. Fields the
 * server knows better (date, ipAddress, requestId, traceId, durationMs, userAgent, _id, and
 * postedBy: who sent it) cannot be set by the client, so a holder of the scope cannot backdate,
 * relocate or disown an entry, which rest-hapi allows.
 */
import { ASSOCIATION_TYPES, type AuditEntry } from '../entry';
import { AuditLogQueryError } from '../errors';

export type ManualFields = Pick<
  AuditEntry,
  | 'method'
  | 'endpoint'
  | 'user'
  | 'collectionName'
  | 'childCollectionName'
  | 'associationType'
  | 'documents'
  | 'statusCode'
  | 'isError'
  | 'responseMessage'
  | 'notes'
> & { action: string; payload: unknown; params: unknown; result: unknown };

const SERVER_FIELDS = [
  '_id',
  'date',
  'ipAddress',
  'requestId',
  'traceId',
  'durationMs',
  'userAgent',
  'truncated',
  'postedBy',
  'message',
  'changes',
  'chain',
  'seq',
  'prevHash',
  'hash',
  'tenant',
];
const STRING_FIELDS = ['method', 'endpoint', 'user', 'collectionName', 'childCollectionName', 'responseMessage', 'notes'] as const;
const JSON_FIELDS = ['payload', 'params', 'result'] as const;
/** The fields a manual entry may set (the OpenAPI description publishes them). */
export const MANUAL_FIELDS = ['action', ...STRING_FIELDS, 'associationType', 'documents', 'statusCode', 'isError', ...JSON_FIELDS] as const;
const ALLOWED: readonly string[] = MANUAL_FIELDS;
const MAX_ENTRIES = 1000;
const MAX_STRING = 10_000;

function checkOne(input: unknown, at: string, defaultUser: string | null): ManualFields {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new AuditLogQueryError(at || 'body', `${at || 'the body'} must be an entry object like {"action":"Export","notes":"..."}.`);
  }
  const body = input as Record<string, unknown>;
  const name = (field: string) => (at ? `${at}.${field}` : field);
  for (const key of Object.keys(body)) {
    if (SERVER_FIELDS.includes(key)) throw new AuditLogQueryError(name(key), `${name(key)} is set by the server and cannot be given.`);
    if (!ALLOWED.includes(key)) throw new AuditLogQueryError(name(key), `${name(key)} is not an entry field; accepted: ${ALLOWED.join(', ')}.`);
  }
  if (typeof body.action !== 'string' || body.action.trim() === '' || body.action.length > 128) {
    throw new AuditLogQueryError(name('action'), `${name('action')} is required: a name of up to 128 characters, like "Export" or "Login".`);
  }
  const out: ManualFields = {
    action: body.action,
    method: null,
    endpoint: null,
    user: defaultUser,
    collectionName: null,
    childCollectionName: null,
    associationType: null,
    documents: null,
    statusCode: null,
    isError: false,
    responseMessage: null,
    notes: null,
    payload: body.payload ?? null,
    params: body.params ?? null,
    result: body.result ?? null,
  };
  for (const field of STRING_FIELDS) {
    const value = body[field];
    if (value === undefined) continue;
    if (value !== null && (typeof value !== 'string' || value.length > MAX_STRING)) {
      throw new AuditLogQueryError(name(field), `${name(field)} must be a string of up to ${MAX_STRING} characters, or null.`);
    }
    out[field] = value;
  }
  if (body.associationType !== undefined && body.associationType !== null) {
    if (!(ASSOCIATION_TYPES as readonly unknown[]).includes(body.associationType)) {
      throw new AuditLogQueryError(name('associationType'), `${name('associationType')} must be one of ${ASSOCIATION_TYPES.join(', ')} or null.`);
    }
    out.associationType = body.associationType as ManualFields['associationType'];
  }
  if (body.documents !== undefined && body.documents !== null) {
    const docs = body.documents;
    if (!Array.isArray(docs) || docs.length > 1000 || docs.some((id) => (typeof id !== 'string' && typeof id !== 'number') || String(id).length > 256)) {
      throw new AuditLogQueryError(name('documents'), `${name('documents')} must be an array of up to 1000 ids (strings or numbers).`);
    }
    out.documents = docs.map(String);
  }
  if (body.statusCode !== undefined && body.statusCode !== null) {
    if (!Number.isInteger(body.statusCode) || (body.statusCode as number) < 100 || (body.statusCode as number) > 599) {
      throw new AuditLogQueryError(name('statusCode'), `${name('statusCode')} must be an HTTP status from 100 to 599.`);
    }
    out.statusCode = body.statusCode as number;
  }
  if (body.isError !== undefined) {
    if (typeof body.isError !== 'boolean') throw new AuditLogQueryError(name('isError'), `${name('isError')} must be true or false.`);
    out.isError = body.isError;
  }
  return out;
}

export function parseManualEntries(body: unknown, defaultUser: string | null): { entries: ManualFields[]; many: boolean } {
  if (Array.isArray(body)) {
    if (body.length === 0 || body.length > MAX_ENTRIES) throw new AuditLogQueryError('body', `send 1 to ${MAX_ENTRIES} entries; got ${body.length}.`);
    return { entries: body.map((item, i) => checkOne(item, `[${i}]`, defaultUser)), many: true };
  }
  if (body === undefined || body === null || (typeof body === 'object' && Object.keys(body).length === 0)) {
    throw new AuditLogQueryError(
      'body',
      'the body is empty: send a JSON entry like {"action":"Export"} with Content-Type: application/json (and mount express.json()).',
    );
  }
  return { entries: [checkOne(body, '', defaultUser)], many: false };
}
