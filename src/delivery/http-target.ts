/**
 * The SIEM endpoint as a write target: `insertMany` POSTs one signed NDJSON batch. A second
 * Writer drives it, so delivery gets the store's batching, bounded queue, retries with backoff
 * and spool without a second pipeline. Delivery is at least once: a batch whose answer was lost
 * is sent again, and receivers deduplicate on the entry id (`_id`, or `metadata.uid` in OCSF).
 */
import http from 'http';
import https from 'https';
import type { AuditEntry } from '../entry';
import type { WriteTarget } from '../stores/types';
import type { DeliveryConfig } from './options';
import { toOcsf } from './ocsf';
import { SIGNATURE_HEADER, signDelivery } from './signature';

/** Statuses that say the batch itself is refused: the writer then sends it entry by entry and drops only what is still refused. */
const REFUSED = new Set([400, 413, 422]);
/** What is kept of a refusing answer's body for the error message. */
const BODY_SNIPPET = 200;

function productVersion(): string {
  try {
    return (require('../../package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export class HttpDeliveryTarget implements WriteTarget {
  private readonly agent: http.Agent;
  private readonly version = productVersion();

  constructor(private readonly config: DeliveryConfig) {
    // Keep-alive: one connection serves batch after batch; free sockets do not keep the process alive.
    this.agent = config.url.protocol === 'https:' ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
  }

  async init(): Promise<void> {}

  async insertMany(entries: AuditEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const lines = entries.map((entry) => JSON.stringify(this.config.format === 'ocsf' ? toOcsf(entry, this.version) : entry));
    await this.post(`${lines.join('\n')}\n`, entries.length);
  }

  private post(body: string, count: number): Promise<void> {
    const { url, secret, headers, timeoutMs } = this.config;
    const client = url.protocol === 'https:' ? https : http;
    return new Promise<void>((resolve, reject) => {
      const request = client.request(url, {
        method: 'POST',
        agent: this.agent,
        headers: {
          ...headers,
          'content-type': 'application/x-ndjson',
          'content-length': Buffer.byteLength(body),
          'user-agent': `express-audit-log/${this.version}`,
          'x-audit-entries': String(count),
          [SIGNATURE_HEADER]: signDelivery(secret, body),
        },
      });
      // A receiver that accepts the connection and then says nothing must not hold the batch forever.
      request.setTimeout(timeoutMs, () => request.destroy(new Error(`no answer from ${url.origin} within ${timeoutMs} ms`)));
      request.on('error', reject);
      request.on('response', (response) => {
        const status = response.statusCode ?? 0;
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          if (text.length < BODY_SNIPPET) text += chunk;
        });
        response.on('error', reject);
        response.on('end', () => {
          if (status >= 200 && status < 300) return resolve();
          const said = text.trim().slice(0, BODY_SNIPPET);
          const error = Object.assign(new Error(`${url.origin} answered ${status}${said ? `: ${said}` : ''}`), { status, rejected: REFUSED.has(status) });
          reject(error);
        });
      });
      request.end(body);
    });
  }

  async close(): Promise<void> {
    this.agent.destroy();
  }
}
