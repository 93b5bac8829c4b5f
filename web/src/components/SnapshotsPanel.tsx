import { useState, type FormEvent } from 'react';
import { api } from '../api';
import { formatSize, formatTime, plural } from '../format';
import { useAction, useLoad } from '../hooks';
import { Link, pathTo } from '../router';
import { rollbackImpact, timestampName } from '../snapshots';
import type { SnapshotInfo, VolumeInfo } from '../types';
import { ConfirmDialog } from './ConfirmDialog';
import { Dialog } from './Dialog';
import { ErrorNote } from './ErrorNote';
import { FormActions } from './FormActions';
import { Panel } from './Panel';

interface SnapshotsPanelProps {
  volume: VolumeInfo;
  /** Something changed the volume itself (a rollback): reload its page. */
  onChanged: () => void;
  onFlash: (message: string) => void;
}

type Pending = { kind: 'clone' | 'rollback' | 'delete'; snapshot: SnapshotInfo };

/** A volume's snapshots: take one, clone one into a new volume, roll back to one, delete one. */
export function SnapshotsPanel({ volume: v, onChanged, onFlash }: SnapshotsPanelProps) {
  const snapshots = useLoad(`snapshots:${v.id}`, (signal) => api.snapshots.list(v.id, signal));
  const [name, setName] = useState('');
  const [pending, setPending] = useState<Pending | null>(null);
  const take = useAction();
  const list = snapshots.data ?? [];

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    // An empty name means "name it by the time", as a schedule would.
    const chosen = name.trim() || timestampName('snap', new Date());
    const ok = await take.run(async () => {
      const s = await api.snapshots.create(v.id, chosen);
      onFlash(`Took snapshot '${s.name}' of volume '${v.name}'.`);
    });
    if (ok) {
      setName('');
      snapshots.reload();
    }
  };
  const done = (message: string, volumeChanged = false) => {
    setPending(null);
    onFlash(message);
    snapshots.reload();
    if (volumeChanged) onChanged();
  };

  return (
    <Panel title={`Snapshots (${list.length})`}>
      <ErrorNote error={snapshots.error} />
      {snapshots.data && list.length === 0 && <p className="empty">No snapshots yet: a snapshot is instant and shares pages with the volume until either is written.</p>}
      {list.length > 0 && <SnapshotTable snapshots={list} pageSize={v.pageSize} onPick={(kind, snapshot) => setPending({ kind, snapshot })} />}
      <h3 className="subhead">Take a snapshot</h3>
      <form className="form form-inline" onSubmit={submit} aria-label="Take a snapshot">
        <div className="field">
          <label htmlFor="snapshot-name">Name</label>
          <input id="snapshot-name" autoComplete="off" placeholder="snap-YYYYMMDD-HHMMSS" value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        <button type="submit" className="button button-primary" disabled={take.busy}>
          {take.busy ? 'Taking…' : 'Take snapshot'}
        </button>
        <ErrorNote error={take.error} />
      </form>
      {pending?.kind === 'clone' && (
        <CloneDialog volume={v} snapshot={pending.snapshot} onClose={() => setPending(null)} onCloned={(c) => done(`Cloned snapshot '${pending.snapshot.name}' into the new volume '${c.name}'.`)} />
      )}
      {pending?.kind === 'rollback' && (
        <RollbackDialog
          volume={v}
          snapshot={pending.snapshot}
          all={list}
          onClose={() => setPending(null)}
          onDone={() => done(`Volume '${v.name}' reads as snapshot '${pending.snapshot.name}' again.`, true)}
        />
      )}
      {pending?.kind === 'delete' && (
        <DeleteSnapshotDialog volume={v} snapshot={pending.snapshot} onClose={() => setPending(null)} onDone={() => done(`Deleted snapshot '${pending.snapshot.name}'.`)} />
      )}
    </Panel>
  );
}

/** `4 MiB (4 pages)`: the figure the pool gains back, and in the unit it is counted in. */
export function pagesText(bytes: number, pageSize: number): string {
  return pageSize > 0 ? `${formatSize(bytes)} (${plural(Math.round(bytes / pageSize), 'page')})` : formatSize(bytes);
}

interface SnapshotTableProps {
  snapshots: SnapshotInfo[];
  pageSize: number;
  onPick: (kind: Pending['kind'], s: SnapshotInfo) => void;
}

export function SnapshotTable({ snapshots, pageSize, onPick }: SnapshotTableProps) {
  return (
    <div className="table-wrap">
      <table className="table">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col" className="num">
              Size
            </th>
            <th scope="col" className="num">
              Allocated
            </th>
            <th scope="col" className="num">
              Unique
            </th>
            <th scope="col">Created</th>
            <th scope="col">Hosts</th>
            <th scope="col">
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {snapshots.map((s) => (
            <tr key={s.id} data-snapshot={s.name}>
              <td>
                <span className="strong">{s.name}</span>
                {s.scheduleId && <span className="muted"> (scheduled)</span>}
              </td>
              <td className="num">{formatSize(s.size)}</td>
              <td className="num">{formatSize(s.allocatedBytes)}</td>
              <td className="num" title="Pool pages only this snapshot holds: what deleting it gives back">
                {pagesText(s.uniqueBytes, pageSize)}
              </td>
              <td className="nowrap">{formatTime(s.createdAt)}</td>
              <td>
                {s.assignments.length === 0 ? (
                  <span className="muted">none</span>
                ) : (
                  s.assignments.map((a, i) => (
                    <span key={a.id}>
                      {i > 0 && ', '}
                      <Link to={pathTo('hosts', a.hostName)}>{a.hostName}</Link>
                    </span>
                  ))
                )}
              </td>
              <td className="actions-cell">
                <button type="button" className="button button-small" onClick={() => onPick('clone', s)} aria-label={`Clone snapshot ${s.name}`}>
                  Clone
                </button>{' '}
                <button type="button" className="button button-small" onClick={() => onPick('rollback', s)} aria-label={`Roll back to snapshot ${s.name}`}>
                  Roll back
                </button>{' '}
                <button type="button" className="button button-small" onClick={() => onPick('delete', s)} aria-label={`Delete snapshot ${s.name}`}>
                  Delete
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function CloneDialog({ volume: v, snapshot: s, onClose, onCloned }: { volume: VolumeInfo; snapshot: SnapshotInfo; onClose: () => void; onCloned: (c: VolumeInfo) => void }) {
  const [name, setName] = useState(`${v.name}-${s.name}`);
  const action = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    await action.run(async () => onCloned(await api.snapshots.clone(v.id, s.id, name.trim())));
  };
  return (
    <Dialog title={`Clone snapshot ${s.name}`} onClose={onClose}>
      <form className="form dialog-body" onSubmit={submit} aria-label="Clone snapshot">
        <p>
          A new writable thin volume of {formatSize(s.size)} in pool <strong>{s.poolName}</strong> that starts as the snapshot: instant, and it shares pages with
          the snapshot until either is written.
        </p>
        <div className="field">
          <label htmlFor="clone-name">New volume name</label>
          <input id="clone-name" required autoComplete="off" value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        <FormActions action={action} onCancel={onClose} label="Clone" busyLabel="Cloning…" />
      </form>
    </Dialog>
  );
}

/** Names what the rollback loses (everything written since the snapshot) and whom it disturbs; force only for those named. */
function RollbackDialog({ volume: v, snapshot: s, all, onClose, onDone }: { volume: VolumeInfo; snapshot: SnapshotInfo; all: SnapshotInfo[]; onClose: () => void; onDone: () => void }) {
  const impact = rollbackImpact(v, s, all);
  const force = impact.writers.length > 0 || impact.nbdExport;
  return (
    <ConfirmDialog
      title={`Roll back ${v.name} to ${s.name}?`}
      confirmLabel={force ? 'Roll back anyway' : 'Roll back'}
      onClose={onClose}
      onDone={onDone}
      onConfirm={() => api.volumes.rollback(v.id, s.id, force)}
    >
      <p>This cannot be undone. Rolling back loses:</p>
      <ul className="loss-list">
        <li>
          <strong>everything written to {v.name} since {formatTime(impact.since)}</strong>, when the snapshot was taken (take a snapshot first to keep it)
        </li>
        {impact.grownBy > 0 && <li>the data in the {formatSize(impact.grownBy)} the volume grew by since: it reads as zeros</li>}
        {impact.writers.length > 0 && (
          <li>
            the cached view of {plural(impact.writers.length, 'host')} with read-write access:{' '}
            {impact.writers.map((a, i) => (
              <span key={a.id}>
                {i > 0 && ', '}
                <strong>{a.hostName}</strong>
              </span>
            ))}{' '}
            (detach or remount it first)
          </li>
        )}
        {impact.nbdExport && <li>the cached view of whatever uses its NBD export</li>}
      </ul>
      <p className="muted">
        Its snapshots stay{impact.later.length > 0 ? `, also the ones taken after this one (${impact.later.join(', ')})` : ''}.
      </p>
    </ConfirmDialog>
  );
}

function DeleteSnapshotDialog({ volume: v, snapshot: s, onClose, onDone }: { volume: VolumeInfo; snapshot: SnapshotInfo; onClose: () => void; onDone: () => void }) {
  const hosts = s.assignments;
  return (
    <ConfirmDialog
      title={`Delete snapshot ${s.name}?`}
      confirmLabel={hosts.length ? `Revoke ${plural(hosts.length, 'assignment')} and delete` : 'Delete snapshot'}
      onClose={onClose}
      onDone={onDone}
      onConfirm={() => api.snapshots.remove(v.id, s.id, hosts.length > 0)}
    >
      <p>This cannot be undone. Deleting the snapshot loses:</p>
      <ul className="loss-list">
        <li>
          the image of {v.name} as it was at {formatTime(s.createdAt)}
        </li>
        <li>
          <strong>{pagesText(s.uniqueBytes, v.pageSize)}</strong> only it holds, returned to the pool (pages shared with the volume, other snapshots or clones stay)
        </li>
        {hosts.length > 0 && (
          <li>
            {plural(hosts.length, 'assignment')}, revoked: {hosts.map((a) => a.hostName).join(', ')}
          </li>
        )}
      </ul>
    </ConfirmDialog>
  );
}
