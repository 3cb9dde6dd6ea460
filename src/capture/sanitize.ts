/**
 * Turns whatever a request carried (a parsed body, route params, a parsed response) into a
 * value any store can hold, in one pass: secrets redacted, keys made storable, nesting and
 * size capped, cycles and exotic types replaced by readable markers. It always returns a
 * fresh value, so the app may mutate its objects after the response without changing what
 * is stored, and it never throws.
 */
import { encodeKey } from './keys';
import { REDACTED } from './redact';

export interface SanitizeLimits {
  /** Objects deeper than this become a marker. */
  maxDepth: number;
  /** Estimated JSON bytes past which the whole value becomes a marker. */
  maxBytes: number;
  isSecret: (key: string) => boolean;
}

export interface Sanitized {
  value: unknown;
  /** Estimated JSON size of the stored value (or of the original, when truncated). */
  bytes: number;
  /** True when the value was too large and `value` is the marker. */
  truncated: boolean;
}

class TooLarge extends Error {}

/** The marker stored in place of a value larger than `maxFieldBytes`. */
export function tooLargeMarker(bytes: number | null, maxBytes: number): string {
  return bytes === null ? `[Truncated: more than ${maxBytes} bytes]` : `[Truncated: ${bytes} bytes > ${maxBytes} bytes]`;
}

function isBinary(value: object): value is ArrayBufferView | ArrayBuffer {
  return ArrayBuffer.isView(value) || value instanceof ArrayBuffer || value instanceof SharedArrayBuffer;
}

function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  // A plain assignment of '__proto__' would replace the prototype (pollution); define it instead.
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

function depthMarker(maxDepth: number): string {
  return `[Truncated: nested deeper than ${maxDepth}]`;
}

class Walker {
  bytes = 0;
  // The objects on the path from the root: a cycle leads back to one of them. An array, not a
  // Set: the path is at most maxDepth long, and a Set per sanitize() call was measurable.
  private readonly ancestors: object[] = [];

  constructor(private readonly limits: SanitizeLimits) {}

  private add(bytes: number): void {
    this.bytes += bytes;
    if (this.bytes > this.limits.maxBytes) throw new TooLarge();
  }

  walk(value: unknown, depth: number): unknown {
    switch (typeof value) {
      case 'string':
        // UTF-8 bytes, as stores and the queue's byte limit count them: '€' is three, not one.
        this.add(Buffer.byteLength(value) + 2);
        return value.isWellFormed() ? value : value.toWellFormed();
      case 'number':
        this.add(8);
        return Number.isFinite(value) ? value : null;
      case 'boolean':
        this.add(5);
        return value;
      case 'bigint':
        this.add(24);
        return value.toString();
      case 'undefined':
      case 'function':
      case 'symbol':
        return undefined;
      default:
        break;
    }
    if (value === null) {
      this.add(4);
      return null;
    }
    const object = value as object;
    if (object instanceof Date) {
      this.add(26);
      return Number.isNaN(object.getTime()) ? null : new Date(object.getTime());
    }
    if (isBinary(object)) {
      this.add(24);
      return `[Binary: ${object.byteLength} bytes]`;
    }
    if (depth >= this.limits.maxDepth) {
      this.add(32);
      return depthMarker(this.limits.maxDepth);
    }
    if (this.ancestors.includes(object)) {
      this.add(12);
      return '[Circular]';
    }
    this.ancestors.push(object);
    try {
      return this.walkObject(object, depth);
    } finally {
      this.ancestors.pop();
    }
  }

  private walkObject(object: object, depth: number): unknown {
    if (Array.isArray(object)) return this.walkList(object, depth);
    if (object instanceof Set) return this.walkList([...object], depth);
    if (object instanceof Map) {
      const out: Record<string, unknown> = {};
      for (const [key, inner] of object) this.walkEntry(out, String(key), inner, depth);
      return out;
    }
    const tagged = object as { _bsontype?: unknown; toHexString?: () => string; toJSON?: () => unknown };
    if (tagged._bsontype === 'ObjectId' && typeof tagged.toHexString === 'function') {
      this.add(26);
      return tagged.toHexString();
    }
    if (typeof tagged.toJSON === 'function') {
      let json: unknown;
      try {
        json = tagged.toJSON();
      } catch {
        return '[Unserializable]';
      }
      return json === object ? '[Unserializable]' : this.walk(json, depth);
    }
    if (object instanceof Error) {
      return this.walk({ name: object.name, message: object.message }, depth);
    }
    const out: Record<string, unknown> = {};
    this.add(2);
    for (const key of Object.keys(object)) this.walkEntry(out, key, (object as Record<string, unknown>)[key], depth);
    return out;
  }

  private walkEntry(out: Record<string, unknown>, key: string, inner: unknown, depth: number): void {
    this.add(Buffer.byteLength(key) + 4);
    // Keys are made well-formed like values, so every store holds the same key (BSON would
    // turn a lone surrogate into U+FFFD on its own; the embedded store would keep it).
    const stored = encodeKey(key.isWellFormed() ? key : key.toWellFormed());
    if (this.limits.isSecret(key)) {
      this.add(REDACTED.length + 2);
      setOwn(out, stored, REDACTED);
      return;
    }
    const safe = this.walk(inner, depth + 1);
    if (safe !== undefined) setOwn(out, stored, safe);
  }

  private walkList(list: unknown[], depth: number): unknown[] {
    this.add(2);
    const out = new Array<unknown>(list.length);
    for (let i = 0; i < list.length; i++) {
      const safe = this.walk(list[i], depth + 1);
      out[i] = safe === undefined ? null : safe;
    }
    return out;
  }
}

/**
 * Sanitizes a value. `knownBytes` is the value's real size when the caller has it (a
 * Content-Length, a response body's length): it decides truncation up front, without a walk.
 */
export function sanitize(input: unknown, limits: SanitizeLimits, knownBytes: number | null = null): Sanitized {
  if (knownBytes !== null && knownBytes > limits.maxBytes) {
    return { value: tooLargeMarker(knownBytes, limits.maxBytes), bytes: knownBytes, truncated: true };
  }
  const walker = new Walker(limits);
  try {
    const value = walker.walk(input, 0);
    return { value: value === undefined ? null : value, bytes: walker.bytes, truncated: false };
  } catch (error) {
    // A throwing getter or toJSON deep inside the app's object must not cost the entry.
    if (!(error instanceof TooLarge)) return { value: '[Unserializable]', bytes: 16, truncated: false };
    return { value: tooLargeMarker(knownBytes, limits.maxBytes), bytes: limits.maxBytes, truncated: true };
  }
}

/**
 * Sanitizes, in place, a value this package parsed itself from JSON (a response body). Nobody
 * else holds it, so unlike sanitize() it is not copied; JSON has no cycles, dates, binaries or
 * non-finite numbers; and its size is the body's, already checked against the cap by the
 * caller. What remains is the depth cap, redaction, key encoding and lone surrogates, with the
 * same results as sanitize() (a property test holds them equal).
 */
export function sanitizeParsedJson(value: unknown, limits: SanitizeLimits, bytes: number): Sanitized {
  return { value: cleanParsed(value, limits, 0), bytes, truncated: false };
}

function cleanParsed(value: unknown, limits: SanitizeLimits, depth: number): unknown {
  if (typeof value === 'string') return value.isWellFormed() ? value : value.toWellFormed();
  if (value === null || typeof value !== 'object') return value;
  if (depth >= limits.maxDepth) return depthMarker(limits.maxDepth);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = cleanParsed(value[i], limits, depth + 1);
    return value;
  }
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object);
  let renamed = false;
  for (const key of keys) {
    const inner = object[key];
    const clean = limits.isSecret(key) ? REDACTED : cleanParsed(inner, limits, depth + 1);
    if (clean !== inner) object[key] = clean;
    if (!renamed && encodeKey(key.isWellFormed() ? key : key.toWellFormed()) !== key) renamed = true;
  }
  if (!renamed) return object;
  // A key must be stored under another name: rebuild this object so the keys keep their order.
  const out: Record<string, unknown> = {};
  for (const key of keys) setOwn(out, encodeKey(key.isWellFormed() ? key : key.toWellFormed()), object[key]);
  return out;
}
