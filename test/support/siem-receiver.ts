/**
 * A real HTTP receiver on 127.0.0.1 standing in for a SIEM's collector: it checks each POST's
 * signature as a receiver would (raw body, before parsing), keeps what it accepted, and can be
 * told to fail, refuse, hang or go down and come back on the same port.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyDeliverySignature } from 'express-audit-log';

export type ReceiverMode = 'ok' | 'fail' | 'hang';

export interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
  lines: Array<Record<string, unknown>>;
  signed: boolean;
}

export class SiemReceiver {
  /** Every POST that arrived, signed or not, accepted or not. */
  readonly posts: Received[] = [];
  mode: ReceiverMode = 'ok';
  /** Answer this many POSTs with 503 before going back to `mode`. */
  failNext = 0;
  /** Answer 400 to a POST whose body contains this text (a batch the SIEM refuses). */
  refuse: string | null = null;
  private server: http.Server | null = null;
  private readonly hanging = new Set<http.ServerResponse>();
  port = 0;

  constructor(private readonly secret: string) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}/ingest`;
  }

  /** Lines of the POSTs it accepted (2xx, signature valid). */
  accepted(): Array<Record<string, unknown>> {
    return this.posts.filter((post) => post.signed && this.answered.has(post)).flatMap((post) => post.lines);
  }

  private readonly answered = new Set<Received>();

  async start(port = this.port): Promise<this> {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const signed = verifyDeliverySignature({ secret: this.secret, body: raw, header: req.headers['x-audit-signature'] });
        const body = raw.toString('utf8');
        const lines = body
          .split('\n')
          .filter((line) => line !== '')
          .map((line) => JSON.parse(line) as Record<string, unknown>);
        const post: Received = { headers: req.headers, body, lines, signed };
        this.posts.push(post);
        if (!signed) return void res.writeHead(401).end('bad signature');
        if (this.mode === 'hang') return void this.hanging.add(res);
        if (this.failNext > 0 || this.mode === 'fail') {
          this.failNext = Math.max(0, this.failNext - 1);
          return void res.writeHead(503).end('busy');
        }
        if (this.refuse !== null && body.includes(this.refuse)) return void res.writeHead(400).end('refused');
        this.answered.add(post);
        res.writeHead(204).end();
      });
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen({ port, host: '127.0.0.1' }, resolve));
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  /** Stops listening and drops every connection, hanging ones included. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    for (const res of this.hanging) res.destroy();
    this.hanging.clear();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
