/**
 * What a verification found, as the verify route answers it and the offline command prints it.
 * Problem kinds are stable names: users match on them.
 */

export const PROBLEM_KINDS = ['modified', 'missing', 'inserted', 'reordered', 'truncated', 'checkpoint-signature', 'checkpoint-mismatch'] as const;
export type ProblemKind = (typeof PROBLEM_KINDS)[number];

export interface Problem {
  kind: ProblemKind;
  /** The chain concerned; null for an entry that carries none. */
  chain: string | null;
  /** The position concerned, or the first and last of a run. */
  seq?: number;
  fromSeq?: number;
  toSeq?: number;
  /** The entry concerned, when one is there to name. */
  entryId?: string;
  checkpointId?: string;
  message: string;
}

/** A run of positions in a chain that is gone without being a problem (expired, dropped), or not yet covered by a checkpoint. */
export interface Run {
  chain: string;
  fromSeq: number;
  toSeq: number;
}

export interface VerifyReport {
  /** True when no problem was found. */
  ok: boolean;
  range: { from: string | null; to: string | null };
  checked: {
    chains: number;
    entries: number;
    checkpoints: number;
    /** 'verified': every checkpoint's signature was checked against the public keys; otherwise why not. */
    signatures: 'verified' | 'not checked: no public key configured' | 'no checkpoints';
  };
  /** 'supported', or why checkpoints could not be read: without them gaps at a chain's end cannot be seen. */
  checkpoints: 'supported' | 'unsupported by this store';
  /** Up to `maxProblems`; `problemsTotal` counts them all. */
  problems: Problem[];
  problemsTotal: number;
  /** Positions whose entries the TTL removed, as the checkpoints prove (`ttl` in force, dates of their span). */
  expired: Run[];
  /** Positions the writer numbered but dropped (a full queue without spool, an entry the store refused), as its checkpoints count them. */
  dropped: Run[];
  /** Entries after their chain's last checkpoint: checked for links, but a cut at the end cannot be seen until the next checkpoint. */
  unprotected: Run[];
  /** Entries without chain fields older than the first chain: written before integrity was turned on. */
  unchained: number;
  notes: string[];
}
