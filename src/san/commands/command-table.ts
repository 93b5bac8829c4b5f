import { createHash } from 'node:crypto';
import { Opcode, Status } from '../../protocols/san/constants';
import { encodeReadReplyPrefix, READ_REPLY_PREFIX, VOLUME_READ_ONLY, VOLUME_SHARED, type Call, type Reply, type ReplicaMetadataSum } from '../../protocols/san/message';
import type { VolumeIo } from '../../virtualization/mirrored-disk';
import type { Reservations } from '../reservations';
import type { SanAssignment, SanVolume, SanView } from '../san-view';
import { SanStatusError } from '../san-status';
import type { LunTable } from './lun-table';

export const BLOCK_SIZE = 4096;
export const VENDOR = 'STRATA';
export const PRODUCT = 'Strata volume';

/** What a command sees of its session and the gateway. */
export interface CommandContext {
  sessionId: number;
  hostId: string;
  hostName: string;
  /** The key the session logged in with: a key changed since ends the session's rights. */
  hostKey: Buffer;
  /** The session sends its data in clear (security INTEGRITY): allowed only while the host is set to integrity. */
  integrityOnly: boolean;
  luns: LunTable;
  view: SanView;
  disk(volumeId: string): VolumeIo | undefined;
  reservations: Reservations;
  bootVerifier: bigint;
  maxTransfer: number;
  /** A READ reply buffer: READ_REPLY_PREFIX bytes, then room for `length` bytes of data (large ones are pooled). */
  replyBuffer(length: number): Buffer;
  logout(): void;
  /** Snapshot a replica this host writes as cycle `cycle` (REPLICA_COMMIT); undefined when the gateway keeps no replicas. */
  replicaCommit?(volumeId: string, cycle: number, metadata?: ReplicaMetadataSum): Promise<void>;
  /** Stage bytes of a share replica's metadata database for cycle `cycle` (REPLICA_META). */
  replicaMetadata?(volumeId: string, cycle: number, base: number, offset: number, data: Buffer): Promise<void>;
}

type Body<R> = R extends unknown ? Omit<R, 'slot' | 'seq'> : never;
/** A reply without its slot and sequence, which the dispatcher adds; or, for READ, the encoded reply itself. */
export type ReplyBody = Body<Reply>;

/** The call for opcode K (some union members share a shape across several opcodes). */
export type CallOf<K extends Opcode> = Call extends infer C ? (C extends { op: infer O } ? (K extends O ? C & { op: K } : never) : never) : never;

export interface Command<K extends Opcode> {
  name: string;
  /** Changes data: refused on read-only assignments and on volumes another host reserved. */
  mutates: boolean;
  /** Its reply can be produced again by re-reading (READ): the reply cache may drop it under memory pressure. */
  rereadable: boolean;
  handle(ctx: CommandContext, call: CallOf<K>): Promise<ReplyBody | Buffer>;
}

interface Target {
  volume: SanVolume;
  assignment: SanAssignment;
  disk: VolumeIo;
}

/** Every call first: the host must still exist with the key it logged in with. */
function checkHost(ctx: CommandContext): void {
  const host = ctx.view.hostById(ctx.hostId);
  if (!host) throw new SanStatusError(Status.REVOKED, ctx.view.hostRevocation(ctx.hostId) ?? `host '${ctx.hostName}' was removed`);
  if (!host.key.equals(ctx.hostKey)) throw new SanStatusError(Status.REVOKED, `the key of host '${ctx.hostName}' was changed: log in again`);
  if (ctx.integrityOnly && host.security !== 'integrity') {
    throw new SanStatusError(Status.REVOKED, `host '${ctx.hostName}' was set to encrypt: log in again with security ENCRYPT`);
  }
}

/** A replica this host writes, with the gateway's hook for it: NOT_REPLICA for any other volume, or when the gateway keeps no replicas. */
function replicaTarget<H>(ctx: CommandContext, lun: number, hook: H | undefined): [Target, H] {
  const t = target(ctx, lun, true);
  if (t.volume.replicaHostId !== ctx.hostId || !hook) {
    throw new SanStatusError(Status.NOT_REPLICA, `volume '${t.volume.name}' is not a replica received from host '${ctx.hostName}'`);
  }
  return [t, hook];
}

function target(ctx: CommandContext, lun: number, mutates: boolean): Target {
  checkHost(ctx);
  const volumeId = ctx.luns.volumeOf(lun);
  if (volumeId === undefined) throw new SanStatusError(Status.NOT_ASSIGNED, `lun ${lun} is not known to this session: DISCOVER first`);
  const assignment = ctx.view.assignment(ctx.hostId, volumeId);
  const volume = ctx.view.volume(volumeId);
  const disk = ctx.disk(volumeId);
  if (!assignment || !volume || !disk) {
    const why = ctx.view.assignmentRevocation(ctx.hostId, volumeId);
    if (why) throw new SanStatusError(Status.REVOKED, why);
    throw new SanStatusError(Status.NOT_ASSIGNED, `lun ${lun} is not assigned to host '${ctx.hostName}'`);
  }
  if (mutates) {
    if (assignment.access === 'ro') throw new SanStatusError(Status.READ_ONLY, `volume '${volume.name}' is assigned read-only to host '${ctx.hostName}'`);
    ctx.reservations.checkWrite(volumeId, volume.name, ctx.hostId);
  }
  return { volume, assignment, disk };
}

function checkRange(t: Target, offset: number, length: number): void {
  if (offset % BLOCK_SIZE !== 0 || length % BLOCK_SIZE !== 0) {
    throw new SanStatusError(Status.OUT_OF_RANGE, `offset ${offset} and length ${length} must be multiples of ${BLOCK_SIZE}`);
  }
  if (offset + length > t.disk.size) {
    throw new SanStatusError(Status.OUT_OF_RANGE, `range [${offset}, ${offset + length}) is outside volume '${t.volume.name}' of ${t.disk.size} bytes`);
  }
}

function checkTransfer(ctx: CommandContext, length: number): void {
  if (length > ctx.maxTransfer) throw new SanStatusError(Status.TOO_LARGE, `${length} bytes is more than the max transfer of ${ctx.maxTransfer}`);
}

function flagsOf(a: SanAssignment): number {
  return (a.access === 'ro' ? VOLUME_READ_ONLY : 0) | (a.sharing === 'shared' ? VOLUME_SHARED : 0);
}

/** The volume id (a UUID) as its 16 bytes. */
export function volumeIdBytes(id: string): Buffer {
  return Buffer.from(id.replace(/-/g, ''), 'hex');
}

/** A stable NAA type 6 (registered extended) name derived from the volume id, as SCSI page 0x83 would carry. */
export function wwnOf(volumeId: string): Buffer {
  const wwn = createHash('sha256').update('strata wwn ').update(volumeId).digest().subarray(0, 16);
  wwn[0] = 0x60 | (wwn[0] & 0x0f);
  return wwn;
}

const ok = Status.OK as const;

/*
 * One entry per opcode (docs/san-protocol.md, section 3). Calls arrive decoded
 * and shape-checked by decodeCall (src/protocols/san/message.ts); the entries
 * check rights, ranges and state, then act.
 */
export const COMMANDS: { [K in Opcode]: Command<K> } = {
  // DISCOVER: — → u16 count, per volume: u32 lun, bytes<16> id, str name, u64 size, u32 block size, u8 flags
  [Opcode.DISCOVER]: {
    name: 'DISCOVER',
    mutates: false,
    rereadable: false,
    async handle(ctx) {
      checkHost(ctx);
      const volumes = ctx.view.assignedTo(ctx.hostId).flatMap((a) => {
        const v = ctx.view.volume(a.volumeId);
        const disk = ctx.disk(a.volumeId);
        if (!v || !disk) return [];
        return [{ lun: ctx.luns.lunFor(v.id), id: volumeIdBytes(v.id), name: v.name, size: disk.size, blockSize: BLOCK_SIZE, flags: flagsOf(a) }];
      });
      return { op: Opcode.DISCOVER, status: ok, volumes };
    },
  },
  // IDENTIFY: u32 lun → str vendor, str product, str serial, bytes<16> wwn, u32 block size, u64 capacity, u8 flags, u32 max transfer
  [Opcode.IDENTIFY]: {
    name: 'IDENTIFY',
    mutates: false,
    rereadable: false,
    async handle(ctx, call) {
      const t = target(ctx, call.lun, false);
      return {
        op: Opcode.IDENTIFY,
        status: ok,
        vendor: VENDOR,
        product: PRODUCT,
        serial: t.volume.serial,
        wwn: wwnOf(t.volume.id),
        blockSize: BLOCK_SIZE,
        capacity: t.disk.size,
        flags: flagsOf(t.assignment),
        maxTransfer: ctx.maxTransfer,
      };
    },
  },
  // CAPACITY: u32 lun → u64 capacity, u32 block size
  [Opcode.CAPACITY]: {
    name: 'CAPACITY',
    mutates: false,
    rereadable: false,
    async handle(ctx, call) {
      const t = target(ctx, call.lun, false);
      return { op: Opcode.CAPACITY, status: ok, capacity: t.disk.size, blockSize: BLOCK_SIZE };
    },
  },
  // READY: u32 lun → — (the status says)
  [Opcode.READY]: {
    name: 'READY',
    mutates: false,
    rereadable: false,
    async handle(ctx, call) {
      const t = target(ctx, call.lun, false);
      const health = t.disk.pool.health();
      if (health.state === 'failed') throw new SanStatusError(Status.IO_ERROR, `pool '${t.disk.pool.name}' has failed`);
      return { op: Opcode.READY, status: ok };
    },
  },
  // READ: u32 lun, u64 offset, u32 length → data. The reply is built in place: the disk reads straight into it.
  [Opcode.READ]: {
    name: 'READ',
    mutates: false,
    rereadable: true,
    async handle(ctx, call) {
      const t = target(ctx, call.lun, false);
      checkTransfer(ctx, call.length);
      checkRange(t, call.offset, call.length);
      const reply = ctx.replyBuffer(call.length);
      encodeReadReplyPrefix(reply, call);
      await t.disk.readInto(call.offset, reply.subarray(READ_REPLY_PREFIX));
      return reply;
    },
  },
  // WRITE: u32 lun, u64 offset, data → —
  [Opcode.WRITE]: {
    name: 'WRITE',
    mutates: true,
    rereadable: false,
    async handle(ctx, call) {
      const t = target(ctx, call.lun, true);
      checkTransfer(ctx, call.data.length);
      checkRange(t, call.offset, call.data.length);
      await t.disk.write(call.offset, call.data, { fua: (call.flags & 1) !== 0 });
      return { op: Opcode.WRITE, status: ok };
    },
  },
  // FLUSH: u32 lun → —
  [Opcode.FLUSH]: {
    name: 'FLUSH',
    mutates: false,
    rereadable: false,
    async handle(ctx, call) {
      const t = target(ctx, call.lun, false);
      await t.disk.flush();
      return { op: Opcode.FLUSH, status: ok };
    },
  },
  // UNMAP: u32 lun, u64 offset, u64 length → —
  [Opcode.UNMAP]: {
    name: 'UNMAP',
    mutates: true,
    rereadable: false,
    async handle(ctx, call) {
      const t = target(ctx, call.lun, true);
      checkRange(t, call.offset, call.length);
      await t.disk.discard(call.offset, call.length);
      return { op: Opcode.UNMAP, status: ok };
    },
  },
  // WRITE_ZEROES: u32 lun, u64 offset, u64 length (flags FUA, NO_UNMAP) → —
  [Opcode.WRITE_ZEROES]: {
    name: 'WRITE_ZEROES',
    mutates: true,
    rereadable: false,
    async handle(ctx, call) {
      const t = target(ctx, call.lun, true);
      checkRange(t, call.offset, call.length);
      // NO_UNMAP asks to keep pages allocated; the disk zeroes thin whole pages by releasing them, so keep them by writing zeros.
      if ((call.flags & 2) !== 0) {
        const zero = Buffer.alloc(Math.min(call.length, 1 << 20));
        for (let off = 0; off < call.length; off += zero.length) {
          await t.disk.write(call.offset + off, zero.subarray(0, Math.min(zero.length, call.length - off)));
        }
        if ((call.flags & 1) !== 0) await t.disk.flush();
      } else {
        await t.disk.writeZeroes(call.offset, call.length, { fua: (call.flags & 1) !== 0 });
      }
      return { op: Opcode.WRITE_ZEROES, status: ok };
    },
  },
  // RESERVE: u32 lun → — (RESERVED when another host holds it)
  [Opcode.RESERVE]: {
    name: 'RESERVE',
    mutates: false,
    rereadable: false,
    async handle(ctx, call) {
      const t = target(ctx, call.lun, false);
      if (t.assignment.access === 'ro') throw new SanStatusError(Status.READ_ONLY, `volume '${t.volume.name}' is assigned read-only: nothing to reserve`);
      ctx.reservations.reserve(t.volume.id, t.volume.name, { hostId: ctx.hostId, hostName: ctx.hostName, sessionId: ctx.sessionId });
      return { op: Opcode.RESERVE, status: ok };
    },
  },
  // RELEASE: u32 lun → —
  [Opcode.RELEASE]: {
    name: 'RELEASE',
    mutates: false,
    rereadable: false,
    async handle(ctx, call) {
      const t = target(ctx, call.lun, false);
      ctx.reservations.release(t.volume.id, ctx.hostId);
      return { op: Opcode.RELEASE, status: ok };
    },
  },
  // NOP: u64 client time → u64 client time, u64 boot verifier
  [Opcode.NOP]: {
    name: 'NOP',
    mutates: false,
    rereadable: false,
    async handle(ctx, call) {
      return { op: Opcode.NOP, status: ok, time: call.time, bootVerifier: ctx.bootVerifier };
    },
  },
  // REPLICA_COMMIT: u32 lun, u64 cycle → — (section 10). After the cycle's FLUSH: the replica becomes `<volume>@cycle-<cycle>`.
  [Opcode.REPLICA_COMMIT]: {
    name: 'REPLICA_COMMIT',
    mutates: true,
    rereadable: false,
    async handle(ctx, call) {
      const [t, commit] = replicaTarget(ctx, call.lun, ctx.replicaCommit);
      if (call.cycle < 1) throw new SanStatusError(Status.GARBAGE, 'REPLICA_COMMIT: cycle numbers start at 1');
      await commit(t.volume.id, call.cycle, call.metadata);
      return { op: Opcode.REPLICA_COMMIT, status: ok };
    },
  },
  // REPLICA_META: u32 lun, u64 cycle, u64 base, u64 offset, data → — (section 10.1). Bytes of a share replica's metadata database.
  [Opcode.REPLICA_META]: {
    name: 'REPLICA_META',
    mutates: true,
    rereadable: false,
    async handle(ctx, call) {
      const [t, stage] = replicaTarget(ctx, call.lun, ctx.replicaMetadata);
      checkTransfer(ctx, call.data.length);
      if (call.cycle < 1 || call.base >= call.cycle) throw new SanStatusError(Status.GARBAGE, `REPLICA_META: cycle ${call.cycle} cannot start from cycle ${call.base}`);
      await stage(t.volume.id, call.cycle, call.base, call.offset, call.data);
      return { op: Opcode.REPLICA_META, status: ok };
    },
  },
  // LOGOUT: — → —; the session ends once the reply is out.
  [Opcode.LOGOUT]: {
    name: 'LOGOUT',
    mutates: false,
    rereadable: false,
    async handle(ctx) {
      ctx.logout();
      return { op: Opcode.LOGOUT, status: ok };
    },
  },
};
