/**
 * Wire-protocol messages: parses OP_QUERY (the handshake) and OP_MSG (everything else) into
 * one request shape, and encodes OP_REPLY / OP_MSG replies. Anything else is a FrameError,
 * and the connection closes, as mongod closes it on a message it cannot read.
 */
import { BSON, type Document } from 'bson';
import { FrameError, HEADER_SIZE } from './framing';

export const OP_REPLY = 1;
export const OP_QUERY = 2004;
export const OP_COMPRESSED = 2012;
export const OP_MSG = 2013;

const MSG_CHECKSUM_PRESENT = 1 << 0;
const MSG_MORE_TO_COME = 1 << 1;
/** Bits 0-15 are "required": a receiver must reject ones it does not know. */
const MSG_KNOWN_REQUIRED_BITS = MSG_CHECKSUM_PRESENT | MSG_MORE_TO_COME;

export interface Request {
  requestId: number;
  opCode: typeof OP_QUERY | typeof OP_MSG;
  /** `$db` for OP_MSG, the namespace prefix for OP_QUERY; '' when the client sent none. */
  db: string;
  /** The command document, with kind-1 document sequences merged in under their identifier. */
  body: Document;
  /** The client expects no reply (w: 0 writes, endSessions at disconnect). */
  moreToCome: boolean;
}

export function parseMessage(frame: Buffer): Request {
  const requestId = frame.readInt32LE(4);
  const opCode = frame.readInt32LE(12);
  try {
    if (opCode === OP_MSG) return parseOpMsg(frame, requestId);
    if (opCode === OP_QUERY) return parseOpQuery(frame, requestId);
  } catch (err) {
    if (err instanceof FrameError) throw err;
    throw new FrameError(`malformed message: ${err instanceof Error ? err.message : String(err)}`);
  }
  // OP_COMPRESSED would only come if the handshake offered compression, which it never does.
  throw new FrameError(`unsupported opCode ${opCode}`);
}

function parseOpMsg(frame: Buffer, requestId: number): Request {
  const flags = frame.readUInt32LE(HEADER_SIZE);
  if ((flags & 0xffff & ~MSG_KNOWN_REQUIRED_BITS) !== 0) throw new FrameError(`unknown required OP_MSG flags ${flags}`);
  const end = frame.length - (flags & MSG_CHECKSUM_PRESENT ? 4 : 0);
  let offset = HEADER_SIZE + 4;
  let body: Document | undefined;
  const sequences: Array<[string, Document[]]> = [];
  while (offset < end) {
    const kind = frame.readUInt8(offset);
    offset += 1;
    if (kind === 0) {
      if (body) throw new FrameError('OP_MSG with more than one body section');
      const size = readDocSize(frame, offset, end);
      body = BSON.deserialize(frame.subarray(offset, offset + size));
      offset += size;
    } else if (kind === 1) {
      const size = frame.readInt32LE(offset);
      const sectionEnd = offset + size;
      if (size < 5 || sectionEnd > end) throw new FrameError('bad document sequence size');
      const nul = frame.indexOf(0, offset + 4);
      if (nul < 0 || nul >= sectionEnd) throw new FrameError('bad document sequence identifier');
      const identifier = frame.toString('utf8', offset + 4, nul);
      const docs: Document[] = [];
      let pos = nul + 1;
      while (pos < sectionEnd) {
        const docSize = readDocSize(frame, pos, sectionEnd);
        docs.push(BSON.deserialize(frame.subarray(pos, pos + docSize)));
        pos += docSize;
      }
      sequences.push([identifier, docs]);
      offset = sectionEnd;
    } else {
      throw new FrameError(`unknown OP_MSG section kind ${kind}`);
    }
  }
  if (!body) throw new FrameError('OP_MSG without a body section');
  for (const [identifier, docs] of sequences) body[identifier] = docs;
  const db = typeof body.$db === 'string' ? body.$db : '';
  return { requestId, opCode: OP_MSG, db, body, moreToCome: (flags & MSG_MORE_TO_COME) !== 0 };
}

function parseOpQuery(frame: Buffer, requestId: number): Request {
  const nsStart = HEADER_SIZE + 4;
  const nul = frame.indexOf(0, nsStart);
  if (nul < 0) throw new FrameError('OP_QUERY without a namespace');
  const ns = frame.toString('utf8', nsStart, nul);
  const queryStart = nul + 1 + 8; // numberToSkip, numberToReturn
  const size = readDocSize(frame, queryStart, frame.length);
  const query = BSON.deserialize(frame.subarray(queryStart, queryStart + size));
  // Legacy drivers wrap the command as {$query: {...}, $readPreference: ...}.
  const body = query.$query !== null && typeof query.$query === 'object' ? (query.$query as Document) : query;
  const db = ns.split('.')[0] ?? '';
  return { requestId, opCode: OP_QUERY, db, body, moreToCome: false };
}

function readDocSize(frame: Buffer, offset: number, end: number): number {
  if (offset + 5 > end) throw new FrameError('truncated BSON document');
  const size = frame.readInt32LE(offset);
  if (size < 5 || offset + size > end) throw new FrameError(`bad BSON document size ${size}`);
  return size;
}

/** The reply in the form the request's opcode calls for: OP_REPLY for OP_QUERY, else OP_MSG. */
export function encodeReply(request: Request, reply: Document, replyId: number): Buffer {
  const prefix = request.opCode === OP_QUERY ? 20 : 5;
  const size = BSON.calculateObjectSize(reply, { ignoreUndefined: true });
  // Serialize into our own buffer: bson's shared one is 17 MiB, too small for a full batch plus envelope.
  const buf = Buffer.allocUnsafe(HEADER_SIZE + prefix + size);
  buf.writeInt32LE(buf.length, 0);
  buf.writeInt32LE(replyId & 0x7fffffff, 4);
  buf.writeInt32LE(request.requestId, 8);
  if (request.opCode === OP_QUERY) {
    buf.writeInt32LE(OP_REPLY, 12);
    buf.writeInt32LE(0, 16); // responseFlags
    buf.writeBigInt64LE(0n, 20); // cursorID
    buf.writeInt32LE(0, 28); // startingFrom
    buf.writeInt32LE(1, 32); // numberReturned
  } else {
    buf.writeInt32LE(OP_MSG, 12);
    buf.writeUInt32LE(0, 16); // flagBits
    buf.writeUInt8(0, 20); // section kind 0
  }
  BSON.serializeWithBufferAndIndex(reply, buf, { index: HEADER_SIZE + prefix, ignoreUndefined: true });
  return buf;
}
