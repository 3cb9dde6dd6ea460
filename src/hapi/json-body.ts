/**
 * The JSON bodies of the query routes on Hapi, read as Express's `express.json()` reads them for
 * the Express adapter, so both answer alike: only once the caller passed the route's auth check
 * (Hapi hands the routes the unread request stream), refused for its declared length before any
 * byte is read, decoded per Content-Encoding (gzip, deflate, br; another is a 415), bounded while
 * read, then parsed: an empty body is `{}`, a body that is not an object or an array (`"text"`,
 * `42`, `null`) or not JSON at all is refused (400), and keys are kept as sent (Hapi's own parser
 * refuses a `__proto__` key; the service never merges bodies into objects).
 */
import type { IncomingHttpHeaders } from 'http';
import type { Readable } from 'stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'zlib';

export type JsonBody = { value: unknown } | { invalid: true };

/** What reading gave: the parsed body, or the status Express's body parser refuses it with. */
export type BodyRead = { value: unknown } | { refused: 400 | 413 | 415 };

/** body-parser's strict mode looks at the first character that is not JSON whitespace. */
function firstChar(text: string): string | undefined {
  for (const char of text) if (char !== ' ' && char !== '\t' && char !== '\n' && char !== '\r') return char;
  return undefined;
}

export function parseJsonBody(raw: Buffer | string | null | undefined): JsonBody {
  if (raw === null || raw === undefined || raw.length === 0) return { value: {} };
  const text = typeof raw === 'string' ? raw : raw.toString('utf8');
  const first = firstChar(text);
  if (first !== '{' && first !== '[') return { invalid: true };
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return { invalid: true };
  }
}

function decoder(encoding: string): NodeJS.ReadWriteStream | null {
  if (encoding === 'gzip') return createGunzip();
  if (encoding === 'deflate') return createInflate();
  if (encoding === 'br') return createBrotliDecompress();
  return null;
}

/**
 * The bytes of `stream`, or why not. Past `limit` it stops listening and pauses the stream rather
 * than destroying it (which would close the socket before the 413 is sent), as raw-body does.
 */
function collect(stream: Readable, limit: number): Promise<Buffer | 413 | 400> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (result: Buffer | 413 | 400) => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onFailure);
      stream.off('close', onFailure);
      resolve(result);
    };
    const onData = (chunk: Buffer | string) => {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += bytes.length;
      if (size > limit) {
        stream.pause();
        done(413);
      } else chunks.push(bytes);
    };
    const onEnd = () => done(Buffer.concat(chunks));
    // An error, or a close before the end (the client went away): no body.
    const onFailure = () => done(400);
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('error', onFailure);
    stream.once('close', onFailure);
  });
}

/** Reads and parses a JSON body of at most `limit` bytes (decoded) from the unread request stream. */
export async function readJsonBody(source: Readable, headers: IncomingHttpHeaders, limit: number): Promise<BodyRead> {
  const encoding = String(headers['content-encoding'] ?? 'identity').toLowerCase();
  let stream: Readable = source;
  if (encoding === 'identity') {
    const declared = Number(headers['content-length']);
    if (declared > limit) return { refused: 413 };
  } else {
    const decode = decoder(encoding);
    if (!decode) return { refused: 415 };
    source.on('error', (error) => decode.emit('error', error));
    stream = source.pipe(decode) as unknown as Readable;
  }
  const bytes = await collect(stream, limit);
  if (typeof bytes === 'number') return { refused: bytes };
  const parsed = parseJsonBody(bytes);
  return 'invalid' in parsed ? { refused: 400 } : parsed;
}
