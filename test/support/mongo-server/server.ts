/**
 * The TCP side: listens on 127.0.0.1 only, tracks sockets (for connectionCount, refusing and
 * close), shares storage and cursors across connections, and runs the TTL monitor.
 */
import { EventEmitter } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import type { Document } from 'bson';
import { cloneDoc, isPlainObject } from './bson-utils';
import type { CommandContext, ServerInfo, Topology } from './commands/context';
import { serveConnection, type CommandEvent, type ConnectionHost } from './connection';
import { CursorRegistry } from './cursors';
import { FaultController, type Faults } from './faults';
import type { Collection } from './storage/collection';
import { Storage } from './storage/storage';
import { runTtlPass } from './storage/ttl';
import type { Request } from './wire/messages';

export interface StartOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** How often expired documents are deleted. Defaults to 60000, like mongod. */
  ttlMonitorIntervalMs?: number;
  /** What `hello` presents the server as: see Topology. Defaults to 'standalone'. */
  topology?: Topology;
}

export interface MongoTestServer {
  /** 'mongodb://127.0.0.1:PORT' */
  readonly uri: string;
  readonly port: number;
  readonly faults: Faults;
  /** Closes every socket and stops timers. */
  close(): Promise<void>;
  /** One TTL pass now; resolves to the number of documents deleted. */
  runTtlMonitor(): Promise<number>;
  /** Fired when a command arrives, before it runs. `body` is a copy. */
  on(event: 'command', listener: (e: CommandEvent) => void): this;
  off(event: 'command', listener: (e: CommandEvent) => void): this;
  /** How many times each command name has arrived (handshakes and heartbeats included). */
  commandCounts(): Record<string, number>;
  /** Client sockets open right now. */
  connectionCount(): number;
  /**
   * A collection's stored documents, reached directly rather than through the wire protocol:
   * for tests that change data as someone with database access would, behind the driver's back.
   * Undefined when the collection does not exist.
   */
  collection(db: string, name: string): StoredCollection | undefined;
}

/** What a test may do to stored documents: read them, and insert, replace or remove one (indexes are kept up to date). */
export type StoredCollection = Pick<Collection, 'all' | 'byId' | 'insert' | 'replace' | 'remove' | 'count'>;

export class WireServer extends EventEmitter implements MongoTestServer, ConnectionHost, ServerInfo {
  readonly faults: FaultController;
  readonly startedAt = Date.now();
  private readonly storage = new Storage();
  private readonly cursors = new CursorRegistry();
  private readonly sockets = new Set<Socket>();
  private readonly counts = new Map<string, number>();
  private tcp: Server | null = null;
  private ttlTimer: NodeJS.Timeout | null = null;
  private nextConnectionId = 1;
  private boundPort = 0;
  private closed = false;
  topology: Topology = 'standalone';

  constructor() {
    super();
    this.faults = new FaultController(async (on) => {
      if (this.closed) return;
      await (on ? this.stopListening() : this.listen(this.boundPort));
    });
  }

  async start(opts: StartOptions): Promise<this> {
    this.topology = opts.topology ?? 'standalone';
    await this.listen(opts.port ?? 0);
    this.ttlTimer = setInterval(() => this.ttlPass(), opts.ttlMonitorIntervalMs ?? 60_000);
    // A forgotten server must not keep jest or the benchmark alive.
    this.ttlTimer.unref();
    return this;
  }

  get port(): number {
    return this.boundPort;
  }

  get uri(): string {
    return `mongodb://127.0.0.1:${this.boundPort}`;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.ttlTimer) clearInterval(this.ttlTimer);
    this.ttlTimer = null;
    this.faults.dispose();
    await this.stopListening();
    this.cursors.clear();
  }

  runTtlMonitor(): Promise<number> {
    return Promise.resolve(runTtlPass(this.storage));
  }

  /** The timer's pass: an exception here would be uncaught and end the test process. */
  private ttlPass(): void {
    try {
      runTtlPass(this.storage);
    } catch (err) {
      console.error('mongo test server: TTL pass failed', err);
    }
  }

  commandCounts(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  connectionCount(): number {
    return this.sockets.size;
  }

  collection(db: string, name: string): StoredCollection | undefined {
    return this.storage.get(db, name);
  }

  context(request: Request, name: string, connectionId: number): CommandContext {
    return { db: request.db, name, body: request.body, storage: this.storage, cursors: this.cursors, connectionId, server: this };
  }

  noteCommand(event: CommandEvent): void {
    this.counts.set(event.name, (this.counts.get(event.name) ?? 0) + 1);
    if (this.listenerCount('command') === 0) return;
    try {
      // A copy, so a listener cannot change what gets stored.
      this.emit('command', { ...event, body: cloneBody(event.body) });
    } catch (err) {
      console.error('mongo test server: a command listener threw', err);
    }
  }

  private listen(port: number): Promise<void> {
    if (this.tcp) return Promise.resolve();
    const tcp = createServer((socket) => this.accept(socket));
    this.tcp = tcp;
    return new Promise((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen({ port, host: '127.0.0.1' }, () => {
        tcp.off('error', reject);
        // Errors after listening (none expected) must not become uncaught exceptions.
        tcp.on('error', () => undefined);
        const address = tcp.address();
        if (address && typeof address === 'object') this.boundPort = address.port;
        resolve();
      });
    });
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    serveConnection(socket, this.nextConnectionId++, this);
  }

  /**
   * Resolves once the port is free and every socket has closed (so connectionCount() is 0).
   *
   * Open sockets are reset (RST), not ended (FIN): the driver does not notice a FIN on an idle
   * pooled connection before its next write, which then fails with a bare Node EPIPE error
   * instead of a MongoNetworkError; a reset reaches it as ECONNRESET, which it wraps.
   * Sockets the client is already closing are only destroyed: resetting one of those loses its
   * 'close' event (Node 20), and close() would wait forever.
   */
  private async stopListening(): Promise<void> {
    const tcp = this.tcp;
    this.tcp = null;
    const sockets = [...this.sockets];
    const socketsClosed = Promise.all(
      sockets.map(
        (socket) =>
          new Promise<void>((resolve) => {
            if (socket.closed) return resolve();
            socket.once('close', () => resolve());
            if (socket.readable && socket.writable) socket.resetAndDestroy();
            else socket.destroy();
          }),
      ),
    );
    if (!tcp) return void (await socketsClosed);
    const serverClosed = new Promise<void>((resolve) => tcp.close(() => resolve()));
    // The server's callback means every connection handle is closed. Should a socket's 'close'
    // event still be lost, stop tracking it shortly after rather than hang the caller.
    const safetyNet = serverClosed.then(() => new Promise<void>((resolve) => setTimeout(resolve, 100).unref()));
    await Promise.race([Promise.all([socketsClosed, serverClosed]), safetyNet]);
    for (const socket of sockets) this.sockets.delete(socket);
  }
}

/** Copies a command body field by field: a whole 48 MB body would overflow bson's serializer. */
function cloneBody(body: Document): Document {
  const out: Document = {};
  for (const [key, value] of Object.entries(body)) {
    if (Array.isArray(value)) out[key] = value.map((v: unknown) => (isPlainObject(v) ? cloneDoc(v) : cloneValue(v)));
    else out[key] = cloneValue(value);
  }
  return out;
}

function cloneValue(value: unknown): unknown {
  return cloneDoc({ v: value }).v;
}
