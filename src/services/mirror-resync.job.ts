import { NotFound } from '../common/errors';
import type { JobContext, JobKind } from '../jobs/job-kind';
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
    const limit = ctx.params.rateLimit ?? 0;
    const began = Date.now();
    let sent = 0;
    let saved = Date.now();
    let at = ctx.resumeFrom?.next ?? 0;
    try {
      await resyncMirror(disk, {
        from: at,
        stop: () => ctx.stopping,
        copied: async (bytes, next) => {
          ctx.progress(bytes);
          at = next;
          sent += bytes;
          if (Date.now() - saved >= CHECKPOINT_MS) {
            saved = Date.now();
            await ctx.checkpoint({ next });
          }
          // The bandwidth limit: wait out any lead over it, in steps so a cancel is not kept waiting.
          for (let ahead = this.lead(limit, sent, began); ahead > 0 && !ctx.stopping; ahead = this.lead(limit, sent, began)) {
            await this.sleep(Math.min(ahead, 100));
          }
        },
      });
    } catch (e) {
      // Stopped (cancel, shutdown) or failed: where to go on from is kept either way.
      await ctx.checkpoint({ next: at }).catch(() => undefined);
      throw e instanceof ResyncStopped && ctx.stopping ? new ResyncStopped('stopped') : e;
    }
    ctx.setTotal(ctx.bytesDone);
  }

  private lead(limit: number, sent: number, began: number): number {
    return limit > 0 ? (sent * 1000) / limit - (Date.now() - began) : 0;
  }

  ended(job: JobRecord, state: JobState): void {
    this.onEnded(String(job.params.volumeId), state);
  }
}
