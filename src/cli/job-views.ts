import type { JobInfo } from '../jobs/job-kind';
import type { MirrorStatusView } from '../services/mirror-sync.service';
import { details, duration, size, table, time } from './format';
import { mirrorLine } from './views';

/*
 * What a person reads about jobs and mirrors: shared by the CLI and the SSH
 * shell, like views.ts. No commander here.
 */

export const rateText = (bytesPerSecond: number) => (bytesPerSecond > 0 ? `${(bytesPerSecond / 1e6).toFixed(1)} MB/s` : '-');
const etaText = (j: JobInfo) => (j.etaSeconds === null ? '-' : duration(j.etaSeconds));
const progressText = (j: JobInfo) => `${j.percent}% (${size(j.bytesDone)} of ${size(j.bytesTotal)})`;

export function jobTable(list: JobInfo[]): string {
  return table(
    ['ID', 'KIND', 'TARGET', 'STATE', 'PROGRESS', 'RATE', 'ETA', 'CREATED'],
    list.map((j) => [j.id, j.kind, `${j.target.type} ${j.target.name}`, j.state, progressText(j), rateText(j.rate), etaText(j), time(j.createdAt)]),
  );
}

export function showJob(j: JobInfo): string {
  return details([
    ['ID', j.id],
    ['Kind', j.kind],
    ['Target', `${j.target.type} ${j.target.name} (${j.target.id})`],
    ['State', j.state],
    ['Progress', progressText(j)],
    ['Rate', rateText(j.rate)],
    ['ETA', etaText(j)],
    ['Error', j.error],
    ['Resumable', j.resumable && (j.state === 'failed' || j.state === 'cancelled') ? 'yes (job resume)' : null],
    ['Created', `${time(j.createdAt)} by ${j.createdBy}`],
    ['Started', time(j.startedAt)],
    ['Finished', time(j.finishedAt)],
  ]);
}

/** One line after a job action. */
export const jobLine = (j: JobInfo) => `Job ${j.id} (${j.kind} of ${j.target.type} '${j.target.name}') is ${j.state}, ${j.percent}% done.`;

export function mirrorStatus(m: MirrorStatusView): string {
  const v = m.volume;
  return details([
    ['Volume', v.name],
    ['Primary pool', v.poolName],
    ['Mirror', v.mirror ? mirrorLine(v.mirror) : 'none'],
    ['Resync job', m.job ? `${m.job.id} ${m.job.state} ${progressText(m.job)}, ${rateText(m.job.rate)}` : null],
  ]);
}
