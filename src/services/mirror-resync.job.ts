import { NotFound } from '../common/errors';
import type { JobContext, JobKind } from '../jobs/job-kind';
import { Throttle } from '../jobs/throttle';
import type { JobRecord, JobState } from '../storage/domain';
import type { StorageRuntime } from '../storage/runtime';
import { resyncMirror, ResyncStopped } from '../virtualization/mirror-resync';

export const RESYNC_KIND = 'mirror-resync';

export interface ResyncParams {
  volumeId: string;
  /** Bytes per second, 0 or absent for no limit. */
  rateLimit?: number;
}

export interface ResyncCheckpoint {
  /** The region after the last batch copied. */
  next: number;
}

/** Checkpoints at most this often (each is a catalog write). */
const CHECKPOINT_MS = 500;

/**
 * Copy a mirrored volume's dirty regions to its mirror. The dirty set itself
 * is durable, so a resumed job only finds what is left; the checkpoint says
 * where in the volume to go on, and the job's progress continues from there.
 */
export class MirrorResyncJob implements JobKind<ResyncParams, ResyncCheckpoint> {
  readonly kind = RESYNC_KIND;
  readonly resumable = true;

  constructor(
    private readonly runtime: StorageRuntime,
    private readonly onEnded: (volumeId: string, state: JobState) => void,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  async run(ctx: JobContext<ResyncParams, ResyncCheckpoint>): Promise<void> {
    const disk = this.runtime.disk(ctx.params.volumeId);
    if (!disk?.mirror) throw new NotFound('mirror', ctx.params.volumeId);
    ctx.setTotal(ctx.bytesDone + disk.dirtyCount * disk.regionSize);
    const throttle = new Throttle(ctx.params.rateLimit ?? 0, this.sleep);
    let saved = Date.now();
    let at = ctx.resumeFrom?.next ?? 0;
    try {
      await resyncMirror(disk, {
        from: at,
        stop: () => ctx.stopping,
        copied: async (bytes, next) => {
          ctx.progress(bytes);
          at = next;
          if (Date.now() - saved >= CHECKPOINT_MS) {
            saved = Date.now();
            await ctx.checkpoint({ next });
          }
          await throttle.pace(bytes, () => ctx.stopping);
        },
      });
    } catch (e) {
      // Stopped (cancel, shutdown) or failed: where to go on from is kept either way.
      await ctx.checkpoint({ next: at }).catch(() => undefined);
      throw e instanceof ResyncStopped && ctx.stopping ? new ResyncStopped('stopped') : e;
    }
    ctx.setTotal(ctx.bytesDone);
  }

  ended(job: JobRecord, state: JobState): void {
    this.onEnded(String(job.params.volumeId), state);
  }
}
