import { api } from '../api';
import { ErrorNote } from '../components/ErrorNote';
import { ListTable } from '../components/ListPage';
import { PageHeader } from '../components/PageHeader';
import { ProgressBar } from '../components/ProgressBar';
import { StateBadge } from '../components/StateBadge';
import { formatTime } from '../format';
import { useAction, useLoad } from '../hooks';
import { Link, pathTo } from '../router';
import type { JobInfo } from '../types';

/** How often the list is polled: progress bars move while a job runs. */
const REFRESH_MS = 1000;

const TONE = { succeeded: 'done', failed: 'failed', cancelled: 'failed' } as const;

function eta(j: JobInfo): string {
  if (j.etaSeconds === null) return '–';
  const s = j.etaSeconds;
  return s >= 3600 ? `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m` : s >= 60 ? `${Math.floor(s / 60)}m ${s % 60}s` : `${s}s`;
}

export function JobsPage() {
  const jobs = useLoad('jobs', (signal) => api.jobs.list(signal), REFRESH_MS);
  const action = useAction();
  const act = (fn: () => Promise<unknown>) => void action.run(fn).then((ok) => ok && jobs.reload());
  return (
    <>
      <PageHeader title="Jobs" subtitle="Long operations (mirror resyncs, replication cycles, backups, restores, verifies): progress, rate and time left, cancel and resume" />
      <ErrorNote error={jobs.error ?? action.error} />
      {jobs.data && (
        <ListTable
          empty="No jobs yet: adding a mirror to a volume starts one."
          count={jobs.data.length}
          head={
            <>
              <th scope="col">Kind</th>
              <th scope="col">Target</th>
              <th scope="col">State</th>
              <th scope="col">Progress</th>
              <th scope="col">ETA</th>
              <th scope="col">Started</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </>
          }
        >
          {jobs.data.map((j) => (
            <tr key={j.id} data-job={j.id}>
              <td className="nowrap">{j.kind}</td>
              <td>
                {j.target.type === 'volume' ? (
                  <Link to={pathTo('volumes', j.target.name)}>{j.target.name}</Link>
                ) : j.target.type === 'replication' ? (
                  <Link to="/replication">replication of {j.target.name}</Link>
                ) : j.target.type === 'backup' ? (
                  <Link to="/backups">backup {j.target.name}</Link>
                ) : (
                  j.target.name
                )}
              </td>
              <td>
                <StateBadge state={j.state} title={j.error ?? undefined} />
              </td>
              <td>
                <ProgressBar label={`${j.kind} of ${j.target.name}`} done={j.bytesDone} total={j.bytesTotal} rate={j.state === 'running' ? j.rate : undefined} tone={TONE[j.state as keyof typeof TONE] ?? 'active'} />
                {j.error && <div className="muted">{j.error}</div>}
              </td>
              <td className="nowrap">{j.state === 'running' ? eta(j) : '–'}</td>
              <td className="nowrap">{j.startedAt ? formatTime(j.startedAt) : '–'}</td>
              <td className="nowrap">
                {(j.state === 'running' || j.state === 'queued' || j.state === 'paused') && (
                  <button type="button" className="button" disabled={action.busy} onClick={() => act(() => api.jobs.cancel(j.id))}>
                    Cancel
                  </button>
                )}
                {j.resumable && (j.state === 'failed' || j.state === 'cancelled') && (
                  <button type="button" className="button" disabled={action.busy} onClick={() => act(() => api.jobs.resume(j.id))}>
                    Resume
                  </button>
                )}
              </td>
            </tr>
          ))}
        </ListTable>
      )}
    </>
  );
}
