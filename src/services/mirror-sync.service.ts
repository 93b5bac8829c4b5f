import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { Conflict } from '../common/errors';
import { STRATA_CONFIG, type StrataConfig } from '../config/config';
import type { JobInfo } from '../jobs/job-kind';
import { JobService } from '../jobs/job.service';
import { AuditService } from '../storage/audit.service';
import { SYSTEM_ACTOR, type Actor, type JobState, type VolumeInfo } from '../storage/domain';
import { MirrorService } from '../storage/mirror.service';
import { StorageRuntime } from '../storage/runtime';
import type { LogicalDisk } from '../virtualization/logical-disk';
import type { MirroredDisk } from '../virtualization/mirrored-disk';
import { MirrorResyncJob, RESYNC_KIND } from './mirror-resync.job';

/** A failed automatic resync waits this many probe intervals more each time, up to the cap. */
const MAX_BACKOFF = 64;

export interface MirrorStatusView {
  volume: VolumeInfo;
  /** The resync job running or waiting, if any. */
  job: JobInfo | null;
}

/**
 * The mirror's lifecycle as people drive it (add, resync, swap, remove),
 * with resyncs as jobs, and a monitor that starts a resync by itself once a
 * degraded mirror's device answers again.
 */
@Injectable()
export class MirrorSyncService implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('MirrorSyncService');
  private timer: NodeJS.Timeout | undefined;
  private probing = false;
  /** Per volume: probe rounds to skip after a failed automatic resync, and the current step. */
  private readonly backoff = new Map<string, { skip: number; step: number }>();

  constructor(
    private readonly mirrors: MirrorService,
    private readonly jobs: JobService,
    private readonly runtime: StorageRuntime,
    private readonly audit: AuditService,
    @Inject(STRATA_CONFIG) private readonly config: StrataConfig,
  ) {}

  onModuleInit(): void {
    this.jobs.register(new MirrorResyncJob(this.runtime, (volumeId, state) => this.resyncEnded(volumeId, state)));
  }

  onApplicationBootstrap(): void {
    const every = this.config.mirror.probeIntervalMs;
    if (every > 0) {
      this.timer = setInterval(() => void this.probeRound(), every);
      this.timer.unref();
    }
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  add(actor: Actor, key: string, req: { pool: string; rateLimit?: number }): Promise<MirrorStatusView> {
    return this.audit.audited(actor, 'mirror.add', { type: 'volume', name: key }, async () => {
      const volume = await this.mirrors.add(key, req.pool);
      const job = await this.startResync(actor, volume, req.rateLimit);
      return { volume: await this.mirrors.mirrored(volume.id).then((m) => m.volume), job };
    }, (v) => ({ type: 'volume', id: v.volume.id, name: v.volume.name }), { pool: req.pool });
  }

  resync(actor: Actor, key: string, req: { rateLimit?: number } = {}): Promise<MirrorStatusView> {
    return this.audit.audited(actor, 'mirror.resync', { type: 'volume', name: key }, async () => {
      const { volume, disk } = await this.mirrors.mirrored(key);
      if (disk.state === 'in-sync') throw new Conflict('MIRROR_IN_SYNC', `volume '${volume.name}': the mirror is in sync`, { volume: volume.name });
      this.backoff.delete(volume.id);
      const job = await this.startResync(actor, volume, req.rateLimit);
      return { volume: await this.mirrors.mirrored(volume.id).then((m) => m.volume), job };
    }, (v) => ({ type: 'volume', id: v.volume.id, name: v.volume.name }));
  }

  swap(actor: Actor, key: string, opts: { force?: boolean } = {}): Promise<VolumeInfo> {
    return this.audit.audited(actor, 'mirror.swap', { type: 'volume', name: key }, () => this.mirrors.swap(key, opts), (v) => ({ type: 'volume', id: v.id, name: v.name }), { force: !!opts.force });
  }

  /** Remove the mirror; a resync running for it is cancelled first. */
  remove(actor: Actor, key: string): Promise<VolumeInfo> {
    return this.audit.audited(actor, 'mirror.remove', { type: 'volume', name: key }, async () => {
      const { volume } = await this.mirrors.mirrored(key);
      const job = await this.jobs.active(RESYNC_KIND, volume.id);
      if (job) await this.jobs.cancel(actor, job.id);
      this.backoff.delete(volume.id);
      return this.mirrors.remove(volume.id);
    }, (v) => ({ type: 'volume', id: v.id, name: v.name }));
  }

  async status(key: string): Promise<MirrorStatusView> {
    const { volume } = await this.mirrors.mirrored(key);
    return { volume, job: (await this.jobs.active(RESYNC_KIND, volume.id)) ?? null };
  }

  /** One monitor round: every degraded mirror with no resync and no cancelled one gets probed. */
  async probeRound(): Promise<void> {
    if (this.probing) return;
    this.probing = true;
    try {
      for (const id of this.mirrors.mirroredIds()) {
        const disk = this.runtime.disk(id);
        if (!disk?.mirror || disk.state !== 'degraded') continue;
        const wait = this.backoff.get(id);
        if (wait && wait.skip > 0) {
          wait.skip--;
          continue;
        }
        if (await this.jobs.active(RESYNC_KIND, id)) continue;
        // An admin's cancel stands until an admin resyncs.
        const last = (await this.jobs.list({ target: id }))[0];
        if (last?.kind === RESYNC_KIND && last.state === 'cancelled') continue;
        if (!(await probe(disk))) continue;
        this.log.log(`volume ${disk.name}: the mirror answers again, resyncing ${disk.dirtyCount} regions`);
        const volume = await this.mirrors.mirrored(id).then((m) => m.volume);
        await this.audit.audited(SYSTEM_ACTOR, 'mirror.resync', { type: 'volume', id, name: volume.name }, () => this.startResync(SYSTEM_ACTOR, volume), undefined, { automatic: true });
      }
    } catch (e) {
      this.log.warn(`mirror monitor: ${(e as Error).message}`);
    } finally {
      this.probing = false;
    }
  }

  private startResync(actor: Actor, volume: VolumeInfo, rateLimit?: number): Promise<JobInfo> {
    const params: Record<string, unknown> = { volumeId: volume.id };
    if (rateLimit) params.rateLimit = rateLimit;
    return this.jobs.start(actor, RESYNC_KIND, { type: 'volume', id: volume.id, name: volume.name }, params);
  }

  private resyncEnded(volumeId: string, state: JobState): void {
    if (state === 'succeeded') {
      this.backoff.delete(volumeId);
      return;
    }
    if (state !== 'failed') return;
    const step = Math.min(MAX_BACKOFF, (this.backoff.get(volumeId)?.step ?? 0) * 2 || 1);
    this.backoff.set(volumeId, { skip: step, step });
  }
}

/**
 * Can a resync run? Both sides must answer: the mirror it copies to, and the
 * primary it copies from (after a primary failure only a swap helps). A read
 * of a page each holds (or of its pool's first bytes): never a write, which
 * could race a late mirrored write. A device that reads but cannot write
 * fails the resync, which backs off.
 */
async function probe(disk: MirroredDisk): Promise<boolean> {
  return (await answers(disk.mirror!)) && (await answers(disk.primary));
}

async function answers(side: LogicalDisk): Promise<boolean> {
  const buf = Buffer.allocUnsafe(4096);
  try {
    const first = side.mappings()[0];
    if (first) await side.readInto(first.logical * side.pageSize, buf.subarray(0, Math.min(4096, side.size - first.logical * side.pageSize)));
    else await side.pool.layout.read(0, buf);
    return side.pool.health().state !== 'failed';
  } catch {
    return false;
  }
}
