import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Pool } from '../virtualization/pool';
import { openCatalog, sqliteHandle, type SqliteHandle } from './catalog';
import { GroupCommitPageMapStore, InlineCommitter, WorkerCommitter, type PageMapChange } from './page-map-store';

/** A pool as the store sees it: an id, and a flush that counts. */
function fakePool(id: string): Pool & { flushes: number } {
  const p = { id, flushes: 0, layout: { flush: async () => void p.flushes++ } };
  return p as unknown as Pool & { flushes: number };
}

describe('page-map commits on a connection in a worker thread', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function catalog(): Promise<{ db: SqliteHandle; file: string }> {
    const dir = mkdtempSync(join(tmpdir(), 'strata-pagemap-'));
    const file = join(dir, 'catalog.sqlite');
    const ds = await openCatalog(file);
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }), () => ds.destroy());
    const db = sqliteHandle(ds);
    const at = new Date().toISOString();
    db.prepare(`INSERT INTO pools (id, name, layout, page_size, stripe_unit, created_at) VALUES ('p', 'p', 'concat', 1048576, 0, ?)`).run(at);
    db.prepare(`INSERT INTO volumes (id, name, pool_id, size, provisioning, serial, state, created_at) VALUES ('v', 'v', 'p', 16777216, 'thin', 'x', 'online', ?)`).run(at);
    return { db, file };
  }
  const rows = (db: SqliteHandle) => db.prepare('SELECT logical_page AS l, pool_page AS p FROM page_maps ORDER BY logical_page').all();

  it('commits what the catalog connection then reads; changes queued while one commits go together in the next', async () => {
    const { db, file } = await catalog();
    const store = new GroupCommitPageMapStore(db, file);
    cleanups.push(() => store.close());
    const pool = fakePool('p');
    const first = store.commitAllocations('v', pool, [{ logical: 0, physical: 5 }]);
    // Let the first batch leave for the worker, then queue more while it is out.
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    const more = [1, 2, 3].map((i) => store.commitAllocations('v', pool, [{ logical: i, physical: 5 + i }]));
    await Promise.all([first, ...more]);
    expect(rows(db)).toEqual([0, 1, 2, 3].map((i) => ({ l: i, p: 5 + i })));
    expect(store.stats).toMatchObject({ batches: 2, allocations: 4, failures: 0 });
    // Every batch flushed the pool before its rows committed.
    expect(pool.flushes).toBe(2);
    await store.commitReleases('v', [0, 2]);
    expect(rows(db)).toEqual([{ l: 1, p: 6 }, { l: 3, p: 8 }]);
  });

  it('a batch the catalog refuses fails its callers with the reason; the next batch commits', async () => {
    const { db, file } = await catalog();
    const store = new GroupCommitPageMapStore(db, file);
    cleanups.push(() => store.close());
    await expect(store.commitAllocations('no-such-volume', fakePool('p'), [{ logical: 0, physical: 1 }])).rejects.toThrow(/page map commit failed: FOREIGN KEY/);
    await store.commitAllocations('v', fakePool('p'), [{ logical: 0, physical: 1 }]);
    expect(rows(db)).toEqual([{ l: 0, p: 1 }]);
    expect(store.stats).toMatchObject({ batches: 1, failures: 1 });
  });

  it('if the worker dies, commits go on on the catalog connection itself', async () => {
    const { db, file } = await catalog();
    const inline = new InlineCommitter(db);
    const committer = new WorkerCommitter(file, inline);
    const batch: PageMapChange[] = [{ kind: 'alloc', volumeId: 'v', poolId: 'p', entries: [[0, 3]] }];
    await committer.commit(batch);
    await (committer as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    await committer.commit([{ kind: 'alloc', volumeId: 'v', poolId: 'p', entries: [[1, 4]] }]);
    expect(rows(db)).toEqual([{ l: 0, p: 3 }, { l: 1, p: 4 }]);
    await committer.close();
  });
});
