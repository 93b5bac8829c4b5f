/*
 * RPC call and reply messages (RFC 5531 sections 8 and 9) and the AUTH_NONE
 * and AUTH_SYS flavors (section 8.2 and appendix A): server side (call
 * decode, reply encode) and client side (call encode, reply decode).
 */
import { XdrDecodeError, XdrReader, XdrWriter } from '../xdr/xdr';
import {
  AcceptStat,
  AUTH_SYS_MAX_GIDS,
  AUTH_SYS_MAX_MACHINENAME,
  AuthFlavor,
  AuthStat,
  MAX_AUTH_BYTES,
  MsgType,
  RejectStat,
  ReplyStat,
  RPC_VERS,
} from './constants';

/*
 * struct opaque_auth {
 *    auth_flavor flavor;
 *    opaque body<400>;
 * };
 */
export interface OpaqueAuth {
  flavor: number;
  /** A view into the record: copy it to keep it beyond the call. */
  body: Buffer;
}

export const AUTH_NONE_VERF: OpaqueAuth = Object.freeze({ flavor: AuthFlavor.AUTH_NONE, body: Buffer.alloc(0) });

/*
 * struct authsys_parms {
 *    unsigned int stamp;
 *    string machinename<255>;
 *    unsigned int uid;
 *    unsigned int gid;
 *    unsigned int gids<16>;
 * };
 */
export interface AuthSysParms {
  stamp: number;
  machinename: string;
  uid: number;
  gid: number;
  gids: number[];
}

/** A call's credential: AUTH_NONE and AUTH_SYS parsed, any other flavor left opaque. */
export type Credential = { flavor: AuthFlavor.AUTH_NONE } | { flavor: AuthFlavor.AUTH_SYS; sys: AuthSysParms } | { flavor: number; body: Buffer };

/** The AUTH_SYS parameters of a credential, if it is one. */
export function authSys(c: Credential): AuthSysParms | undefined {
  return 'sys' in c ? c.sys : undefined;
}

export const AUTH_NONE_CRED: Credential = Object.freeze({ flavor: AuthFlavor.AUTH_NONE });

/*
 * struct call_body {
 *    unsigned int rpcvers;       -- must be equal to two (2)
 *    unsigned int prog;
 *    unsigned int vers;
 *    unsigned int proc;
 *    opaque_auth cred;
 *    opaque_auth verf;
 *    -- procedure-specific parameters start here
 * };
 */
export interface CallHeader {
  xid: number;
  prog: number;
  vers: number;
  proc: number;
  cred: Credential;
  verf: OpaqueAuth;
}

/* struct { unsigned int low; unsigned int high; } mismatch_info; */
export interface MismatchInfo {
  low: number;
  high: number;
}

/*
 * struct accepted_reply {
 *    opaque_auth verf;
 *    union switch (accept_stat stat) {
 *    case SUCCESS:
 *       opaque results[0];  -- procedure-specific results start here
 *    case PROG_MISMATCH:
 *       struct { unsigned int low; unsigned int high; } mismatch_info;
 *    default:
 *       void;  -- PROG_UNAVAIL, PROC_UNAVAIL, GARBAGE_ARGS, SYSTEM_ERR
 *    } reply_data;
 * };
 *
 * union rejected_reply switch (reject_stat stat) {
 * case RPC_MISMATCH:
 *    struct { unsigned int low; unsigned int high; } mismatch_info;
 * case AUTH_ERROR:
 *    auth_stat stat;
 * };
 */
export type ReplyStatus =
  | { accept_stat: AcceptStat.PROG_MISMATCH; mismatch_info: MismatchInfo }
  | { accept_stat: Exclude<AcceptStat, AcceptStat.PROG_MISMATCH> }
  | { reject_stat: RejectStat.RPC_MISMATCH; mismatch_info: MismatchInfo }
  | { reject_stat: RejectStat.AUTH_ERROR; auth_stat: AuthStat };

export const SUCCESS: ReplyStatus = Object.freeze({ accept_stat: AcceptStat.SUCCESS });

/** A reply as a client sees it; for SUCCESS the reader stands at the results. */
export interface Reply {
  xid: number;
  status: ReplyStatus;
  /** The server's verifier (accepted replies only). */
  verf?: OpaqueAuth;
}

/**
 * A call whose header is readable but cannot be served: the server answers
 * it with `status` (RPC_MISMATCH or AUTH_ERROR) instead of running it.
 */
export class RpcCallRejected extends Error {
  override name = 'RpcCallRejected';
  constructor(
    readonly xid: number,
    readonly status: ReplyStatus,
    message: string,
  ) {
    super(message);
  }
}

const ACCEPT_STATS = new Set<number>([0, 1, 2, 3, 4, 5]);
const AUTH_STATS = new Set<number>([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);

/** opaque_auth; a body over 400 bytes is reported through `tooLong` (its length is known before its bytes). */
function readOpaqueAuth(r: XdrReader, what: string, tooLong: (length: number) => Error): OpaqueAuth {
  const flavor = r.uint32(`${what} flavor`);
  const length = r.uint32(`${what} body length`);
  if (length > MAX_AUTH_BYTES) throw tooLong(length);
  return { flavor, body: r.fixedOpaque(length, `${what} body`) };
}

function writeOpaqueAuth(w: XdrWriter, a: OpaqueAuth): void {
  w.uint32(a.flavor).varOpaque(a.body);
}

/** authsys_parms from an AUTH_SYS credential body; the body must hold exactly one. */
export function decodeAuthSys(body: Buffer): AuthSysParms {
  const r = new XdrReader(body);
  const parms: AuthSysParms = {
    stamp: r.uint32('stamp'),
    machinename: r.string(AUTH_SYS_MAX_MACHINENAME, 'machinename'),
    uid: r.uint32('uid'),
    gid: r.uint32('gid'),
    gids: r.array((x) => x.uint32('gid'), AUTH_SYS_MAX_GIDS, 'gids'),
  };
  r.done('authsys_parms');
  return parms;
}

export function encodeAuthSys(p: AuthSysParms): Buffer {
  return new XdrWriter(64)
    .uint32(p.stamp)
    .string(p.machinename)
    .uint32(p.uid)
    .uint32(p.gid)
    .array(p.gids, (w, g) => w.uint32(g))
    .toBuffer();
}

/** The opaque_auth form of a credential (for encoding a call). */
export function credentialToOpaque(c: Credential): OpaqueAuth {
  if ('sys' in c) return { flavor: AuthFlavor.AUTH_SYS, body: encodeAuthSys(c.sys) };
  if ('body' in c) return { flavor: c.flavor, body: c.body };
  return AUTH_NONE_VERF;
}

/**
 * Decode an RPC call up to its arguments, leaving the reader at them.
 * Throws XdrDecodeError when the header itself is unreadable (the message is
 * dropped: there is nothing sound to answer) and RpcCallRejected when the
 * header is readable but the call must be denied (rpcvers other than 2,
 * oversized or malformed credentials).
 */
export function decodeCallHeader(r: XdrReader): CallHeader {
  const xid = r.uint32('xid');
  const mtype = r.uint32('msg_type');
  if (mtype !== MsgType.CALL) throw new XdrDecodeError(`msg_type ${mtype} is not CALL`);
  const rpcvers = r.uint32('rpcvers');
  if (rpcvers !== RPC_VERS) {
    throw new RpcCallRejected(
      xid,
      { reject_stat: RejectStat.RPC_MISMATCH, mismatch_info: { low: RPC_VERS, high: RPC_VERS } },
      `rpcvers ${rpcvers} is not 2`,
    );
  }
  const prog = r.uint32('prog');
  const vers = r.uint32('vers');
  const proc = r.uint32('proc');
  const authError = (auth_stat: AuthStat, message: string) =>
    new RpcCallRejected(xid, { reject_stat: RejectStat.AUTH_ERROR, auth_stat }, message);
  const rawCred = readOpaqueAuth(r, 'cred', (n) => authError(AuthStat.AUTH_BADCRED, `credential body of ${n} bytes exceeds ${MAX_AUTH_BYTES}`));
  const verf = readOpaqueAuth(r, 'verf', (n) => authError(AuthStat.AUTH_BADVERF, `verifier body of ${n} bytes exceeds ${MAX_AUTH_BYTES}`));
  let cred: Credential;
  if (rawCred.flavor === AuthFlavor.AUTH_NONE) cred = AUTH_NONE_CRED;
  else if (rawCred.flavor === AuthFlavor.AUTH_SYS) {
    try {
      cred = { flavor: AuthFlavor.AUTH_SYS, sys: decodeAuthSys(rawCred.body) };
    } catch (e) {
      if (!(e instanceof XdrDecodeError)) throw e;
      throw authError(AuthStat.AUTH_BADCRED, `malformed AUTH_SYS credential: ${e.message}`);
    }
  } else cred = { flavor: rawCred.flavor, body: rawCred.body };
  return { xid, prog, vers, proc, cred, verf };
}

/** Client side: a call header; the caller appends the procedure's arguments. */
export function encodeCallHeader(w: XdrWriter, c: { xid: number; prog: number; vers: number; proc: number; cred?: Credential; verf?: OpaqueAuth }): XdrWriter {
  w.uint32(c.xid).uint32(MsgType.CALL).uint32(RPC_VERS).uint32(c.prog).uint32(c.vers).uint32(c.proc);
  writeOpaqueAuth(w, credentialToOpaque(c.cred ?? AUTH_NONE_CRED));
  writeOpaqueAuth(w, c.verf ?? AUTH_NONE_VERF);
  return w;
}

/**
 * Server side: a reply header with its status; for SUCCESS the caller then
 * appends the procedure's results to the same writer.
 */
export function encodeReplyHeader(w: XdrWriter, xid: number, status: ReplyStatus, verf: OpaqueAuth = AUTH_NONE_VERF): XdrWriter {
  w.uint32(xid).uint32(MsgType.REPLY);
  if ('accept_stat' in status) {
    w.uint32(ReplyStat.MSG_ACCEPTED);
    writeOpaqueAuth(w, verf);
    w.uint32(status.accept_stat);
    if (status.accept_stat === AcceptStat.PROG_MISMATCH) w.uint32(status.mismatch_info.low).uint32(status.mismatch_info.high);
  } else {
    w.uint32(ReplyStat.MSG_DENIED).uint32(status.reject_stat);
    if (status.reject_stat === RejectStat.RPC_MISMATCH) w.uint32(status.mismatch_info.low).uint32(status.mismatch_info.high);
    else w.uint32(status.auth_stat);
  }
  return w;
}

/** Client side: decode a reply up to its results (for SUCCESS the reader stands at them). */
export function decodeReplyHeader(r: XdrReader): Reply {
  const xid = r.uint32('xid');
  const mtype = r.uint32('msg_type');
  if (mtype !== MsgType.REPLY) throw new XdrDecodeError(`msg_type ${mtype} is not REPLY`);
  const rstat = r.uint32('reply_stat');
  if (rstat === ReplyStat.MSG_ACCEPTED) {
    const verf = readOpaqueAuth(r, 'verf', (n) => new XdrDecodeError(`verifier body of ${n} bytes exceeds ${MAX_AUTH_BYTES}`));
    const stat = r.enumOf<AcceptStat>(ACCEPT_STATS, 'accept_stat');
    if (stat === AcceptStat.PROG_MISMATCH) {
      return { xid, verf, status: { accept_stat: stat, mismatch_info: { low: r.uint32('low'), high: r.uint32('high') } } };
    }
    return { xid, verf, status: { accept_stat: stat } };
  }
  if (rstat === ReplyStat.MSG_DENIED) {
    const stat = r.uint32('reject_stat');
    if (stat === RejectStat.RPC_MISMATCH) {
      return { xid, status: { reject_stat: stat, mismatch_info: { low: r.uint32('low'), high: r.uint32('high') } } };
    }
    if (stat === RejectStat.AUTH_ERROR) return { xid, status: { reject_stat: stat, auth_stat: r.enumOf<AuthStat>(AUTH_STATS, 'auth_stat') } };
    throw new XdrDecodeError(`reject_stat ${stat} is not a known value`);
  }
  throw new XdrDecodeError(`reply_stat ${rstat} is not a known value`);
}

const ACCEPT_NAMES = ['SUCCESS', 'PROG_UNAVAIL', 'PROG_MISMATCH', 'PROC_UNAVAIL', 'GARBAGE_ARGS', 'SYSTEM_ERR'];
const AUTH_NAMES = [
  'AUTH_OK',
  'AUTH_BADCRED',
  'AUTH_REJECTEDCRED',
  'AUTH_BADVERF',
  'AUTH_REJECTEDVERF',
  'AUTH_TOOWEAK',
  'AUTH_INVALIDRESP',
  'AUTH_FAILED',
  'AUTH_KERB_GENERIC',
  'AUTH_TIMEEXPIRE',
  'AUTH_TKT_FILE',
  'AUTH_DECODE',
  'AUTH_NET_ADDR',
  'RPCSEC_GSS_CREDPROBLEM',
  'RPCSEC_GSS_CTXPROBLEM',
];

/** A reply status in the RFC's words, e.g. "PROG_MISMATCH 3..3" or "AUTH_ERROR AUTH_TOOWEAK". */
export function describeStatus(s: ReplyStatus): string {
  if ('accept_stat' in s) {
    const name = ACCEPT_NAMES[s.accept_stat] ?? `accept_stat ${s.accept_stat}`;
    return 'mismatch_info' in s ? `${name} ${s.mismatch_info.low}..${s.mismatch_info.high}` : name;
  }
  if (s.reject_stat === RejectStat.RPC_MISMATCH) return `RPC_MISMATCH ${s.mismatch_info.low}..${s.mismatch_info.high}`;
  return `AUTH_ERROR ${AUTH_NAMES[s.auth_stat] ?? s.auth_stat}`;
}
