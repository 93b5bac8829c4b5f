import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Run } from './block-allocator';
import type { BlockStore } from './fs-types';
import { Journal } from './journal';
import { MetaStatements, openDatabase } from './meta-db';
import { CrashStore } from './testing/crash-store';

/*
 * The journal's choice between a commit that waits for the disk (SQLite
 * synchronous=FULL: the WAL is fsynced) and one that does not (NORMAL), read
 * from inside each transaction, and what it releases when.
 */

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup(store: BlockStore = new CrashStore(1 << 20)) {
  const dir = mkdtempSync(join(tmpdir(), 'journal-'));
  dirs.push(dir);
  const db = openDatabase(join(dir, 'meta.sqlite'), { readOnly: false, create: true });
  const stmts = new MetaStatements(db);
  const released: Array<{ freed: Run[]; seq: number }> = [];
  const journal = new Journal(stmts, store, {
    committed: (freed, _inos, seq) => released.push({ freed, seq }),
    failed: () => undefined,
  });
  /** The synchronous setting the next commit's transaction runs with: 1 NORMAL, 2 FULL. */
  const setting = (): (() => number) => {
    let seen = -1;
    journal.op(() => (seen = db.pragma('synchronous', { simple: true }) as number));
    return () => seen;
  };
  return { db, journal, released, setting };
}

describe('Journal', () => {
  it("commits 'applied' batches without an fsync and 'meta' and 'data' ones with one", async () => {
    const { journal, setting } = setup();
    let seen = setting();
    await journal.sync('applied');
    expect(seen()).toBe(1);
    expect(journal).toMatchObject({ commits: 1, syncs: 0 });
    seen = setting();
    await journal.sync('meta');
    expect(seen()).toBe(2);
    seen = setting();
    await journal.sync('applied');
    expect(seen()).toBe(1);
    seen = setting();
    await journal.sync('data');
    expect(seen()).toBe(2);
    expect(journal).toMatchObject({ commits: 4, syncs: 2 });
  });

  it('releases what applied batches freed only with the next synced commit, in order', async () => {
    const { journal, released } = setup();
    journal.freeBlocks([{ start: 10, count: 2 }]);
    await journal.sync('applied');
    journal.freeBlocks([{ start: 20, count: 1 }]);
    await journal.sync('applied');
    expect(released.filter((r) => r.freed.length > 0)).toEqual([]);
    // Nothing of its own to commit: a marker row gives the fsync a frame to cover.
    await journal.sync('meta');
    expect(journal.syncs).toBe(1);
    const frees = released.filter((r) => r.freed.length > 0);
    expect(frees.map((r) => r.freed)).toEqual([[{ start: 10, count: 2 }], [{ start: 20, count: 1 }]]);
    // Under the seqs their pending_discards rows carry: each applied batch's own.
    expect(frees[0].seq).toBeLessThan(frees[1].seq);
    // The hook ran after every commit, releasing nothing until the synced one.
    expect(released).toHaveLength(2 + 2);
  });

  it('a synced request with nothing applied since the last sync commits nothing', async () => {
    const { journal } = setup();
    await journal.sync('meta');
    expect(journal).toMatchObject({ commits: 0, syncs: 0 });
    expect(journal.hasWork).toBe(false);
    await journal.sync('applied');
    expect(journal.hasWork).toBe(false);
  });

  it('an applied commit leaves work for the timer until a synced one covers it', async () => {
    const { journal } = setup();
    journal.op(() => undefined);
    await journal.sync('applied');
    expect(journal.hasWork).toBe(true);
    await journal.sync('data');
    expect(journal.hasWork).toBe(false);
  });

  it('a synced request made while an applied commit waits for its data flush gets a synced commit of its own', async () => {
    const store = new CrashStore(1 << 20);
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const flush = store.flush.bind(store);
    store.flush = () => gate.then(flush);
    const { journal, setting } = setup(store);
    // Zeros past an end: the next commit, whatever its kind, flushes the store first.
    journal.zeroesWritten();
    const first = setting();
    const applied = journal.sync('applied');
    const second = setting();
    let synced = false;
    const meta = journal.sync('meta').then(() => (synced = true));
    await new Promise((r) => setTimeout(r, 10));
    expect([first(), second(), synced]).toEqual([-1, -1, false]);
    open();
    await applied;
    await meta;
    expect([first(), second()]).toEqual([1, 2]);
    expect(journal).toMatchObject({ commits: 2, syncs: 1 });
  });

  it('a failed synced commit keeps what applied ones freed until a later one succeeds', async () => {
    const { journal, released } = setup();
    journal.freeBlocks([{ start: 10, count: 2 }]);
    await journal.sync('applied');
    let fail = true;
    journal.op(() => {
      if (fail) throw new Error('disk I/O error');
    });
    await expect(journal.sync('meta')).rejects.toMatchObject({ code: 'IO' });
    expect(released.filter((r) => r.freed.length > 0)).toEqual([]);
    expect(journal.hasWork).toBe(true);
    fail = false;
    await journal.sync('meta');
    expect(released.filter((r) => r.freed.length > 0).map((r) => r.freed)).toEqual([[{ start: 10, count: 2 }]]);
    expect(journal.hasWork).toBe(false);
  });

  it('writeSynced runs its write with FULL even after an applied commit', async () => {
    const { db, journal, setting } = setup();
    setting();
    await journal.sync('applied');
    let during = -1;
    journal.writeSynced(() => (during = db.pragma('synchronous', { simple: true }) as number));
    expect(during).toBe(2);
    // The next applied batch turns it down again.
    const seen = setting();
    await journal.sync('applied');
    expect(seen()).toBe(1);
  });
});
