import type { AuditStore } from 'express-audit-log';
export interface ContractAudit {
  flush(deadlineMs?: number): Promise<void>;
  close(deadlineMs?: number): Promise<void>;
  stats(): { recorded: number; written: number };
  readonly store: AuditStore | null;
}
export interface ContractApp {
  url: string;
  audit: ContractAudit;
  close(): Promise<void>;
}
export interface FrameworkDriver {
  name: 'express' | 'fastify' | 'hapi';
  /** Options are the package's common options (no framework-specific functions). */
  start(options: Record<string, unknown>): Promise<ContractApp>;
}
