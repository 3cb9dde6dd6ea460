/**
 * SIEM delivery: a second Writer, with its own queue, backoff and spool, whose target is the
 * HTTP endpoint. The two writers are independent: an endpoint that is down or hangs never slows
 * the store's writes, and a store that is down never holds up delivery. Failures are reported
 * with their own codes (EAUDIT_DELIVERY, EAUDIT_DELIVERY_DROPPED) so an app tells them apart.
 */
import type { AuditEntry } from '../entry';
import { AuditLogStoreError } from '../errors';
import type { Config } from '../options';
import { FileSpool } from '../pipeline/spool';
import { Writer, type AuditStats } from '../pipeline/writer';
import { HttpDeliveryTarget } from './http-target';
import type { DeliveryConfig } from './options';

export interface Delivery {
  push(entry: AuditEntry, bytes: number): void;
  flush(deadlineMs?: number): Promise<void>;
  close(deadlineMs?: number): Promise<void>;
  /** `written` counts entries the endpoint acknowledged with a 2xx. */
  stats(): AuditStats;
}

/** The writer's codes, as delivery reports them; the spool's own codes (EAUDIT_SPOOL_UNSAFE…) pass as they are. */
const CODES: Record<string, string> = {
  EAUDIT_STORE_INIT: 'EAUDIT_DELIVERY',
  EAUDIT_STORE_WRITE: 'EAUDIT_DELIVERY',
  EAUDIT_SPOOL_REPLAY: 'EAUDIT_DELIVERY',
  EAUDIT_STORE_CLOSE: 'EAUDIT_DELIVERY',
  EAUDIT_DROPPED: 'EAUDIT_DELIVERY_DROPPED',
};

/** The endpoint without its query string, which may carry a token. */
function endpointName(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

function translate(error: AuditLogStoreError, where: string): AuditLogStoreError | null {
  // An entry recorded after close() is already reported once, by the store's writer.
  if (error.code === 'EAUDIT_CLOSED') return null;
  const code = CODES[error.code] ?? error.code;
  const message = error.message.replace(/^express-audit-log: /, '').replace(/\bthe store\b/g, 'the endpoint');
  return new AuditLogStoreError(code, `delivery to ${where}: ${message}`, error.entries, error.cause ?? error);
}

export function createDelivery(delivery: DeliveryConfig, config: Config, report: (error: AuditLogStoreError) => void): Delivery {
  const where = endpointName(delivery.url);
  const reportDelivery = (error: AuditLogStoreError) => {
    const translated = translate(error, where);
    if (translated) report(translated);
  };
  const spool = delivery.spoolDir
    ? new FileSpool(delivery.spoolDir, (error) =>
        reportDelivery(
          error instanceof AuditLogStoreError
            ? error
            : new AuditLogStoreError('EAUDIT_SPOOL', `the delivery spool at ${delivery.spoolDir} failed: ${error.message}`, 0, error),
        ),
      )
    : null;
  const writer = new Writer(new HttpDeliveryTarget(delivery), config, reportDelivery, spool, null);
  return {
    push: (entry, bytes) => writer.push(entry, bytes),
    flush: (deadlineMs) => writer.flush(deadlineMs),
    close: (deadlineMs) => writer.close(deadlineMs),
    stats: () => writer.stats(),
  };
}
