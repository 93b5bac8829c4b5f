/*
 * NBD wire constants, fixed newstyle negotiation and simple replies
 * (the NBD protocol document, doc/proto.md of the NetworkBlockDevice project).
 */
export const NBDMAGIC = 0x4e42444d41474943n; // 'NBDMAGIC'
export const IHAVEOPT = 0x49484156454f5054n; // 'IHAVEOPT'
export const OPT_REPLY_MAGIC = 0x3e889045565a9n;
export const REQUEST_MAGIC = 0x25609513;
export const SIMPLE_REPLY_MAGIC = 0x67446698;

export const HANDSHAKE_FIXED_NEWSTYLE = 1 << 0;
export const HANDSHAKE_NO_ZEROES = 1 << 1;
export const CLIENT_FIXED_NEWSTYLE = 1 << 0;
export const CLIENT_NO_ZEROES = 1 << 1;

export const enum Opt {
  EXPORT_NAME = 1,
  ABORT = 2,
  LIST = 3,
  STARTTLS = 5,
  INFO = 6,
  GO = 7,
  STRUCTURED_REPLY = 8,
}

export const enum Rep {
  ACK = 1,
  SERVER = 2,
  INFO = 3,
  ERR_UNSUP = 0x80000001,
  ERR_POLICY = 0x80000002,
  ERR_INVALID = 0x80000003,
  ERR_UNKNOWN = 0x80000006,
  ERR_TOO_BIG = 0x80000009,
}

export const enum Info {
  EXPORT = 0,
  NAME = 1,
  DESCRIPTION = 2,
  BLOCK_SIZE = 3,
}

export const enum TxFlag {
  HAS_FLAGS = 1 << 0,
  READ_ONLY = 1 << 1,
  SEND_FLUSH = 1 << 2,
  SEND_FUA = 1 << 3,
  SEND_TRIM = 1 << 5,
  SEND_WRITE_ZEROES = 1 << 6,
  CAN_MULTI_CONN = 1 << 8,
  SEND_CACHE = 1 << 10,
}

export const enum Cmd {
  READ = 0,
  WRITE = 1,
  DISC = 2,
  FLUSH = 3,
  TRIM = 4,
  CACHE = 5,
  WRITE_ZEROES = 6,
}

export const enum CmdFlag {
  FUA = 1 << 0,
  NO_HOLE = 1 << 1,
}

/** errno values NBD puts on the wire (Linux numbering, as the protocol fixes them). */
export const enum NbdErrno {
  OK = 0,
  EPERM = 1,
  EIO = 5,
  ENOMEM = 12,
  EINVAL = 22,
  ENOSPC = 28,
  EOVERFLOW = 75,
  ENOTSUP = 95,
  ESHUTDOWN = 108,
}

export const OPTION_HEADER = 16;
export const REQUEST_HEADER = 28;
export const REPLY_HEADER = 16;
/** Options larger than this are not ours to buffer: the connection is dropped. */
export const MAX_OPTION_DATA = 64 * 1024;
