/**
 * Error classes with stable codes. Codes never change once published: users match on them.
 */

/** Thrown by `auditLog()` and the store factories when an option is wrong. */
export class AuditLogConfigError extends TypeError {
  readonly code: string;
  /** The option at fault, as a dotted path (`'ttl'`, `'associations.user.groups'`). */
  readonly option: string;

  constructor(code: string, option: string, message: string) {
    super(`express-audit-log: ${message}`);
    this.name = 'AuditLogConfigError';
    this.code = code;
    this.option = option;
  }
}

/** Emitted through the `'error'` event when the store fails; never thrown into the app. */
export class AuditLogStoreError extends Error {
  readonly code: string;
  /** How many entries the failed operation carried. */
  readonly entries: number;

  constructor(code: string, message: string, entries: number, cause?: unknown) {
    super(`express-audit-log: ${message}`, cause === undefined ? undefined : { cause });
    this.name = 'AuditLogStoreError';
    this.code = code;
    this.entries = entries;
  }
}

/** A bad query-string parameter or request body on the audit routes; becomes a 400. */
export class AuditLogQueryError extends Error {
  readonly code = 'EAUDIT_BAD_QUERY';
  readonly parameter: string;

  constructor(parameter: string, message: string) {
    super(message);
    this.name = 'AuditLogQueryError';
    this.parameter = parameter;
  }
}

/** Renders a value for an error message: short, quoted like JSON, never throws. */
export function show(value: unknown): string {
  if (typeof value === 'function') return `a function ${value.name || '(anonymous)'}`;
  if (typeof value === 'bigint') return `${value}n`;
  if (value === undefined) return 'undefined';
  try {
    const text = JSON.stringify(value);
    if (text === undefined) return String(value);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
  } catch {
    return Object.prototype.toString.call(value);
  }
}
