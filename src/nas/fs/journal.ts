import { performance } from 'node:perf_hooks';
import { LatencyHistogram } from '../../common/latency-histogram';
import type { Run } from './block-allocator';
import { asFsError, fsError, type FsError } from './fs-error';
import type { BlockStore } from './fs-types';
import type { Inode } from './inode';
import type { MetaStatements } from './meta-db';

/** A closed batch: SQL with its values captured at seal time, and what to do once it is durable. */
interface Sealed {
  seq: number;
  ops: Array<() => void>;
  flush: boolean;
  freed: Run[];
  freedInos: number[];
}

export interface JournalHooks {
  /**
   * After each commit: the batch freeing these blocks and inode numbers is
   * durable, so they may be reused now (empty when nothing was released).
   * Its freed runs are also in pending_discards under `seq` until the engine
   * has discarded what it should.
   */
  committed(freed: Run[], freedInos: number[], seq: number): void;
  /** A commit failed: unstable data may be lost (the write verifier must change). */
  failed(err: FsError): void;
}

interface Waiter {
  seq: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * 'data': everything, data included, is durable (COMMIT, FILE_SYNC, close).
 * 'meta': namespace and attribute changes are durable; fresh blocks that
 * unstable writes added may stay unflushed, so their extent rows wait for
 * the next data commit (the file may come back after a crash with its new
 * size and zeros where the unstable data was, never with stale bytes).
 * 'applied': as 'meta', but committed to the database without waiting for
 * the disk (no fsync): the changes survive a crash of the gateway, and a
 * crash of the host may lose the last of them (an async share). WAL
 * recovery keeps a prefix of the commits, so what comes back is always a
 * state the filesystem was in.
 */
export type SyncKind = 'data' | 'meta' | 'applied';

/** What a commit freed: released once a synced commit covers it (at once when it is synced itself). */
interface Held {
  seq: number;
  freed: Run[];
  freedInos: number[];
}

/**
 * Group commit of metadata, ordered after data. Changes accumulate in the
 * open batch (structural SQL as it happens, inode rows and extent maps as
 * they are at seal time). A commit seals the batch, flushes the data store
 * when the batch points at fresh blocks (or a data commit was asked for and
 * data was written since the last flush), then applies the batch in one
 * SQLite transaction (WAL, synchronous=FULL). Callers waiting meanwhile share
 * the next commit. A failed batch is kept and retried ahead of the next one.
 *
 * When nobody waiting needs more than 'applied', the transaction runs with
 * synchronous=NORMAL: no fsync, so it is lost only if the host goes down
 * before the next synced commit. Blocks and inode numbers such a commit
 * frees stay reserved until a synced commit covers it: data written into a
 * reused block could otherwise reach the disk while the commit that freed it
 * did not, and the old file would come back holding foreign bytes.
 */
export class Journal {
  private ops: Array<() => void> = [];
  private dirtyInodes: Inode[] = [];
  private extentInodes = new Set<Inode>();
  /** Inodes whose extent rows must commit with their row even in a 'meta' commit (inline data moved to blocks). */
  private boundExtents = new Set<Inode>();
  private freed: Run[] = [];
  private freedInos: number[] = [];
  private dataDirty = false;
  private mustFlush = false;
  private carry: Sealed | null = null;
  /** The batch accumulating now; everything done so far is in it or an earlier one. */
  private openSeq = 1;
  private committedSeq = 0;
  private wantedSeq = 0;
  /** The highest batch someone needs committed as a data commit. */
  private wantedDataSeq = 0;
  /** The highest batch someone needs on disk ('meta' or 'data'), not only applied. */
  private wantedSyncSeq = 0;
  /** What commits since the last synced one freed (see Held). */
  private held: Held[] = [];
  /** A commit since the last synced one did not wait for the disk. */
  private unsynced = false;
  /** The connection's synchronous setting now: FULL unless an 'applied' commit turned it down. */
  private fullSync = true;
  private readonly waiters: Waiter[] = [];
  private running: Promise<void> | null = null;
  private paused = false;
  private closed = false;
  private timer?: NodeJS.Timeout;
  commits = 0;
  /** Commits that waited for the disk (fsync of the WAL). */
  syncs = 0;
  flushes = 0;
  /** SQL operations committed (a batch's structural changes, inode rows, extent rewrites). */
  opsCommitted = 0;
  /** How long each commit's SQLite transaction took: with its fsync of the WAL (synced), or without (applied). */
  readonly commitLatency = { synced: new LatencyHistogram(), applied: new LatencyHistogram() };
  /** How long each flush of the data store before a commit took. */
  readonly flushLatency = new LatencyHistogram();

  /**
   * One sealed batch as one SQLite transaction. Built once: better-sqlite3
   * makes a new wrapper per db.transaction() call, which costs more than
   * many a small commit's statements.
   */
  private readonly apply: (sealed: Sealed, marker: boolean) => void;

  constructor(
    private readonly stmts: MetaStatements,
    private readonly store: BlockStore,
    private readonly hooks: JournalHooks,
  ) {
    this.apply = stmts.db.transaction((sealed: Sealed, marker: boolean) => {
      const { ops, freed, seq } = sealed;
      for (let i = 0; i < ops.length; i++) ops[i]();
      for (const r of freed) stmts.putPendingDiscard.run(seq, r.start, r.count);
      if (marker) stmts.putMeta.run('synced_at', Date.now());
    });
  }

  /** Commit in the background every `ms` when anything is pending. */
  startTimer(ms: number): void {
    if (ms <= 0) return;
    this.timer = setInterval(() => {
      if (this.hasWork) this.request(this.openSeq, 'data');
    }, ms);
    this.timer.unref();
  }

  get hasWork(): boolean {
    return (
      this.ops.length > 0 ||
      this.dirtyInodes.length > 0 ||
      this.extentInodes.size > 0 ||
      this.freed.length > 0 ||
      this.freedInos.length > 0 ||
      this.dataDirty ||
      this.carry !== null ||
      this.unsynced
    );
  }

  /** Blocks are freed but not yet released: they wait for a commit, or for a synced one (see Held). */
  get holdsFrees(): boolean {
    return this.freed.length > 0 || this.held.length > 0 || (this.carry?.freed.length ?? 0) > 0;
  }

  /** Structural SQL, run in order at commit; capture values, not live objects. */
  op(fn: () => void): void {
    this.ops.push(fn);
  }

  /** The inode's row is written as it is at seal time. */
  touch(inode: Inode): void {
    if (inode.dirty) return;
    inode.dirty = true;
    this.dirtyInodes.push(inode);
  }

  /** The inode's extent map changed: its rows (and its row) are rewritten from extents.dirtyFrom. */
  touchExtents(inode: Inode): void {
    this.extentInodes.add(inode);
  }

  /**
   * The inode's fresh blocks now hold data its row no longer carries (inline
   * data moved out): the next commit, whatever its kind, flushes them and
   * writes the extent rows with the row, or a crash would lose committed bytes.
   */
  bindExtents(inode: Inode): void {
    this.extentInodes.add(inode);
    this.boundExtents.add(inode);
  }

  /** The inode's rows are being deleted by an op: nothing more to write for it. */
  forget(inode: Inode): void {
    this.extentInodes.delete(inode);
    this.boundExtents.delete(inode);
    // Its entry in dirtyInodes is skipped at seal (inode.deleted).
  }

  /** Blocks given up; they stay allocated until this batch is durable. */
  freeBlocks(runs: Run[]): void {
    for (const r of runs) if (r.count > 0) this.freed.push(r);
  }

  freeIno(ino: number): void {
    this.freedInos.push(ino);
  }

  /** Data landed on the store: the next data commit must flush it first. */
  dataWritten(): void {
    this.dataDirty = true;
  }

  /**
   * Zeros written past a file's end (truncate, extend, a write leaving a
   * gap): the size change that relies on them must not commit before them,
   * so the next commit flushes whatever its kind.
   */
  zeroesWritten(): void {
    this.dataDirty = true;
    this.mustFlush = true;
  }

  /**
   * Write outside the batches that must be on disk when this returns (the
   * generation ceiling: a lost raise could hand a new file the handle of a
   * lost one), whatever the last batch was. Its fsync also covers the
   * batches applied before it, but they stay unsynced here: the next synced
   * commit releases what they freed.
   */
  writeSynced(fn: () => void): void {
    this.synchronous(true);
    fn();
  }

  /** Resolves once everything done before the call is durable (see SyncKind). */
  sync(kind: SyncKind = 'data'): Promise<void> {
    if (this.closed) return Promise.reject(fsError('IO', 'filesystem is closed'));
    const seq = this.openSeq;
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ seq, resolve, reject });
      this.request(seq, kind);
    });
  }

  /** Stop committing (quiesce); resolves when no commit is running. */
  async pause(): Promise<void> {
    this.paused = true;
    while (this.running) await this.running;
  }

  resume(): void {
    this.paused = false;
    this.kick();
  }

  /** Commit what is pending, then stop. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.paused = false;
    await this.sync();
    this.abort();
  }

  /** Stop at once; pending changes are dropped (a crash, as far as the database knows). */
  abort(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    const err = fsError('IO', 'filesystem is closed');
    for (const w of this.waiters.splice(0)) w.reject(err);
  }

  private request(seq: number, kind: SyncKind): void {
    if (seq > this.wantedSeq) this.wantedSeq = seq;
    if (kind === 'data' && seq > this.wantedDataSeq) this.wantedDataSeq = seq;
    if (kind !== 'applied' && seq > this.wantedSyncSeq) this.wantedSyncSeq = seq;
    this.kick();
  }

  private kick(): void {
    if (this.running || this.paused || this.closed || this.wantedSeq <= this.committedSeq) return;
    this.running = this.loop().finally(() => {
      this.running = null;
      this.kick();
    });
  }

  private async loop(): Promise<void> {
    while (!this.paused && !this.closed && this.wantedSeq > this.committedSeq) {
      const sealed = this.seal();
      const sync = this.wantedSyncSeq >= sealed.seq;
      try {
        if (sealed.flush) {
          const started = performance.now();
          await this.store.flush();
          this.flushLatency.since(started);
          this.flushes++;
        }
        if (this.closed) return;
        if (sealed.ops.length > 0 || sealed.freed.length > 0 || (sync && this.unsynced)) {
          this.commit(sealed, sync);
        }
      } catch (err) {
        this.retryLater(sealed, asFsError(err, 'metadata commit'));
        continue;
      }
      this.committedSeq = sealed.seq;
      while (this.waiters.length > 0 && this.waiters[0].seq <= sealed.seq) this.waiters.shift()!.resolve();
      if (sealed.freed.length > 0 || sealed.freedInos.length > 0) this.held.push({ seq: sealed.seq, freed: sealed.freed, freedInos: sealed.freedInos });
      // What was freed waits for a synced commit; the hook runs after every commit all the same.
      const released = sync ? this.held.splice(0) : [];
      if (released.length === 0) this.hooks.committed([], [], sealed.seq);
      for (const h of released) this.hooks.committed(h.freed, h.freedInos, h.seq);
    }
  }

  /**
   * One SQLite transaction; synced, it also makes every earlier applied one
   * durable (they are earlier frames of the same WAL file). A synced commit
   * with nothing of its own writes a marker row so that there is a WAL frame
   * to sync.
   */
  private commit(sealed: Sealed, sync: boolean): void {
    const { ops, freed } = sealed;
    this.synchronous(sync);
    const marker = sync && ops.length === 0 && freed.length === 0;
    const started = performance.now();
    this.apply(sealed, marker);
    (sync ? this.commitLatency.synced : this.commitLatency.applied).since(started);
    this.commits++;
    this.opsCommitted += ops.length;
    if (sync) {
      this.syncs++;
      this.unsynced = false;
    } else {
      this.unsynced = true;
    }
  }

  /**
   * FULL: a commit fsyncs the WAL; NORMAL (WAL mode): it does not. Set
   * anew each time: SQLite applies this pragma when the statement is
   * prepared, so a prepared one run again changes nothing. exec, not
   * pragma(): no statement object and no result rows (about 4 µs less).
   */
  private synchronous(full: boolean): void {
    if (full === this.fullSync) return;
    this.stmts.db.exec(full ? 'PRAGMA synchronous = FULL' : 'PRAGMA synchronous = NORMAL');
    this.fullSync = full;
  }

  private retryLater(sealed: Sealed, err: FsError): void {
    this.carry = sealed;
    if (sealed.flush) this.dataDirty = this.mustFlush = true;
    this.hooks.failed(err);
    while (this.waiters.length > 0 && this.waiters[0].seq <= sealed.seq) this.waiters.shift()!.reject(err);
    // Later waiters get their own attempt; without any, wait for the next request.
    this.wantedSeq = this.waiters.length > 0 ? this.waiters[this.waiters.length - 1].seq : this.committedSeq;
    this.wantedDataSeq = Math.min(this.wantedDataSeq, this.wantedSeq);
    this.wantedSyncSeq = Math.min(this.wantedSyncSeq, this.wantedSeq);
  }

  private seal(): Sealed {
    const seq = this.openSeq++;
    const data = this.wantedDataSeq >= seq;
    const stmts = this.stmts;
    const ops = this.ops;
    this.ops = [];
    let fresh = false;
    // Extent rows first: an inode row carries the block count of the rows committed with it.
    const deferred: Inode[] = [];
    for (const inode of this.extentInodes) {
      const map = inode.extents!;
      if (!data && map.grown && !map.shrunk && !this.boundExtents.has(inode)) {
        deferred.push(inode);
        continue;
      }
      fresh ||= map.grown;
      // The row carries the block count of these rows: it goes in the same batch.
      this.touch(inode);
      const { from, rows } = map.takeRows();
      const ino = inode.ino;
      ops.push(() => {
        stmts.deleteExtentsFrom.run(ino, from);
        for (const e of rows) stmts.putExtent.run(ino, e.fblock, e.dblock, e.count);
      });
    }
    this.extentInodes = new Set(deferred);
    this.boundExtents.clear();
    for (const inode of this.dirtyInodes) {
      inode.dirty = false;
      if (inode.deleted) continue;
      const row = inode.row();
      ops.push(() => stmts.putInode.run(...row));
    }
    this.dirtyInodes = [];
    const flush = fresh || this.mustFlush || (data && this.dataDirty);
    let sealed: Sealed = { seq, ops, flush, freed: this.freed, freedInos: this.freedInos };
    if (flush) {
      this.dataDirty = false;
      this.mustFlush = false;
    }
    this.freed = [];
    this.freedInos = [];
    if (this.carry) {
      const c = this.carry;
      this.carry = null;
      sealed = {
        seq,
        ops: c.ops.concat(sealed.ops),
        flush: c.flush || sealed.flush,
        freed: c.freed.concat(sealed.freed),
        freedInos: c.freedInos.concat(sealed.freedInos),
      };
    }
    return sealed;
  }
}
