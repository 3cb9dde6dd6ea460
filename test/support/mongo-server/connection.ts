/**
 * One client socket: bytes → messages → command → faults → reply. A malformed message closes
 * this socket only; a command error becomes an `{ok: 0}` reply; nothing reaches the process.
 */
import type { Socket } from 'node:net';
import type { Document } from 'bson';
import type { CommandContext } from './commands/context';
import { commandName, runCommand } from './commands/dispatch';
import { CommandError } from './errors';
import type { FaultController } from './faults';
import { FrameReader } from './wire/framing';
import { OP_QUERY, encodeReply, parseMessage, type Request } from './wire/messages';

export interface CommandEvent {
  db: string;
  name: string;
  body: Document;
  connectionId: number;
}

/** What a connection needs from its server. */
export interface ConnectionHost {
  readonly faults: FaultController;
  context(request: Request, name: string, connectionId: number): CommandContext;
  /** Counts and announces an arriving command (before it runs). */
  noteCommand(event: CommandEvent): void;
}

export function serveConnection(socket: Socket, connectionId: number, host: ConnectionHost): void {
  const reader = new FrameReader();
  let replyId = 0;
  socket.setNoDelay(true);
  // Resets and writes after the client left are normal; without a listener they would throw.
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk: Buffer) => {
    let frames: Buffer[];
    try {
      frames = reader.push(chunk);
    } catch {
      socket.destroy();
      return;
    }
    for (const frame of frames) {
      if (socket.destroyed) return;
      handleFrame(frame);
    }
  });

  function handleFrame(frame: Buffer): void {
    try {
      handleRequest(frame);
    } catch {
      // Every expected failure is answered inside; this is the net that keeps the process up.
      socket.destroy();
    }
  }

  function handleRequest(frame: Buffer): void {
    let request: Request;
    try {
      request = parseMessage(frame);
    } catch {
      socket.destroy();
      return;
    }
    const name = commandName(request.body);
    host.noteCommand({ db: request.db, name, body: request.body, connectionId });
    const fault = host.faults.decide(name);
    if (fault.drop === 'before') {
      socket.destroy();
      return;
    }
    // mongod stops an operation that runs past the maxTimeMS it was sent: a delay fault at least
    // that long makes the command run that long, so it answers MaxTimeMSExpired when time is up.
    const limit = timeLimit(request.body);
    const expired = fault.delayMs > 0 && limit !== null && fault.delayMs >= limit;
    const reply = expired ? new CommandError(50, 'operation exceeded time limit').toReply() : (fault.fail ?? answer(request, name));
    if (fault.drop === 'after') {
      socket.destroy();
      return;
    }
    if (request.moreToCome) return;
    const send = (): void => {
      if (!socket.destroyed) socket.write(encode(request, reply, ++replyId));
    };
    const delay = expired ? limit : fault.delayMs;
    if (delay > 0) host.faults.hold(delay, send);
    else send();
  }

  function answer(request: Request, name: string): Document {
    if (request.opCode === OP_QUERY && !OP_QUERY_COMMANDS.has(name)) {
      return new CommandError(352, `Unsupported OP_QUERY command: ${name}. The client driver may require an upgrade.`).toReply();
    }
    return runCommand(host.context(request, name, connectionId));
  }
}

/** The command's maxTimeMS, when it sets a positive one (0 means no limit, as in mongod). */
function timeLimit(body: Document): number | null {
  const value: unknown = body.maxTimeMS;
  const ms =
    typeof value === 'number'
      ? value
      : typeof value === 'bigint'
        ? Number(value)
        : value !== null && typeof value === 'object' && 'toNumber' in value
          ? (value as { toNumber(): number }).toNumber()
          : NaN;
  return Number.isFinite(ms) && ms > 0 ? ms : null;
}

/** Modern mongod only accepts the handshake over legacy OP_QUERY; so does this server. */
const OP_QUERY_COMMANDS = new Set(['hello', 'ismaster', 'isMaster']);

/** A reply that cannot be encoded (too big, odd values) still gets an answer. */
function encode(request: Request, reply: Document, replyId: number): Buffer {
  try {
    return encodeReply(request, reply, replyId);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return encodeReply(request, new CommandError(10334, `reply could not be encoded: ${message}`).toReply(), replyId);
  }
}
