import type { PageMapEntry, PageMapStore } from '../logical-disk';
import type { Pool } from '../pool';

/**
 * A PageMapStore keeping what a reboot would load, and able to fail or hold
 * commits. It rejects commits that contradict its state, so specs catch a
 * disk committing a page twice or releasing one it never mapped.
 */
export class FakePageMapStore implements PageMapStore {
  readonly committed = new Map<string, Map<number, number>>();
  allocationCommits = 0;
  releaseCommits = 0;
  private allocationFailure?: Error;
  private releaseFailure?: Error;
  private gate?: Promise<void>;

  failNextAllocation(err: Error): void {
    this.allocationFailure = err;
  }

  failNextRelease(err: Error): void {
    this.releaseFailure = err;
  }

  /** Hold every commit until the returned function is called. */
  hold(): () => void {
    let resume!: () => void;
    this.gate = new Promise<void>((resolve) => (resume = resolve));
    return () => {
      this.gate = undefined;
      resume();
    };
  }

  /** The committed map of a volume, as the storage manager would pass it at boot. */
  entries(volumeId: string): PageMapEntry[] {
    return [...this.volume(volumeId)].map(([logical, physical]) => ({ logical, physical }));
  }

  async commitAllocations(volumeId: string, _pool: Pool, entries: readonly PageMapEntry[]): Promise<void> {
    this.allocationCommits++;
    if (this.gate) await this.gate;
    const err = this.allocationFailure;
    this.allocationFailure = undefined;
    if (err) throw err;
    const map = this.volume(volumeId);
    for (const { logical, physical } of entries) {
      // A redirect-on-write replaces a mapping with another page; the same page again is a bug.
      if (map.get(logical) === physical) throw new Error(`${volumeId}: logical page ${logical} committed twice to page ${physical}`);
    }
    for (const { logical, physical } of entries) map.set(logical, physical);
  }

  async commitReleases(volumeId: string, logicalPages: readonly number[]): Promise<void> {
    this.releaseCommits++;
    if (this.gate) await this.gate;
    const err = this.releaseFailure;
    this.releaseFailure = undefined;
    if (err) throw err;
    const map = this.volume(volumeId);
    for (const logical of logicalPages) {
      if (!map.has(logical)) throw new Error(`${volumeId}: logical page ${logical} released while unmapped`);
    }
    for (const logical of logicalPages) map.delete(logical);
  }

  /** A whole map committed at once (a snapshot's or clone's creation, a rollback). */
  replace(volumeId: string, entries: readonly PageMapEntry[]): void {
    this.committed.set(volumeId, new Map(entries.map((e) => [e.logical, e.physical])));
  }

  private volume(volumeId: string): Map<number, number> {
    let map = this.committed.get(volumeId);
    if (map === undefined) {
      map = new Map();
      this.committed.set(volumeId, map);
    }
    return map;
  }
}
