import type { NbdExport } from '../nbd/nbd-server';

/** What the bridge needs of an open SAN volume (a client Volume fits). */
export interface BlockVolume {
  readonly name: string;
  readonly size: number;
  readonly description: { blockSize: number; readOnly: boolean };
  read(offset: number, length: number): Promise<Buffer>;
  /** READ into `buf` (block-aligned offset and length). */
  readInto(offset: number, buf: Buffer): Promise<void>;
  write(offset: number, data: Buffer, opts?: { fua?: boolean }): Promise<void>;
  flush(): Promise<void>;
  unmap(offset: number, length: number): Promise<void>;
  writeZeroes(offset: number, length: number, opts?: { fua?: boolean }): Promise<void>;
}

export interface BridgeCounters {
  reads: number;
  writes: number;
  bytesRead: number;
  bytesWritten: number;
  flushes: number;
  trims: number;
  zeroes: number;
  /** Writes that were not block aligned and went through read-modify-write. */
  partialWrites: number;
  errors: number;
}

/**
 * A SAN volume as an NBD export (the SAN↔NBD bridge of strata-client).
 * Size and read-only come from DISCOVER: NBD's handshake and INFO are
 * answered without a round trip. The SAN moves whole blocks; NBD clients may
 * ask for any byte range (the server announces a minimum block size of 1),
 * so an unaligned READ reads the covering blocks, and an unaligned WRITE or
 * WRITE_ZEROES reads, patches and writes back its partial end blocks, one
 * at a time per block so two of them never lose each other's bytes. TRIM is
 * advisory: only the whole blocks inside it are unmapped.
 */
export class VolumeExport implements NbdExport {
  readonly name: string;
  readonly size: number;
  readonly readOnly: boolean;
  readonly counters: BridgeCounters = { reads: 0, writes: 0, bytesRead: 0, bytesWritten: 0, flushes: 0, trims: 0, zeroes: 0, partialWrites: 0, errors: 0 };
  private readonly bs: number;
  /** Partial blocks being patched: block index → the patch in progress. */
  private readonly patching = new Map<number, Promise<void>>();

  constructor(
    private readonly volume: BlockVolume,
    opts: { name?: string; readOnly?: boolean } = {},
  ) {
    this.name = opts.name ?? volume.name;
    this.size = volume.size;
    // A read-only assignment is served read-only; a writable one may be too, if asked.
    this.readOnly = volume.description.readOnly || Boolean(opts.readOnly);
    this.bs = volume.description.blockSize;
  }

  get blockSize(): number {
    return this.bs;
  }

  async read(offset: number, length: number): Promise<Buffer> {
    return this.count(async () => {
      this.counters.reads++;
      this.counters.bytesRead += length;
      if (length === 0) return Buffer.alloc(0);
      const start = this.floor(offset);
      const end = this.ceil(offset + length);
      const data = await this.volume.read(start, end - start);
      return start === offset && end === offset + length ? data : data.subarray(offset - start, offset - start + length);
    });
  }

  async readInto(offset: number, target: Buffer): Promise<void> {
    // Block-aligned (what NBD clients send): the data reassembles in the NBD server's buffer, no copy.
    if (target.length > 0 && offset % this.bs === 0 && target.length % this.bs === 0) {
      await this.count(async () => {
        this.counters.reads++;
        this.counters.bytesRead += target.length;
        await this.volume.readInto(offset, target);
      });
      return;
    }
    (await this.read(offset, target.length)).copy(target);
  }

  async write(offset: number, data: Buffer, opts: { fua?: boolean } = {}): Promise<void> {
    return this.count(async () => {
      this.counters.writes++;
      this.counters.bytesWritten += data.length;
      await this.writeRange(offset, data.length, (block, at, from, to) => data.copy(block, at, from, to), (o, len) => this.volume.write(o, data.subarray(o - offset, o - offset + len), opts), opts);
    });
  }

  async flush(): Promise<void> {
    return this.count(async () => {
      this.counters.flushes++;
      await this.volume.flush();
    });
  }

  async discard(offset: number, length: number): Promise<void> {
    return this.count(async () => {
      this.counters.trims++;
      const start = this.ceil(offset);
      const end = this.floor(offset + length);
      if (end > start) await this.volume.unmap(start, end - start);
    });
  }

  async writeZeroes(offset: number, length: number, opts: { fua?: boolean } = {}): Promise<void> {
    return this.count(async () => {
      this.counters.zeroes++;
      await this.writeRange(offset, length, (block, at, from, to) => block.fill(0, at, at + (to - from)), (o, len) => this.volume.writeZeroes(o, len, opts), opts);
    });
  }

  /**
   * A write of [offset, offset+length): the whole blocks inside through
   * `whole`, each partial end block read, patched by `patch(block, at,
   * from, to)` (source bytes [from, to) of the request land at `at`) and
   * written back.
   */
  private async writeRange(
    offset: number,
    length: number,
    patch: (block: Buffer, at: number, from: number, to: number) => void,
    whole: (offset: number, length: number) => Promise<void>,
    opts: { fua?: boolean },
  ): Promise<void> {
    if (length === 0) return;
    const bs = this.bs;
    const end = offset + length;
    const innerStart = this.ceil(offset);
    const innerEnd = this.floor(end);
    const jobs: Array<Promise<void>> = [];
    if (innerEnd > innerStart) jobs.push(whole(innerStart, innerEnd - innerStart));
    const headBlock = this.floor(offset);
    if (offset !== headBlock || (innerEnd <= innerStart && end !== this.ceil(end))) {
      // The first block is partial (or the whole request sits inside one block).
      const to = Math.min(end, headBlock + bs);
      jobs.push(this.patchBlock(headBlock, (b) => patch(b, offset - headBlock, 0, to - offset), opts));
    }
    const tailBlock = this.floor(end);
    if (end !== tailBlock && tailBlock >= innerStart && tailBlock !== headBlock) {
      jobs.push(this.patchBlock(tailBlock, (b) => patch(b, 0, tailBlock - offset, length), opts));
    }
    await Promise.all(jobs);
  }

  /** Read-modify-write of one block, after any patch of the same block in progress. */
  private async patchBlock(at: number, apply: (block: Buffer) => void, opts: { fua?: boolean }): Promise<void> {
    this.counters.partialWrites++;
    const index = at / this.bs;
    const before = this.patching.get(index) ?? Promise.resolve();
    const mine = before.then(async () => {
      const block = Buffer.from(await this.volume.read(at, this.bs));
      apply(block);
      await this.volume.write(at, block, opts);
    });
    const settled = mine.catch(() => undefined);
    this.patching.set(index, settled);
    try {
      await mine;
    } finally {
      if (this.patching.get(index) === settled) this.patching.delete(index);
    }
  }

  private async count<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      this.counters.errors++;
      throw e;
    }
  }

  private floor(n: number): number {
    return n - (n % this.bs);
  }

  private ceil(n: number): number {
    const r = n % this.bs;
    return r === 0 ? n : n + this.bs - r;
  }
}
