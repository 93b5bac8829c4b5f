import { Worker } from 'node:worker_threads';
import type { PageMapEntry, PageMapStore } from '../virtualization/logical-disk';
import type { Pool } from '../virtualization/pool';
import type { SqliteHandle } from './catalog';

type Op =
  | { kind: 'alloc'; volumeId: string; pool: Pool; entries: readonly PageMapEntry[]; resolve: () => void; reject: (e: unknown) => void }
  | { kind: 'release'; volumeId: string; pages: readonly number[]; resolve: () => void; reject: (e: unknown) => void };

/** One batch as rows: what a committer writes in one transaction. */
export type PageMapChange =
  | { kind: 'alloc'; volumeId: string; poolId: string; entries: Array<[logical: number, physical: number]> }
  | { kind: 'release'; volumeId: string; pages: number[] };

/** Writes a batch of page-map changes in one durable transaction. */
export interface PageMapCommitter {
  commit(batch: PageMapChange[]): Promise<void>;
  close(): Promise<void>;
}

export interface GroupCommitStats {
  batches: number;
  allocations: number;
  releases: number;
  failures: number;
}

// A redirect-on-write moves a logical page to a new pool page: replace its row.
const INSERT =
  'INSERT INTO page_maps (volume_id, logical_page, pool_id, pool_page) VALUES (?, ?, ?, ?) ' +
  'ON CONFLICT (volume_id, logical_page) DO UPDATE SET pool_id = excluded.pool_id, pool_page = excluded.pool_page';
const REMOVE = 'DELETE FROM page_maps WHERE volume_id = ? AND logical_page = ?';

/** The transaction, on the catalog's own connection: the event loop waits for its WAL fsync (in-memory catalogs, tests). */
export class InlineCommitter implements PageMapCommitter {
  private readonly apply: (batch: PageMapChange[]) => void;

  constructor(db: SqliteHandle) {
    const insert = db.prepare(INSERT);
    const remove = db.prepare(REMOVE);
    this.apply = db.transaction((batch: PageMapChange[]) => {
      for (const c of batch) {
        if (c.kind === 'alloc') for (const [logical, physical] of c.entries) insert.run(c.volumeId, logical, c.poolId, physical);
        else for (const page of c.pages) remove.run(c.volumeId, page);
      }
    });
  }

  async commit(batch: PageMapChange[]): Promise<void> {
    this.apply(batch);
  }

  async close(): Promise<void> {}
}

/*
 * The same transaction on a connection of its own in a worker thread, so the
 * WAL fsync (1–6 ms, most of a thin volume's write path) no longer stops the
 * event loop: I/O, and the changes that make the next batch, go on meanwhile.
 * Plain CommonJS given as text, so it runs the same from dist/ and from the
 * TypeScript sources under the tests. WAL lets the catalog's main connection
 * read and write alongside; a writer waits for the other's short transaction
 * (busy_timeout), as two processes would.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.pragma('busy_timeout = 5000');
db.pragma('foreign_keys = ON');
const insert = db.prepare(workerData.insert);
const remove = db.prepare(workerData.remove);
const apply = db.transaction((batch) => {
  for (const c of batch) {
    if (c.kind === 'alloc') for (const [logical, physical] of c.entries) insert.run(c.volumeId, logical, c.poolId, physical);
    else for (const page of c.pages) remove.run(c.volumeId, page);
  }
});
parentPort.on('message', (m) => {
  if (m.close) { db.close(); parentPort.postMessage({ closed: true }); return; }
  try { apply(m.batch); parentPort.postMessage({ id: m.id }); }
  catch (e) { parentPort.postMessage({ id: m.id, error: e && e.message ? e.message : String(e), code: e && e.code }); }
});
`;

export class WorkerCommitter implements PageMapCommitter {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { resolve: () => void; reject: (e: unknown) => void }>();
  private nextId = 1;
  private broken: Error | undefined;
  private closing: Promise<void> | undefined;

  /** `fallback` takes over if the worker cannot start or dies (the catalog stays writable, on the event loop). */
  constructor(
    file: string,
    private readonly fallback: PageMapCommitter,
  ) {
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { file, driver: require.resolve('better-sqlite3'), insert: INSERT, remove: REMOVE },
    });
    // Pending commits keep the process alive through their promises; an idle worker must not.
    this.worker.unref();
    this.worker.on('message', (m: { id?: number; error?: string; code?: string }) => {
      if (m.id === undefined) return;
      const w = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      if (!w) return;
      if (m.error === undefined) w.resolve();
      else w.reject(Object.assign(new Error(`page map commit failed: ${m.error}`), { code: m.code }));
    });
    const fail = (e: Error) => {
      this.broken = e;
      for (const w of this.waiting.values()) w.reject(e);
      this.waiting.clear();
    };
    this.worker.on('error', (e) => fail(new Error(`the page map writer stopped: ${e.message}`)));
    this.worker.on('exit', (code) => fail(new Error(`the page map writer exited (code ${code})`)));
  }

  commit(batch: PageMapChange[]): Promise<void> {
    if (this.broken) return this.fallback.commit(batch);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ id, batch });
    });
  }

  /** Close the worker's connection (after the batches sent before), then stop it. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.broken) return;
      const closed = new Promise<void>((resolve) => this.worker.on('message', (m: { closed?: boolean }) => m.closed && resolve()));
      this.worker.postMessage({ close: true });
      await closed;
      await this.worker.terminate();
    })();
    return this.closing;
  }
}

/**
 * Durable page-map changes with group commit. Changes queued while a commit is
 * running go together in the next one: one device flush per pool and one
 * SQLite transaction (one WAL fsync) for the lot.
 *
 * Order per batch: flush the pools that got new pages, then commit the rows.
 * So a committed mapping never points at a page whose data is not yet on
 * stable storage, even across a power loss.
 */
export class GroupCommitPageMapStore implements PageMapStore {
  readonly stats: GroupCommitStats = { batches: 0, allocations: 0, releases: 0, failures: 0 };
  private queue: Op[] = [];
  private draining = false;
  private readonly committer: PageMapCommitter;

  /** `file`: the catalog's file, for a connection in a worker thread; without it the transaction runs on `db` itself. */
  constructor(db: SqliteHandle, file?: string) {
    const inline = new InlineCommitter(db);
    this.committer = file ? new WorkerCommitter(file, inline) : inline;
  }

  commitAllocations(volumeId: string, pool: Pool, entries: readonly PageMapEntry[]): Promise<void> {
    if (entries.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => this.enqueue({ kind: 'alloc', volumeId, pool, entries, resolve, reject }));
  }

  commitReleases(volumeId: string, logicalPages: readonly number[]): Promise<void> {
    if (logicalPages.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => this.enqueue({ kind: 'release', volumeId, pages: logicalPages, resolve, reject }));
  }

  /** Resolves once everything queued so far is committed (or failed). */
  async idle(): Promise<void> {
    while (this.draining || this.queue.length > 0) await new Promise((r) => setImmediate(r));
  }

  /** After idle(): the committer's connection closes (shutdown). */
  async close(): Promise<void> {
    await this.idle();
    await this.committer.close();
  }

  private enqueue(op: Op): void {
    this.queue.push(op);
    if (!this.draining) {
      this.draining = true;
      setImmediate(() => void this.drain());
    }
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      try {
        const pools = new Set<Pool>();
        for (const op of batch) if (op.kind === 'alloc') pools.add(op.pool);
        await Promise.all([...pools].map((p) => p.layout.flush()));
        await this.committer.commit(
          batch.map((op) =>
            op.kind === 'alloc'
              ? { kind: 'alloc', volumeId: op.volumeId, poolId: op.pool.id, entries: op.entries.map((e) => [e.logical, e.physical] as [number, number]) }
              : { kind: 'release', volumeId: op.volumeId, pages: [...op.pages] },
          ),
        );
        this.stats.batches++;
        for (const op of batch) {
          if (op.kind === 'alloc') this.stats.allocations += op.entries.length;
          else this.stats.releases += op.pages.length;
          op.resolve();
        }
      } catch (e) {
        this.stats.failures++;
        for (const op of batch) op.reject(e);
      }
    }
    this.draining = false;
  }
}
