/**
 * Erasing a user, framework-free (the Express route and `audit.erase()` both call it): their data
 * keys are deleted, so every sealed field of their entries is unreadable for good, while the
 * entries themselves, their hashes and the chain stay as they were and still verify.
 */
import { AuditLogQueryError } from '../errors';
import type { AuditStore } from '../stores/types';
import type { Keyring } from './keyring';

export interface ErasureRequest {
  /** The user id whose data to erase, as the log records it (`user`). */
  user: string | number;
}

export interface ErasureResult {
  /** Entries of the user whose sealed fields are now unreadable. */
  entries: number;
  /** Data keys deleted. */
  keys: number;
  /** The user's blind indexes: what their entries' `subject` holds; an auditor can check the erasure against them. */
  subjects: string[];
}

const MAX_USER = 1024;

/** The user id of a request body or an API call; throws AuditLogQueryError (a 400 over HTTP) naming what is wrong. */
export function erasureUser(request: unknown): string {
  const user = (request as { user?: unknown } | null)?.user;
  if (typeof request !== 'object' || request === null || Array.isArray(request))
    throw new AuditLogQueryError('user', 'send { "user": "<user id>" }: the user whose data to erase.');
  const extra = Object.keys(request).find((key) => key !== 'user');
  if (extra !== undefined) throw new AuditLogQueryError(extra.slice(0, 64), `unknown field '${extra.slice(0, 64)}'; an erasure takes only user.`);
  if (typeof user === 'number' && Number.isFinite(user)) return String(user);
  if (typeof user !== 'string' || user === '' || user.length > MAX_USER)
    throw new AuditLogQueryError('user', `user must be the user id (a non-empty string of at most ${MAX_USER} characters) whose data to erase.`);
  return user;
}

export interface ErasureDeps {
  keyring: Keyring;
  store: AuditStore;
  /** Writes what is queued (a data key of the user may be pending). */
  flush(): Promise<void>;
}

export async function eraseUser(deps: ErasureDeps, user: string): Promise<ErasureResult> {
  const subjects = deps.keyring.subjectsOf(user);
  const keys = await deps.keyring.erase(subjects, deps.flush);
  const entries = await deps.store.count({ subject: { $in: subjects } });
  return { entries, keys, subjects };
}
