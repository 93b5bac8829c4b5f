/** SBP v1 wire constants: docs/san-protocol.md is the specification. */

export const MAGIC = 0x5342; // 'SB'
export const VERSION = 1;
export const HEADER_SIZE = 40;
export const TAG_SIZE = 16;
/** 1500-byte Ethernet MTU minus IPv6 (40) and UDP (8) headers. */
export const DEFAULT_DATAGRAM_SIZE = 1452;
export const MIN_DATAGRAM_SIZE = 576;
export const MAX_DATAGRAM_SIZE = 65_000;

export const enum Kind {
  CALL_SEG = 1,
  REPLY_SEG = 2,
  ACK = 3,
  LOGIN = 4,
  LOGIN_REPLY = 5,
  ERROR = 6,
  /** Several small segments of one session in one sealed datagram (section 2.1). */
  BUNDLE = 7,
}
export const MAX_KIND = Kind.BUNDLE;

export const enum Flag {
  SEALED = 1 << 0,
  CLEAR = 1 << 1,
}
export const KNOWN_FLAGS = Flag.SEALED | Flag.CLEAR;

export const enum Opcode {
  DISCOVER = 0x01,
  IDENTIFY = 0x02,
  CAPACITY = 0x03,
  READY = 0x04,
  READ = 0x05,
  WRITE = 0x06,
  FLUSH = 0x07,
  UNMAP = 0x08,
  WRITE_ZEROES = 0x09,
  RESERVE = 0x0a,
  RELEASE = 0x0b,
  NOP = 0x0c,
  LOGOUT = 0x0d,
  /** A consistent point of a replica volume (section 10): the target snapshots it. */
  REPLICA_COMMIT = 0x0e,
  /** Bytes of a share replica's metadata database for a cycle (section 10.1). */
  REPLICA_META = 0x0f,
}

export const OPCODE_NAMES: Record<number, string> = {
  [Opcode.DISCOVER]: 'DISCOVER',
  [Opcode.IDENTIFY]: 'IDENTIFY',
  [Opcode.CAPACITY]: 'CAPACITY',
  [Opcode.READY]: 'READY',
  [Opcode.READ]: 'READ',
  [Opcode.WRITE]: 'WRITE',
  [Opcode.FLUSH]: 'FLUSH',
  [Opcode.UNMAP]: 'UNMAP',
  [Opcode.WRITE_ZEROES]: 'WRITE_ZEROES',
  [Opcode.RESERVE]: 'RESERVE',
  [Opcode.RELEASE]: 'RELEASE',
  [Opcode.NOP]: 'NOP',
  [Opcode.LOGOUT]: 'LOGOUT',
  [Opcode.REPLICA_COMMIT]: 'REPLICA_COMMIT',
  [Opcode.REPLICA_META]: 'REPLICA_META',
};

export const enum CallFlag {
  FUA = 1 << 0,
  NO_UNMAP = 1 << 1,
  /** REPLICA_COMMIT: the call carries the metadata database's length and SHA-256 (a share replica, section 10.1). */
  METADATA = 1 << 2,
}

export const enum Status {
  OK = 0,
  BAD_VERSION = 1,
  BAD_KIND = 2,
  BAD_OPCODE = 3,
  GARBAGE = 4,
  AUTH_FAILED = 5,
  NO_SESSION = 6,
  NOT_ASSIGNED = 7,
  READ_ONLY = 8,
  RESERVED = 9,
  OUT_OF_RANGE = 10,
  TOO_LARGE = 11,
  NO_SPACE = 12,
  IO_ERROR = 13,
  SEQ_MISORDERED = 14,
  BAD_SLOT = 15,
  BUSY = 16,
  REVOKED = 17,
  SERVER_FAULT = 18,
  /** REPLICA_COMMIT on a volume that is not a replica received from this host (section 10). */
  NOT_REPLICA = 19,
  /** What the source sends does not fit the replica: another base cycle, a metadata checksum that differs, a share into a volume (section 10.1). */
  REPLICA_MISMATCH = 20,
}
/** The highest status code v1 defines: a reply with a higher one does not decode. */
export const MAX_STATUS = Status.REPLICA_MISMATCH;

export const STATUS_NAMES: Record<number, string> = {
  0: 'OK',
  1: 'BAD_VERSION',
  2: 'BAD_KIND',
  3: 'BAD_OPCODE',
  4: 'GARBAGE',
  5: 'AUTH_FAILED',
  6: 'NO_SESSION',
  7: 'NOT_ASSIGNED',
  8: 'READ_ONLY',
  9: 'RESERVED',
  10: 'OUT_OF_RANGE',
  11: 'TOO_LARGE',
  12: 'NO_SPACE',
  13: 'IO_ERROR',
  14: 'SEQ_MISORDERED',
  15: 'BAD_SLOT',
  16: 'BUSY',
  17: 'REVOKED',
  18: 'SERVER_FAULT',
  19: 'NOT_REPLICA',
  20: 'REPLICA_MISMATCH',
};

/** A datagram or message that does not decode; `status` is what the peer is told, if anything. */
export class SbpDecodeError extends Error {
  constructor(
    readonly status: Status,
    message: string,
  ) {
    super(message);
    this.name = 'SbpDecodeError';
  }
}
