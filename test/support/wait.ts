/** Waiting on conditions, never on the clock: each wait polls a condition and fails loudly after a generous bound. */
import type { AuditLogMiddleware } from 'express-audit-log';

export async function until(condition: () => boolean | Promise<boolean>, what: string, limitMs = 10_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Waits until the middleware has recorded `count` entries in all, then writes them. */
export async function settle(audit: AuditLogMiddleware, count: number): Promise<void> {
  await until(() => audit.stats().recorded >= count, `${count} recorded entries (have ${audit.stats().recorded})`);
  await audit.flush();
  await until(() => audit.stats().written + audit.stats().dropped >= count, `${count} written entries (have ${JSON.stringify(audit.stats())})`);
}
