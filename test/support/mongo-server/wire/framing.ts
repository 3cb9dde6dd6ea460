/**
 * Cuts a TCP byte stream into whole wire-protocol messages. TCP delivers arbitrary chunks;
 * a 48 MB insert arrives in hundreds of them, so chunks are kept in a list and joined once
 * per message (joining on every chunk would be quadratic).
 */

export const HEADER_SIZE = 16;
/** mongod's maxMessageSizeBytes, which the handshake advertises. */
export const MAX_MESSAGE_SIZE = 48_000_000;

export class FrameError extends Error {}

export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  /**
   * Feeds one chunk; returns the complete messages it finished, in order.
   * Throws FrameError on a length no valid message can have; the caller closes the socket.
   */
  push(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Buffer[] = [];
    for (;;) {
      if (this.buffered < 4) break;
      const length = this.peekLength();
      if (length < HEADER_SIZE || length > MAX_MESSAGE_SIZE) {
        throw new FrameError(`invalid message length ${length}`);
      }
      if (this.buffered < length) break;
      const all = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks, this.buffered);
      frames.push(all.subarray(0, length));
      const rest = all.subarray(length);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.buffered = rest.length;
    }
    return frames;
  }

  private peekLength(): number {
    const first = this.chunks[0] as Buffer;
    if (first.length >= 4) return first.readInt32LE(0);
    const joined = Buffer.concat(this.chunks, this.buffered);
    this.chunks = [joined];
    return joined.readInt32LE(0);
  }
}
