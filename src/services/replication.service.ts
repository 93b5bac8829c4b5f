import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { hostname } from 'node:os';
import { SanClient, parseGateway } from '../client';
import { Conflict, InvalidArgument } from '../common/errors';
import { parseSize } from '../common/size';
import { STRATA_CONFIG, type StrataConfig } from '../config/config';
import type { JobInfo } from '../jobs/job-kind';
import { JobService } from '../jobs/job.service';
import { AuditService } from '../storage/audit.service';
import { SYSTEM_ACTOR, type Actor, type JobRecord, type JobState, type ReplicationInfo } from '../storage/domain';
import { validateName } from '../storage/lookup';
import { shareVolumeName } from '../storage/share.service';
import { sharesDir, snapshotMetaPath } from '../nas/share-paths';
import { ReplicationStore, type ReplicationChanges, type ReplicationRecord } from '../storage/replication-store';
import { StorageRuntime } from '../storage/runtime';
import { loadOrCreateIdentity, type ReplicationIdentity } from './replication-identity';
import { REPLICATION_KIND, ReplicationJob, type ConnectedTarget } from './replication.job';

export interface CreateReplication {
  volume: string;
  /** The target gateway's SAN address, `host:port` (port 7700 when left out). */
  target: string;
  targetVolume: string;
  /** The host name the target registered our replication key under (default: this machine's host name). */
  hostName?: string;
  /** `15m`, `1h`, `30s`, `1d`, or seconds; absent: on demand only. */
  every?: string | number;
  /** Bytes per second, or a size like `50M`. */
  rateLimit?: string | number;
}

export interface ReplicationView {
  replication: ReplicationInfo;
  job: JobInfo | null;
}

const EVERY_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** `15m` → 900. */
export function parseEvery(v: unknown): number {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v > 0) return v;
  const m = typeof v === 'string' ? /^\s*(\d+)\s*([smhd]?)\s*$/i.exec(v) : null;
  const seconds = m ? Number(m[1]) * EVERY_UNITS[(m[2] || 's').toLowerCase()] : NaN;
  if (!Number.isSafeInteger(seconds) || seconds < 1 || seconds > 366 * 86_400) {
    throw new InvalidArgument(`every must be a period like 30s, 15m, 1h or 1d (up to a year), not '${String(v)}'`, 'every');
  }
  return seconds;
}

/** `host:port`, the SAN port 7700 when left out. */
export function normalizeTarget(v: unknown): string {
  if (typeof v !== 'string' || v.trim() === '') throw new InvalidArgument("target is required: the target gateway's SAN address, host[:port]", 'target');
  const text = v.trim();
  const withPort = /:\d+$/.test(text) && (!text.includes('[') || /\]:\d+$/.test(text)) ? text : `${text}:7700`;
  try {
    parseGateway(withPort);
  } catch (e) {
    throw new InvalidArgument(`target '${text}': ${(e as Error).message}`, 'target');
  }
  return withPort;
}

/**
 * Replication of volumes to other gateways, source side: the replications
 * people create, their cycles as jobs (kind `replication`), a timer that
 * starts the scheduled ones, and the gateway's replication key.
 */
@Injectable()
export class ReplicationService implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('ReplicationService');
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  private identity: Promise<ReplicationIdentity> | null = null;
  /** Test seam: how a cycle reaches its target. */
  connector: (r: ReplicationRecord) => Promise<ConnectedTarget> = (r) => this.connectSan(r);

  constructor(
    private readonly store: ReplicationStore,
    private readonly jobs: JobService,
    private readonly runtime: StorageRuntime,
    private readonly audit: AuditService,
    @Inject(STRATA_CONFIG) private readonly config: StrataConfig,
  ) {}

  onModuleInit(): void {
    const shares = sharesDir(this.config.dataDir);
    this.jobs.register(
      new ReplicationJob(
        this.store,
        this.runtime,
        (r) => this.connector(r),
        (id, job, state) => void this.cycleEnded(id, job, state),
        (shareId, snapshotId) => snapshotMetaPath(shares, shareId, snapshotId),
      ),
    );
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.tick(), this.config.replication.tickMs);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** The replication key, made on first use; its public half goes to `strata host add` on targets. */
  async identityInfo(): Promise<{ publicKey: string; fingerprint: string; hostName: string; register: string }> {
    const id = await this.key();
    const name = defaultHostName();
    return { publicKey: id.publicKey, fingerprint: id.fingerprint, hostName: name, register: `strata host add ${name} --key '${id.publicKey}'` };
  }

  async list(): Promise<ReplicationInfo[]> {
    return Promise.all((await this.store.list()).map((r) => this.describe(r)));
  }

  async show(key: string): Promise<ReplicationView> {
    const rec = await this.store.get(key);
    const job = (await this.jobs.active(REPLICATION_KIND, rec.id)) ?? (await this.lastJob(rec.id)) ?? null;
    return { replication: await this.describe(rec), job };
  }

  create(actor: Actor, req: CreateReplication): Promise<ReplicationInfo> {
    return this.audit.audited(
      actor,
      'replication.create',
      { type: 'replication', name: String(req.volume) },
      async () => {
        if (typeof req.volume !== 'string' || req.volume === '') throw new InvalidArgument('volume is required', 'volume');
        const target = normalizeTarget(req.target);
        const targetVolume = validateName('volume', req.targetVolume);
        const hostName = validateName('host', req.hostName ?? defaultHostName());
        const everySeconds = req.every === undefined || req.every === null || req.every === '' ? null : parseEvery(req.every);
        const rateLimit = req.rateLimit === undefined || req.rateLimit === null || req.rateLimit === '' ? 0 : parseSize(req.rateLimit, 'rateLimit');
        const volume = await this.store.sourceVolume(req.volume);
        const existing = await this.store.get(volume.id).catch(() => null);
        if (existing) {
          throw new Conflict('ALREADY_REPLICATED', `volume '${volume.name}' is already replicated to '${existing.targetVolume}' on ${existing.targetAddress}`, { volume: volume.name, replication: existing.id });
        }
        await this.key();
        const rec = await this.store.create({
          volumeId: volume.id,
          targetAddress: target,
          targetVolume,
          hostName,
          everySeconds,
          rateLimit,
          nextRunAt: everySeconds ? new Date(Date.now() + everySeconds * 1000).toISOString() : null,
        });
        return this.describe(rec);
      },
      (r) => ({ type: 'replication', id: r.id, name: r.volume.name }),
      { target: req.target, targetVolume: req.targetVolume, every: req.every, rateLimit: req.rateLimit },
    );
  }

  /**
   * Change the schedule or the bandwidth limit; a cycle running now keeps
   * its limit, the next one uses the new one. `every: null` (or '') stops
   * the schedule, `rateLimit: 0` lifts the limit.
   */
  update(actor: Actor, key: string, req: { every?: string | number | null; rateLimit?: number | string | null }): Promise<ReplicationInfo> {
    return this.audit.audited(
      actor,
      'replication.update',
      { type: 'replication', name: key },
      async () => {
        const rec = await this.store.get(key);
        const changes: ReplicationChanges = {};
        if (req.every !== undefined) {
          changes.everySeconds = req.every === null || req.every === '' ? null : parseEvery(req.every);
          changes.nextRunAt = changes.everySeconds ? new Date(Date.now() + changes.everySeconds * 1000).toISOString() : null;
        }
        if (req.rateLimit !== undefined) changes.rateLimit = req.rateLimit === null || req.rateLimit === '' ? 0 : parseSize(req.rateLimit, 'rateLimit');
        if (Object.keys(changes).length === 0) throw new InvalidArgument('nothing to change: give every and/or rateLimit', 'every');
        await this.store.update(rec.id, changes);
        return this.describe(await this.store.get(rec.id));
      },
      (r) => ({ type: 'replication', id: r.id, name: r.volume.name }),
      { every: req.every, rateLimit: req.rateLimit },
    );
  }

  /** Run a cycle now: resumes the last one if it failed or was cancelled, else starts the next. */
  run(actor: Actor, key: string): Promise<ReplicationView> {
    return this.audit.audited(actor, 'replication.run', { type: 'replication', name: key }, async () => {
      const rec = await this.store.get(key);
      const job = await this.startCycle(actor, rec);
      return { replication: await this.describe(rec), job };
    }, (v) => ({ type: 'replication', id: v.replication.id, name: v.replication.volume.name }));
  }

  /** Stop replicating: a running cycle is cancelled, the replication's snapshots deleted; the replica stays on the target. */
  remove(actor: Actor, key: string): Promise<void> {
    return this.audit.audited(actor, 'replication.delete', { type: 'replication', name: key }, async () => {
      const rec = await this.store.get(key);
      const job = await this.jobs.active(REPLICATION_KIND, rec.id);
      if (job) await this.jobs.cancel(actor, job.id);
      await this.store.remove(rec.id);
    });
  }

  /** One schedule round: every replication due, with no cycle running, starts one. */
  async tick(at = Date.now()): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      for (const rec of await this.store.list()) {
        if (!rec.everySeconds || !rec.nextRunAt || Date.parse(rec.nextRunAt) > at) continue;
        let next = Date.parse(rec.nextRunAt);
        while (next <= at) next += rec.everySeconds * 1000;
        await this.store.update(rec.id, { nextRunAt: new Date(next).toISOString() });
        if (await this.jobs.active(REPLICATION_KIND, rec.id)) continue;
        const actor: Actor = { ...SYSTEM_ACTOR, source: 'replication-schedule' };
        await this.audit.audited(actor, 'replication.run', { type: 'replication', id: rec.id, name: rec.volumeName }, () => this.startCycle(actor, rec), undefined, { scheduled: true }).catch((e: Error) => this.log.warn(`replication of ${rec.volumeName}: ${e.message}`));
      }
    } catch (e) {
      this.log.warn(`replication schedules: ${(e as Error).message}`);
    } finally {
      this.ticking = false;
    }
  }

  private async startCycle(actor: Actor, rec: ReplicationRecord): Promise<JobInfo> {
    const active = await this.jobs.active(REPLICATION_KIND, rec.id);
    if (active) throw new Conflict('JOB_ACTIVE', `a cycle of the replication of volume '${rec.volumeName}' is already ${active.state} (job ${active.id})`, { job: active.id });
    const last = await this.lastJob(rec.id);
    // An interrupted cycle goes on from its checkpoint rather than starting over.
    if (last && (last.state === 'failed' || last.state === 'cancelled') && Number(last.params.cycle) === rec.lastCycle + 1) return this.jobs.resume(actor, last.id);
    return this.jobs.start(actor, REPLICATION_KIND, { type: 'replication', id: rec.id, name: rec.volumeName }, { replicationId: rec.id, cycle: rec.lastCycle + 1 });
  }

  private async lastJob(replicationId: string): Promise<JobInfo | undefined> {
    return (await this.jobs.list({ target: replicationId })).find((j) => j.kind === REPLICATION_KIND);
  }

  private async cycleEnded(replicationId: string, job: JobRecord, state: JobState): Promise<void> {
    try {
      if (state === 'failed') await this.store.update(replicationId, { lastError: job.error ?? 'failed' });
      else if (state === 'cancelled') await this.store.update(replicationId, { lastError: `cycle ${String(job.params.cycle)} was cancelled` });
    } catch {
      // The replication was removed meanwhile.
    }
  }

  private async describe(r: ReplicationRecord): Promise<ReplicationInfo> {
    const { volumeId, volumeName, targetAddress, ...rest } = r;
    const active = await this.jobs.active(REPLICATION_KIND, r.id);
    return {
      ...rest,
      volume: { id: volumeId, name: volumeName },
      target: targetAddress,
      lagSeconds: r.lastPointAt ? Math.max(0, Math.round((Date.now() - Date.parse(r.lastPointAt)) / 1000)) : null,
      activeJobId: active?.id ?? null,
    };
  }

  private key(): Promise<ReplicationIdentity> {
    this.identity ??= loadOrCreateIdentity(this.config.dataDir).catch((e: Error) => {
      this.identity = null;
      throw e;
    });
    return this.identity;
  }

  /** The replica volume over SAN, logged in with the replication key. */
  private async connectSan(r: ReplicationRecord): Promise<ConnectedTarget> {
    const c = this.config.replication;
    const client = await SanClient.connect({
      gateways: [r.targetAddress],
      host: r.hostName,
      key: (await this.key()).privateKey,
      sessionsPerGateway: c.sessions,
      datagramSize: c.datagramSize,
      reconnectTimeoutMs: c.reconnectTimeoutMs,
      // The gateway's own setting: 0 there turns polling off for every SAN socket of this process.
      busyPollMicros: this.config.san.busyPollMicros,
    });
    try {
      // A share's replica is a share on the target: its volume is `share:<name>` there.
      const volume = await client.open(r.share ? shareVolumeName(r.targetVolume) : r.targetVolume).catch((e: Error) => {
        if (!r.share) throw e;
        throw new Error(`share '${r.targetVolume}' on the target is not a replica written by host '${r.hostName}': create the share there and run strata replica accept ${r.targetVolume} --host ${r.hostName} (${e.message})`);
      });
      if (volume.description.readOnly) throw new Error(`volume '${r.targetVolume}' is assigned read-only to host '${r.hostName}': accept it as a replica there (strata replica accept ${r.targetVolume} --host ${r.hostName})`);
      return {
        size: volume.size,
        maxTransfer: client.negotiated().maxTransfer,
        write: (offset, data) => volume.write(offset, data),
        writeZeroes: (offset, length) => volume.writeZeroes(offset, length),
        flush: () => volume.flush(),
        commit: (cycle, metadata) => volume.replicaCommit(cycle, metadata),
        metadata: (cycle, base, offset, data) => volume.replicaMetadata(cycle, base, offset, data),
        close: () => client.close(),
      };
    } catch (e) {
      await client.close();
      throw e;
    }
  }
}

/** The name a target registers this gateway under unless told otherwise: the machine's host name, made a valid name. */
function defaultHostName(): string {
  const name = hostname().replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 63);
  return name || 'strata-source';
}
