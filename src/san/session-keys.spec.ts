import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Status } from '../protocols/san/constants';
import { Security, transcript, type Challenge, type Hello } from '../protocols/san/login';
import { deriveSessionKeys, ephemeral, loadHostKey, signTranscript, verifyTranscript } from './session-keys';

function login() {
  const client = ephemeral();
  const server = ephemeral();
  const hello: Hello = { step: 1, minVersion: 1, maxVersion: 1, clientNonce: randomBytes(32), clientKey: client.publicKey, host: 'h1', datagramSize: 1452, security: Security.ENCRYPT };
  const challenge: Extract<Challenge, { status: Status.OK }> = {
    step: 2,
    status: Status.OK,
    sessionId: 42,
    serverNonce: randomBytes(32),
    serverKey: server.publicKey,
    bootVerifier: 1n,
    datagramSize: 1452,
    slots: 64,
    maxTransfer: 2 ** 23,
  };
  return { client, server, hello, challenge, t: transcript(hello, challenge) };
}

describe('session keys', () => {
  it('both ends derive the same pair of direction keys, different per session', () => {
    const a = login();
    const c = deriveSessionKeys(a.client.privateKey, a.server.publicKey, a.hello.clientNonce, a.challenge.serverNonce, a.t);
    const s = deriveSessionKeys(a.server.privateKey, a.client.publicKey, a.hello.clientNonce, a.challenge.serverNonce, a.t);
    expect(c.clientToServer.equals(s.clientToServer)).toBe(true);
    expect(c.serverToClient.equals(s.serverToClient)).toBe(true);
    expect(c.clientToServer.equals(c.serverToClient)).toBe(false);
    const b = login();
    const other = deriveSessionKeys(b.client.privateKey, b.server.publicKey, b.hello.clientNonce, b.challenge.serverNonce, b.t);
    expect(other.clientToServer.equals(c.clientToServer)).toBe(false);
  });

  it('accepts the registered host key signature over the transcript, and nothing else', () => {
    const a = login();
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url');
    const key = loadHostKey(privateKey.export({ format: 'pem', type: 'pkcs8' }).toString());
    const sig = signTranscript(key, a.t);
    expect(verifyTranscript(raw, a.t, sig)).toBe(true);
    expect(verifyTranscript(raw, login().t, sig)).toBe(false);
    const otherKey = Buffer.from(generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x as string, 'base64url');
    expect(verifyTranscript(otherKey, a.t, sig)).toBe(false);
    expect(verifyTranscript(raw, a.t, sig.subarray(0, 63))).toBe(false);
    expect(verifyTranscript(raw, a.t, randomBytes(64))).toBe(false);
  });

  it('refuses a low-order X25519 peer key', () => {
    const a = login();
    expect(() => deriveSessionKeys(a.client.privateKey, Buffer.alloc(32), a.hello.clientNonce, a.challenge.serverNonce, a.t)).toThrow();
  });

  it('refuses a host key that is not Ed25519', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    expect(() => loadHostKey(rsa)).toThrow(/Ed25519/);
  });
});
