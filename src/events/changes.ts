/**
 * Diffs between the plugin and the entry: collected raw while the request runs (values read
 * from the database are fresh objects the app cannot mutate), sanitized once when the entry
 * is built, under the same redaction and the same byte budget as a payload.
 */
import { sanitize, type SanitizeLimits } from '../capture/sanitize';
import type { AuditChange, JsonValue } from '../entry';
import { MAX_CHANGES, type AuditContext, type PendingChange } from './context';

export interface SanitizedChanges {
  value: AuditChange[] | null;
  bytes: number;
  truncated: boolean;
}

/** Adds diffs to the context's list, keeping at most MAX_CHANGES. False when nothing collects them. */
export function collectChanges(context: AuditContext, changes: PendingChange[]): boolean {
  const list = context.changes;
  if (!list) return false;
  const room = Math.max(0, MAX_CHANGES - list.length);
  list.push(...changes.slice(0, room));
  context.changesDropped += Math.max(0, changes.length - room);
  return true;
}

/**
 * Sanitizes each `from`/`to` on its own, so one huge value becomes a marker without losing
 * the paths around it; once the list as a whole passes `maxBytes`, the rest is left out.
 */
export function sanitizeChanges(changes: readonly PendingChange[], limits: SanitizeLimits, dropped = 0): SanitizedChanges {
  if (changes.length === 0) return { value: null, bytes: 0, truncated: dropped > 0 };
  const out: AuditChange[] = [];
  let bytes = 2;
  let truncated = dropped > 0;
  for (const change of changes) {
    const item: AuditChange = { collectionName: change.collectionName, document: change.document, op: change.op, path: change.path };
    let size = 64 + change.path.length + change.collectionName.length;
    for (const side of ['from', 'to'] as const) {
      if (!(side in change)) continue;
      const safe = sanitize(change[side], limits);
      item[side] = safe.value as JsonValue;
      // A capped value is stored as its short marker: count the marker, not the original.
      size += safe.truncated ? String(safe.value).length + 2 : safe.bytes;
      truncated ||= safe.truncated;
    }
    if (bytes + size > limits.maxBytes) {
      truncated = true;
      break;
    }
    bytes += size;
    out.push(item);
  }
  return { value: out, bytes, truncated };
}

/** Hands the collected diffs to the request's entry; later ones become entries of their own. */
export function takeChanges(context: AuditContext): { changes: PendingChange[]; dropped: number } {
  const changes = context.changes ?? [];
  context.changes = null;
  return { changes, dropped: context.changesDropped };
}
