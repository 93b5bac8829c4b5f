import { Presets, SingleBar } from 'cli-progress';
import { Option, type Command } from 'commander';
import type { JobInfo } from '../../jobs/job-kind';
import { CliError, EXIT, seg } from '../client';
import { Context } from '../context';
import { size } from '../format';
import type { CliIO } from '../io';
import { jobLine, jobTable, rateText, showJob } from '../job-views';

const STATES = ['queued', 'running', 'paused', 'succeeded', 'failed', 'cancelled'];
/** How often `job wait` asks for progress. */
const POLL_MS = 500;

export function registerJob(program: Command, io: CliIO): void {
  const job = program.command('job').description('long operations (mirror resyncs, replication cycles): progress, rate, ETA, cancel, resume');

  job
    .command('ls')
    .alias('list')
    .description('list jobs, newest first')
    .addOption(new Option('--state <state>', 'only jobs in this state').choices(STATES))
    .action(async (opts: { state?: string }, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      const list = await ctx.api.get<JobInfo[]>('jobs', { state: opts.state });
      ctx.emit(list, (l) => (l.length ? jobTable(l) : 'No jobs.'));
    });

  job
    .command('show')
    .description('show a job')
    .argument('<id>', 'job id')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      ctx.emit(await ctx.api.get<JobInfo>(`jobs/${seg(id)}`), showJob);
    });

  job
    .command('cancel')
    .description('stop a job at its next checkpoint (a resync leaves its mirror degraded)')
    .argument('<id>', 'job id')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      ctx.emit(await ctx.api.post<JobInfo>(`jobs/${seg(id)}/cancel`), jobLine);
    });

  job
    .command('resume')
    .description('run a failed or cancelled job again from its checkpoint')
    .argument('<id>', 'job id')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      ctx.emit(await ctx.api.post<JobInfo>(`jobs/${seg(id)}/resume`), jobLine);
    });

  job
    .command('wait')
    .description('wait for a job to end, with a progress bar on a terminal; exits 1 unless it succeeded')
    .argument('<id>', 'job id')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      await waitAndReport(Context.of(cmd, io), io, id);
    });
}

/** Wait for a job, print how it ended, and exit 1 unless it succeeded. */
export async function waitAndReport(ctx: Context, io: CliIO, id: string): Promise<void> {
  const end = await waitFor(ctx, io, id);
  ctx.emit(end, jobLine);
  if (end.state !== 'succeeded') {
    throw new CliError(`job ${end.id} ${end.state}${end.error ? `: ${end.error}` : ''}`, { exitCode: EXIT.API, code: `JOB_${end.state.toUpperCase()}`, showCode: false });
  }
}

/** Poll until the job is neither queued nor running; a bar on stderr when it is a terminal. */
export async function waitFor(ctx: Context, io: CliIO, id: string): Promise<JobInfo> {
  let bar: SingleBar | undefined;
  try {
    for (;;) {
      const j = await ctx.api.get<JobInfo>(`jobs/${seg(id)}`);
      if (io.stderr.isTTY && !ctx.json && j.bytesTotal > 0) {
        if (!bar) {
          bar = new SingleBar({ stream: io.stderr, format: `${j.kind} ${j.target.name} [{bar}] {percentage}% | {done} / {size} | {speed} | ETA {eta_formatted}`, hideCursor: true, barsize: 30 }, Presets.shades_classic);
          bar.start(j.bytesTotal, 0, { done: size(0), size: size(j.bytesTotal), speed: '-' });
        }
        bar.setTotal(j.bytesTotal);
        bar.update(Math.min(j.bytesDone, j.bytesTotal), { done: size(j.bytesDone), size: size(j.bytesTotal), speed: rateText(j.rate) });
      }
      if (j.state !== 'queued' && j.state !== 'running') return j;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  } finally {
    bar?.stop();
  }
}
