/**
 * What every adapter's handle offers (Express's middleware, Fastify's `app.auditLog`, Hapi's
 * `server.plugins['express-audit-log']`), declared once; `Req` is the framework's request.
 */
import type { ErasureRequest, ErasureResult } from '../encryption/erasure';
import type { AuditLogStoreError } from '../errors';
import type { EventMethods } from '../events/handle';
import type { AuditAnnotation } from '../options';
import type { AuditStore } from '../stores/types';
import type { AuditLogStats } from './audit-core';

export interface AuditHandleMembers<Req> extends EventMethods<Req> {
  /** False when `enabled: false` or AUDIT_LOG_ENABLED=false: nothing is recorded or served. */
  readonly enabled: boolean;
  /** The store in use, or null when disabled. */
  readonly store: AuditStore | null;
  /** Writes everything queued now; resolves when written, when the store fails for now, or after `deadlineMs` (default: no deadline). */
  flush(deadlineMs?: number): Promise<void>;
  /** Flushes what it can before the deadline (ms, default 10000), spools or counts the rest, closes the store. */
  close(deadlineMs?: number): Promise<void>;
  stats(): AuditLogStats;
  on(event: 'error', listener: (error: AuditLogStoreError) => void): this;
  once(event: 'error', listener: (error: AuditLogStoreError) => void): this;
  off(event: 'error', listener: (error: AuditLogStoreError) => void): this;
  /** Adds to, or skips, what is recorded for this request. */
  annotate(req: Req, annotation: AuditAnnotation): void;
  /**
   * With the `encryption` option: deletes the user's data keys, so their entries' sealed fields
   * are unreadable for good (the entries and the integrity chain stay, and verify). Records an
   * `Erase` entry that holds no plaintext of the user. Rejects without `encryption`.
   */
  erase(request: ErasureRequest): Promise<ErasureResult>;
  /** With `encryption.previousKeys`: re-wraps every data key under the current master key. Resolves to how many were re-wrapped, and how many no configured key could open. */
  rotateMasterKey(): Promise<{ rewrapped: number; unreadable: number }>;
}
