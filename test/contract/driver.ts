/**
 * What the contract suite (contract.test.ts) needs of a framework: an app built the same way on
 * each (see /work/briefs2/a-contract.md, and the list below), listening on 127.0.0.1, with the
 * audit log's public handle. The suite only speaks HTTP and that handle.
 *
 * The app: `Authorization: Bearer <JWT HS256>` signed with SECRET (test/support/app.ts), optional;
 * the audit log's user is `sub`, its scopes `scope` split on spaces, read the framework's usual
 * way with no getAuth. JSON bodies. The audit log at the root with the given options, its routes
 * at /auditLog. Routes (a Map per collection, ids new ObjectIds):
 *   POST /api/v1/users -> 201 { _id, ...body }
 *   GET /api/v1/users/:id -> 200 the doc, or 404 { message: 'No resource was found with that id.' }
 *   PUT /api/v1/users/:id -> 200 { ...doc, ...body }, or the same 404
 *   DELETE /api/v1/users/:id -> 204
 *   POST /api/v1/users/:id/roles -> 201 { _id: <new id>, ownerId: id, ...body }
 *   DELETE /api/v1/users/:id/roles/:roleId -> 204
 *   POST /auth/login -> 200 { token: 'x' }
 *   POST /fail -> 500 { message: 'boom' }
 */
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

export const NOT_FOUND = { message: 'No resource was found with that id.' };
