import { Reader, strSize, Writer } from './buffer-io';
import { CallFlag, MAX_STATUS, Opcode, OPCODE_NAMES, SbpDecodeError, Status } from './constants';

/*
 * CALL:   u8 opcode | u8 flags  | u16 slot | u32 slot sequence | fields | data
 * REPLY:  u8 opcode | u8 status | u16 slot | u32 slot sequence | fields | data
 * A REPLY whose status is not OK carries only `str message` after the prefix.
 * (docs/san-protocol.md, section 3)
 */

const PREFIX = 8;

type LunOp = Opcode.IDENTIFY | Opcode.CAPACITY | Opcode.READY | Opcode.FLUSH | Opcode.RESERVE | Opcode.RELEASE;
type RangeOp = Opcode.UNMAP | Opcode.WRITE_ZEROES;
/** Calls whose OK reply is the prefix alone. */
type BareReplyOp = Opcode.READY | Opcode.FLUSH | Opcode.RESERVE | Opcode.RELEASE | Opcode.WRITE | RangeOp | Opcode.LOGOUT | Opcode.REPLICA_COMMIT | Opcode.REPLICA_META;

interface Slotted {
  slot: number;
  seq: number;
}

export type Call = Slotted & { flags: number } & (
    | { op: Opcode.DISCOVER | Opcode.LOGOUT }
    | { op: LunOp; lun: number }
    | { op: Opcode.READ; lun: number; offset: number; length: number }
    | { op: Opcode.WRITE; lun: number; offset: number; data: Buffer }
    | { op: RangeOp; lun: number; offset: number; length: number }
    | { op: Opcode.NOP; time: bigint }
    /*
     * REPLICA_COMMIT (section 10): u32 lun | u64 cycle [| u64 metadata length | bytes<32> metadata sha256] → —.
     * Sent after the cycle's FLUSH; the target snapshots the replica as `<volume>@cycle-<cycle>`.
     * The metadata fields are there exactly when flag METADATA is set (a share replica, section 10.1).
     */
    | { op: Opcode.REPLICA_COMMIT; lun: number; cycle: number; metadata?: ReplicaMetadataSum }
    /*
     * REPLICA_META (section 10.1): u32 lun | u64 cycle | u64 base | u64 offset | data → —.
     * Bytes of cycle `cycle`'s metadata database at `offset`, in a copy that starts as cycle `base`'s (0: empty).
     */
    | { op: Opcode.REPLICA_META; lun: number; cycle: number; base: number; offset: number; data: Buffer }
  );

/** What a share replica's metadata database must be once a cycle's REPLICA_META calls are in. */
export interface ReplicaMetadataSum {
  length: number;
  sha256: Buffer;
}

export interface VolumeEntry {
  lun: number;
  /** 16-byte volume id (its UUID). */
  id: Buffer;
  name: string;
  size: number;
  blockSize: number;
  /** bit0 READ_ONLY, bit1 SHARED */
  flags: number;
}

export interface Identity {
  vendor: string;
  product: string;
  serial: string;
  wwn: Buffer;
  blockSize: number;
  capacity: number;
  flags: number;
  maxTransfer: number;
}

export type Reply = Slotted &
  (
    | { status: Exclude<Status, Status.OK>; op: Opcode; message: string }
    | ({ status: Status.OK } & (
        | { op: Opcode.DISCOVER; volumes: VolumeEntry[] }
        | ({ op: Opcode.IDENTIFY } & Identity)
        | { op: Opcode.CAPACITY; capacity: number; blockSize: number }
        | { op: Opcode.READ; data: Buffer }
        | { op: Opcode.NOP; time: bigint; bootVerifier: bigint }
        | { op: BareReplyOp }
      ))
  );

export const VOLUME_READ_ONLY = 1;
export const VOLUME_SHARED = 2;

function prefix(w: Writer, op: number, second: number, m: Slotted): Writer {
  return w.u8(op).u8(second).u16(m.slot).u32(m.seq);
}

/** The bytes of a READ reply before its data. */
export const READ_REPLY_PREFIX = PREFIX;

/**
 * Write a successful READ reply's prefix at the start of `reply`, whose
 * remaining bytes are the data: the server reads the data straight into
 * the reply, and the client has it placed past the prefix.
 */
export function encodeReadReplyPrefix(reply: Buffer, m: Slotted): void {
  prefix(new Writer(reply), Opcode.READ, Status.OK, m);
}

export function encodeCall(c: Call): Buffer {
  const parts = encodeCallParts(c);
  return parts.length === 1 ? parts[0] : Buffer.concat(parts);
}

/**
 * The call as pieces that make it when joined: a WRITE or REPLICA_META is
 * its fields, then the caller's data itself (not a copy of it), which the
 * transport cuts into segments where it lies. Every other call is one piece.
 */
export function encodeCallParts(c: Call): Buffer[] {
  switch (c.op) {
    case Opcode.DISCOVER:
    case Opcode.LOGOUT:
      return [prefix(new Writer(PREFIX), c.op, c.flags, c).done()];
    case Opcode.IDENTIFY:
    case Opcode.CAPACITY:
    case Opcode.READY:
    case Opcode.FLUSH:
    case Opcode.RESERVE:
    case Opcode.RELEASE:
      return [prefix(new Writer(PREFIX + 4), c.op, c.flags, c).u32(c.lun).done()];
    case Opcode.READ:
      return [prefix(new Writer(PREFIX + 16), c.op, c.flags, c).u32(c.lun).u64(c.offset).u32(c.length).done()];
    case Opcode.WRITE:
      return [prefix(new Writer(PREFIX + 12), c.op, c.flags, c).u32(c.lun).u64(c.offset).done(), c.data];
    case Opcode.UNMAP:
    case Opcode.WRITE_ZEROES:
      return [prefix(new Writer(PREFIX + 20), c.op, c.flags, c).u32(c.lun).u64(c.offset).u64(c.length).done()];
    case Opcode.NOP:
      return [prefix(new Writer(PREFIX + 8), c.op, c.flags, c).u64(c.time).done()];
    case Opcode.REPLICA_COMMIT: {
      // The flag and the fields go together: encoded from `metadata`, whatever `flags` said about it.
      const flags = c.metadata ? c.flags | CallFlag.METADATA : c.flags & ~CallFlag.METADATA;
      const w = prefix(new Writer(PREFIX + 12 + (c.metadata ? 40 : 0)), c.op, flags, c).u32(c.lun).u64(c.cycle);
      if (c.metadata) w.u64(c.metadata.length).bytes(c.metadata.sha256);
      return [w.done()];
    }
    case Opcode.REPLICA_META:
      return [prefix(new Writer(PREFIX + 28), c.op, c.flags, c).u32(c.lun).u64(c.cycle).u64(c.base).u64(c.offset).done(), c.data];
  }
}

export function decodeCall(buf: Buffer): Call {
  const r = new Reader(buf, 'call');
  const op = r.u8('opcode');
  const flags = r.u8('flags');
  const slot = r.u16('slot');
  const seq = r.u32('slot sequence');
  let call: Call;
  switch (op) {
    case Opcode.DISCOVER:
    case Opcode.LOGOUT:
      call = { slot, seq, flags, op };
      break;
    case Opcode.IDENTIFY:
    case Opcode.CAPACITY:
    case Opcode.READY:
    case Opcode.FLUSH:
    case Opcode.RESERVE:
    case Opcode.RELEASE:
      call = { slot, seq, flags, op, lun: r.u32('lun') };
      break;
    case Opcode.READ:
      call = { slot, seq, flags, op, lun: r.u32('lun'), offset: r.u64('offset'), length: r.u32('length') };
      break;
    case Opcode.WRITE:
      call = { slot, seq, flags, op, lun: r.u32('lun'), offset: r.u64('offset'), data: r.rest() };
      break;
    case Opcode.UNMAP:
    case Opcode.WRITE_ZEROES:
      call = { slot, seq, flags, op, lun: r.u32('lun'), offset: r.u64('offset'), length: r.u64('length') };
      break;
    case Opcode.NOP:
      call = { slot, seq, flags, op, time: r.u64big('time') };
      break;
    case Opcode.REPLICA_COMMIT: {
      const lun = r.u32('lun');
      const cycle = r.u64('cycle');
      call = (flags & CallFlag.METADATA) !== 0 ? { slot, seq, flags, op, lun, cycle, metadata: { length: r.u64('metadata length'), sha256: r.bytes(32, 'metadata sha256') } } : { slot, seq, flags, op, lun, cycle };
      break;
    }
    case Opcode.REPLICA_META:
      call = { slot, seq, flags, op, lun: r.u32('lun'), cycle: r.u64('cycle'), base: r.u64('base cycle'), offset: r.u64('offset'), data: r.rest() };
      break;
    default:
      throw new SbpDecodeError(Status.BAD_OPCODE, `unknown opcode 0x${op.toString(16)}`);
  }
  r.end();
  return call;
}

export function encodeReply(m: Reply): Buffer {
  if (m.status !== Status.OK) {
    return prefix(new Writer(PREFIX + strSize(m.message)), m.op, m.status, m).str(m.message).done();
  }
  switch (m.op) {
    case Opcode.DISCOVER: {
      const size = m.volumes.reduce((n, v) => n + 4 + 16 + strSize(v.name) + 8 + 4 + 1, PREFIX + 2);
      const w = prefix(new Writer(size), m.op, m.status, m).u16(m.volumes.length);
      for (const v of m.volumes) w.u32(v.lun).bytes(v.id).str(v.name).u64(v.size).u32(v.blockSize).u8(v.flags);
      return w.done();
    }
    case Opcode.IDENTIFY: {
      const size = PREFIX + strSize(m.vendor) + strSize(m.product) + strSize(m.serial) + 16 + 4 + 8 + 1 + 4;
      return prefix(new Writer(size), m.op, m.status, m)
        .str(m.vendor)
        .str(m.product)
        .str(m.serial)
        .bytes(m.wwn)
        .u32(m.blockSize)
        .u64(m.capacity)
        .u8(m.flags)
        .u32(m.maxTransfer)
        .done();
    }
    case Opcode.CAPACITY:
      return prefix(new Writer(PREFIX + 12), m.op, m.status, m).u64(m.capacity).u32(m.blockSize).done();
    case Opcode.READ:
      return prefix(new Writer(PREFIX + m.data.length), m.op, m.status, m).bytes(m.data).done();
    case Opcode.NOP:
      return prefix(new Writer(PREFIX + 16), m.op, m.status, m).u64(m.time).u64(m.bootVerifier).done();
    default:
      return prefix(new Writer(PREFIX), m.op, m.status, m).done();
  }
}

export function decodeReply(buf: Buffer): Reply {
  const r = new Reader(buf, 'reply');
  const op = r.u8('opcode');
  const status = r.u8('status');
  const slot = r.u16('slot');
  const seq = r.u32('slot sequence');
  if (!(op in OPCODE_NAMES)) throw new SbpDecodeError(Status.BAD_OPCODE, `unknown opcode 0x${op.toString(16)}`);
  let reply: Reply;
  if (status !== Status.OK) {
    if (status > MAX_STATUS) throw new SbpDecodeError(Status.GARBAGE, `unknown status ${status}`);
    reply = { slot, seq, op, status: status as Exclude<Status, Status.OK>, message: r.str('message') };
  } else {
    switch (op) {
      case Opcode.DISCOVER: {
        const count = r.u16('volume count');
        const volumes: VolumeEntry[] = [];
        for (let i = 0; i < count; i++) {
          volumes.push({
            lun: r.u32('lun'),
            id: r.bytes(16, 'volume id'),
            name: r.str('volume name'),
            size: r.u64('volume size'),
            blockSize: r.u32('block size'),
            flags: r.u8('volume flags'),
          });
        }
        reply = { slot, seq, status: Status.OK, op, volumes };
        break;
      }
      case Opcode.IDENTIFY:
        reply = {
          slot,
          seq,
          status: Status.OK,
          op,
          vendor: r.str('vendor'),
          product: r.str('product'),
          serial: r.str('serial'),
          wwn: r.bytes(16, 'wwn'),
          blockSize: r.u32('block size'),
          capacity: r.u64('capacity'),
          flags: r.u8('flags'),
          maxTransfer: r.u32('max transfer'),
        };
        break;
      case Opcode.CAPACITY:
        reply = { slot, seq, status: Status.OK, op, capacity: r.u64('capacity'), blockSize: r.u32('block size') };
        break;
      case Opcode.READ:
        reply = { slot, seq, status: Status.OK, op, data: r.rest() };
        break;
      case Opcode.NOP:
        reply = { slot, seq, status: Status.OK, op, time: r.u64big('time'), bootVerifier: r.u64big('boot verifier') };
        break;
      default:
        reply = { slot, seq, status: Status.OK, op: op as BareReplyOp };
    }
  }
  r.end();
  return reply;
}
