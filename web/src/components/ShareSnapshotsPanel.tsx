import { useState, type FormEvent } from 'react';
import { ApiError, api } from '../api';
import { formatSize, formatTime } from '../format';
import { useAction, useLoad } from '../hooks';
import { Link, pathTo } from '../router';
import { fsckText, shareCloneText, shareRollbackWords, snapshotPath } from '../shares';
import { timestampName } from '../snapshots';
import type { ShareFsckReport, ShareInfo, SnapshotInfo, VolumeInfo } from '../types';
import { ConfirmDialog } from './ConfirmDialog';
import { Dialog } from './Dialog';
import { ErrorNote } from './ErrorNote';
import { FormActions } from './FormActions';
import { Panel } from './Panel';

interface ShareSnapshotsPanelProps {
  share: ShareInfo;
  /** The share itself changed (a rollback): reload its page. */
  onChanged: () => void;
  onFlash: (message: string) => void;
}

/** The new share a clone made: linked from the panel until the next action. */
type Cloned = { name: string; snapshot: string };

/**
 * A share's snapshots (its data volume and its metadata at one instant): take
 * one, check one's metadata copy, clone one into a new share, roll the share
 * back to one, delete one (docs/nas.md Snapshots, Clone, Rollback).
 */
export function ShareSnapshotsPanel({ share: s, onChanged, onFlash }: ShareSnapshotsPanelProps) {
  // By volume id: a block volume named like the share would win a lookup by name.
  const snapshots = useLoad(`share-snapshots:${s.id}`, (signal) => api.snapshots.list(s.volumeId, signal));
  const [name, setName] = useState('');
  const [deleting, setDeleting] = useState<SnapshotInfo | null>(null);
  const [cloning, setCloning] = useState<SnapshotInfo | null>(null);
  const [rolling, setRolling] = useState<SnapshotInfo | null>(null);
  const [cloned, setCloned] = useState<Cloned | null>(null);
  const [report, setReport] = useState<ShareFsckReport | null>(null);
  const take = useAction();
  const check = useAction();
  const list = snapshots.data ?? [];

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    // An empty name means "name it by the time", as on a volume's page and as schedules do.
    const chosen = name.trim() || timestampName('snap', new Date());
    const ok = await take.run(async () => {
      const snap = await api.snapshots.create(s.volumeId, chosen);
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
                    <button type="button" className="button button-small" onClick={() => setCloning(snap)} aria-label={`Clone snapshot ${snap.name}`}>
                      Clone
                    </button>{' '}
                    <button type="button" className="button button-small" onClick={() => setRolling(snap)} aria-label={`Roll back to snapshot ${snap.name}`}>
                      Roll back
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
      {cloned && (
        <p className="hint" role="status" data-cloned={cloned.name}>
          Snapshot {cloned.snapshot} is now the share <Link to={pathTo('shares', cloned.name)}>{cloned.name}</Link>, exported at{' '}
          <span className="mono">/{cloned.name}</span>.
        </p>
      )}
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
          onConfirm={() => api.snapshots.remove(s.volumeId, deleting.id, false)}
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
      {cloning && (
        <ShareCloneDialog
          share={s}
          snapshot={cloning}
          onClose={() => setCloning(null)}
          onCloned={(c) => {
            setCloning(null);
            // The answer is the new share's volume (`share:<name>`); its share ref names the share.
            const made = c.share?.name ?? c.name.replace(/^share:/, '');
            setCloned({ name: made, snapshot: cloning.name });
            onFlash(`Cloned snapshot '${cloning.name}' of share '${s.name}' into the new share '${made}'.`);
            snapshots.reload();
          }}
        />
      )}
      {rolling && (
        <ShareRollbackDialog
          share={s}
          snapshot={rolling}
          all={list}
          onClose={() => setRolling(null)}
          onDone={() => {
            setRolling(null);
            setReport(null);
            onFlash(`Share '${s.name}' reads as snapshot '${rolling.name}' again: NFS clients should mount it again.`);
            snapshots.reload();
            onChanged();
          }}
        />
      )}
    </Panel>
  );
}

interface ShareCloneDialogProps {
  share: ShareInfo;
  snapshot: SnapshotInfo;
  onClose: () => void;
  onCloned: (c: VolumeInfo) => void;
}

/** Asks for the new share's name; says it starts as the snapshot and gets this share's export rules. */
export function ShareCloneDialog({ share: s, snapshot: snap, onClose, onCloned }: ShareCloneDialogProps) {
  const [name, setName] = useState(`${s.name}-${snap.name}`);
  const action = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    await action.run(async () => onCloned(await api.snapshots.clone(s.volumeId, snap.id, name.trim())));
  };
  return (
    <Dialog title={`Clone snapshot ${snap.name} into a new share`} onClose={onClose}>
      <form className="form dialog-body" onSubmit={submit} aria-label="Clone snapshot">
        <p>{shareCloneText(s, snap)}</p>
        <div className="field">
          <label htmlFor="share-clone-name">New share name</label>
          <input id="share-clone-name" required autoComplete="off" value={name} onChange={(e) => setName(e.target.value)} />
          <span className="hint">
            Clients mount it at <span className="mono">/{name.trim() || '<name>'}</span>.
          </span>
        </div>
        <FormActions action={action} onCancel={onClose} label="Clone" busyLabel="Cloning…" />
      </form>
    </Dialog>
  );
}

/** The API refuses a rollback while NFSv3 clients have the share mounted (409 SHARE_IN_USE, naming them). */
export const isInUse = (e: unknown) => e instanceof ApiError && e.status === 409 && e.code.endsWith('_IN_USE');

interface ShareRollbackDialogProps {
  share: ShareInfo;
  snapshot: SnapshotInfo;
  all: SnapshotInfo[];
  onClose: () => void;
  onDone: () => void;
}

/**
 * Names what the rollback loses; asks without force first, so the server
 * names the clients that have the share mounted before anyone overrides them.
 */
export function ShareRollbackDialog({ share: s, snapshot: snap, all, onClose, onDone }: ShareRollbackDialogProps) {
  const [force, setForce] = useState(false);
  const words = shareRollbackWords(s, snap, all);
  const confirm = async () => {
    try {
      return await api.volumes.rollback(s.volumeId, snap.id, force);
    } catch (e) {
      // The refusal stays on screen (the server's message names the clients); the button becomes the override.
      if (!force && isInUse(e)) setForce(true);
      throw e;
    }
  };
  return (
    <ConfirmDialog title={`Roll back ${s.name} to ${snap.name}?`} confirmLabel={force ? 'Roll back anyway' : 'Roll back'} onClose={onClose} onDone={onDone} onConfirm={confirm}>
      <p>This cannot be undone. Rolling back loses:</p>
      <ul className="loss-list">
        {words.lost.map((l) => (
          <li key={l}>{l}</li>
        ))}
      </ul>
      <p className="muted">{words.kept}</p>
      <p>{words.clients}</p>
      {force && <p className="text-bad">Rolling back anyway: the clients named below get stale handles for files made since the snapshot, and may read stale cached data until they mount again.</p>}
    </ConfirmDialog>
  );
}
