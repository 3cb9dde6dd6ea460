/**
 * Command errors as mongod reports them: `{ok: 0, errmsg, code, codeName}`. Handlers throw
 * CommandError; the dispatcher turns it into the reply, so no handler builds error replies itself.
 */
import type { Document } from 'bson';

/** The codes this server answers with, named as mongod names them (the driver keys behaviour off codes). */
export const CODE_NAMES: Readonly<Record<number, string>> = {
  1: 'InternalError',
  2: 'BadValue',
  6: 'HostUnreachable',
  9: 'FailedToParse',
  11: 'UserNotFound',
  13: 'Unauthorized',
  14: 'TypeMismatch',
  26: 'NamespaceNotFound',
  27: 'IndexNotFound',
  40: 'ConflictingUpdateOperators',
  43: 'CursorNotFound',
  48: 'NamespaceExists',
  53: 'InvalidIdField',
  50: 'MaxTimeMSExpired',
  59: 'CommandNotFound',
  66: 'ImmutableField',
  67: 'CannotCreateIndex',
  72: 'InvalidOptions',
  73: 'InvalidNamespace',
  85: 'IndexOptionsConflict',
  86: 'IndexKeySpecsConflict',
  89: 'NetworkTimeout',
  91: 'ShutdownInProgress',
  112: 'WriteConflict',
  189: 'PrimarySteppedDown',
  262: 'ExceededTimeLimit',
  352: 'UnsupportedOpQueryCommand',
  10107: 'NotWritablePrimary',
  10334: 'BSONObjectTooLarge',
  11000: 'DuplicateKey',
  11600: 'InterruptedAtShutdown',
  11602: 'InterruptedDueToReplStateChange',
  13435: 'NotPrimaryNoSecondaryOk',
};

/** mongod names codes without a symbolic name `Location<code>`. */
export function codeName(code: number): string {
  return CODE_NAMES[code] ?? `Location${code}`;
}

export class CommandError extends Error {
  constructor(
    readonly code: number,
    message: string,
    /** Extra reply fields, e.g. keyPattern/keyValue on duplicate keys. */
    readonly extra: Document = {},
  ) {
    super(message);
    this.name = 'CommandError';
  }

  toReply(): Document {
    return { ok: 0, errmsg: this.message, code: this.code, codeName: codeName(this.code), ...this.extra };
  }

  /** The shape of one entry in a write command's `writeErrors`. */
  toWriteError(index: number): Document {
    return { index, code: this.code, errmsg: this.message, ...this.extra };
  }
}

/**
 * Anything thrown while running a command, as a CommandError. Mingo reports bad operators with
 * plain Errors; mongod calls those BadValue, and a client must get an answer, not a dead socket.
 */
export function toCommandError(err: unknown, fallbackCode = 2): CommandError {
  if (err instanceof CommandError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new CommandError(fallbackCode, message);
}
