/*
 * ONC RPC version 2 wire constants (RFC 5531), with the RFC's names.
 */

/** rpcvers: the only RPC protocol version (RFC 5531 section 9). */
export const RPC_VERS = 2;

/** opaque_auth body<400> */
export const MAX_AUTH_BYTES = 400;

/** authsys_parms: machinename<255>, gids<16> */
export const AUTH_SYS_MAX_MACHINENAME = 255;
export const AUTH_SYS_MAX_GIDS = 16;

/** enum msg_type { CALL = 0, REPLY = 1 }; */
export const enum MsgType {
  CALL = 0,
  REPLY = 1,
}

/** enum reply_stat { MSG_ACCEPTED = 0, MSG_DENIED = 1 }; */
export const enum ReplyStat {
  MSG_ACCEPTED = 0,
  MSG_DENIED = 1,
}

/*
 * enum accept_stat {
 *    SUCCESS       = 0, -- RPC executed successfully
 *    PROG_UNAVAIL  = 1, -- remote hasn't exported program
 *    PROG_MISMATCH = 2, -- remote can't support version #
 *    PROC_UNAVAIL  = 3, -- program can't support procedure
 *    GARBAGE_ARGS  = 4, -- procedure can't decode params
 *    SYSTEM_ERR    = 5  -- e.g. memory allocation failure
 * };
 */
export const enum AcceptStat {
  SUCCESS = 0,
  PROG_UNAVAIL = 1,
  PROG_MISMATCH = 2,
  PROC_UNAVAIL = 3,
  GARBAGE_ARGS = 4,
  SYSTEM_ERR = 5,
}

/*
 * enum reject_stat {
 *    RPC_MISMATCH = 0, -- RPC version number != 2
 *    AUTH_ERROR = 1    -- remote can't authenticate caller
 * };
 */
export const enum RejectStat {
  RPC_MISMATCH = 0,
  AUTH_ERROR = 1,
}

/*
 * enum auth_stat {
 *    AUTH_OK           = 0,  -- success
 *    AUTH_BADCRED      = 1,  -- bad credential (seal broken)
 *    AUTH_REJECTEDCRED = 2,  -- client must begin new session
 *    AUTH_BADVERF      = 3,  -- bad verifier (seal broken)
 *    AUTH_REJECTEDVERF = 4,  -- verifier expired or replayed
 *    AUTH_TOOWEAK      = 5,  -- rejected for security reasons
 *    AUTH_INVALIDRESP  = 6,  -- bogus response verifier
 *    AUTH_FAILED       = 7,  -- reason unknown
 *    AUTH_KERB_GENERIC = 8, AUTH_TIMEEXPIRE = 9, AUTH_TKT_FILE = 10,
 *    AUTH_DECODE = 11, AUTH_NET_ADDR = 12,
 *    RPCSEC_GSS_CREDPROBLEM = 13, RPCSEC_GSS_CTXPROBLEM = 14
 * };
 */
export const enum AuthStat {
  AUTH_OK = 0,
  AUTH_BADCRED = 1,
  AUTH_REJECTEDCRED = 2,
  AUTH_BADVERF = 3,
  AUTH_REJECTEDVERF = 4,
  AUTH_TOOWEAK = 5,
  AUTH_INVALIDRESP = 6,
  AUTH_FAILED = 7,
  AUTH_KERB_GENERIC = 8,
  AUTH_TIMEEXPIRE = 9,
  AUTH_TKT_FILE = 10,
  AUTH_DECODE = 11,
  AUTH_NET_ADDR = 12,
  RPCSEC_GSS_CREDPROBLEM = 13,
  RPCSEC_GSS_CTXPROBLEM = 14,
}

/*
 * enum auth_flavor {
 *    AUTH_NONE = 0, AUTH_SYS = 1, AUTH_SHORT = 2, AUTH_DH = 3, RPCSEC_GSS = 6
 * };
 */
export const enum AuthFlavor {
  AUTH_NONE = 0,
  AUTH_SYS = 1,
  AUTH_SHORT = 2,
  AUTH_DH = 3,
  RPCSEC_GSS = 6,
}

/** Record marking (section 11): the high bit of a fragment header marks the last fragment. */
export const LAST_FRAGMENT = 0x80000000;
export const MAX_FRAGMENT = 0x7fffffff;
