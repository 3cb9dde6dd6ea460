/**
 * Real HTTP for the fault and load suites: one listening server on 127.0.0.1, keep-alive
 * connections through an http.Agent, and a bounded pool of requests in flight. supertest
 * would open a server per request, which 2,000 requests cannot afford.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';

export interface Served {
  url: string;
  agent: http.Agent;
  /** Sockets the server accepted: keep-alive reuses them. */
  connections(): number;
  close(): Promise<void>;
}

export async function serve(app: Express, maxSockets = 50): Promise<Served> {
  const server = http.createServer(app);
  let accepted = 0;
  server.on('connection', () => accepted++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const agent = new http.Agent({ keepAlive: true, maxSockets });
  return {
    url: `http://127.0.0.1:${port}`,
    agent,
    connections: () => accepted,
    close: async () => {
      agent.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json(): unknown;
}

export interface SendOptions {
  body?: unknown;
  raw?: Buffer;
  headers?: Record<string, string>;
  /** Send the body with Transfer-Encoding: chunked, without a Content-Length. */
  chunked?: boolean;
}

export function send(served: Served, method: string, path: string, options: SendOptions = {}): Promise<Answer> {
  const payload = options.raw ?? (options.body === undefined ? null : Buffer.from(JSON.stringify(options.body)));
  const headers: Record<string, string | number> = { ...options.headers };
  if (payload) {
    if (!options.chunked) headers['content-length'] = payload.length;
    headers['content-type'] ??= 'application/json';
  }
  return new Promise((resolve, reject) => {
    const req = http.request(`${served.url}${path}`, { method, agent: served.agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) });
      });
      res.on('error', reject);
    });
    // A hang is a failure, not a wait: no answer within this bound rejects.
    req.setTimeout(20_000, () => req.destroy(new Error(`no answer to ${method} ${path} within 20 s`)));
    req.on('error', reject);
    if (payload && options.chunked) {
      const half = Math.floor(payload.length / 2);
      req.write(payload.subarray(0, half));
      req.end(payload.subarray(half));
    } else {
      req.end(payload ?? undefined);
    }
  });
}

/** Runs `count` tasks with at most `concurrency` in flight; resolves to their results in index order. */
export async function pool<T>(count: number, concurrency: number, task: (index: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count) {
      const index = next++;
      results[index] = await task(index);
    }
  });
  await Promise.all(workers);
  return results;
}
