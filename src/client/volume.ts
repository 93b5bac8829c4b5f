import { CallFlag, Opcode, OPCODE_NAMES, Status } from '../protocols/san/constants';
import { VOLUME_READ_ONLY, VOLUME_SHARED, type Identity, type ReplicaMetadataSum, type Reply } from '../protocols/san/message';
import type { CallRequest, ClientSession } from './client-session';
import type { PathSet } from './path-set';
import { PathDown, SanError } from './san-error';

export interface VolumeDescription {
  /** The volume id (16 bytes, hex). */
  id: string;
  name: string;
  /** LUN on the client's first session (each session numbers its own). */
  lun: number;
  size: number;
  blockSize: number;
  readOnly: boolean;
  shared: boolean;
}

/** Below this an I/O goes whole to one session: splitting small I/O costs more than it gains. */
const SPLIT_THRESHOLD = 256 * 1024;

/** Calls after which the sessions that carried them must be flushed. */
const WRITES = new Set<Opcode>([Opcode.WRITE, Opcode.WRITE_ZEROES, Opcode.UNMAP]);

interface Piece {
  session: ClientSession;
  offset: number;
  length: number;
}

/**
 * An open volume over all of a client's sessions (paths). A large READ or
 * WRITE is cut into block-aligned pieces that run in parallel, one per
 * session; small ones go to the least busy session. A call whose path goes
 * down (PathDown) is sent again on another path, or waits for one to come
 * back (PathSet.waitMs), so a lost path never reaches the caller. FLUSH
 * waits for every earlier write, then flushes on each session that carried
 * writes (on another path to the same gateway if that one is down: a FLUSH
 * covers the whole volume there).
 */
export class Volume {
  /** Writes not yet answered: FLUSH waits for those issued before it. */
  private readonly writes = new Set<Promise<unknown>>();
  private readonly dirty = new Set<ClientSession>();
  private closed = false;

  constructor(
    readonly description: VolumeDescription,
    private readonly paths: PathSet,
    private readonly host: string,
  ) {}

  get name(): string {
    return this.description.name;
  }

  get size(): number {
    return this.description.size;
  }

  async read(offset: number, length: number): Promise<Buffer> {
    const out = Buffer.allocUnsafe(length);
    await this.readInto(offset, out);
    return out;
  }

  /** READ into `buf` (its length is the length read): the data reassembles there straight from the datagrams. */
  async readInto(offset: number, buf: Buffer): Promise<void> {
    this.check(offset, buf.length);
    const session = this.whole(buf.length);
    if (session) return this.readPiece(session, offset, buf);
    const pieces = await this.split(offset, buf.length);
    await Promise.all(pieces.map((p) => this.readPiece(p.session, p.offset, buf.subarray(p.offset - offset, p.offset - offset + p.length))));
  }

  /** `data` is sent from where it lies, not copied: it must not change until the returned promise settles. */
  async write(offset: number, data: Buffer, opts: { fua?: boolean } = {}): Promise<void> {
    this.check(offset, data.length);
    const flags = opts.fua ? CallFlag.FUA : 0;
    const put = (session: ClientSession, at: number, piece: Buffer) => this.call({ op: Opcode.WRITE, flags, volume: this.description.id, offset: at, data: piece }, session);
    const session = this.whole(data.length);
    const done: Promise<unknown> = session
      ? put(session, offset, data)
      : this.split(offset, data.length).then((pieces) => Promise.all(pieces.map((p) => put(p.session, p.offset, data.subarray(p.offset - offset, p.offset - offset + p.length)))));
    this.track(done);
    await done;
  }

  /** Durable once every write issued before it is: waits for them, then FLUSH on each session that wrote. */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.writes]);
    const sessions = [...this.dirty];
    this.dirty.clear();
    if (sessions.length === 0) {
      await this.call({ op: Opcode.FLUSH, flags: 0, volume: this.description.id });
      return;
    }
    await Promise.all(sessions.map((s) => this.call({ op: Opcode.FLUSH, flags: 0, volume: this.description.id }, s)));
  }

  async unmap(offset: number, length: number): Promise<void> {
    this.check(offset, length);
    await this.tracked(this.call({ op: Opcode.UNMAP, flags: 0, volume: this.description.id, offset, length }));
  }

  async writeZeroes(offset: number, length: number, opts: { fua?: boolean; noUnmap?: boolean } = {}): Promise<void> {
    this.check(offset, length);
    const flags = (opts.fua ? CallFlag.FUA : 0) | (opts.noUnmap ? CallFlag.NO_UNMAP : 0);
    await this.tracked(this.call({ op: Opcode.WRITE_ZEROES, flags, volume: this.description.id, offset, length }));
  }

  /** A write reservation: other hosts' writes get RESERVED until release() or this session ends. */
  async reserve(): Promise<void> {
    await this.call({ op: Opcode.RESERVE, flags: 0, volume: this.description.id }, this.paths.sessions[0]);
  }

  async release(): Promise<void> {
    await this.call({ op: Opcode.RELEASE, flags: 0, volume: this.description.id }, this.paths.sessions[0]);
  }

  /**
   * REPLICA_COMMIT (docs/san-protocol.md, section 10): the replica this host
   * writes holds cycle `cycle` now; the gateway snapshots it. Send it after
   * flush() has returned.
   */
  async replicaCommit(cycle: number, metadata?: ReplicaMetadataSum): Promise<void> {
    await this.call({ op: Opcode.REPLICA_COMMIT, flags: 0, volume: this.description.id, cycle, ...(metadata ? { metadata } : {}) });
  }

  /**
   * REPLICA_META (section 10.1): bytes of a share replica's metadata
   * database for cycle `cycle`, at `offset` of a copy that starts as cycle
   * `base`'s (0: empty). Idempotent: sent again after a restart as it is.
   */
  async replicaMetadata(cycle: number, base: number, offset: number, data: Buffer): Promise<void> {
    await this.call({ op: Opcode.REPLICA_META, flags: 0, volume: this.description.id, cycle, base, offset, data });
  }

  async identify(): Promise<Identity> {
    const r = await this.call({ op: Opcode.IDENTIFY, flags: 0, volume: this.description.id });
    if (r.status !== Status.OK || r.op !== Opcode.IDENTIFY) throw new Error('IDENTIFY: unexpected reply');
    const { op: _op, status: _status, slot: _slot, seq: _seq, ...identity } = r;
    return identity;
  }

  async capacity(): Promise<{ capacity: number; blockSize: number }> {
    const r = await this.call({ op: Opcode.CAPACITY, flags: 0, volume: this.description.id });
    if (r.status !== Status.OK || r.op !== Opcode.CAPACITY) throw new Error('CAPACITY: unexpected reply');
    return { capacity: r.capacity, blockSize: r.blockSize };
  }

  /** Flushes what was written; the sessions stay with the client. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.dirty.size > 0 || this.writes.size > 0) await this.flush();
    this.closed = true;
  }

  private async readPiece(session: ClientSession, offset: number, into: Buffer): Promise<void> {
    const r = await this.call({ op: Opcode.READ, flags: 0, volume: this.description.id, offset, length: into.length, into }, session);
    if (r.status !== Status.OK || r.op !== Opcode.READ) throw new Error('READ: unexpected reply');
    // The session put the data in `into`; a reply of another length cannot have gone there.
    if (r.data !== into) throw new SanError(Status.GARBAGE, `READ of ${into.length} bytes at ${offset} was answered with ${r.data.length}`, session.address);
  }

  /**
   * One call, on `prefer` while it can carry it, else on the least busy
   * path; sent again elsewhere when its path goes down under it.
   */
  private async call(request: CallRequest, prefer?: ClientSession): Promise<Reply> {
    let session = prefer && this.paths.usable(prefer, this.description.id) ? prefer : this.paths.pick(this.description.id);
    let deadline = 0;
    for (;;) {
      if (!session) {
        deadline ||= this.paths.now() + this.paths.waitMs;
        session = await this.paths.wait(this.description.id, this.name, deadline);
      }
      let r: Reply;
      try {
        r = await session.call(request);
      } catch (e) {
        if (!(e instanceof PathDown)) throw e;
        session = this.paths.pick(this.description.id);
        continue;
      }
      if (r.status !== Status.OK) throw new SanError(r.status, `${OPCODE_NAMES[request.op]} on volume '${this.name}' (host '${this.host}', gateway ${session.address}): ${r.message}`, session.address);
      if (WRITES.has(request.op)) this.dirty.add(session);
      return r;
    }
  }

  private tracked<T>(p: Promise<T>): Promise<T> {
    this.track(p);
    return p;
  }

  private track(p: Promise<unknown>): void {
    this.writes.add(p);
    const forget = () => this.writes.delete(p);
    p.then(forget, forget);
  }

  /**
   * The session a transfer of `length` bytes goes to in one piece, when it
   * needs no split and a path is up (most small I/O: no pieces array, no
   * Promise.all); undefined leaves it to split(), which may wait for a path.
   */
  private whole(length: number): ClientSession | undefined {
    const session = this.paths.pick(this.description.id);
    return session && fitsOneCall(length, session) ? session : undefined;
  }

  /** Block-aligned pieces over the paths up now, one per session (each at most the session's max transfer). */
  private async split(offset: number, length: number): Promise<Piece[]> {
    const id = this.description.id;
    const first = this.paths.pick(id) ?? (await this.paths.wait(id, this.name, this.paths.now() + this.paths.waitMs));
    if (fitsOneCall(length, first)) return [{ session: first, offset, length }];
    const sessions = this.paths.all(id);
    if (sessions.length === 0) sessions.push(first);
    const bs = this.description.blockSize;
    const maxTransfer = Math.min(...sessions.map((s) => s.maxTransfer));
    const per = Math.min(maxTransfer - (maxTransfer % bs), Math.ceil(length / sessions.length / bs) * bs);
    const pieces: Piece[] = [];
    const order = sessions.sort((a, b) => a.inFlight - b.inFlight);
    for (let at = 0, i = 0; at < length; at += per, i++) pieces.push({ session: order[i % order.length], offset: offset + at, length: Math.min(per, length - at) });
    return pieces;
  }

  private check(offset: number, length: number): void {
    if (this.closed) throw new Error(`volume '${this.name}' is closed`);
    const bs = this.description.blockSize;
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset % bs !== 0 || length % bs !== 0) {
      throw new SanError(Status.OUT_OF_RANGE, `offset ${offset} and length ${length} must be non-negative multiples of the block size ${bs}`);
    }
    if (offset + length > this.description.size) {
      throw new SanError(Status.OUT_OF_RANGE, `range [${offset}, ${offset + length}) is outside volume '${this.name}' of ${this.description.size} bytes`);
    }
  }
}

/** A transfer that goes to one session in one call, not split across the paths. */
const fitsOneCall = (length: number, session: ClientSession): boolean => length <= SPLIT_THRESHOLD && length <= session.maxTransfer;

export const volumeFlags = (flags: number) => ({ readOnly: (flags & VOLUME_READ_ONLY) !== 0, shared: (flags & VOLUME_SHARED) !== 0 });
