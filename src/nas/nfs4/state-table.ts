import type { stateid4 } from '../../protocols/nfs4/common.codec';
import { NFS4_UINT32_MAX, NFS4_UINT64_MAX, nfs_lock_type4, nfsstat4 } from '../../protocols/nfs4/constants';
import type { LOCK4denied } from '../../protocols/nfs4/ops.codec';
import type { NodeId } from '../fs';
import type { FsView } from '../snapshots/share-view';
import type { Client } from './client-table';
import { fail } from './nfs4-status';

/** The file an open or lock is on: one object of one share. */
export interface FileRef {
  exportId: number;
  fs: Pick<FsView, 'hold' | 'release'>;
  node: NodeId;
}

/** A byte range [start, end) with end up to 2^64 (a length of all ones reaches the end of any file). */
interface LockRange {
  lock: LockState;
  write: boolean;
  start: bigint;
  end: bigint;
}

class FileState {
  readonly opens = new Set<OpenState>();
  readonly locks: LockRange[] = [];
  constructor(
    readonly key: string,
    readonly ref: FileRef,
  ) {}
}

export class OpenState {
  readonly kind = 'open';
  seqid = 1;
  access = 0;
  deny = 0;
  /** Every share_access / share_deny value this open was granted, for OPEN_DOWNGRADE's check. */
  readonly accessSeen = new Set<number>();
  readonly denySeen = new Set<number>();
  readonly locks = new Set<LockState>();
  constructor(
    readonly other: Buffer,
    readonly client: Client,
    readonly owner: Buffer,
    readonly file: FileState,
  ) {}
  get ownerKey(): string {
    return `${this.client.key}:${this.owner.toString('hex')}`;
  }
}

export class LockState {
  readonly kind = 'lock';
  seqid = 0;
  constructor(
    readonly other: Buffer,
    readonly open: OpenState,
    readonly ownerKey: string,
    readonly owner: { clientid: bigint; owner: Buffer },
  ) {}
  get client(): Client {
    return this.open.client;
  }
  get file(): FileState {
    return this.open.file;
  }
}

export type State = OpenState | LockState;

/* RFC 8881 section 8.2.3: special stateids. */
const isZero = (b: Buffer) => b.every((x) => x === 0);
const isOnes = (b: Buffer) => b.every((x) => x === 0xff);
export const isAnonymousStateid = (s: stateid4) => s.seqid === 0 && isZero(s.other);
export const isBypassStateid = (s: stateid4) => s.seqid === NFS4_UINT32_MAX && isOnes(s.other);
export const isCurrentStateid = (s: stateid4) => s.seqid === 1 && isZero(s.other);
export const INVALID_STATEID: stateid4 = Object.freeze({ seqid: NFS4_UINT32_MAX, other: Buffer.alloc(12) }) as stateid4;

/** A lock owner: its client and its opaque owner (what conflicts are decided between). */
export const lockOwnerKey = (client: Client, owner: Buffer): string => `${client.key}:${owner.toString('hex')}`;

const isWrite = (t: number) => t === nfs_lock_type4.WRITE_LT || t === nfs_lock_type4.WRITEW_LT;
const TWO_64 = NFS4_UINT64_MAX + 1n;

/** [start, end) of an offset4/length4 pair; NFS4ERR_INVAL for a zero length or a range past 2^64 (RFC 8881 section 18.10.3). */
export function lockRange(offset: bigint, length: bigint): { start: bigint; end: bigint } {
  if (length === 0n) return fail(nfsstat4.NFS4ERR_INVAL, 'lock length is zero');
  if (length === NFS4_UINT64_MAX) return { start: offset, end: TWO_64 };
  if (offset + length > TWO_64) return fail(nfsstat4.NFS4ERR_INVAL, 'lock range extends past 2^64');
  return { start: offset, end: offset + length };
}

/**
 * Open and lock state (RFC 8881 sections 8, 9 and 18.16): stateids, share reservations with deny modes,
 * POSIX-style byte-range locks per lock owner. An open holds the file in the engine so a removed file
 * lives on until its last close. Nothing here is durable: after a restart clients reclaim in the grace period.
 */
export class StateTable {
  private readonly files = new Map<string, FileState>();
  private readonly states = new Map<string, State>();
  private counter = 0n;

  constructor(private readonly boot: number) {}

  /** Open states and lock ranges in force (for tests and metrics). */
  counts(): { opens: number; locks: number; files: number } {
    let opens = 0;
    let locks = 0;
    for (const f of this.files.values()) {
      opens += f.opens.size;
      locks += f.locks.length;
    }
    return { opens, locks, files: this.files.size };
  }

  stateidOf(s: State): stateid4 {
    return { seqid: s.seqid, other: s.other };
  }

  private newOther(): Buffer {
    const b = Buffer.alloc(12);
    b.writeUInt32BE(this.boot, 0);
    b.writeBigUInt64BE(++this.counter, 4);
    return b;
  }

  private fileKey(f: FileRef): string {
    return `${f.exportId}:${f.node.snap ?? 0}:${f.node.ino}:${f.node.gen}`;
  }

  /** Which state a stateid names, for this client (RFC 8881 section 8.2.2: seqid 0 means the current one). */
  find(sid: stateid4, client: Client): State {
    const s = this.states.get(sid.other.toString('hex'));
    if (!s || s.client !== client) {
      if (sid.other.readUInt32BE(0) !== this.boot && !isZero(sid.other) && !isOnes(sid.other)) fail(nfsstat4.NFS4ERR_STALE_STATEID, 'stateid of an earlier server instance');
      return fail(nfsstat4.NFS4ERR_BAD_STATEID, 'no such stateid');
    }
    if (sid.seqid !== 0 && sid.seqid < s.seqid) fail(nfsstat4.NFS4ERR_OLD_STATEID, `stateid seqid ${sid.seqid} is older than ${s.seqid}`);
    if (sid.seqid > s.seqid) fail(nfsstat4.NFS4ERR_BAD_STATEID, `stateid seqid ${sid.seqid} is newer than ${s.seqid}`);
    return s;
  }

  /** TEST_STATEID's answer for one stateid. */
  test(sid: stateid4, client: Client): nfsstat4 {
    try {
      if (isAnonymousStateid(sid) || isBypassStateid(sid) || isCurrentStateid(sid)) return nfsstat4.NFS4ERR_BAD_STATEID;
      this.find(sid, client);
      return nfsstat4.NFS4_OK;
    } catch (e) {
      return (e as { status?: nfsstat4 }).status ?? nfsstat4.NFS4ERR_BAD_STATEID;
    }
  }

  // ---- opens ---------------------------------------------------------------------------------------------

  /** The open of this owner on this file, if any (an OPEN then upgrades it). */
  openOf(client: Client, owner: Buffer, f: FileRef): OpenState | undefined {
    const file = this.files.get(this.fileKey(f));
    if (!file) return undefined;
    for (const o of file.opens) if (o.client === client && o.owner.equals(owner)) return o;
    return undefined;
  }

  /** The deny modes others hold against this access (READ/WRITE with a special stateid, RFC 8881 section 9.1.2). */
  deniedByOthers(f: FileRef, access: number, except?: OpenState): boolean {
    const file = this.files.get(this.fileKey(f));
    if (!file) return false;
    for (const o of file.opens) if (o !== except && (o.deny & access) !== 0) return true;
    return false;
  }

  /**
   * OPEN: a new open state, or the owner's existing one upgraded; NFS4ERR_SHARE_DENIED when another open
   * denies this access or holds what this one denies.
   */
  open(client: Client, owner: Buffer, f: FileRef, access: number, deny: number): OpenState {
    const key = this.fileKey(f);
    const file = this.files.get(key) ?? new FileState(key, f);
    let mine: OpenState | undefined;
    for (const o of file.opens) {
      if (o.client === client && o.owner.equals(owner)) {
        mine = o;
        continue;
      }
      if ((access & o.deny) !== 0 || (deny & o.access) !== 0) fail(nfsstat4.NFS4ERR_SHARE_DENIED, 'a share reservation of another open conflicts');
    }
    if (mine) {
      mine.access |= access;
      mine.deny |= deny;
      mine.seqid = (mine.seqid + 1) >>> 0;
    } else {
      f.fs.hold(f.node);
      mine = new OpenState(this.newOther(), client, Buffer.from(owner), file);
      mine.access = access;
      mine.deny = deny;
      file.opens.add(mine);
      this.files.set(key, file);
      this.states.set(mine.other.toString('hex'), mine);
    }
    mine.accessSeen.add(access);
    mine.denySeen.add(deny);
    return mine;
  }

  /* OPEN_DOWNGRADE (RFC 8881 section 18.18.3): the new modes must be ones this open was granted. */
  downgrade(o: OpenState, access: number, deny: number): void {
    if ((access & ~o.access) !== 0 || (deny & ~o.deny) !== 0 || !o.accessSeen.has(access) || !o.denySeen.has(deny)) {
      fail(nfsstat4.NFS4ERR_INVAL, 'OPEN_DOWNGRADE to modes this open never had');
    }
    o.access = access;
    o.deny = deny;
    o.accessSeen.clear();
    o.accessSeen.add(access);
    o.denySeen.clear();
    o.denySeen.add(deny);
    o.seqid = (o.seqid + 1) >>> 0;
  }

  /** CLOSE: NFS4ERR_LOCKS_HELD while a lock owner still holds ranges under this open. */
  async close(o: OpenState): Promise<void> {
    for (const l of o.locks) if (o.file.locks.some((r) => r.lock === l)) fail(nfsstat4.NFS4ERR_LOCKS_HELD, 'byte-range locks are held under this open');
    await this.dropOpen(o);
  }

  private async dropOpen(o: OpenState): Promise<void> {
    for (const l of o.locks) this.dropLock(l);
    this.states.delete(o.other.toString('hex'));
    o.file.opens.delete(o);
    this.gcFile(o.file);
    try {
      await o.file.ref.fs.release(o.file.ref.node);
    } catch {
      // The share went away or the file was already released: nothing is held any more.
    }
  }

  private dropLock(l: LockState): void {
    const f = l.file;
    for (let i = f.locks.length - 1; i >= 0; i--) if (f.locks[i].lock === l) f.locks.splice(i, 1);
    l.open.locks.delete(l);
    this.states.delete(l.other.toString('hex'));
  }

  private gcFile(f: FileState): void {
    if (f.opens.size === 0 && f.locks.length === 0) this.files.delete(f.key);
  }

  /** FREE_STATEID (RFC 8881 section 18.38): only a lock stateid without locks can go. */
  free(s: State): void {
    if (s.kind === 'open') fail(nfsstat4.NFS4ERR_LOCKS_HELD, 'an open stateid is freed by CLOSE');
    if (s.file.locks.some((r) => r.lock === s)) fail(nfsstat4.NFS4ERR_LOCKS_HELD, 'the lock stateid still holds locks');
    this.dropLock(s);
  }

  /** A client's state goes (lease expired, client id destroyed or replaced). */
  async dropClient(client: Client): Promise<void> {
    const opens = [...this.states.values()].filter((s): s is OpenState => s.kind === 'open' && s.client === client);
    for (const o of opens) await this.dropOpen(o);
  }

  /** A share went away: forget its state without touching its filesystem. */
  dropExport(exportId: number): void {
    for (const [key, f] of this.files) {
      if (f.ref.exportId !== exportId) continue;
      for (const o of f.opens) {
        for (const l of o.locks) this.states.delete(l.other.toString('hex'));
        this.states.delete(o.other.toString('hex'));
      }
      this.files.delete(key);
    }
  }

  // ---- byte-range locks ------------------------------------------------------------------------------------

  /** The lock state of a lock owner under an open (LOCK with new_lock_owner), made on first use. */
  lockStateFor(open: OpenState, owner: { clientid: bigint; owner: Buffer }): LockState {
    // In 4.1 the client is the session's: lock_owner4's clientid is not looked at (RFC 8881 section 18.10.3).
    const ownerKey = lockOwnerKey(open.client, owner.owner);
    for (const l of open.locks) if (l.ownerKey === ownerKey) return l;
    for (const o of open.file.opens) for (const l of o.locks) if (l.ownerKey === ownerKey) return l;
    const l = new LockState(this.newOther(), open, ownerKey, { clientid: owner.clientid, owner: Buffer.from(owner.owner) });
    open.locks.add(l);
    this.states.set(l.other.toString('hex'), l);
    return l;
  }

  /** The first lock of another owner that conflicts with this range and type. */
  conflict(f: FileRef, ownerKey: string, locktype: number, start: bigint, end: bigint): LOCK4denied | undefined {
    const file = this.files.get(this.fileKey(f));
    if (!file) return undefined;
    const write = isWrite(locktype);
    for (const r of file.locks) {
      if (r.lock.ownerKey === ownerKey || r.start >= end || start >= r.end || (!write && !r.write)) continue;
      return {
        offset: r.start,
        length: r.end === TWO_64 ? NFS4_UINT64_MAX : r.end - r.start,
        locktype: r.write ? nfs_lock_type4.WRITE_LT : nfs_lock_type4.READ_LT,
        owner: r.lock.owner,
      };
    }
    return undefined;
  }

  /** Set a lock (after the conflict check): the owner's ranges in [start, end) become this type. */
  lock(l: LockState, locktype: number, start: bigint, end: bigint): void {
    this.unlockRange(l, start, end);
    const locks = l.file.locks;
    locks.push({ lock: l, write: isWrite(locktype), start, end });
    // Merge this owner's adjacent or overlapping ranges of the same type, as POSIX locks do.
    const mine = locks.filter((r) => r.lock === l).sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    for (let i = locks.length - 1; i >= 0; i--) if (locks[i].lock === l) locks.splice(i, 1);
    const merged: LockRange[] = [];
    for (const r of mine) {
      const last = merged[merged.length - 1];
      if (last && last.write === r.write && r.start <= last.end) last.end = r.end > last.end ? r.end : last.end;
      else merged.push({ ...r });
    }
    locks.push(...merged);
    l.seqid = (l.seqid + 1) >>> 0;
  }

  /** LOCKU: the owner's ranges in [start, end) go; a partial overlap splits a range. */
  unlock(l: LockState, start: bigint, end: bigint): void {
    this.unlockRange(l, start, end);
    l.seqid = (l.seqid + 1) >>> 0;
  }

  private unlockRange(l: LockState, start: bigint, end: bigint): void {
    const locks = l.file.locks;
    const kept: LockRange[] = [];
    for (let i = locks.length - 1; i >= 0; i--) {
      const r = locks[i];
      if (r.lock !== l || r.end <= start || r.start >= end) continue;
      locks.splice(i, 1);
      if (r.start < start) kept.push({ ...r, end: start });
      if (r.end > end) kept.push({ ...r, start: end });
    }
    locks.push(...kept);
  }
}
