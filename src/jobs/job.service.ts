import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { Conflict, InvalidArgument } from '../common/errors';
import { MetricsRegistry } from '../metrics/metrics-registry';
import { AuditService } from '../storage/audit.service';
import type { Actor, JobRecord, JobState } from '../storage/domain';
import { JobStore } from '../storage/job-store';
import type { JobContext, JobInfo, JobKind } from './job-kind';

/** Jobs that still have work to do; at boot they run again from their checkpoint. */
const UNFINISHED: JobState[] = ['queued', 'running', 'paused'];
/** How long a shutdown waits for running jobs to reach a checkpoint and stop. */
const SHUTDOWN_WAIT_MS = 10_000;
/** Rate samples at most this often; the rate is an exponential average of them. */
const RATE_SAMPLE_MS = 1000;

interface LiveJob {
  record: JobRecord;
  kind: JobKind<never, never>;
  stop: 'cancel' | 'shutdown' | null;
  rate: number;
  runStartedAt: number;
  runStartBytes: number;
  sampleAt: number;
  sampleBytes: number;
  done: Promise<void>;
}

/**
 * Runs long operations as jobs: one registry of kinds, live progress, rate
 * and ETA, cancel, resume of a failed or cancelled job, and, after a restart,
 * every unfinished job runs again from its last checkpoint.
 */
@Injectable()
export class JobService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('JobService');
  private readonly kinds = new Map<string, JobKind<never, never>>();
  private readonly live = new Map<string, LiveJob>();
  private readonly finished: Counter<'kind' | 'outcome'>;
  private readonly bytes: Counter<'kind'>;
  /** Injectable for specs. */
  clock: () => number = Date.now;

  constructor(
    private readonly store: JobStore,
    private readonly audit: AuditService,
    metrics: MetricsRegistry,
  ) {
    const registers = [metrics.registry];
    const live = this.live;
    new Gauge<'kind'>({
      name: 'strata_jobs_running',
      help: 'Jobs running now, by kind.',
      labelNames: ['kind'],
      registers,
      collect() {
        this.reset();
        for (const j of live.values()) this.inc({ kind: j.record.kind });
      },
    });
    const rate = (j: LiveJob) => this.rateOf(j);
    new Gauge<'kind'>({
      name: 'strata_jobs_rate_bytes_per_second',
      help: 'Smoothed rate of the running jobs, by kind.',
      labelNames: ['kind'],
      registers,
      collect() {
        this.reset();
        for (const j of live.values()) this.inc({ kind: j.record.kind }, rate(j));
      },
    });
    this.finished = new Counter({ name: 'strata_jobs_finished_total', help: 'Jobs ended, by kind and outcome (succeeded, failed, cancelled).', labelNames: ['kind', 'outcome'], registers });
    this.bytes = new Counter({ name: 'strata_jobs_bytes_total', help: 'Bytes processed by jobs, by kind.', labelNames: ['kind'], registers });
  }

  register<P, C>(kind: JobKind<P, C>): void {
    if (this.kinds.has(kind.kind)) throw new Error(`job kind '${kind.kind}' registered twice`);
    this.kinds.set(kind.kind, kind as unknown as JobKind<never, never>);
  }

  /** Boot: everything unfinished runs again, from its checkpoint. */
  async onApplicationBootstrap(): Promise<void> {
    for (const job of (await this.store.list({ states: UNFINISHED, limit: 10_000 })).reverse()) {
      const kind = this.kinds.get(job.kind);
      if (!kind) {
        await this.store.update(job.id, { state: 'failed', error: `unknown job kind '${job.kind}'`, finishedAt: new Date().toISOString() });
        continue;
      }
      this.log.log(`resuming ${job.kind} job ${job.id} on ${job.target.type} ${job.target.name} from ${job.bytesDone} bytes`);
      this.launch(job, kind);
    }
  }

  /** Shutdown: running jobs stop at their next checkpoint and stay 'paused' for the next start. */
  async beforeApplicationShutdown(): Promise<void> {
    for (const j of this.live.values()) j.stop ??= 'shutdown';
    const all = Promise.all([...this.live.values()].map((j) => j.done));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([all, new Promise((r) => (timer = setTimeout(r, SHUTDOWN_WAIT_MS)))]);
    clearTimeout(timer);
  }

  /** Create and run a job; one unfinished job per kind and target. */
  async start(actor: Actor, kindName: string, target: JobRecord['target'], params: Record<string, unknown>): Promise<JobInfo> {
    const kind = this.kinds.get(kindName);
    if (!kind) throw new InvalidArgument(`unknown job kind '${kindName}'`, 'kind');
    const active = await this.active(kindName, target.id);
    if (active) throw new Conflict('JOB_ACTIVE', `a ${kindName} job for ${target.type} '${target.name}' is already ${active.state} (${active.id})`, { job: active.id });
    const record = await this.store.create({ kind: kindName, target, params, createdBy: actor.name });
    this.launch(record, kind);
    return this.info(record);
  }

  /** The unfinished job of this kind for this target, if any. */
  async active(kindName: string, targetId: string): Promise<JobInfo | undefined> {
    for (const j of this.live.values()) if (j.record.kind === kindName && j.record.target.id === targetId) return this.info(j.record);
    const rows = await this.store.list({ kind: kindName, targetId, states: UNFINISHED, limit: 1 });
    return rows[0] && this.info(rows[0]);
  }

  async list(filter: { state?: JobState; target?: string } = {}): Promise<JobInfo[]> {
    const rows = await this.store.list({ states: filter.state ? [filter.state] : undefined, targetId: filter.target });
    return rows.map((r) => this.info(this.live.get(r.id)?.record ?? r));
  }

  async get(id: string): Promise<JobInfo> {
    const live = this.live.get(id);
    return this.info(live?.record ?? (await this.store.get(id)));
  }

  cancel(actor: Actor, id: string): Promise<JobInfo> {
    return this.audit.audited(actor, 'job.cancel', { type: 'job', id }, async () => {
      const live = this.live.get(id);
      if (live) {
        live.stop = 'cancel';
        await live.done;
        return this.get(id);
      }
      const job = await this.store.get(id);
      if (job.state !== 'queued' && job.state !== 'paused') {
        throw new Conflict('JOB_FINISHED', `job ${id} is ${job.state}: only a queued, running or paused job can be cancelled`, { job: id, state: job.state });
      }
      await this.store.update(id, { state: 'cancelled', finishedAt: new Date().toISOString() });
      const cancelled = await this.store.get(id);
      this.kinds.get(job.kind)?.ended?.(cancelled, 'cancelled');
      return this.info(cancelled);
    });
  }

  resume(actor: Actor, id: string): Promise<JobInfo> {
    return this.audit.audited(actor, 'job.resume', { type: 'job', id }, async () => {
      if (this.live.has(id)) throw new Conflict('JOB_RUNNING', `job ${id} is running`, { job: id });
      const job = await this.store.get(id);
      const kind = this.kinds.get(job.kind);
      if (job.state !== 'failed' && job.state !== 'cancelled') {
        throw new Conflict('JOB_NOT_RESUMABLE', `job ${id} is ${job.state}: only a failed or cancelled job can be resumed`, { job: id, state: job.state });
      }
      if (!kind?.resumable) throw new Conflict('JOB_NOT_RESUMABLE', `jobs of kind '${job.kind}' cannot be resumed`, { job: id });
      const other = await this.active(job.kind, job.target.id);
      if (other) throw new Conflict('JOB_ACTIVE', `another ${job.kind} job for '${job.target.name}' is ${other.state} (${other.id})`, { job: other.id });
      await this.store.update(id, { state: 'queued', error: null, finishedAt: null });
      const record = await this.store.get(id);
      this.launch(record, kind);
      return this.info(record);
    });
  }

  /** Resolves once the job is no longer queued or running. */
  async wait(id: string): Promise<JobInfo> {
    const live = this.live.get(id);
    if (live) await live.done;
    return this.get(id);
  }

  private launch(record: JobRecord, kind: JobKind<never, never>): void {
    const t = this.clock();
    const live: LiveJob = { record: { ...record }, kind, stop: null, rate: 0, runStartedAt: t, runStartBytes: record.bytesDone, sampleAt: t, sampleBytes: record.bytesDone, done: Promise.resolve() };
    this.live.set(record.id, live);
    live.done = this.execute(live);
  }

  private async execute(live: LiveJob): Promise<void> {
    const rec = live.record;
    let state: JobState;
    let error: string | null = null;
    try {
      rec.state = 'running';
      rec.startedAt ??= new Date().toISOString();
      await this.store.update(rec.id, { state: 'running', startedAt: rec.startedAt, error: null });
      await live.kind.run(this.context(live) as never);
      state = 'succeeded';
    } catch (e) {
      state = live.stop === 'cancel' ? 'cancelled' : live.stop === 'shutdown' ? 'paused' : 'failed';
      if (state === 'failed') {
        error = (e as Error)?.message ?? String(e);
        this.log.warn(`${rec.kind} job ${rec.id} on ${rec.target.name} failed: ${error}`);
      }
    }
    rec.state = state;
    rec.error = error;
    if (state !== 'paused') rec.finishedAt = new Date().toISOString();
    try {
      await this.store.update(rec.id, { state, error, bytesDone: rec.bytesDone, bytesTotal: rec.bytesTotal, checkpoint: rec.checkpoint, ...(state !== 'paused' ? { finishedAt: rec.finishedAt } : {}) });
    } catch (e) {
      this.log.error(`job ${rec.id}: could not record its end (${state}): ${(e as Error).message}`);
    }
    this.live.delete(rec.id);
    if (state !== 'paused') {
      this.finished.inc({ kind: rec.kind, outcome: state });
      try {
        live.kind.ended?.(rec, state);
      } catch (e) {
        this.log.error(`job ${rec.id}: ended hook failed: ${(e as Error).message}`);
      }
    }
  }

  private context(live: LiveJob): JobContext {
    const rec = live.record;
    const resumeFrom = rec.checkpoint;
    return {
      id: rec.id,
      params: rec.params,
      resumeFrom,
      get bytesDone() {
        return rec.bytesDone;
      },
      get stopping() {
        return live.stop !== null;
      },
      setTotal: (bytes) => {
        rec.bytesTotal = Math.max(0, Math.floor(bytes));
      },
      progress: (bytes) => {
        rec.bytesDone += bytes;
        this.bytes.inc({ kind: rec.kind }, bytes);
        const t = this.clock();
        if (t - live.sampleAt >= RATE_SAMPLE_MS) {
          const inst = ((rec.bytesDone - live.sampleBytes) * 1000) / (t - live.sampleAt);
          live.rate = live.rate === 0 ? inst : 0.7 * live.rate + 0.3 * inst;
          live.sampleAt = t;
          live.sampleBytes = rec.bytesDone;
        }
      },
      checkpoint: async (point) => {
        rec.checkpoint = point;
        await this.store.update(rec.id, { checkpoint: point, bytesDone: rec.bytesDone, bytesTotal: rec.bytesTotal });
      },
    };
  }

  private rateOf(live: LiveJob): number {
    if (live.rate > 0) return live.rate;
    // Before the first sample: the average of this run so far.
    const elapsed = this.clock() - live.runStartedAt;
    return elapsed > 0 ? ((live.record.bytesDone - live.runStartBytes) * 1000) / elapsed : 0;
  }

  private info(rec: JobRecord): JobInfo {
    const live = this.live.get(rec.id);
    const rate = live ? this.rateOf(live) : 0;
    const left = Math.max(0, rec.bytesTotal - rec.bytesDone);
    return {
      ...rec,
      params: { ...rec.params },
      rate: Math.round(rate),
      etaSeconds: live && rate > 0 ? Math.ceil(left / rate) : rec.state === 'succeeded' ? 0 : null,
      percent: rec.state === 'succeeded' ? 100 : rec.bytesTotal > 0 ? Math.min(100, Math.floor((100 * rec.bytesDone) / rec.bytesTotal)) : 0,
      resumable: this.kinds.get(rec.kind)?.resumable ?? false,
    };
  }
}
