/**
 * Ed25519 keys for checkpoints, from Node's crypto: the private key signs (only the writer
 * holds it), public keys verify (anyone, offline). A key is a PEM string or a KeyObject.
 */
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'crypto';
import { sha256 } from './canonical';
import { checkpointPayload, type AuditCheckpoint } from './checkpoint';

export type KeyInput = string | KeyObject;

/** A key that is not what it should be: the message says what was given and what works. */
export class KeyError extends Error {}

function describe(input: unknown): string {
  if (typeof input === 'string')
    return input.includes('PRIVATE KEY') ? 'a private key PEM' : input.includes('PUBLIC KEY') ? 'a public key PEM' : 'a string that is not a PEM key';
  if (input && typeof input === 'object' && 'type' in input) return `a ${(input as KeyObject).type} KeyObject`;
  return typeof input;
}

export function privateKeyOf(input: unknown): KeyObject {
  let key: KeyObject;
  try {
    if (typeof input === 'object' && input !== null && (input as KeyObject).type === 'private') key = input as KeyObject;
    else if (typeof input === 'string') key = createPrivateKey(input);
    else throw new Error('not a key');
  } catch {
    throw new KeyError(
      `signingKey must be an Ed25519 private key (PEM string or KeyObject), like crypto.generateKeyPairSync('ed25519').privateKey; got ${describe(input)}.`,
    );
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new KeyError(`signingKey must be an Ed25519 key; got a ${key.asymmetricKeyType} key.`);
  return key;
}

export function publicKeyOf(input: unknown): KeyObject {
  let key: KeyObject;
  try {
    if (typeof input === 'object' && input !== null && (input as KeyObject).type === 'public') key = input as KeyObject;
    else if (typeof input === 'object' && input !== null && (input as KeyObject).type === 'private') key = createPublicKey(input as KeyObject);
    else if (typeof input === 'string') key = createPublicKey(input);
    else throw new Error('not a key');
  } catch {
    throw new KeyError(`publicKey must be an Ed25519 public key (PEM string or KeyObject); got ${describe(input)}.`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new KeyError(`publicKey must be an Ed25519 key; got a ${key.asymmetricKeyType} key.`);
  return key;
}

/** The id a checkpoint names its key by: the first 16 hex digits of SHA-256 of the DER public key. */
export function keyIdOf(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return sha256(publicKey.export({ type: 'spki', format: 'der' }).toString('latin1')).slice(0, 16);
}

export interface Signer {
  keyId: string;
  sign(checkpoint: AuditCheckpoint): AuditCheckpoint;
}

export function signerOf(privateKey: KeyObject): Signer {
  const keyId = keyIdOf(privateKey);
  return {
    keyId,
    sign(checkpoint) {
      const unsigned = { ...checkpoint, keyId, signature: null };
      return { ...unsigned, signature: sign(null, Buffer.from(checkpointPayload(unsigned), 'utf8'), privateKey).toString('base64') };
    },
  };
}

/** The keys a verifier accepts, by id (several during a rotation). */
export type PublicKeys = ReadonlyMap<string, KeyObject>;

export function publicKeyMap(keys: readonly KeyObject[]): PublicKeys {
  return new Map(keys.map((key) => [keyIdOf(key), key]));
}

/** Why a checkpoint's signature does not hold, or null when it does. */
export function signatureProblem(checkpoint: AuditCheckpoint, keys: PublicKeys): string | null {
  if (!checkpoint.signature || !checkpoint.keyId) return 'it is not signed, and a public key is configured';
  const key = keys.get(checkpoint.keyId);
  if (!key) return `it is signed by key ${checkpoint.keyId}, which is not among the public keys given (${[...keys.keys()].join(', ')})`;
  let valid = false;
  try {
    valid = verify(null, Buffer.from(checkpointPayload(checkpoint), 'utf8'), key, Buffer.from(checkpoint.signature, 'base64'));
  } catch {
    valid = false;
  }
  return valid ? null : 'its signature does not match its content: it was altered after it was signed';
}
