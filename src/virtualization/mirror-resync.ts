import type { MirroredDisk, MirrorState } from './mirrored-disk';

/** Regions copied at once: enough to overlap the reads of one with the writes of another. */
const PARALLEL = 4;

export interface ResyncHooks {
  /** Region to start from (a checkpoint's next region); earlier dirty regions come after the end. */
  from?: number;
  /** Checked between batches; true stops the copy (the mirror stays degraded with what is left dirty). */
  stop?(): boolean;
  /** After each batch: the regions copied and their bytes, and the region to resume from. */
  copied?(bytes: number, next: number): Promise<void> | void;
}

export class ResyncStopped extends Error {
  constructor(readonly why: string) {
    super(why);
    this.name = 'ResyncStopped';
  }
}

/**
 * Copy every dirty region of a mirrored volume from its primary to its
 * secondary, a few at a time, until none is left; writes keep going to both
 * meanwhile. Resolves with the final state; rejects (mirror left degraded)
 * if the mirror fails, the primary cannot be read, or `stop` says so.
 */
export async function resyncMirror(disk: MirroredDisk, hooks: ResyncHooks = {}): Promise<MirrorState> {
  await disk.beginResync();
  const buffers = Array.from({ length: PARALLEL }, () => Buffer.allocUnsafe(disk.regionSize));
  let next = hooks.from ?? 0;
  try {
    while (disk.dirtyCount > 0) {
      const todo = disk.dirtyRegions(next);
      for (let i = 0; i < todo.length; i += PARALLEL) {
        if (hooks.stop?.()) throw new ResyncStopped('resync stopped');
        const batch = todo.slice(i, i + PARALLEL);
        const ok = await Promise.all(batch.map((r, j) => disk.copyRegion(r, buffers[j])));
        if (ok.includes(false)) throw new ResyncStopped(disk.status()?.reason ?? 'mirror failed during resync');
        next = batch[batch.length - 1] + 1;
        await hooks.copied?.(batch.reduce((sum, r) => sum + disk.regionLength(r), 0), next);
      }
      next = 0;
    }
  } catch (e) {
    await disk.finishResync((e as Error).message || 'resync failed').catch(() => undefined);
    throw e;
  }
  const state = await disk.finishResync(null);
  if (state !== 'in-sync') throw new ResyncStopped(disk.status()?.reason ?? 'resync did not finish');
  return state;
}
