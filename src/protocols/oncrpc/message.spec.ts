import { describe, expect, it } from 'vitest';
import { Prng } from '../../common/prng';
import { expectEveryPrefixFails, expectOnlyOwnErrors } from '../../../test/utils/xdr-codec-checks';
import { XdrDecodeError, XdrReader, XdrWriter } from '../xdr/xdr';
import { AcceptStat, AuthFlavor, AuthStat, RejectStat } from './constants';
import {
  AUTH_NONE_CRED,
  type CallHeader,
  type Credential,
  decodeAuthSys,
  decodeCallHeader,
  decodeReplyHeader,
  describeStatus,
  encodeAuthSys,
  encodeCallHeader,
  encodeReplyHeader,
  type ReplyStatus,
  RpcCallRejected,
} from './message';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// Written by hand from RFC 5531 sections 8–9 and appendix A (not by the codec):
// an NFSv3 GETATTR-shaped call with an AUTH_SYS credential, then one argument word.
const SYS = { stamp: 0x05f5e100, machinename: 'host', uid: 1000, gid: 100, gids: [100, 27] };
const CALL_BYTES = hex(`
  12345678 00000000 00000002
  000186a3 00000003 00000001
  00000001 00000020
    05f5e100 00000004 686f7374 000003e8 00000064 00000002 00000064 0000001b
  00000000 00000000
  0000002a`);
const CALL: CallHeader = {
  xid: 0x12345678,
  prog: 100003,
  vers: 3,
  proc: 1,
  cred: { flavor: AuthFlavor.AUTH_SYS, sys: SYS },
  verf: { flavor: AuthFlavor.AUTH_NONE, body: Buffer.alloc(0) },
};

// Replies, by hand: xid 1, REPLY, then the reply body.
const REPLIES: Array<[ReplyStatus, string, string]> = [
  [{ accept_stat: AcceptStat.SUCCESS }, '00000001 00000001 00000000 00000000 00000000 00000000', 'SUCCESS'],
  [{ accept_stat: AcceptStat.PROG_UNAVAIL }, '00000001 00000001 00000000 00000000 00000000 00000001', 'PROG_UNAVAIL'],
  [{ accept_stat: AcceptStat.PROG_MISMATCH, mismatch_info: { low: 3, high: 3 } }, '00000001 00000001 00000000 00000000 00000000 00000002 00000003 00000003', 'PROG_MISMATCH 3..3'],
  [{ accept_stat: AcceptStat.PROC_UNAVAIL }, '00000001 00000001 00000000 00000000 00000000 00000003', 'PROC_UNAVAIL'],
  [{ accept_stat: AcceptStat.GARBAGE_ARGS }, '00000001 00000001 00000000 00000000 00000000 00000004', 'GARBAGE_ARGS'],
  [{ accept_stat: AcceptStat.SYSTEM_ERR }, '00000001 00000001 00000000 00000000 00000000 00000005', 'SYSTEM_ERR'],
  [{ reject_stat: RejectStat.RPC_MISMATCH, mismatch_info: { low: 2, high: 2 } }, '00000001 00000001 00000001 00000000 00000002 00000002', 'RPC_MISMATCH 2..2'],
  [{ reject_stat: RejectStat.AUTH_ERROR, auth_stat: AuthStat.AUTH_BADCRED }, '00000001 00000001 00000001 00000001 00000001', 'AUTH_ERROR AUTH_BADCRED'],
  [{ reject_stat: RejectStat.AUTH_ERROR, auth_stat: AuthStat.AUTH_TOOWEAK }, '00000001 00000001 00000001 00000001 00000005', 'AUTH_ERROR AUTH_TOOWEAK'],
];

const rejectedWith = (fn: () => unknown): RpcCallRejected => {
  try {
    fn();
  } catch (e) {
    if (e instanceof RpcCallRejected) return e;
    throw e;
  }
  throw new Error('did not throw');
};

describe('RPC messages: reference bytes (RFC 5531)', () => {
  it('decodes a call with AUTH_SYS and leaves the reader at the arguments', () => {
    const r = new XdrReader(CALL_BYTES);
    expect(decodeCallHeader(r)).toEqual(CALL);
    expect(r.uint32()).toBe(42);
    r.done();
  });

  it('encodes the same call', () => {
    const w = encodeCallHeader(new XdrWriter(), CALL).uint32(42);
    expect(w.toBuffer()).toEqual(CALL_BYTES);
  });

  it('encodes and decodes every reply status to the hand-written bytes', () => {
    for (const [status, bytes, text] of REPLIES) {
      expect(encodeReplyHeader(new XdrWriter(), 1, status).toBuffer().toString('hex')).toBe(hex(bytes).toString('hex'));
      const r = new XdrReader(hex(bytes));
      expect(decodeReplyHeader(r).status).toEqual(status);
      r.done();
      expect(describeStatus(status)).toBe(text);
    }
  });

  it('decodes AUTH_NONE and leaves other flavors opaque', () => {
    const none = hex('00000007 00000000 00000002 00000001 00000002 00000000 00000000 00000000 00000000 00000000');
    expect(decodeCallHeader(new XdrReader(none))).toMatchObject({ xid: 7, prog: 1, vers: 2, proc: 0, cred: AUTH_NONE_CRED });
    const gss = hex('00000007 00000000 00000002 00000001 00000002 00000000 00000006 00000004 01020304 00000000 00000000');
    expect(decodeCallHeader(new XdrReader(gss)).cred).toEqual({ flavor: 6, body: hex('01020304') });
  });
});

describe('RPC messages: round trips', () => {
  it('round-trips random calls', () => {
    const prng = new Prng(3);
    for (let i = 0; i < 300; i++) {
      const kind = prng.int(0, 3);
      const cred: Credential =
        kind === 0
          ? AUTH_NONE_CRED
          : kind === 1
            ? {
                flavor: AuthFlavor.AUTH_SYS,
                sys: {
                  stamp: prng.int(0, 2 ** 32),
                  machinename: 'm'.repeat(prng.int(0, 256)),
                  uid: prng.int(0, 2 ** 32),
                  gid: prng.int(0, 2 ** 32),
                  gids: Array.from({ length: prng.int(0, 17) }, () => prng.int(0, 2 ** 32)),
                },
              }
            : { flavor: prng.int(2, 400), body: prng.bytes(prng.int(0, 401)) };
      const call: CallHeader = { xid: prng.int(0, 2 ** 32), prog: prng.int(0, 2 ** 32), vers: prng.int(0, 10), proc: prng.int(0, 30), cred, verf: { flavor: 0, body: prng.bytes(prng.int(0, 401)) } };
      const args = prng.bytes(prng.int(0, 64) * 4);
      const r = new XdrReader(encodeCallHeader(new XdrWriter(8), call).fixedOpaque(args).toBuffer());
      expect(decodeCallHeader(r)).toEqual(call);
      expect(r.fixedOpaque(args.length)).toEqual(args);
      r.done();
    }
  });

  it('round-trips AUTH_SYS parameters', () => {
    expect(decodeAuthSys(encodeAuthSys(SYS))).toEqual(SYS);
  });
});

describe('RPC messages: truncated at every position', () => {
  it('a call header cut anywhere is XdrDecodeError (dropped: nothing sound to answer)', () => {
    expectEveryPrefixFails([[CALL_BYTES.subarray(0, CALL_BYTES.length - 4), decodeCallHeader]]);
  });

  it('a reply cut anywhere is XdrDecodeError', () => {
    expectEveryPrefixFails(REPLIES.map(([, bytes]) => [hex(bytes), decodeReplyHeader] as const));
  });
});

describe('RPC messages: malformed input', () => {
  const withCred = (flavor: number, body: Buffer) => encodeCallHeader(new XdrWriter(), { ...CALL, cred: { flavor, body } }).toBuffer();

  it('rpcvers other than 2 is RPC_MISMATCH 2..2 for that xid', () => {
    const b = Buffer.from(CALL_BYTES);
    b.writeUInt32BE(3, 8);
    const e = rejectedWith(() => decodeCallHeader(new XdrReader(b)));
    expect(e.xid).toBe(0x12345678);
    expect(e.status).toEqual({ reject_stat: RejectStat.RPC_MISMATCH, mismatch_info: { low: 2, high: 2 } });
    expect(e.message).toBe('rpcvers 3 is not 2');
  });

  it('a REPLY where a CALL is expected is not a call', () => {
    expect(() => decodeCallHeader(new XdrReader(hex('00000001 00000001 00000000')))).toThrow(new XdrDecodeError('msg_type 1 is not CALL'));
    expect(() => decodeReplyHeader(new XdrReader(CALL_BYTES))).toThrow(new XdrDecodeError('msg_type 0 is not REPLY'));
  });

  it('malformed AUTH_SYS credentials are AUTH_BADCRED with the reason', () => {
    const cases: Array<[Buffer, string]> = [
      [encodeAuthSys({ ...SYS, gids: new Array(17).fill(1) }), 'malformed AUTH_SYS credential: gids of 17 items exceeds its limit of 16'],
      [encodeAuthSys({ ...SYS, machinename: 'x'.repeat(256) }), 'malformed AUTH_SYS credential: machinename of 256 bytes exceeds its limit of 255'],
      [Buffer.concat([encodeAuthSys(SYS), hex('00000000')]), 'malformed AUTH_SYS credential: 4 unexpected bytes after the authsys_parms'],
      [encodeAuthSys(SYS).subarray(0, 12), 'malformed AUTH_SYS credential: truncated uid: need 4 bytes, 0 left'],
    ];
    for (const [body, message] of cases) {
      const e = rejectedWith(() => decodeCallHeader(new XdrReader(withCred(AuthFlavor.AUTH_SYS, body))));
      expect(e.status).toEqual({ reject_stat: RejectStat.AUTH_ERROR, auth_stat: AuthStat.AUTH_BADCRED });
      expect(e.message).toBe(message);
    }
  });

  it('credential or verifier bodies over 400 bytes are AUTH_BADCRED / AUTH_BADVERF, even when truncated', () => {
    const e = rejectedWith(() => decodeCallHeader(new XdrReader(hex('00000009 00000000 00000002 00000001 00000001 00000001 00000000 00000191'))));
    expect(e).toMatchObject({ xid: 9, status: { reject_stat: RejectStat.AUTH_ERROR, auth_stat: AuthStat.AUTH_BADCRED }, message: 'credential body of 401 bytes exceeds 400' });
    const v = rejectedWith(() => decodeCallHeader(new XdrReader(hex('00000009 00000000 00000002 00000001 00000001 00000001 00000000 00000000 00000000 ffffffff'))));
    expect(v).toMatchObject({ status: { reject_stat: RejectStat.AUTH_ERROR, auth_stat: AuthStat.AUTH_BADVERF }, message: 'verifier body of 4294967295 bytes exceeds 400' });
  });

  it('unknown reply discriminants are refused by name', () => {
    expect(() => decodeReplyHeader(new XdrReader(hex('00000001 00000001 00000002')))).toThrow('reply_stat 2 is not a known value');
    expect(() => decodeReplyHeader(new XdrReader(hex('00000001 00000001 00000001 00000002')))).toThrow('reject_stat 2 is not a known value');
    expect(() => decodeReplyHeader(new XdrReader(hex('00000001 00000001 00000000 00000000 00000000 00000006')))).toThrow('accept_stat 6 is not a known value');
    expect(() => decodeReplyHeader(new XdrReader(hex('00000001 00000001 00000001 00000001 0000000f')))).toThrow('auth_stat 15 is not a known value');
  });
});

describe('RPC messages: random and mutated bytes', () => {
  it('never throw anything but XdrDecodeError or RpcCallRejected', () => {
    const samples = [CALL_BYTES, ...REPLIES.map(([, b]) => hex(b))];
    expectOnlyOwnErrors(17, samples, [decodeCallHeader], 5000, (e) => e instanceof XdrDecodeError || e instanceof RpcCallRejected);
    expectOnlyOwnErrors(18, samples, [decodeReplyHeader], 5000);
  });
});
