import type { BlockStore } from './fs';

/** A write accepted but not yet landed on the inner store. */
interface Entry {
  /** Acceptance order: failed writes are retried in it. */
  seq: number;
  start: number;
  end: number;
  /** Our copy of the bytes (a view of a pooled chunk when `pooled` is set). */
  data: Buffer;
  pooled: Buffer | null;
  /** Handed to the inner store: no more writes join it. */
  started: boolean;
  /** Settles true once the bytes are on the inner store, false if the write failed (or was not tried). Never rejects. */
  landed: Promise<boolean>;
}

export interface WriteBehindOptions {
  /** Bytes accepted and not yet landed, at most; a write beyond it waits for room. */
  maxBytes?: number;
  /** Writes accepted and not yet landed, at most (bounds the overlap scans). */
  maxWrites?: number;
  /** Size of the reusable chunks large writes are copied to; contiguous writes share one while they wait. */
  chunkSize?: number;
  /** Writes handed to the inner store at once; later ones wait, and contiguous ones join up meanwhile. */
  maxInFlight?: number;
}

const LANDED = Promise.resolve(true);
const MiB = 2 ** 20;
/**
 * Eight NFS WRITEs: enough to overlap a thin volume's allocation commits; a deeper backlog keeps more
 * writes' bookkeeping alive across young-generation collections, and V8 then runs a mark-compact every
 * few megabytes.
 */
const DEFAULT_MAX_BYTES = 8 * MiB;
const DEFAULT_MAX_WRITES = 1024;
/** An NFS WRITE's largest: one chunk per WRITE; smaller contiguous writes share one. */
const DEFAULT_CHUNK = MiB;
/** The whole default backlog at once: allocations that land together share one catalog commit and device flush. */
const DEFAULT_IN_FLIGHT = 8;
/** Writes below this are copied into buffers of their own; larger ones into pooled chunks. */
const POOL_FROM = 64 * 1024;

/**
 * Write-behind in front of a share's volume, for the filesystem engine: a
 * write is accepted at once and lands in the background, as a local
 * filesystem's page cache takes it, so an NFS UNSTABLE WRITE is answered
 * while its data (and a thin volume's page allocation, which commits to the
 * catalog) is still on its way, and the next one overlaps it.
 *
 * What keeps this safe:
 * - flush() resolves only once every write accepted before it has landed and
 *   the inner store is flushed; the engine's journal flushes before it
 *   commits metadata, so metadata never points at data that is not there.
 * - Overlapping writes land in the order they were accepted; reads, discards
 *   and write-zeroes wait for the writes they overlap, so every reader sees
 *   what was written.
 * - A write that fails keeps its data and is retried, in order, before
 *   anything else touches the store (and by every flush); until it lands,
 *   flushes fail, so the engine commits nothing more and changes its write
 *   verifier, and NFS clients send their unstable data again.
 * - FUA writes go straight through (after the writes they overlap).
 *
 * At most `maxInFlight` writes are on their way to the inner store; a write
 * that continues a waiting one joins it while its chunk has room, so small
 * sequential writes reach the volume in chunk-sized ones.
 *
 * Accepted bytes are copied, so the caller may reuse its buffer at once (an
 * RPC record is free when its call returns). Large writes are copied into a
 * pool of chunks allocated once: request-sized buffers that each live until
 * their write lands would otherwise survive young-generation collections and
 * make V8 run a full mark-compact every few dozen megabytes.
 */
export class WriteBehindStore implements BlockStore {
  readonly size: number;
  readonly pageSize?: number;
  /** Present when the inner store has it; runs after the writes it overlaps. */
  readonly writeZeroes?: (offset: number, length: number) => Promise<void>;
  private readonly maxBytes: number;
  private readonly maxWrites: number;
  private readonly chunkSize: number;
  private readonly maxChunks: number;
  private readonly maxInFlight: number;
  /** Chunks free for reuse, and how many were ever made (at most maxChunks). */
  private readonly chunks: Buffer[] = [];
  private chunksMade = 0;
  private inFlight = 0;
  private slotWaiters: Array<() => void> = [];
  private pending: Entry[] = [];
  private pendingBytes = 0;
  /** Writes that failed, in acceptance order, still holding their data. */
  private failed: Entry[] = [];
  private recovering: Promise<void> | null = null;
  private roomWaiters: Array<() => void> = [];
  private seq = 0;
  private stopped = false;

  constructor(
    private readonly inner: BlockStore,
    opts: WriteBehindOptions = {},
  ) {
    this.size = inner.size;
    if (inner.pageSize !== undefined) this.pageSize = inner.pageSize;
    this.maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
    this.maxWrites = opts.maxWrites ?? DEFAULT_MAX_WRITES;
    this.chunkSize = opts.chunkSize ?? DEFAULT_CHUNK;
    this.maxChunks = Math.max(1, Math.floor(this.maxBytes / this.chunkSize));
    this.maxInFlight = opts.maxInFlight ?? DEFAULT_IN_FLIGHT;
    if (inner.writeZeroes) this.writeZeroes = (offset, length) => this.afterOverlapping(offset, length, () => inner.writeZeroes!(offset, length));
  }

  /** Bytes accepted and not yet landed (failed ones included). */
  get backlog(): number {
    return this.pendingBytes;
  }

  async write(offset: number, data: Buffer, opts?: { fua?: boolean }): Promise<void> {
    if (this.stopped) throw new Error('store is closed');
    if (data.length === 0) return opts?.fua ? this.flush() : undefined;
    // Straight through: FUA, a write larger than the whole backlog, or while an earlier write is failing.
    if (opts?.fua || data.length > this.maxBytes || this.failed.length > 0) {
      return this.afterOverlapping(offset, data.length, () => this.inner.write(offset, data, opts));
    }
    while (this.pendingBytes + data.length > this.maxBytes || this.pending.length >= this.maxWrites) {
      await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
      if (this.stopped) throw new Error('store is closed');
      if (this.failed.length > 0) return this.afterOverlapping(offset, data.length, () => this.inner.write(offset, data));
    }
    this.accept(offset, data);
  }

  async readInto(offset: number, target: Buffer): Promise<void> {
    return this.afterOverlapping(offset, target.length, () => this.inner.readInto(offset, target));
  }

  async discard(offset: number, length: number): Promise<void> {
    return this.afterOverlapping(offset, length, () => this.inner.discard(offset, length));
  }

  /** Every write accepted so far lands, then the inner store flushes. */
  async flush(): Promise<void> {
    const all = this.pending.map((e) => e.landed);
    if (all.length > 0) await Promise.all(all);
    await this.recover();
    await this.inner.flush();
  }

  /**
   * Stop: writes not yet started are dropped and new ones refused (the share
   * is going away, nothing is to be flushed to it); resolves once the writes
   * already on their way have settled.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    const all = this.pending.map((e) => e.landed);
    this.wakeRoomWaiters();
    await Promise.all(all);
  }

  private accept(offset: number, data: Buffer): void {
    const start = offset;
    const end = offset + data.length;
    const before = this.overlapping(start, end);
    const last = this.pending[this.pending.length - 1];
    if (before.length === 0 && last && !last.started && last.pooled && last.end === start && last.data.length + data.length <= last.pooled.length) {
      // Continues a write still waiting for its turn (and overlaps nothing pending): it lands with it.
      data.copy(last.pooled, last.data.length);
      last.data = last.pooled.subarray(0, last.data.length + data.length);
      last.end = end;
      this.pendingBytes += data.length;
      return;
    }
    let pooled: Buffer | null = null;
    let copy: Buffer;
    if (data.length >= POOL_FROM && data.length <= this.chunkSize && (this.chunks.length > 0 || this.chunksMade < this.maxChunks)) {
      pooled = this.chunks.pop() ?? this.newChunk();
      copy = pooled.subarray(0, data.length);
      data.copy(copy);
    } else {
      copy = Buffer.from(data);
    }
    const entry: Entry = { seq: ++this.seq, start, end, data: copy, pooled, started: false, landed: LANDED };
    // Listed before land() starts: it may settle synchronously.
    this.pending.push(entry);
    this.pendingBytes += data.length;
    entry.landed = this.land(entry, before);
  }

  private newChunk(): Buffer {
    this.chunksMade++;
    return Buffer.allocUnsafeSlow(this.chunkSize);
  }

  /**
   * Write after the overlapping writes accepted earlier, once a slot is free; not at all if one of those
   * failed (order must hold).
   */
  private async land(entry: Entry, before: Entry[]): Promise<boolean> {
    let ok = true;
    if (before.length > 0) ok = (await Promise.all(before.map((e) => e.landed))).every(Boolean);
    if (ok && !this.stopped) {
      if (this.inFlight >= this.maxInFlight) await new Promise<void>((resolve) => this.slotWaiters.push(resolve));
      else this.inFlight++;
      // The slot is ours (handed over by the write that freed it, or taken above).
      entry.started = true;
      try {
        if (this.stopped) throw new Error('store is closed');
        await this.inner.write(entry.start, entry.data);
      } catch {
        ok = false;
      }
      const next = this.slotWaiters.shift();
      if (next) next();
      else this.inFlight--;
    } else {
      ok = false;
    }
    this.pending.splice(this.pending.indexOf(entry), 1);
    if (ok || this.stopped) {
      this.done(entry);
    } else {
      this.failed.push(entry);
      this.failed.sort((a, b) => a.seq - b.seq);
    }
    this.wakeRoomWaiters();
    return ok;
  }

  /** A write has landed (or is dropped): its bytes no longer count and its chunk goes back. */
  private done(e: Entry): void {
    this.pendingBytes -= e.data.length;
    if (e.pooled) this.chunks.push(e.pooled);
  }

  private wakeRoomWaiters(): void {
    for (const wake of this.roomWaiters.splice(0)) wake();
  }

  private overlapping(start: number, end: number): Entry[] {
    const out: Entry[] = [];
    for (const e of this.pending) if (e.start < end && start < e.end) out.push(e);
    return out;
  }

  /** Run `op` once every accepted write it overlaps has landed (failed ones retried first). */
  private async afterOverlapping<T>(offset: number, length: number, op: () => Promise<T>): Promise<T> {
    if (this.stopped) throw new Error('store is closed');
    const before = this.overlapping(offset, offset + length);
    if (before.length > 0) await Promise.all(before.map((e) => e.landed));
    await this.recover();
    return op();
  }

  /** Retry failed writes in acceptance order; throws (keeping them) if one fails again. */
  private recover(): Promise<void> {
    if (this.failed.length === 0) return Promise.resolve();
    this.recovering ??= (async () => {
      try {
        while (this.failed.length > 0) {
          // Writes accepted after a failure and still landing go first, so the retry order is acceptance order.
          const inFlight = this.pending.map((e) => e.landed);
          if (inFlight.length > 0) await Promise.all(inFlight);
          const e = this.failed[0];
          if (this.stopped) return;
          await this.inner.write(e.start, e.data);
          this.failed.shift();
          this.done(e);
          this.wakeRoomWaiters();
        }
      } finally {
        this.recovering = null;
      }
    })();
    return this.recovering;
  }
}
