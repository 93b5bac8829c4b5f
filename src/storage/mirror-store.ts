import type { MirrorState, MirrorStore } from '../virtualization/mirrored-disk';
import type { SqliteHandle } from './catalog';

type Op =
  | { kind: 'mark'; volumeId: string; regions: readonly number[]; state?: { state: MirrorState; reason: string | null } }
  | { kind: 'clear'; volumeId: string; regions: readonly number[] }
  | { kind: 'intent' | 'settled'; volumeId: string; regions: readonly number[] }
  | { kind: 'state'; volumeId: string; state: MirrorState; reason: string | null };

/**
 * Mirror dirty sets, write-intent logs and states in the catalog, group-committed: every change
 * queued while a transaction runs goes into the next one, in order, so a
 * region cleared and then dirtied again ends up dirty.
 */
export class GroupCommitMirrorStore implements MirrorStore {
  commits = 0;
  private queue: Array<{ op: Op; resolve: () => void; reject: (e: unknown) => void }> = [];
  private draining = false;
  private readonly apply: (ops: Op[]) => void;

  constructor(db: SqliteHandle) {
    const mark = db.prepare('INSERT OR IGNORE INTO mirror_dirty (volume_id, region) VALUES (?, ?)');
    const clear = db.prepare('DELETE FROM mirror_dirty WHERE volume_id = ? AND region = ?');
    const state = db.prepare('UPDATE mirrors SET state = ?, reason = ?, updated_at = ? WHERE volume_id = ?');
    const intent = db.prepare('INSERT OR IGNORE INTO mirror_intent (volume_id, region) VALUES (?, ?)');
    const settled = db.prepare('DELETE FROM mirror_intent WHERE volume_id = ? AND region = ?');
    const statements = { mark, clear, intent, settled };
    this.apply = db.transaction((ops: Op[]) => {
      const at = new Date().toISOString();
      for (const op of ops) {
        if (op.kind === 'state') state.run(op.state, op.reason, at, op.volumeId);
        else {
          const stmt = statements[op.kind];
          for (const r of op.regions) stmt.run(op.volumeId, r);
          if (op.kind === 'mark' && op.state) state.run(op.state.state, op.state.reason, at, op.volumeId);
        }
      }
    });
  }

  markDirty(volumeId: string, regions: readonly number[], state?: { state: MirrorState; reason: string | null }): Promise<void> {
    return this.enqueue({ kind: 'mark', volumeId, regions, state });
  }

  clearDirty(volumeId: string, regions: readonly number[]): Promise<void> {
    return regions.length === 0 ? Promise.resolve() : this.enqueue({ kind: 'clear', volumeId, regions });
  }

  markIntent(volumeId: string, regions: readonly number[]): Promise<void> {
    return regions.length === 0 ? Promise.resolve() : this.enqueue({ kind: 'intent', volumeId, regions });
  }

  clearIntent(volumeId: string, regions: readonly number[]): Promise<void> {
    return regions.length === 0 ? Promise.resolve() : this.enqueue({ kind: 'settled', volumeId, regions });
  }

  setState(volumeId: string, state: MirrorState, reason: string | null): Promise<void> {
    return this.enqueue({ kind: 'state', volumeId, state, reason });
  }

  /** Resolves once everything queued so far is committed (or failed). */
  async idle(): Promise<void> {
    while (this.draining || this.queue.length > 0) await new Promise((r) => setImmediate(r));
  }

  private enqueue(op: Op): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ op, resolve, reject });
      if (!this.draining) {
        this.draining = true;
        setImmediate(() => this.drain());
      }
    });
  }

  private drain(): void {
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      try {
        this.apply(batch.map((b) => b.op));
        this.commits++;
        for (const b of batch) b.resolve();
      } catch (e) {
        for (const b of batch) b.reject(e);
      }
    }
    this.draining = false;
  }
}
