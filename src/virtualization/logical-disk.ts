import { performance } from 'node:perf_hooks';
import { InvalidArgument, NoSpace, ReadOnlyVolume } from '../common/errors';
import { InflightTracker } from './inflight-tracker';
import { IoStats, type IoCounter, type IoStatsSnapshot } from './io-stats';
import { MAX_PAGE_COUNT } from './page-allocator';
import type { Pool } from './pool';
import { rangeError } from './range';
import { settleAll } from './settle-all';

export { checkAllocations } from './check-allocations';

export interface PageMapEntry {
  logical: number;
  physical: number;
}

export interface PageMapStore {
  /**
   * Durably record new mappings, replacing any a logical page had (a
   * redirect-on-write moves a page); resolves once committed (the storage
   * manager group-commits these, flushing the pool's devices first).
   */
  commitAllocations(volumeId: string, pool: Pool, entries: readonly PageMapEntry[]): Promise<void>;
  /** Durably record that these logical pages no longer map to anything. */
  commitReleases(volumeId: string, logicalPages: readonly number[]): Promise<void>;
}

export type Provisioning = 'thin' | 'thick';

const UNMAPPED = -1;
/** Pages handled per step by whole-range operations, bounding memory, parallelism and commit size. */
const BATCH_PAGES = 256;

/**
 * A volume: logical pages mapped onto pool pages. The map lives in memory;
 * the store is called only when a mapping changes, and a mapping becomes
 * visible only once committed.
 *
 * Invariant: a mapped pool page never holds bytes of a previous owner, because
 * allocation writes the whole page (also past the volume's end, so growing
 * exposes zeros).
 *
 * Snapshots and clones are disks whose maps point at the same pool pages (the
 * pool counts references). A write to a shared page is redirected: a new page
 * gets the old contents merged with the new bytes, the map change is
 * committed, and only then is the old reference dropped, so the other maps
 * keep seeing the page as it was.
 */
export class LogicalDisk {
  readonly id: string;
  readonly pool: Pool;
  readonly provisioning: Provisioning;
  /** Disks that may share pages (a volume, its snapshots and their clones) have one family: the first volume's id. */
  readonly family: string;
  /** Snapshots: every write is refused. */
  readonly readOnly: boolean;
  name: string;
  private readonly store: PageMapStore;
  private bytes: number;
  /** Pool page per logical page, UNMAPPED if none. */
  private map: Int32Array;
  private mapped = 0;
  /** First writes in progress, by logical page: later writers wait for them, readers still see zeros. */
  private readonly allocating = new Map<number, Promise<void>>();
  private readonly inflight = new InflightTracker();
  /** Whole multi-step mutations (zeroing, discarding, provisioning), which a hold waits out as a whole. */
  private readonly ops = new InflightTracker();
  /** Set while a snapshot, rollback or group snapshot holds the disk: new mutations wait on it. */
  private holdGate: Promise<void> | undefined;
  /** References dropped after a redirect-on-write, once the I/O that may still read the old page is done. */
  private readonly dropping = new Set<Promise<void>>();
  /** Releases run one at a time, so two discards can never hand back the same pool page twice. */
  private releases: Promise<void> = Promise.resolve();
  /** Counted since the disk was opened; the data path only adds, metrics and the console read copies. */
  private readonly io = new IoStats();

  /**
   * `map` is the committed page map (at boot). Its pool pages are marked used
   * in the pool's allocator unless already marked; a page mapped twice is left
   * for checkAllocations to report.
   */
  constructor(opts: {
    id: string;
    name: string;
    size: number;
    provisioning: Provisioning;
    pool: Pool;
    store: PageMapStore;
    map?: Iterable<PageMapEntry>;
    family?: string;
    readOnly?: boolean;
  }) {
    if (opts.provisioning !== 'thin' && opts.provisioning !== 'thick') {
      throw new InvalidArgument(`unknown provisioning '${String(opts.provisioning)}'`, 'provisioning');
    }
    this.id = opts.id;
    this.name = opts.name;
    this.pool = opts.pool;
    this.provisioning = opts.provisioning;
    this.family = opts.family ?? opts.id;
    this.readOnly = opts.readOnly === true;
    this.store = opts.store;
    this.bytes = opts.size;
    this.map = new Int32Array(this.pagesFor(opts.size)).fill(UNMAPPED);
    if (opts.map) this.adopt(opts.map);
  }

  get size(): number {
    return this.bytes;
  }

  get pageSize(): number {
    return this.pool.pageSize;
  }

  get allocatedPages(): number {
    return this.mapped;
  }

  /** Mapped pages no other map points at: what deleting this disk would give back. */
  get uniquePages(): number {
    let n = 0;
    for (const physical of this.map) if (physical !== UNMAPPED && this.pool.refCount(physical) === 1) n++;
    return n;
  }

  /** Completed and failed operations, bytes and latency histograms since this disk was opened. */
  stats(): IoStatsSnapshot {
    return this.io.snapshot();
  }

  mappings(): PageMapEntry[] {
    const entries: PageMapEntry[] = [];
    const map = this.map;
    for (let logical = 0; logical < map.length; logical++) {
      if (map[logical] !== UNMAPPED) entries.push({ logical, physical: map[logical] });
    }
    return entries;
  }

  async read(offset: number, length: number): Promise<Buffer> {
    this.assertRange(offset, length);
    // Every byte is either read from the layout or zero-filled.
    const target = Buffer.allocUnsafe(length);
    if (length > 0) await this.readTracked(offset, target);
    return target;
  }

  // Hot path: plain promise chains, no async frames (each costs a measurable share at 100k IOPS).
  readInto(offset: number, target: Buffer): Promise<void> {
    try {
      this.assertRange(offset, target.length);
    } catch (err) {
      return Promise.reject(err);
    }
    return target.length > 0 ? this.readTracked(offset, target) : Promise.resolve();
  }

  write(offset: number, data: Buffer, opts?: { fua?: boolean }): Promise<void> {
    try {
      this.assertWritable();
      this.assertRange(offset, data.length);
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.holdGate) return this.holdGate.then(() => this.write(offset, data, opts));
    if (data.length === 0) return opts?.fua ? this.flush() : Promise.resolve();
    return this.tracked(this.io.write, this.writePages, offset, data, opts?.fua === true);
  }

  async writeZeroes(offset: number, length: number, opts?: { fua?: boolean }): Promise<void> {
    this.assertWritable();
    this.assertRange(offset, length);
    const start = performance.now();
    try {
      await this.mutation(() => this.zeroRange(offset, length));
      if (opts?.fua) await this.pool.layout.flush();
    } catch (err) {
      this.io.writeZeroes.failed();
      throw err;
    }
    this.io.writeZeroes.done(length, start);
  }

  /** Thin: whole pages go back to the pool, partial edge pages are zeroed. Thick: the range is zeroed. */
  async discard(offset: number, length: number): Promise<void> {
    this.assertWritable();
    this.assertRange(offset, length);
    const start = performance.now();
    try {
      await this.mutation(() => this.zeroRange(offset, length));
    } catch (err) {
      this.io.discard.failed();
      throw err;
    }
    this.io.discard.done(length, start);
  }

  flush(): Promise<void> {
    const start = performance.now();
    return this.pool.layout.flush().then(
      () => this.io.flush.done(0, start),
      (err: unknown) => {
        this.io.flush.failed();
        throw err;
      },
    );
  }

  /** Allocate and zero every unmapped page (thick creation, thick grow), in batches. */
  provisionAll(): Promise<void> {
    return this.mutation(() => this.provisionUnmapped());
  }

  private async provisionUnmapped(): Promise<void> {
    this.assertRoomFor(this.unmappedPages());
    for (let first = 0; first < this.map.length; first += BATCH_PAGES) {
      for (;;) {
        const fresh: number[] = [];
        const waits: Promise<void>[] = [];
        const end = Math.min(first + BATCH_PAGES, this.map.length);
        for (let lp = first; lp < end; lp++) {
          if (this.map[lp] !== UNMAPPED) continue;
          const gate = this.allocating.get(lp);
          if (gate) waits.push(gate);
          else fresh.push(lp);
        }
        if (fresh.length > 0) await this.allocatePages(fresh, 0, undefined, undefined);
        if (waits.length === 0) break;
        // A racing first write owns those pages; if it fails they are still unmapped next round.
        await Promise.all(waits);
      }
    }
  }

  async grow(newSize: number): Promise<void> {
    if (!Number.isSafeInteger(newSize) || newSize < this.bytes) {
      throw new InvalidArgument(`volume '${this.name}' can only grow: ${this.bytes} → ${newSize} bytes`, 'size');
    }
    const pages = this.pagesFor(newSize);
    if (this.provisioning === 'thick') this.assertRoomFor(pages - this.map.length + this.unmappedPages());
    if (pages > this.map.length) {
      const map = new Int32Array(pages).fill(UNMAPPED);
      map.set(this.map);
      this.map = map;
    }
    this.bytes = newSize;
    if (this.provisioning === 'thick') await this.provisionAll();
  }

  /** For delete: this map's references go; pages nobody else maps go back to the pool. The volume must be idle. */
  async releaseAll(): Promise<void> {
    await Promise.all(this.allocating.values());
    for (let first = 0; first < this.map.length; first += BATCH_PAGES) {
      await this.releasePages(first, first + BATCH_PAGES);
    }
    await this.settled();
  }

  /**
   * Stop the disk changing: new writes, zeroing and discards wait until the
   * returned function is called; resolves once those already running are
   * done, so mappings() is then a point-in-time image (snapshot, rollback,
   * consistency group). Reads go on. One holder at a time.
   */
  async hold(): Promise<() => void> {
    while (this.holdGate) await this.holdGate;
    let open!: () => void;
    this.holdGate = new Promise<void>((resolve) => (open = resolve));
    const release = () => {
      this.holdGate = undefined;
      open();
    };
    try {
      await Promise.all([this.inflight.drain(), this.ops.drain()]);
      await Promise.all(this.allocating.values());
      await this.releases;
    } catch (err) {
      release();
      throw err;
    }
    return release;
  }

  /**
   * Rollback: make `entries` (a snapshot's map) this disk's map. Call while
   * held. The new pages gain a reference before `commit` records the new map
   * durably; the old pages lose theirs only after, so a crash at any point
   * leaves every page that either catalog state maps still allocated.
   */
  async replaceMap(entries: readonly PageMapEntry[], commit: () => Promise<void>): Promise<void> {
    if (!this.holdGate) throw new Error(`volume '${this.name}': replaceMap needs the disk held`);
    const map = new Int32Array(this.map.length).fill(UNMAPPED);
    for (const { logical, physical } of entries) {
      if (!Number.isInteger(logical) || logical < 0 || logical >= map.length || map[logical] !== UNMAPPED) {
        throw new InvalidArgument(`volume '${this.name}': logical page ${logical} is outside the volume or given twice`, 'map');
      }
      if (!Number.isInteger(physical) || physical < 0 || physical >= this.pool.pageCount || this.pool.refCount(physical) === 0) {
        throw new InvalidArgument(`volume '${this.name}': pool page ${physical} is not a page in use`, 'map');
      }
      map[logical] = physical;
    }
    const gained = entries.map((e) => e.physical);
    this.pool.share(gained);
    try {
      await commit();
    } catch (err) {
      // Nobody saw the new map, and the snapshot still holds every one of these pages.
      await this.dropReferences(gained);
      throw err;
    }
    const old: number[] = [];
    for (const physical of this.map) if (physical !== UNMAPPED) old.push(physical);
    this.map = map;
    this.mapped = entries.length;
    this.dropLater(old);
  }

  /** Resolves once references dropped by redirect-on-write and rollback are gone (pages nobody maps are back in the pool). */
  async settled(): Promise<void> {
    while (this.dropping.size > 0) await Promise.all(this.dropping);
  }

  private readTracked(offset: number, target: Buffer): Promise<void> {
    return this.tracked(this.io.read, this.readPages, offset, target, false);
  }

  /**
   * One read or write on the data path: inside an in-flight epoch (so a page
   * is never handed back under it) and counted. A plain promise chain, and the
   * page walker passed as a method, not a closure: this runs per I/O.
   */
  private tracked(
    counter: IoCounter,
    pages: (this: LogicalDisk, offset: number, buf: Buffer) => Promise<void>,
    offset: number,
    buf: Buffer,
    fua: boolean,
  ): Promise<void> {
    const start = performance.now();
    const epoch = this.inflight.enter();
    let io: Promise<void>;
    try {
      io = pages.call(this, offset, buf);
    } catch (err) {
      epoch.leave();
      counter.failed();
      return Promise.reject(err);
    }
    return io.then(
      () => {
        epoch.leave();
        if (!fua) {
          counter.done(buf.length, start);
          return;
        }
        // Allocations are already committed (data before map); the flush makes in-place writes durable.
        return this.pool.layout.flush().then(
          () => counter.done(buf.length, start),
          (err: unknown) => {
            counter.failed();
            throw err;
          },
        );
      },
      (err: unknown) => {
        epoch.leave();
        counter.failed();
        throw err;
      },
    );
  }

  /** Unmapped pages (also those still being allocated) read as zeros. */
  private readPages(offset: number, target: Buffer): Promise<void> {
    const ps = this.pool.pageSize;
    const layout = this.pool.layout;
    const map = this.map;
    const end = offset + target.length;
    const ios: Promise<void>[] = [];
    // Consecutive logical pages on consecutive pool pages become one layout read.
    let runPos = -1;
    let runAddr = 0;
    for (let pos = offset; pos < end; ) {
      const lp = Math.floor(pos / ps);
      const next = Math.min((lp + 1) * ps, end);
      const phys = map[lp];
      if (phys === UNMAPPED) {
        if (runPos >= 0) ios.push(layout.read(runAddr, target.subarray(runPos - offset, pos - offset)));
        runPos = -1;
        target.fill(0, pos - offset, next - offset);
      } else {
        const addr = phys * ps + (pos - lp * ps);
        if (runPos < 0 || runAddr + (pos - runPos) !== addr) {
          if (runPos >= 0) ios.push(layout.read(runAddr, target.subarray(runPos - offset, pos - offset)));
          runPos = pos;
          runAddr = addr;
        }
      }
      pos = next;
    }
    if (runPos >= 0) ios.push(layout.read(runAddr, target.subarray(runPos - offset, end - offset)));
    return ios.length === 1 ? ios[0] : settleAll(ios);
  }

  /**
   * Mapped pages are written in place; unmapped ones are allocated together;
   * pages another writer is allocating are written once that allocation settles.
   */
  private writePages(offset: number, data: Buffer): Promise<void> {
    const ps = this.pool.pageSize;
    const layout = this.pool.layout;
    const map = this.map;
    const end = offset + data.length;
    const ios: Promise<void>[] = [];
    const pool = this.pool;
    let fresh: number[] | undefined;
    let moved: number[] | undefined;
    let from: number[] | undefined;
    let runPos = -1;
    let runAddr = 0;
    for (let pos = offset; pos < end; ) {
      const lp = Math.floor(pos / ps);
      const next = Math.min((lp + 1) * ps, end);
      const phys = map[lp];
      if (phys === UNMAPPED || pool.isShared(phys)) {
        if (runPos >= 0) ios.push(layout.write(runAddr, data.subarray(runPos - offset, pos - offset)));
        runPos = -1;
        const gate = this.allocating.get(lp);
        if (gate) ios.push(this.writeAfter(gate, pos, data.subarray(pos - offset, next - offset)));
        else if (phys === UNMAPPED) (fresh ??= []).push(lp);
        else {
          (moved ??= []).push(lp);
          (from ??= []).push(phys);
        }
      } else {
        const addr = phys * ps + (pos - lp * ps);
        if (runPos < 0 || runAddr + (pos - runPos) !== addr) {
          if (runPos >= 0) ios.push(layout.write(runAddr, data.subarray(runPos - offset, pos - offset)));
          runPos = pos;
          runAddr = addr;
        }
      }
      pos = next;
    }
    if (runPos >= 0) ios.push(layout.write(runAddr, data.subarray(runPos - offset, end - offset)));
    if (fresh) ios.push(this.allocatePages(fresh, offset, data, undefined));
    if (moved) ios.push(this.allocatePages(moved, offset, data, from));
    return ios.length === 1 ? ios[0] : settleAll(ios);
  }

  /** The first writer's whole-page write must land before ours, or its zeros would overwrite our bytes. */
  private async writeAfter(gate: Promise<void>, offset: number, data: Buffer): Promise<void> {
    await gate;
    await this.writePages(offset, data);
  }

  /**
   * Give `logical` pool pages: write each whole page (the bytes of `data` that
   * fall in it; elsewhere zeros, or the old contents when redirecting shared
   * pages `from`), commit the mappings, then publish them. On failure the new
   * pool pages go back and nothing changes.
   */
  private async allocatePages(logical: number[], offset: number, data: Buffer | undefined, from: number[] | undefined): Promise<void> {
    const physical = this.pool.allocate(logical.length);
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    for (const lp of logical) this.allocating.set(lp, gate);
    try {
      try {
        await settleAll(this.writeWholePages(logical, physical, offset, data, from));
        await this.store.commitAllocations(
          this.id,
          this.pool,
          logical.map((lp, i) => ({ logical: lp, physical: physical[i] })),
        );
      } catch (err) {
        this.pool.release(physical);
        throw err;
      }
      const map = this.map;
      for (let i = 0; i < logical.length; i++) map[logical[i]] = physical[i];
      if (from) this.dropLater(from);
      else this.mapped += logical.length;
    } finally {
      for (const lp of logical) this.allocating.delete(lp);
      open();
    }
  }

  private writeWholePages(
    logical: number[],
    physical: number[],
    offset: number,
    data: Buffer | undefined,
    from: number[] | undefined,
  ): Promise<void>[] {
    const ps = this.pool.pageSize;
    const layout = this.pool.layout;
    const end = data ? offset + data.length : 0;
    const ios: Promise<void>[] = [];
    for (let i = 0; i < logical.length; i++) {
      const start = logical[i] * ps;
      const addr = physical[i] * ps;
      if (data === undefined) {
        ios.push(layout.write(addr, zeroes(ps)));
      } else if (offset <= start && start + ps <= end) {
        ios.push(layout.write(addr, data.subarray(start - offset, start - offset + ps)));
      } else if (from) {
        ios.push(this.mergeInto(from[i], addr, start, offset, data));
      } else {
        const page = Buffer.alloc(ps);
        const at = Math.max(offset, start);
        data.copy(page, at - start, at - offset, Math.min(end, start + ps) - offset);
        ios.push(layout.write(addr, page));
      }
    }
    return ios;
  }

  /** Redirect-on-write of a partly written page: the old page's bytes with the new ones laid over them. */
  private async mergeInto(oldPage: number, addr: number, start: number, offset: number, data: Buffer): Promise<void> {
    const ps = this.pool.pageSize;
    const page = Buffer.allocUnsafe(ps);
    await this.pool.layout.read(oldPage * ps, page);
    const at = Math.max(offset, start);
    data.copy(page, at - start, at - offset, Math.min(offset + data.length, start + ps) - offset);
    await this.pool.layout.write(addr, page);
  }

  /**
   * Drop references once every I/O of this disk that may still address the
   * pages has finished (not awaited by the caller: the write that redirected
   * is itself one of them). Pages nobody maps any more are discarded and freed.
   */
  private dropLater(physical: number[]): void {
    if (physical.length === 0) return;
    const done: Promise<void> = this.inflight
      .drain()
      .then(() => this.dropReferences(physical))
      .finally(() => this.dropping.delete(done));
    this.dropping.add(done);
  }

  /** Freed pages are discarded before going back, so no discard can land on a next owner's data. */
  private async dropReferences(physical: number[]): Promise<void> {
    const freed = this.pool.unshare(physical);
    if (freed.length === 0) return;
    await this.discardBestEffort(freed);
    this.pool.release(freed);
  }

  /** Thin: release the whole pages in the range and zero the partial edges. Thick: zero it all. */
  private async zeroRange(offset: number, length: number): Promise<void> {
    const ps = this.pool.pageSize;
    const end = offset + length;
    if (this.provisioning === 'thick') return this.zeroMapped(offset, end);
    const firstWhole = Math.ceil(offset / ps);
    // The volume's partial last page counts as whole when the range reaches the end.
    const endWhole = end === this.bytes ? this.map.length : Math.floor(end / ps);
    if (firstWhole >= endWhole) return this.zeroMapped(offset, end);
    await this.zeroMapped(offset, firstWhole * ps);
    await this.zeroMapped(Math.min(endWhole * ps, end), end);
    for (let first = firstWhole; first < endWhole; first += BATCH_PAGES) {
      await this.releasePages(first, Math.min(first + BATCH_PAGES, endWhole));
    }
  }

  /** Write zeros over the mapped parts of [from, to); unmapped parts already read as zeros. */
  private async zeroMapped(from: number, to: number): Promise<void> {
    const ps = this.pool.pageSize;
    for (let pos = from; pos < to; ) {
      const stop = Math.min(to, (Math.floor(pos / ps) + BATCH_PAGES) * ps);
      const epoch = this.inflight.enter();
      try {
        await settleAll(this.zeroWrites(pos, stop));
      } finally {
        epoch.leave();
      }
      pos = stop;
    }
  }

  private zeroWrites(from: number, to: number): Promise<void>[] {
    const ps = this.pool.pageSize;
    const layout = this.pool.layout;
    const map = this.map;
    const ios: Promise<void>[] = [];
    for (let pos = from; pos < to; ) {
      const lp = Math.floor(pos / ps);
      const next = Math.min((lp + 1) * ps, to);
      const phys = map[lp];
      // A shared page is not ours to zero in place: redirect it like any write.
      if (phys !== UNMAPPED && this.pool.isShared(phys)) ios.push(this.writePages(pos, zeroes(ps).subarray(0, next - pos)));
      else if (phys !== UNMAPPED) ios.push(layout.write(phys * ps + (pos - lp * ps), zeroes(ps).subarray(0, next - pos)));
      pos = next;
    }
    return ios;
  }

  private releasePages(first: number, end: number): Promise<void> {
    const run = this.releases.then(() => this.releaseMapped(first, end));
    this.releases = run.then(noop, noop);
    return run;
  }

  /**
   * Commit the release, unmap, wait out I/O that may still address the pages,
   * drop their references, and discard the ones nobody maps any more before
   * handing them back: a discard issued after the hand-back could land on the
   * next owner's data, and one on a shared page on a snapshot's.
   */
  private async releaseMapped(first: number, end: number): Promise<void> {
    const stop = Math.min(end, this.map.length);
    // A page being redirected gets a new mapping when that settles: release that one, not the old.
    for (;;) {
      const busy: Promise<void>[] = [];
      for (let lp = first; lp < stop; lp++) {
        const gate = this.allocating.get(lp);
        if (gate && this.map[lp] !== UNMAPPED) busy.push(gate);
      }
      if (busy.length === 0) break;
      await Promise.all(busy);
    }
    const logical: number[] = [];
    const physical: number[] = [];
    for (let lp = first; lp < stop; lp++) {
      if (this.map[lp] === UNMAPPED) continue;
      logical.push(lp);
      physical.push(this.map[lp]);
    }
    if (logical.length === 0) return;
    // Writers to a shared page being released wait, then allocate afresh, instead of redirecting it under us.
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    for (const lp of logical) this.allocating.set(lp, gate);
    try {
      await this.store.commitReleases(this.id, logical);
      for (const lp of logical) this.map[lp] = UNMAPPED;
      this.mapped -= logical.length;
    } finally {
      for (const lp of logical) this.allocating.delete(lp);
      open();
    }
    await this.inflight.drain();
    await this.dropReferences(physical);
  }

  /** Failures are ignored: the next allocation of these pages rewrites them whole. */
  private async discardBestEffort(physical: number[]): Promise<void> {
    const ps = this.pool.pageSize;
    const sorted = [...physical].sort((a, b) => a - b);
    const ios: Promise<void>[] = [];
    for (let i = 0; i < sorted.length; ) {
      let j = i + 1;
      while (j < sorted.length && sorted[j] === sorted[j - 1] + 1) j++;
      ios.push(this.pool.layout.discard(sorted[i] * ps, (j - i) * ps));
      i = j;
    }
    await Promise.allSettled(ios);
  }

  private unmappedPages(): number {
    let n = 0;
    for (let lp = 0; lp < this.map.length; lp++) {
      if (this.map[lp] === UNMAPPED && !this.allocating.has(lp)) n++;
    }
    return n;
  }

  private assertRoomFor(pages: number): void {
    const free = this.pool.freePages;
    if (pages > free) {
      throw new NoSpace(`pool '${this.pool.name}'`, free * this.pool.pageSize, pages * this.pool.pageSize);
    }
  }

  private assertWritable(): void {
    if (this.readOnly) throw new ReadOnlyVolume(this.name);
  }

  /** Run a multi-step mutation as one unit a hold waits out; it waits for a hold already taken. */
  private async mutation<T>(fn: () => Promise<T>): Promise<T> {
    while (this.holdGate) await this.holdGate;
    const epoch = this.ops.enter();
    try {
      return await fn();
    } finally {
      epoch.leave();
    }
  }

  private assertRange(offset: number, length: number): void {
    const bad = rangeError(`volume '${this.name}'`, offset, length, this.bytes);
    if (bad) throw bad;
  }

  private pagesFor(size: number): number {
    if (!Number.isSafeInteger(size) || size <= 0) {
      throw new InvalidArgument(`volume size must be a positive integer, got ${size}`, 'size');
    }
    const pages = Math.ceil(size / this.pool.pageSize);
    if (pages > MAX_PAGE_COUNT) {
      throw new InvalidArgument(`volume of ${size} bytes has more than ${MAX_PAGE_COUNT} pages`, 'size');
    }
    return pages;
  }

  /** Validate the whole map before touching the allocator, so a bad map changes nothing. */
  private adopt(entries: Iterable<PageMapEntry>): void {
    const pageCount = this.pool.pageCount;
    for (const { logical, physical } of entries) {
      if (!Number.isInteger(logical) || logical < 0 || logical >= this.map.length) {
        throw new InvalidArgument(`volume '${this.name}': logical page ${logical} is outside the volume`, 'map');
      }
      if (!Number.isInteger(physical) || physical < 0 || physical >= pageCount) {
        throw new InvalidArgument(`volume '${this.name}': pool page ${physical} is outside the pool`, 'map');
      }
      if (this.map[logical] !== UNMAPPED) {
        throw new InvalidArgument(`volume '${this.name}': logical page ${logical} is mapped twice`, 'map');
      }
      this.map[logical] = physical;
      this.mapped++;
    }
    const pages: number[] = [];
    for (const physical of this.map) if (physical !== UNMAPPED) pages.push(physical);
    this.pool.share(pages);
  }
}

const zeroPages = new Map<number, Buffer>();

/** A shared all-zero page; layouts and devices only ever read from it. */
function zeroes(size: number): Buffer {
  let page = zeroPages.get(size);
  if (page === undefined) {
    page = Buffer.alloc(size);
    zeroPages.set(size, page);
  }
  return page;
}

function noop(): void {}
