import { formatSize } from '../common/size';
import { Throttle } from '../jobs/throttle';
import type { JobContext, JobKind } from '../jobs/job-kind';
import type { JobRecord, JobState } from '../storage/domain';
import type { ReplicationRecord, ReplicationStore } from '../storage/replication-store';
import type { StorageRuntime } from '../storage/runtime';
import { changedRuns, runTotals } from '../virtualization/page-diff';
import { Status } from '../protocols/san/constants';
import { copyRuns, CycleStopped, type CyclePosition, type ReplicaTarget } from './replication-cycle';
import { planMetadata, sendMetadata } from './replication-metadata';

export const REPLICATION_KIND = 'replication';

export interface ReplicationParams {
  replicationId: string;
  /** The cycle this job copies: the replication's last good cycle + 1 when it started. */
  cycle: number;
}

export interface ReplicationCheckpoint extends Record<string, unknown> {
  cycle: number;
  /** Runs in the cycle's list when the checkpoint was taken: a resumed job checks it computed the same list. */
  runs: number;
  at: CyclePosition;
}

/** A connected replica volume; close() ends the sessions. */
export type ConnectedTarget = ReplicaTarget & { close(): Promise<void>; maxTransfer: number };

/** How a cycle reaches its target (the SAN client library in the gateway; a fake in unit specs). */
export type TargetConnector = (r: ReplicationRecord) => Promise<ConnectedTarget>;

export interface CycleTuning {
  /** Bytes per WRITE (capped by the target's max transfer). */
  chunk: number;
  depth: number;
  zeroChunk: number;
  checkpointBytes: number;
  checkpointMs: number;
}

export const DEFAULT_TUNING: CycleTuning = { chunk: 1 << 20, depth: 16, zeroChunk: 256 << 20, checkpointBytes: 256 << 20, checkpointMs: 2000 };

/**
 * One replication cycle (docs/replication.md): snapshot `<volume>@repl-<n>`,
 * the runs that changed since `repl-<n-1>` (all of it on the first cycle),
 * WRITE / WRITE ZEROES them to the replica, FLUSH, REPLICA_COMMIT, record
 * the cycle, then drop the previous base. Every step can run again: the
 * snapshot is found if taken, the target accepts a commit twice, and the
 * copy goes on from the checkpoint.
 */
export class ReplicationJob implements JobKind<ReplicationParams, ReplicationCheckpoint> {
  readonly kind = REPLICATION_KIND;
  readonly resumable = true;

  constructor(
    private readonly store: ReplicationStore,
    private readonly runtime: StorageRuntime,
    private readonly connect: TargetConnector,
    private readonly onEnded: (replicationId: string, job: JobRecord, state: JobState) => void,
    /** Where a share snapshot's metadata copy is (`<shares>/<share>/snapshots/<snapshot>.sqlite`). */
    private readonly metadataPath: (shareId: string, snapshotId: string) => string,
    private readonly tuning: CycleTuning = DEFAULT_TUNING,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  async run(ctx: JobContext<ReplicationParams, ReplicationCheckpoint>): Promise<void> {
    const { replicationId, cycle } = ctx.params;
    let rec = await this.store.get(replicationId);
    if (rec.lastCycle >= cycle) {
      // Committed and recorded before a restart: only the old base may be left to drop.
      await this.dropOlder(rec.volumeId, rec.lastCycle);
      return;
    }
    if (rec.lastCycle !== cycle - 1) throw new Error(`cycle ${cycle} cannot follow cycle ${rec.lastCycle}: start a new cycle`);
    const snap = await this.store.takeCycleSnapshot(rec.volumeId, cycle);
    const base = rec.lastCycle > 0 ? await this.store.cycleSnapshot(rec.volumeId, rec.lastCycle) : null;
    const snapDisk = this.runtime.disks.get(snap.id);
    if (!snapDisk) throw new Error(`snapshot '${snap.name}' is not online`);
    const baseDisk = base ? this.runtime.disks.get(base.id) ?? null : null;
    // Without its base (lost with a crash of a delete), the cycle copies everything: slower, still right.
    const runs = changedRuns(baseDisk, snapDisk);
    const totals = runTotals(runs);
    const resume = ctx.resumeFrom && ctx.resumeFrom.cycle === cycle && ctx.resumeFrom.runs === runs.length ? ctx.resumeFrom.at : null;
    // A share's metadata database goes after its data, whole or as the blocks that changed since the base's copy.
    const share = rec.share;
    const metaPath = share ? this.metadataPath(share.id, snap.id) : null;
    const metaBase = share && base ? { cycle: rec.lastCycle, path: this.metadataPath(share.id, base.id) } : null;
    let plan = metaPath ? await planMetadata(metaPath, metaBase?.path ?? null, this.tuning.chunk) : null;
    ctx.setTotal((resume ? ctx.bytesDone + remainingData(runs, resume) : totals.data) + (plan?.bytes ?? 0));

    const target = await this.connect(rec).catch((e: Error) => {
      throw new Error(`cannot reach the replica '${rec.targetVolume}' on ${rec.targetAddress} as host '${rec.hostName}': ${e.message}`);
    });
    try {
      if (target.size < snapDisk.size) {
        throw new Error(`the replica '${rec.targetVolume}' on ${rec.targetAddress} is ${formatSize(target.size)}, smaller than volume '${rec.volumeName}' (${formatSize(snapDisk.size)}): grow it on the target`);
      }
      const throttle = new Throttle(rec.rateLimit, this.sleep);
      const at = await copyRuns(snapDisk, target, {
        runs,
        from: resume,
        chunk: Math.min(this.tuning.chunk, target.maxTransfer),
        depth: this.tuning.depth,
        zeroChunk: this.tuning.zeroChunk,
        checkpointBytes: this.tuning.checkpointBytes,
        checkpointMs: this.tuning.checkpointMs,
        stopping: () => ctx.stopping,
        admit: (bytes) => throttle.admit(bytes, () => ctx.stopping),
        sent: (bytes) => ctx.progress(bytes),
        checkpoint: (pos) => ctx.checkpoint({ cycle, runs: runs.length, at: pos }),
      });
      await target.flush();
      await ctx.checkpoint({ cycle, runs: runs.length, at });
      if (!metaPath || !plan) {
        await target.commit(cycle);
      } else {
        const sendAll = async (p: NonNullable<typeof plan>, baseCycle: number) => {
          const done = await sendMetadata(metaPath, p, (offset, data) => target.metadata(cycle, baseCycle, offset, data), {
            depth: this.tuning.depth,
            stopping: () => ctx.stopping,
            admit: (bytes) => throttle.admit(bytes, () => ctx.stopping),
            sent: (bytes) => ctx.progress(bytes),
          });
          if (!done) throw new CycleStopped(at);
          await target.commit(cycle, { length: p.length, sha256: p.sha256 });
        };
        try {
          await sendAll(plan, metaBase?.cycle ?? 0);
        } catch (e) {
          // The target's copy of the base is not the source's (or is gone): send the database whole, once.
          if (!metaBase || (e as { status?: Status }).status !== Status.REPLICA_MISMATCH) throw e;
          plan = await planMetadata(metaPath, null, this.tuning.chunk);
          ctx.setTotal(ctx.bytesDone + plan.bytes);
          await sendAll(plan, 0);
        }
      }
    } catch (e) {
      if (e instanceof CycleStopped) throw e;
      throw new Error(`cycle ${cycle} of volume '${rec.volumeName}' to '${rec.targetVolume}' on ${rec.targetAddress}: ${(e as Error).message}`);
    } finally {
      await target.close().catch(() => undefined);
    }
    rec = await this.store.get(replicationId);
    await this.store.update(rec.id, { lastCycle: cycle, lastGoodAt: new Date().toISOString(), lastPointAt: snap.createdAt, bytesSent: rec.bytesSent + totals.data + (plan?.bytes ?? 0), lastError: null });
    await this.dropOlder(rec.volumeId, cycle);
  }

  ended(job: JobRecord, state: JobState): void {
    this.onEnded(String(job.params.replicationId), job, state);
  }

  /** Every cycle snapshot but the one the replica now holds (the next cycle's base). */
  private async dropOlder(volumeId: string, cycle: number): Promise<void> {
    for (const s of await this.store.cycleSnapshots(volumeId)) {
      if (!s.name.endsWith(`@repl-${cycle}`)) await this.store.dropSnapshot(s.id);
    }
  }
}

/** Data bytes of the runs from `at` on. */
function remainingData(runs: ReturnType<typeof changedRuns>, at: CyclePosition): number {
  let n = 0;
  for (let i = at.run; i < runs.length; i++) if (runs[i].kind === 'data') n += runs[i].length - (i === at.run ? at.offset : 0);
  return n;
}
