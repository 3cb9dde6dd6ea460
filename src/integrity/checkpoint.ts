/**
 * Checkpoints: what a writer states, and signs, about its chain every `checkpointEvery` entries
 * or `checkpointIntervalMs`: "chain C holds entries 1..seq, the last one hashing to `hash`".
 * Stored apart from the entries (the TTL never removes them), so a verifier can tell entries
 * that expired by policy from entries that were deleted, and a chain cut short from one that ended.
 */
import { canonicalValue } from './canonical';

/** The chain a writer saw last when it started, named by its first checkpoint. */
export interface PreviousChain {
  chain: string;
  seq: number;
  hash: string | null;
  at: Date;
}

export interface AuditCheckpoint {
  /** `<chain>:<seq, 16 digits>`: unique per position, and ordered by chain then seq. */
  _id: string;
  chain: string;
  /** The last entry covered; 0 for the checkpoint that opens a chain. */
  seq: number;
  /** That entry's hash; null when seq is 0. */
  hash: string | null;
  /** Entries this writer stored since its previous checkpoint of the chain. */
  count: number;
  /** Entries this writer numbered in that span but dropped (reported through 'error' when it happened). */
  dropped: number;
  /** The oldest and newest `date` of the entries in the span (null when none). */
  firstDate: Date | null;
  lastDate: Date | null;
  /** When the checkpoint was made. */
  at: Date;
  /** The `ttl` in force, in seconds (null: none): what lets a verifier call a gap expiry. */
  ttlSeconds: number | null;
  /** Opening checkpoints only: the newest checkpoint in the store when the chain started. */
  previous?: PreviousChain | null;
  /** SHA-256 (first 16 hex digits) of the signing key's public key, in DER SPKI; null when unsigned. */
  keyId: string | null;
  /** Ed25519 signature of the canonical form without `signature`, base64; null when unsigned. */
  signature: string | null;
}

export function checkpointId(chain: string, seq: number): string {
  return `${chain}:${String(seq).padStart(16, '0')}`;
}

/** The bytes a checkpoint's signature covers: its canonical form (see canonical.ts) without `signature`. */
export function checkpointPayload(checkpoint: AuditCheckpoint): string {
  const { signature: _signature, ...signed } = checkpoint;
  return canonicalValue(signed);
}

/** A checkpoint read back from JSON (the export, a store that returns strings): dates as Dates. */
export function reviveCheckpoint(value: Record<string, unknown>): AuditCheckpoint {
  const date = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string));
  const previous = value.previous as Record<string, unknown> | null | undefined;
  return {
    ...(value as unknown as AuditCheckpoint),
    firstDate: date(value.firstDate),
    lastDate: date(value.lastDate),
    at: new Date(value.at as string),
    ...(previous ? { previous: { ...(previous as unknown as PreviousChain), at: new Date(previous.at as string) } } : {}),
  };
}
