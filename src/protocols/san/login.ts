import { createHash } from 'node:crypto';
import { Reader, strSize, Writer } from './buffer-io';
import { SbpDecodeError, Status } from './constants';

/*
 * Login messages, one segment each (docs/san-protocol.md, section 4):
 *  1 HELLO      u8 step | u8 min version | u8 max version | bytes<32> client nonce | bytes<32> client X25519 pub
 *               | str host | u16 wanted datagram size | u8 security (1 ENCRYPT, 2 INTEGRITY)
 *  2 CHALLENGE  u8 step | u8 status | u32 session id | bytes<32> server nonce | bytes<32> server X25519 pub
 *               | u64 boot verifier | u16 datagram size | u16 slots | u32 max transfer        (status != OK: str message)
 *  3 PROOF      u8 step | bytes<64> Ed25519 signature over transcript()
 *  4 WELCOME    u8 step | u8 status | u32 credits                                             (status != OK: str message)
 */

export const enum Security {
  ENCRYPT = 1,
  INTEGRITY = 2,
}

/**
 * The security modes by name, as hosts are set to and clients ask for them
 * (config, CLI, REST): `integrity` sends data in clear, authenticated.
 */
export type SecurityMode = 'encrypt' | 'integrity';
export const SECURITY_MODES: readonly SecurityMode[] = ['encrypt', 'integrity'];
export const securityOf = (mode: SecurityMode | undefined): Security => (mode === 'integrity' ? Security.INTEGRITY : Security.ENCRYPT);
export const securityMode = (s: Security): SecurityMode => (s === Security.INTEGRITY ? 'integrity' : 'encrypt');

export interface Hello {
  step: 1;
  minVersion: number;
  maxVersion: number;
  clientNonce: Buffer;
  clientKey: Buffer;
  host: string;
  datagramSize: number;
  security: Security;
}

export type Challenge =
  | {
      step: 2;
      status: Status.OK;
      sessionId: number;
      serverNonce: Buffer;
      serverKey: Buffer;
      bootVerifier: bigint;
      datagramSize: number;
      slots: number;
      maxTransfer: number;
    }
  | { step: 2; status: Exclude<Status, Status.OK>; message: string };

export interface Proof {
  step: 3;
  signature: Buffer;
}

export type Welcome = { step: 4; status: Status.OK; credits: number } | { step: 4; status: Exclude<Status, Status.OK>; message: string };

export type LoginMessage = Hello | Challenge | Proof | Welcome;

export function encodeLogin(m: LoginMessage): Buffer {
  switch (m.step) {
    case 1:
      return new Writer(1 + 2 + 64 + strSize(m.host) + 3)
        .u8(1)
        .u8(m.minVersion)
        .u8(m.maxVersion)
        .bytes(m.clientNonce)
        .bytes(m.clientKey)
        .str(m.host)
        .u16(m.datagramSize)
        .u8(m.security)
        .done();
    case 2:
      if (m.status !== Status.OK) return new Writer(2 + strSize(m.message)).u8(2).u8(m.status).str(m.message).done();
      return new Writer(2 + 4 + 64 + 8 + 2 + 2 + 4)
        .u8(2)
        .u8(m.status)
        .u32(m.sessionId)
        .bytes(m.serverNonce)
        .bytes(m.serverKey)
        .u64(m.bootVerifier)
        .u16(m.datagramSize)
        .u16(m.slots)
        .u32(m.maxTransfer)
        .done();
    case 3:
      return new Writer(1 + 64).u8(3).bytes(m.signature).done();
    case 4:
      if (m.status !== Status.OK) return new Writer(2 + strSize(m.message)).u8(4).u8(m.status).str(m.message).done();
      return new Writer(6).u8(4).u8(m.status).u32(m.credits).done();
  }
}

export function decodeLogin(buf: Buffer): LoginMessage {
  const r = new Reader(buf, 'login');
  const step = r.u8('step');
  let m: LoginMessage;
  switch (step) {
    case 1: {
      const minVersion = r.u8('min version');
      const maxVersion = r.u8('max version');
      const clientNonce = r.bytes(32, 'client nonce');
      const clientKey = r.bytes(32, 'client key');
      const host = r.str('host');
      const datagramSize = r.u16('datagram size');
      const security = r.u8('security');
      if (security !== Security.ENCRYPT && security !== Security.INTEGRITY) {
        throw new SbpDecodeError(Status.GARBAGE, `login: unknown security mode ${security}`);
      }
      m = { step, minVersion, maxVersion, clientNonce, clientKey, host, datagramSize, security };
      break;
    }
    case 2:
    case 4: {
      const status = r.u8('status');
      if (status > Status.SERVER_FAULT) throw new SbpDecodeError(Status.GARBAGE, `login: unknown status ${status}`);
      if (status !== Status.OK) {
        const failed = { status: status as Exclude<Status, Status.OK>, message: r.str('message') };
        m = step === 2 ? { step, ...failed } : { step, ...failed };
      } else if (step === 2) {
        m = {
          step,
          status,
          sessionId: r.u32('session id'),
          serverNonce: r.bytes(32, 'server nonce'),
          serverKey: r.bytes(32, 'server key'),
          bootVerifier: r.u64big('boot verifier'),
          datagramSize: r.u16('datagram size'),
          slots: r.u16('slots'),
          maxTransfer: r.u32('max transfer'),
        };
      } else {
        m = { step, status, credits: r.u32('credits') };
      }
      break;
    }
    case 3:
      m = { step, signature: r.bytes(64, 'signature') };
      break;
    default:
      throw new SbpDecodeError(Status.GARBAGE, `login: unknown step ${step}`);
  }
  r.end();
  return m;
}

/** T = SHA-256("SBP1 login" | client nonce | server nonce | client pub | server pub | u32 session id | host): what the host signs. */
export function transcript(hello: Hello, challenge: Extract<Challenge, { status: Status.OK }>): Buffer {
  const id = Buffer.alloc(4);
  id.writeUInt32BE(challenge.sessionId >>> 0);
  return createHash('sha256')
    .update('SBP1 login')
    .update(hello.clientNonce)
    .update(challenge.serverNonce)
    .update(hello.clientKey)
    .update(challenge.serverKey)
    .update(id)
    .update(hello.host, 'utf8')
    .digest();
}

/**
 * The one refusal a gateway gives for an unknown host or a wrong key (the
 * same for both, section 4). Any other AUTH_FAILED message is a policy the
 * host did prove itself against, such as a security mode it may not use.
 */
export const identityRefusal = (host: string) => `login refused for host '${host}'`;
