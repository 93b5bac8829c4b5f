import { useState, type FormEvent } from 'react';
import { api } from '../api';
import { formatSize, formatTime } from '../format';
import { useAction, useLoad } from '../hooks';
import { fsckText, snapshotPath } from '../shares';
import { timestampName } from '../snapshots';
import type { ShareFsckReport, ShareInfo, SnapshotInfo } from '../types';
import { ConfirmDialog } from './ConfirmDialog';
import { ErrorNote } from './ErrorNote';
import { Panel } from './Panel';

interface ShareSnapshotsPanelProps {
  share: ShareInfo;
  onFlash: (message: string) => void;
}

/**
 * A share's snapshots (its data volume and its metadata at one instant): take
 * one, check one's metadata copy, delete one. No clone or rollback: the API
 * refuses both for shares (docs/nas.md), so the console does not offer them.
 */
export function ShareSnapshotsPanel({ share: s, onFlash }: ShareSnapshotsPanelProps) {
  // The volume routes take a share's name: its snapshots are those of its volume.
  const snapshots = useLoad(`share-snapshots:${s.id}`, (signal) => api.snapshots.list(s.id, signal));
  const [name, setName] = useState('');
  const [deleting, setDeleting] = useState<SnapshotInfo | null>(null);
  const [report, setReport] = useState<ShareFsckReport | null>(null);
  const take = useAction();
  const check = useAction();
  const list = snapshots.data ?? [];

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    // An empty name means "name it by the time", as on a volume's page and as schedules do.
    const chosen = name.trim() || timestampName('snap', new Date());
    const ok = await take.run(async () => {
      const snap = await api.snapshots.create(s.id, chosen);
      onFlash(`Took snapshot '${snap.name}' of share '${s.name}': clients read it under ${snapshotPath(s.path, snap.name)}`);
    });
    if (ok) {
      setName('');
      snapshots.reload();
    }
  };
  const fsck = (snap: SnapshotInfo) =>
    void check.run(async () => {
      setReport(null);
      setReport(await api.shares.fsck(s.id, snap.name));
    });

  return (
    <Panel title={`Snapshots (${list.length})`}>
      <p className="hint">
        NFS clients see every snapshot read-only under <span className="mono">{snapshotPath(s.path, '<name>')}</span> (the <span className="mono">.snapshots</span>{' '}
        directory is hidden from the share's listing but reachable by name). A snapshot holds the files' data and metadata as they were at one instant.
      </p>
      <ErrorNote error={snapshots.error} />
      {snapshots.data && list.length === 0 && <p className="empty">No snapshots yet: a snapshot is instant and shares pages with the share until either is written.</p>}
      {list.length > 0 && (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Created</th>
                <th scope="col" className="num">
                  Size
                </th>
                <th scope="col" className="num">
                  Unique
                </th>
                <th scope="col">Client path</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((snap) => (
                <tr key={snap.id} data-snapshot={snap.name}>
                  <td>
                    <span className="strong">{snap.name}</span>
                    {snap.scheduleId && <span className="muted"> (scheduled)</span>}
                  </td>
                  <td className="nowrap">{formatTime(snap.createdAt)}</td>
                  <td className="num">{formatSize(snap.size)}</td>
                  <td className="num" title="Pool pages only this snapshot holds: what deleting it gives back">
                    {formatSize(snap.uniqueBytes)}
                  </td>
                  <td className="mono">{snapshotPath(s.path, snap.name)}</td>
                  <td className="actions-cell">
                    <button type="button" className="button button-small" disabled={check.busy} onClick={() => fsck(snap)} aria-label={`Check snapshot ${snap.name}`}>
                      Check
                    </button>{' '}
                    <button type="button" className="button button-small" onClick={() => setDeleting(snap)} aria-label={`Delete snapshot ${snap.name}`}>
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <ErrorNote error={check.error} />
      {report && (
        <p className={report.clean ? 'hint' : 'text-bad'} role="status" data-fsck={report.snapshot}>
          Snapshot {report.snapshot}: {fsckText(report)}
        </p>
      )}
      <h3 className="subhead">Take a snapshot</h3>
      <form className="form form-inline" onSubmit={submit} aria-label="Take a snapshot">
        <div className="field">
          <label htmlFor="share-snapshot-name">Name</label>
          <input id="share-snapshot-name" autoComplete="off" placeholder="snap-YYYYMMDD-HHMMSS" value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        <button type="submit" className="button button-primary" disabled={take.busy}>
          {take.busy ? 'Taking…' : 'Take snapshot'}
        </button>
        <ErrorNote error={take.error} />
      </form>
      {deleting && (
        <ConfirmDialog
          title={`Delete snapshot ${deleting.name}?`}
          confirmLabel="Delete snapshot"
          onClose={() => setDeleting(null)}
          onConfirm={() => api.snapshots.remove(s.id, deleting.id, false)}
          onDone={() => {
            setDeleting(null);
            setReport(null);
            onFlash(`Deleted snapshot '${deleting.name}' of share '${s.name}'.`);
            snapshots.reload();
          }}
        >
          <p>This cannot be undone. Deleting the snapshot loses:</p>
          <ul className="loss-list">
            <li>
              the files of {s.name} as they were at {formatTime(deleting.createdAt)}, and the directory{' '}
              <span className="mono">{snapshotPath(s.path, deleting.name)}</span>: clients inside it get stale handles
            </li>
            <li>
              <strong>{formatSize(deleting.uniqueBytes)}</strong> of pool pages only it holds, returned to the pool, and its metadata copy
            </li>
          </ul>
        </ConfirmDialog>
      )}
    </Panel>
  );
}
