/**
 * Fault injection for tests of retry and error handling. Each arriving command asks `decide()`
 * once. Handshake and heartbeat commands only match a fault that names them, so a fault aimed
 * at "the next command" is not used up by the driver's background monitoring.
 */
import type { Document } from 'bson';
import { codeName } from './errors';

export interface DropOptions {
  command?: string;
  /** 'before': close without running the command. 'after': run it, then close instead of replying. */
  when?: 'before' | 'after';
  count?: number;
}

export interface FailOptions {
  code: number;
  codeName?: string;
  errmsg?: string;
  command?: string;
  errorLabels?: string[];
}

export interface Faults {
  /** on: stop listening (ECONNREFUSED) and close open sockets; off: listen again on the same port. */
  refuseConnections(on: boolean): Promise<void>;
  dropConnection(opts: DropOptions): void;
  failNext(n: number, opts: FailOptions): void;
  /** Holds every matching reply for `ms` until clear(); clear() also releases held replies at once. */
  delay(ms: number, opts?: { command?: string }): void;
  clear(): void;
}

export interface FaultDecision {
  drop: 'before' | 'after' | null;
  /** The error reply to send instead of running the command. */
  fail: Document | null;
  delayMs: number;
}

const HANDSHAKE = new Set(['hello', 'ismaster', 'ping', 'buildinfo', 'endsessions']);

interface Rule {
  command: string | undefined;
  remaining: number;
}

function matches(rule: { command: string | undefined }, name: string): boolean {
  if (rule.command !== undefined) return rule.command.toLowerCase() === name.toLowerCase();
  return !HANDSHAKE.has(name.toLowerCase());
}

export class FaultController implements Faults {
  private drops: Array<Rule & { when: 'before' | 'after' }> = [];
  private failures: Array<Rule & { reply: Document }> = [];
  private delays: Array<{ command: string | undefined; ms: number }> = [];
  private readonly held = new Map<NodeJS.Timeout, () => void>();

  constructor(private readonly setRefusing: (on: boolean) => Promise<void>) {}

  refuseConnections(on: boolean): Promise<void> {
    return this.setRefusing(on);
  }

  dropConnection(opts: DropOptions): void {
    this.drops.push({ command: opts.command, when: opts.when ?? 'before', remaining: opts.count ?? 1 });
  }

  failNext(n: number, opts: FailOptions): void {
    const reply: Document = {
      ok: 0,
      errmsg: opts.errmsg ?? `injected failure (code ${opts.code})`,
      code: opts.code,
      codeName: opts.codeName ?? codeName(opts.code),
    };
    if (opts.errorLabels) reply.errorLabels = opts.errorLabels;
    this.failures.push({ command: opts.command, remaining: n, reply });
  }

  delay(ms: number, opts: { command?: string } = {}): void {
    this.delays.push({ command: opts.command, ms });
  }

  clear(): void {
    this.drops = [];
    this.failures = [];
    this.delays = [];
    const release = [...this.held.entries()];
    this.held.clear();
    for (const [timer, send] of release) {
      clearTimeout(timer);
      send();
    }
  }

  /** Called once per arriving command; uses up one count of the first matching drop or failure. */
  decide(name: string): FaultDecision {
    const decision: FaultDecision = { drop: null, fail: null, delayMs: 0 };
    const drop = this.drops.find((r) => r.remaining > 0 && matches(r, name));
    if (drop) {
      drop.remaining -= 1;
      decision.drop = drop.when;
    }
    if (decision.drop !== 'before') {
      const failure = this.failures.find((r) => r.remaining > 0 && matches(r, name));
      if (failure) {
        failure.remaining -= 1;
        decision.fail = { ...failure.reply };
      }
    }
    for (const d of this.delays) if (matches(d, name)) decision.delayMs = Math.max(decision.delayMs, d.ms);
    this.drops = this.drops.filter((r) => r.remaining > 0);
    this.failures = this.failures.filter((r) => r.remaining > 0);
    return decision;
  }

  /** Sends a delayed reply later (or at clear()). */
  hold(ms: number, send: () => void): void {
    const timer = setTimeout(() => {
      this.held.delete(timer);
      send();
    }, ms);
    this.held.set(timer, send);
  }

  /** At close: forget held replies without sending them. */
  dispose(): void {
    for (const timer of this.held.keys()) clearTimeout(timer);
    this.held.clear();
    this.drops = [];
    this.failures = [];
    this.delays = [];
  }
}
