/**
 * How an instance reports a failure: through its 'error' event when the app listens, otherwise
 * one log line per kind of failure, not a flood. Every adapter's handle shares this emitter.
 */
import type { EventEmitter } from 'events';
import { AuditLogStoreError } from '../errors';
import type { Logger } from '../options';

export function reporter(emitter: EventEmitter, logger: Logger): (error: unknown) => void {
  const logged = new Set<string>();
  return (error: unknown) => {
    const failure =
      error instanceof AuditLogStoreError
        ? error
        : new AuditLogStoreError('EAUDIT_CAPTURE', `building an entry failed: ${(error as Error)?.message ?? error}`, 1, error);
    if (emitter.listenerCount('error') > 0) {
      emitter.emit('error', failure);
      return;
    }
    if (logged.has(failure.code)) return;
    logged.add(failure.code);
    logger.error(
      `${failure.message} [${failure.code}] (listen for audit.on('error') to handle these; later ones of this kind are only counted in audit.stats())`,
    );
  };
}
