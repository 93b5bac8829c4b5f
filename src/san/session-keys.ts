import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, sign, verify, type KeyObject } from 'node:crypto';

/*
 * Login cryptography (docs/san-protocol.md, section 4): ephemeral X25519 on
 * both sides for forward secrecy, HKDF-SHA-256 over the shared secret with
 * both nonces and the transcript, and the host's Ed25519 signature over the
 * transcript to prove who it is.
 */

export interface Ephemeral {
  /** 32 raw bytes, as sent in HELLO/CHALLENGE. */
  publicKey: Buffer;
  privateKey: KeyObject;
}

export function ephemeral(): Ephemeral {
  const { publicKey, privateKey } = generateKeyPairSync('x25519');
  return { publicKey: Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url'), privateKey };
}

function rawPublic(kty: 'X25519' | 'Ed25519', raw: Buffer): KeyObject {
  if (raw.length !== 32) throw new Error(`${kty} public key must be 32 bytes, got ${raw.length}`);
  return createPublicKey({ key: { kty: 'OKP', crv: kty, x: raw.toString('base64url') }, format: 'jwk' });
}

export interface SessionKeys {
  clientToServer: Buffer;
  serverToClient: Buffer;
}

export function deriveSessionKeys(own: KeyObject, peerPublic: Buffer, clientNonce: Buffer, serverNonce: Buffer, transcript: Buffer): SessionKeys {
  const secret = diffieHellman({ privateKey: own, publicKey: rawPublic('X25519', peerPublic) });
  // An all-zero secret means a low-order peer key: refuse it rather than derive predictable keys.
  if (secret.every((b) => b === 0)) throw new Error('X25519 produced an all-zero secret');
  const okm = Buffer.from(
    hkdfSync('sha256', secret, Buffer.concat([clientNonce, serverNonce]), Buffer.concat([Buffer.from('SBP1 keys'), transcript]), 64),
  );
  return { clientToServer: okm.subarray(0, 32), serverToClient: okm.subarray(32, 64) };
}

export function signTranscript(hostKey: KeyObject, transcript: Buffer): Buffer {
  return sign(null, transcript, hostKey);
}

/** `hostPublic` is the 32-byte Ed25519 key registered for the host. */
export function verifyTranscript(hostPublic: Buffer, transcript: Buffer, signature: Buffer): boolean {
  if (signature.length !== 64) return false;
  try {
    return verify(null, transcript, rawPublic('Ed25519', hostPublic), signature);
  } catch {
    return false;
  }
}

/** The host's private key from the PEM the client keeps (strata-client keygen). */
export function loadHostKey(pem: string): KeyObject {
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`host key must be Ed25519, not ${key.asymmetricKeyType}`);
  return key;
}
