import { describe, expect, it } from 'vitest';
import { MetricsRegistry } from '../metrics/metrics-registry';
import type { AuditService } from '../storage/audit.service';
import type { JobRecord } from '../storage/domain';
import type { JobChanges, JobStore, NewJob } from '../storage/job-store';
import type { JobContext, JobKind } from './job-kind';
import { JobService } from './job.service';

/** The catalog's jobs table in memory: what a restart would read back. */
class MemJobStore {
  readonly rows = new Map<string, JobRecord>();
  private n = 0;

  async create(job: NewJob): Promise<JobRecord> {
    const at = new Date(1_000_000 + this.n).toISOString();
    const rec: JobRecord = { id: `job-${++this.n}`, ...job, state: 'queued', checkpoint: null, bytesDone: 0, bytesTotal: 0, error: null, createdAt: at, startedAt: null, finishedAt: null, updatedAt: at };
    this.rows.set(rec.id, structuredClone(rec));
    return rec;
  }
  async update(id: string, changes: JobChanges): Promise<void> {
    const row = this.rows.get(id)!;
    for (const [k, v] of Object.entries(changes)) if (v !== undefined) (row as unknown as Record<string, unknown>)[k] = structuredClone(v);
  }
  async get(id: string): Promise<JobRecord> {
    return structuredClone(this.rows.get(id)!);
  }
  async list(filter: { states?: string[]; targetId?: string; kind?: string } = {}): Promise<JobRecord[]> {
    return [...this.rows.values()]
      .filter((r) => (!filter.states || filter.states.includes(r.state)) && (!filter.targetId || r.target.id === filter.targetId) && (!filter.kind || r.kind === filter.kind))
      .reverse()
      .map((r) => structuredClone(r));
  }
}

const audit = { audited: <T>(_a: unknown, _b: unknown, _c: unknown, run: () => Promise<T>) => run() } as unknown as AuditService;
const actor = { name: 'alice' };
const target = { type: 'volume', id: 'v1', name: 'v1' };

/** A kind that copies `steps` chunks of 1 MiB, one per release(), checkpointing each. */
class SteppedKind implements JobKind<{ steps: number }, { step: number }> {
  readonly kind = 'stepped';
  readonly resumable = true;
  seen: Array<{ step: number } | null> = [];
  failAt = -1;
  private waiters: Array<() => void> = [];

  release(): void {
    this.waiters.shift()?.();
  }
  async pending(): Promise<void> {
    while (this.waiters.length === 0) await new Promise((r) => setImmediate(r));
  }

  async run(ctx: JobContext<{ steps: number }, { step: number }>): Promise<void> {
    this.seen.push(ctx.resumeFrom);
    ctx.setTotal(ctx.params.steps * 2 ** 20);
    for (let step = ctx.resumeFrom?.step ?? 0; step < ctx.params.steps; step++) {
      await new Promise<void>((r) => this.waiters.push(r));
      if (ctx.stopping) throw new Error('stopped');
      if (step === this.failAt) throw new Error(`disk on fire at ${step}`);
      ctx.progress(2 ** 20);
      await ctx.checkpoint({ step: step + 1 });
    }
  }
}

function service(store = new MemJobStore(), kind = new SteppedKind()) {
  const jobs = new JobService(store as unknown as JobStore, audit, new MetricsRegistry());
  let now = 0;
  jobs.clock = () => now;
  jobs.register(kind);
  return { jobs, store, kind, tick: (ms: number) => (now += ms) };
}

describe('JobService', () => {
  it('runs a job to success with progress, a smoothed rate and an ETA', async () => {
    const { jobs, kind, tick } = service();
    const job = await jobs.start(actor, 'stepped', target, { steps: 4 });
    await kind.pending();
    kind.release();
    await kind.pending();
    tick(1000);
    kind.release();
    await kind.pending();
    const mid = await jobs.get(job.id);
    expect(mid).toMatchObject({ state: 'running', bytesDone: 2 * 2 ** 20, bytesTotal: 4 * 2 ** 20, percent: 50, rate: 2 * 2 ** 20, etaSeconds: 1 });
    kind.release();
    await kind.pending();
    kind.release();
    const done = await jobs.wait(job.id);
    expect(done).toMatchObject({ state: 'succeeded', percent: 100, etaSeconds: 0, error: null, checkpoint: { step: 4 } });
    expect(done.finishedAt).not.toBeNull();
  });

  it('refuses a second unfinished job of the same kind on the same target', async () => {
    const { jobs, kind } = service();
    await jobs.start(actor, 'stepped', target, { steps: 1 });
    await expect(jobs.start(actor, 'stepped', target, { steps: 1 })).rejects.toMatchObject({ code: 'JOB_ACTIVE' });
    await expect(jobs.start(actor, 'nope', target, {})).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await kind.pending();
    kind.release();
  });

  it('a failure is recorded with its error; resume runs it again from its checkpoint', async () => {
    const { jobs, kind } = service();
    kind.failAt = 2;
    const job = await jobs.start(actor, 'stepped', target, { steps: 4 });
    for (let i = 0; i < 3; i++) {
      await kind.pending();
      kind.release();
    }
    const failed = await jobs.wait(job.id);
    expect(failed).toMatchObject({ state: 'failed', error: 'disk on fire at 2', checkpoint: { step: 2 }, bytesDone: 2 * 2 ** 20, resumable: true });
    kind.failAt = -1;
    await jobs.resume(actor, job.id);
    await kind.pending();
    kind.release();
    await kind.pending();
    kind.release();
    const done = await jobs.wait(job.id);
    expect(done).toMatchObject({ state: 'succeeded', bytesDone: 4 * 2 ** 20, error: null });
    expect(kind.seen).toEqual([null, { step: 2 }]);
    await expect(jobs.resume(actor, job.id)).rejects.toMatchObject({ code: 'JOB_NOT_RESUMABLE' });
  });

  it('cancel stops a running job at its next safe point; a finished job cannot be cancelled', async () => {
    const { jobs, kind } = service();
    const job = await jobs.start(actor, 'stepped', target, { steps: 4 });
    await kind.pending();
    const cancelling = jobs.cancel(actor, job.id);
    kind.release();
    expect(await cancelling).toMatchObject({ state: 'cancelled' });
    await expect(jobs.cancel(actor, job.id)).rejects.toMatchObject({ code: 'JOB_FINISHED' });
  });

  it('a shutdown pauses running jobs; the next start resumes every unfinished one from its checkpoint', async () => {
    const store = new MemJobStore();
    const first = service(store);
    const job = await first.jobs.start(actor, 'stepped', target, { steps: 3 });
    await first.kind.pending();
    first.kind.release();
    await first.kind.pending();
    const stopping = first.jobs.beforeApplicationShutdown();
    first.kind.release();
    await stopping;
    expect(store.rows.get(job.id)).toMatchObject({ state: 'paused', checkpoint: { step: 1 }, bytesDone: 2 ** 20, finishedAt: null });

    // A crash leaves 'running' rows: they resume too.
    const crashed = await store.create({ kind: 'stepped', target: { type: 'volume', id: 'v2', name: 'v2' }, params: { steps: 2 }, createdBy: 'bob' });
    await store.update(crashed.id, { state: 'running', checkpoint: { step: 1 }, bytesDone: 2 ** 20 });

    const second = service(store);
    await second.jobs.onApplicationBootstrap();
    for (let i = 0; i < 3; i++) {
      await second.kind.pending();
      second.kind.release();
    }
    expect(await second.jobs.wait(job.id)).toMatchObject({ state: 'succeeded', bytesDone: 3 * 2 ** 20 });
    expect(await second.jobs.wait(crashed.id)).toMatchObject({ state: 'succeeded', bytesDone: 2 * 2 ** 20 });
    expect(second.kind.seen).toEqual(expect.arrayContaining([{ step: 1 }, { step: 1 }]));
    expect(second.kind.seen).not.toContain(null);
  });
});
