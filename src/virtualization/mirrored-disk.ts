import { Conflict } from '../common/errors';
import { InflightTracker } from './inflight-tracker';
import type { IoStatsSnapshot } from './io-stats';
import type { LogicalDisk, PageMapEntry } from './logical-disk';
import type { Pool } from './pool';

export type MirrorState = 'in-sync' | 'syncing' | 'degraded';

/**
 * Where a mirror's dirty regions and state are made durable. The storage
 * manager group-commits these: many degraded writes share one transaction.
 */
export interface MirrorStore {
  /** Add regions to the dirty set (and record the state, when given); resolves once committed. */
  markDirty(volumeId: string, regions: readonly number[], state?: { state: MirrorState; reason: string | null }): Promise<void>;
  /** Remove copied regions; a region lost here is only copied once more after a restart. */
  clearDirty(volumeId: string, regions: readonly number[]): Promise<void>;
  /** Add regions to the write-intent log; resolves once committed. */
  markIntent(volumeId: string, regions: readonly number[]): Promise<void>;
  /** Remove regions whose writes are done and flushed on both sides; a region lost here only costs a copy after a crash. */
  clearIntent(volumeId: string, regions: readonly number[]): Promise<void>;
  setState(volumeId: string, state: MirrorState, reason: string | null): Promise<void>;
}

/** What the data path (SAN, NBD, NAS, image transfer) needs of a volume: a LogicalDisk fits, and so does a mirrored one. */
export interface VolumeIo {
  readonly id: string;
  readonly name: string;
  readonly size: number;
  readonly pageSize: number;
  readonly pool: Pool;
  readonly allocatedPages: number;
  read(offset: number, length: number): Promise<Buffer>;
  readInto(offset: number, target: Buffer): Promise<void>;
  write(offset: number, data: Buffer, opts?: { fua?: boolean }): Promise<void>;
  writeZeroes(offset: number, length: number, opts?: { fua?: boolean }): Promise<void>;
  discard(offset: number, length: number): Promise<void>;
  flush(): Promise<void>;
  stats(): IoStatsSnapshot;
  /** The primary's page map. */
  mappings(): PageMapEntry[];
}

export interface MirrorStatus {
  state: MirrorState;
  reason: string | null;
  regionSize: number;
  dirtyRegions: number;
  /** Regions to copy when the running resync started (0 when none runs). */
  resyncTotal: number;
  /** Regions in the write-intent log: written lately, and copied again if the gateway crashes now. */
  intentRegions: number;
}

/** How long a region stays in the write-intent log after its last write (a hot region costs one mark, not one per write). */
export const INTENT_LINGER_MS = 5000;

/**
 * A volume as the data path sees it: one object per volume for its whole
 * life, so a client holding it picks up a mirror added or removed later.
 * Unmirrored, every call goes straight to the volume's logical disk.
 *
 * Mirrored, it composes two logical disks on different pools: writes,
 * unmaps, write-zeroes and flushes go to both before they are acknowledged,
 * reads come from the primary. A failing secondary degrades the mirror:
 * writes then go to the primary only and the regions they touch are made
 * durable in the dirty set before the write is acknowledged. A resync copies
 * dirty regions under a per-region gate, so no concurrent write is lost.
 *
 * A crash between the two halves of a mirrored write would leave the copies
 * different where nobody recorded it, so a write-intent log (md's bitmap)
 * covers that: a region is durable in the log before a mirrored write to it
 * starts, and leaves it once it has been idle for a while and both sides are
 * flushed. At boot, logged regions join the dirty set and get resynced.
 */
export class MirroredDisk implements VolumeIo {
  private primaryDisk: LogicalDisk;
  private secondary: LogicalDisk | null = null;
  private store: MirrorStore | null = null;
  private mirrorState: MirrorState = 'in-sync';
  private reason: string | null = null;
  private regionBytes = 0;
  /** Regions whose copies may differ (committed, or being committed by a write that waits for it). */
  private readonly dirty = new Set<number>();
  /** Commits of dirty marks in flight, so a second writer to the region waits for the same commit. */
  private readonly marking = new Map<number, Promise<void>>();
  /** Mirrored writes in flight, drained before a resync starts or the mirror is swapped or removed. */
  private readonly inflight = new InflightTracker();
  /** Set while writes must wait (swap, removal). */
  private held: Promise<void> | null = null;
  /** While a resync runs: regions being copied, and how many writes touch each region. */
  private gates: Map<number, Promise<void>> | null = null;
  private readonly active = new Map<number, number>();
  private readonly idleWaiters = new Map<number, () => void>();
  private resyncTotal = 0;
  private readonly listeners: Array<(state: MirrorState) => void> = [];
  /** The write-intent log in memory: regions logged (or being logged), writes in flight per region, last write per region. */
  private readonly intents = new Set<number>();
  private readonly intentMarking = new Map<number, Promise<void>>();
  private readonly intentBusy = new Map<number, number>();
  private readonly intentTouched = new Map<number, number>();
  /** Mirrored writes in flight by byte range, in arrival order. */
  private readonly ordered = new Set<{ start: number; end: number; finished: Promise<void> }>();
  private sweepTimer: NodeJS.Timeout | null = null;
  private sweeping: Promise<void> | null = null;
  private readonly lingerMs: number;
  private readonly now: () => number;

  constructor(origin: LogicalDisk, opts: { intentLingerMs?: number; clock?: () => number } = {}) {
    this.primaryDisk = origin;
    this.lingerMs = opts.intentLingerMs ?? INTENT_LINGER_MS;
    this.now = opts.clock ?? Date.now;
  }

  get primary(): LogicalDisk {
    return this.primaryDisk;
  }
  get mirror(): LogicalDisk | null {
    return this.secondary;
  }
  get id(): string {
    return this.primaryDisk.id;
  }
  get name(): string {
    return this.primaryDisk.name;
  }
  get size(): number {
    return this.primaryDisk.size;
  }
  get pageSize(): number {
    return this.primaryDisk.pageSize;
  }
  get pool(): Pool {
    return this.primaryDisk.pool;
  }
  get allocatedPages(): number {
    return this.primaryDisk.allocatedPages;
  }
  get regionSize(): number {
    return this.regionBytes;
  }
  get state(): MirrorState {
    return this.mirrorState;
  }

  stats(): IoStatsSnapshot {
    return this.primaryDisk.stats();
  }

  mappings(): PageMapEntry[] {
    return this.primaryDisk.mappings();
  }

  status(): MirrorStatus | null {
    if (!this.secondary) return null;
    return {
      state: this.mirrorState,
      reason: this.reason,
      regionSize: this.regionBytes,
      dirtyRegions: this.dirty.size,
      resyncTotal: this.gates ? this.resyncTotal : 0,
      intentRegions: this.intents.size,
    };
  }

  /** Called on every state change (the mirror service starts resyncs from it). */
  onStateChange(fn: (state: MirrorState) => void): void {
    this.listeners.push(fn);
  }

  /**
   * Give the volume a mirror. `dirty` are the regions recorded as differing
   * (all mapped ones for a new mirror); the caller runs the resync.
   */
  attach(secondary: LogicalDisk, store: MirrorStore, opts: { state: MirrorState; reason: string | null; regionSize: number; dirty: Iterable<number> }): void {
    if (this.secondary) throw new Conflict('MIRRORED', `volume '${this.name}' already has a mirror`);
    this.secondary = secondary;
    this.store = store;
    this.regionBytes = opts.regionSize;
    // A resync cut short by a restart left 'syncing': until a new one starts, the copies differ.
    this.mirrorState = opts.state === 'syncing' ? 'degraded' : opts.state;
    this.reason = opts.state === 'syncing' ? (opts.reason ?? 'resync interrupted') : opts.reason;
    this.dirty.clear();
    for (const r of opts.dirty) this.dirty.add(r);
  }

  /** Regions of the primary holding mapped pages: what a new mirror must copy. */
  mappedRegions(region: number): number[] {
    const ps = this.primaryDisk.pageSize;
    const out = new Set<number>();
    for (const { logical } of this.primaryDisk.mappings()) out.add(Math.floor((logical * ps) / region));
    return [...out].sort((a, b) => a - b);
  }

  /** Hold new writes and wait out those in flight; the returned function lets writes go again. */
  async quiesce(): Promise<() => void> {
    while (this.held) await this.held;
    let release!: () => void;
    this.held = new Promise<void>((r) => (release = r));
    await this.inflight.drain();
    return () => {
      this.held = null;
      release();
    };
  }

  /** Drop the mirror (the volume must be quiesced); returns the member disk for the caller to destroy. */
  detach(): LogicalDisk | null {
    const member = this.secondary;
    this.secondary = null;
    this.store = null;
    this.dirty.clear();
    this.marking.clear();
    this.dropIntents();
    this.mirrorState = 'in-sync';
    this.reason = null;
    return member;
  }

  /** Exchange primary and secondary (quiesced, in sync): the caller hands in the rebuilt disks. */
  replaceDisks(primary: LogicalDisk, secondary: LogicalDisk | null): void {
    this.primaryDisk = primary;
    this.secondary = secondary;
  }

  // ---- data path ----

  read(offset: number, length: number): Promise<Buffer> {
    return this.primaryDisk.read(offset, length);
  }

  readInto(offset: number, target: Buffer): Promise<void> {
    return this.primaryDisk.readInto(offset, target);
  }

  write(offset: number, data: Buffer, opts?: { fua?: boolean }): Promise<void> {
    if (this.secondary === null && this.held === null) return this.primaryDisk.write(offset, data, opts);
    return this.both(offset, data.length, (d) => d.write(offset, data, opts));
  }

  writeZeroes(offset: number, length: number, opts?: { fua?: boolean }): Promise<void> {
    if (this.secondary === null && this.held === null) return this.primaryDisk.writeZeroes(offset, length, opts);
    return this.both(offset, length, (d) => d.writeZeroes(offset, length, opts));
  }

  discard(offset: number, length: number): Promise<void> {
    if (this.secondary === null && this.held === null) return this.primaryDisk.discard(offset, length);
    return this.both(offset, length, (d) => d.discard(offset, length));
  }

  async flush(): Promise<void> {
    const secondary = this.secondary;
    if (secondary === null || this.mirrorState === 'degraded') return this.primaryDisk.flush();
    const [p, s] = await Promise.allSettled([this.primaryDisk.flush(), secondary.flush()]);
    // Writes acknowledged earlier may not be durable on the secondary: any mapped region may differ.
    if (s.status === 'rejected' && this.secondary === secondary) await this.secondaryFailed(this.mappedRegions(this.regionBytes), s.reason);
    if (p.status === 'rejected') throw p.reason;
  }

  private async both(offset: number, length: number, op: (d: LogicalDisk) => Promise<void>): Promise<void> {
    while (this.held) await this.held;
    const secondary = this.secondary;
    if (secondary === null) return op(this.primaryDisk);
    const epoch = this.inflight.enter();
    try {
      const first = Math.floor(offset / this.regionBytes);
      const last = length > 0 ? Math.floor((offset + length - 1) / this.regionBytes) : first;
      if (this.mirrorState === 'degraded') {
        // Both must land before the acknowledgement; the mark and the write overlap.
        const [p, d] = await Promise.allSettled([op(this.primaryDisk), this.markDirty(first, last)]);
        if (p.status === 'rejected') throw p.reason;
        if (d.status === 'rejected') throw d.reason;
        return;
      }
      const gates = this.gates;
      if (gates) await this.enterRegions(gates, first, last);
      this.intentEnter(first, last);
      const order = this.orderAfter(offset, offset + length);
      try {
        await Promise.all([order.after, this.markIntent(first, last)]);
        const [p, s] = await Promise.allSettled([op(this.primaryDisk), op(secondary)]);
        if (s.status === 'rejected') await this.secondaryFailed(range(first, last), s.reason);
        // Only the mirror took it: the copies differ there, which is what degraded means.
        else if (p.status === 'rejected') await this.diverged(range(first, last), `primary write failed: ${errorText(p.reason)}`);
        if (p.status === 'rejected') throw p.reason;
      } finally {
        order.done();
        this.intentLeave(first, last);
        if (gates) this.leaveRegions(first, last);
      }
    } finally {
      epoch.leave();
    }
  }

  /**
   * Overlapping mirrored writes run one after the other, in arrival order:
   * each side could otherwise complete two of them in a different order and
   * the copies would end up different where nobody recorded it.
   */
  private orderAfter(start: number, end: number): { after: Promise<unknown>; done: () => void } {
    const before: Promise<void>[] = [];
    for (const w of this.ordered) if (w.start < end && start < w.end) before.push(w.finished);
    let done!: () => void;
    const entry = { start, end, finished: new Promise<void>((r) => (done = r)) };
    this.ordered.add(entry);
    return {
      after: before.length === 0 ? Promise.resolve() : Promise.all(before),
      done: () => {
        this.ordered.delete(entry);
        done();
      },
    };
  }

  // ---- write-intent log ----

  private intentEnter(first: number, last: number): void {
    for (let r = first; r <= last; r++) this.intentBusy.set(r, (this.intentBusy.get(r) ?? 0) + 1);
  }

  private intentLeave(first: number, last: number): void {
    const t = this.now();
    for (let r = first; r <= last; r++) {
      const n = (this.intentBusy.get(r) ?? 1) - 1;
      if (n > 0) this.intentBusy.set(r, n);
      else this.intentBusy.delete(r);
      this.intentTouched.set(r, t);
    }
  }

  /** Regions first..last are in the durable write-intent log once this resolves. */
  private markIntent(first: number, last: number): Promise<void> {
    const waits: Promise<void>[] = [];
    const fresh: number[] = [];
    for (let r = first; r <= last; r++) {
      const pending = this.intentMarking.get(r);
      if (pending) waits.push(pending);
      else if (!this.intents.has(r)) fresh.push(r);
    }
    if (fresh.length > 0) {
      for (const r of fresh) this.intents.add(r);
      const commit = this.store!.markIntent(this.id, fresh);
      for (const r of fresh) this.intentMarking.set(r, commit);
      waits.push(
        commit.then(
          () => {
            for (const r of fresh) if (this.intentMarking.get(r) === commit) this.intentMarking.delete(r);
          },
          (e: unknown) => {
            // Not logged: the write fails before it starts, and a later one tries to log the region again.
            for (const r of fresh) {
              if (this.intentMarking.get(r) !== commit) continue;
              this.intentMarking.delete(r);
              this.intents.delete(r);
            }
            throw e;
          },
        ),
      );
      this.startSweeper();
    }
    return waits.length === 0 ? Promise.resolve() : waits.length === 1 ? waits[0] : Promise.all(waits).then(noop);
  }

  private startSweeper(): void {
    if (this.sweepTimer || this.lingerMs <= 0) return;
    this.sweepTimer = setInterval(() => void this.sweepIntents().catch(noop), Math.max(100, this.lingerMs / 2));
    this.sweepTimer.unref();
  }

  private dropIntents(): void {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
    this.intents.clear();
    this.intentMarking.clear();
    this.intentTouched.clear();
  }

  /**
   * Take out of the log the regions idle for the linger time (all idle ones
   * with `all`): flush both sides first, so what was written there is
   * durable on each, then clear those still untouched. A clear queued ahead
   * of a new mark of the same region commits before it, so a region written
   * meanwhile ends up logged.
   */
  sweepIntents(opts: { all?: boolean } = {}): Promise<void> {
    this.sweeping ??= this.sweep(opts.all === true).finally(() => (this.sweeping = null));
    return this.sweeping;
  }

  private async sweep(all: boolean): Promise<void> {
    const store = this.store;
    if (!store || !this.secondary) return;
    const t = this.now();
    const due = new Map<number, number | undefined>();
    for (const r of this.intents) {
      if (this.intentMarking.has(r) || this.intentBusy.has(r)) continue;
      const touched = this.intentTouched.get(r);
      if (all || touched === undefined || t - touched >= this.lingerMs) due.set(r, touched);
    }
    if (due.size === 0) {
      if (this.intents.size === 0 && this.sweepTimer) {
        clearInterval(this.sweepTimer);
        this.sweepTimer = null;
      }
      return;
    }
    await this.flush();
    if (this.store !== store) return;
    const settled: number[] = [];
    for (const [r, touched] of due) {
      if (!this.intents.has(r) || this.intentMarking.has(r) || this.intentBusy.has(r) || this.intentTouched.get(r) !== touched) continue;
      this.intents.delete(r);
      this.intentTouched.delete(r);
      settled.push(r);
    }
    await store.clearIntent(this.id, settled);
  }

  private async enterRegions(gates: Map<number, Promise<void>>, first: number, last: number): Promise<void> {
    for (;;) {
      let wait: Promise<void> | undefined;
      for (let r = first; r <= last && !wait; r++) wait = gates.get(r);
      if (!wait) break;
      await wait;
    }
    for (let r = first; r <= last; r++) this.active.set(r, (this.active.get(r) ?? 0) + 1);
  }

  private leaveRegions(first: number, last: number): void {
    for (let r = first; r <= last; r++) {
      const n = (this.active.get(r) ?? 1) - 1;
      if (n > 0) {
        this.active.set(r, n);
        continue;
      }
      this.active.delete(r);
      const wake = this.idleWaiters.get(r);
      if (wake) {
        this.idleWaiters.delete(r);
        wake();
      }
    }
  }

  /** Regions first..last are dirty once this resolves (a region already durable costs nothing). */
  private markDirty(first: number, last: number, state?: { state: MirrorState; reason: string | null }): Promise<void> {
    const waits: Promise<void>[] = [];
    const fresh: number[] = [];
    for (let r = first; r <= last; r++) {
      const pending = this.marking.get(r);
      if (pending) waits.push(pending);
      else if (!this.dirty.has(r)) fresh.push(r);
    }
    if (fresh.length > 0 || state) {
      for (const r of fresh) this.dirty.add(r);
      const commit = this.store!.markDirty(this.id, fresh, state);
      for (const r of fresh) this.marking.set(r, commit);
      const done = commit.finally(() => {
        for (const r of fresh) if (this.marking.get(r) === commit) this.marking.delete(r);
      });
      waits.push(done);
    }
    return waits.length === 0 ? Promise.resolve() : waits.length === 1 ? waits[0] : Promise.all(waits).then(noop);
  }

  private secondaryFailed(regions: readonly number[], err: unknown): Promise<void> {
    return this.diverged(regions, `mirror write failed: ${errorText(err)}`);
  }

  /** The copies differ in `regions`: degrade (the first time, with `why`) and make them durable dirty. */
  private diverged(regions: readonly number[], why: string): Promise<void> {
    const first = this.mirrorState !== 'degraded';
    if (first) this.setState('degraded', why);
    const state = first ? { state: this.mirrorState, reason: this.reason } : undefined;
    if (regions.length === 0) return state ? this.store!.setState(this.id, state.state, state.reason) : Promise.resolve();
    // Contiguous in practice (one request); mark each run.
    const marks: Promise<void>[] = [];
    let runStart = regions[0];
    for (let i = 1; i <= regions.length; i++) {
      if (i < regions.length && regions[i] === regions[i - 1] + 1) continue;
      marks.push(this.markDirty(runStart, regions[i - 1], marks.length === 0 ? state : undefined));
      if (i < regions.length) runStart = regions[i];
    }
    return Promise.all(marks).then(noop);
  }

  private setState(state: MirrorState, reason: string | null): void {
    if (state === this.mirrorState && reason === this.reason) return;
    this.mirrorState = state;
    this.reason = reason;
    for (const fn of this.listeners) fn(state);
  }

  // ---- resync ----

  /**
   * Start a resync: the mirror takes writes again (state 'syncing'), and
   * writes still in flight from the degraded time are waited out so none can
   * land on the secondary after a region's copy.
   */
  async beginResync(): Promise<void> {
    if (!this.secondary) throw new Conflict('NOT_MIRRORED', `volume '${this.name}' has no mirror`);
    if (this.gates) throw new Conflict('RESYNC_RUNNING', `volume '${this.name}' is already resyncing`);
    this.gates = new Map();
    this.resyncTotal = this.dirty.size;
    this.setState('syncing', null);
    try {
      await this.store!.setState(this.id, 'syncing', null);
      await this.inflight.drain();
    } catch (e) {
      this.endResync(`resync could not start: ${(e as Error).message}`);
      throw e;
    }
  }

  /** Dirty regions, ascending, from `from` on, then those before it (a checkpoint's next region first). */
  dirtyRegions(from = 0): number[] {
    const all = [...this.dirty].sort((a, b) => a - b);
    const i = all.findIndex((r) => r >= from);
    return i <= 0 ? all : [...all.slice(i), ...all.slice(0, i)];
  }

  get dirtyCount(): number {
    return this.dirty.size;
  }

  /** Bytes of region r inside the volume. */
  regionLength(r: number): number {
    return Math.max(0, Math.min(this.regionBytes, this.size - r * this.regionBytes));
  }

  /**
   * Copy one region from primary to secondary while writes to it wait.
   * Zeros are written as write-zeroes, so a thin secondary stays thin.
   * Returns false when the mirror is no longer syncing (it failed meanwhile).
   */
  async copyRegion(r: number, buf?: Buffer): Promise<boolean> {
    const gates = this.gates;
    const secondary = this.secondary;
    if (!gates || !secondary || this.mirrorState !== 'syncing') return false;
    if (!this.dirty.has(r)) return true;
    let open!: () => void;
    gates.set(r, new Promise<void>((res) => (open = res)));
    try {
      if (this.active.has(r)) await new Promise<void>((res) => this.idleWaiters.set(r, res));
      const offset = r * this.regionBytes;
      const length = this.regionLength(r);
      if (length > 0) {
        const data = buf && buf.length >= length ? buf.subarray(0, length) : Buffer.allocUnsafe(length);
        await this.primaryDisk.readInto(offset, data);
        try {
          if (isZero(data)) await secondary.writeZeroes(offset, length);
          else await secondary.write(offset, data);
        } catch (e) {
          await this.secondaryFailed([], e);
          return false;
        }
      }
      this.dirty.delete(r);
      // Not awaited: queued in order with later marks, and a clear lost in a crash only costs a second copy.
      this.store!.clearDirty(this.id, [r]).catch(noop);
      return true;
    } finally {
      gates.delete(r);
      open();
    }
  }

  /** After the copies: flush the secondary, then in-sync if nothing is dirty, else degraded with `reason`. */
  async finishResync(reason: string | null): Promise<MirrorState> {
    if (!this.gates) return this.mirrorState;
    if (reason === null && this.mirrorState === 'syncing' && this.dirty.size === 0) {
      try {
        await this.secondary!.flush();
      } catch (e) {
        reason = `mirror flush failed: ${(e as Error).message}`;
        for (const r of this.mappedRegions(this.regionBytes)) this.dirty.add(r);
        await this.store!.markDirty(this.id, [...this.dirty]);
      }
    }
    const state = reason === null && this.mirrorState === 'syncing' && this.dirty.size === 0 ? 'in-sync' : 'degraded';
    const why = state === 'in-sync' ? null : (reason ?? this.reason ?? 'resync did not finish');
    this.endResync(why);
    await this.store!.setState(this.id, state, why);
    return state;
  }

  private endResync(reason: string | null): void {
    this.gates = null;
    this.resyncTotal = 0;
    this.setState(reason === null ? 'in-sync' : 'degraded', reason);
  }
}

function errorText(err: unknown): string {
  return (err as Error)?.message ?? String(err);
}

function range(first: number, last: number): number[] {
  const out: number[] = [];
  for (let r = first; r <= last; r++) out.push(r);
  return out;
}

function isZero(buf: Buffer): boolean {
  // Compare 8 bytes at a time where aligned; Buffer has no native "all zero" test.
  const words = buf.length >>> 3;
  if (words > 0 && buf.byteOffset % 8 === 0) {
    const big = new BigUint64Array(buf.buffer, buf.byteOffset, words);
    for (let i = 0; i < words; i++) if (big[i] !== 0n) return false;
    for (let i = words * 8; i < buf.length; i++) if (buf[i] !== 0) return false;
    return true;
  }
  for (let i = 0; i < buf.length; i++) if (buf[i] !== 0) return false;
  return true;
}

function noop(): void {}
