import type { PageMapEntry, PageMapStore } from '../virtualization/logical-disk';
import type { Pool } from '../virtualization/pool';
import type { SqliteHandle } from './catalog';

type Op =
  | { kind: 'alloc'; volumeId: string; pool: Pool; entries: readonly PageMapEntry[]; resolve: () => void; reject: (e: unknown) => void }
  | { kind: 'release'; volumeId: string; pages: readonly number[]; resolve: () => void; reject: (e: unknown) => void };

export interface GroupCommitStats {
  batches: number;
  allocations: number;
  releases: number;
  failures: number;
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
  private readonly insert;
  private readonly remove;
  private readonly apply: (batch: Op[]) => void;

  constructor(db: SqliteHandle) {
    // A redirect-on-write moves a logical page to a new pool page: replace its row.
    this.insert = db.prepare(
      'INSERT INTO page_maps (volume_id, logical_page, pool_id, pool_page) VALUES (?, ?, ?, ?) ' +
        'ON CONFLICT (volume_id, logical_page) DO UPDATE SET pool_id = excluded.pool_id, pool_page = excluded.pool_page',
    );
    this.remove = db.prepare('DELETE FROM page_maps WHERE volume_id = ? AND logical_page = ?');
    this.apply = db.transaction((batch: Op[]) => {
      for (const op of batch) {
        if (op.kind === 'alloc') {
          for (const e of op.entries) this.insert.run(op.volumeId, e.logical, op.pool.id, e.physical);
        } else {
          for (const page of op.pages) this.remove.run(op.volumeId, page);
        }
      }
    });
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
        this.apply(batch);
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
