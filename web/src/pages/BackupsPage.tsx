import { useState, type FormEvent } from 'react';
import { api } from '../api';
import { backupStateText, chainOf, chainText, shortId, targetWhere, verifyText } from '../backups';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { Dialog } from '../components/Dialog';
import { ErrorNote } from '../components/ErrorNote';
import { Flash } from '../components/Flash';
import { FormActions } from '../components/FormActions';
import { ListPage, ListTable } from '../components/ListPage';
import { Panel } from '../components/Panel';
import { PoolField } from '../components/PoolField';
import { formatSize, formatTime, plural } from '../format';
import { useAction, useLoad, type Loaded } from '../hooks';
import { Link, pathTo } from '../router';
import type { BackupInfo, BackupTargetInfo, BackupTargetKind, JobInfo } from '../types';

/** How often the catalog is polled: a running backup's progress moves without a reload. */
const REFRESH_MS = 1000;

export function BackupsPage() {
  const backups = useLoad('backups', (signal) => api.backups.list(signal), REFRESH_MS);
  // The targets are loaded here: the table, the create dialog and the targets panel all name them.
  const targets = useLoad('backup-targets', (signal) => api.backups.targets.list(signal));
  return (
    <ListPage
      title="Backups"
      subtitle="Client-free copies of volume snapshots to a directory, a device or another pool: full or incremental, restorable to a new volume, verified page by page"
      createLabel="Create backup"
      list={backups}
      table={(items, done) => (
        <>
          <TargetsPanel targets={targets} />
          <BackupTable
            backups={items}
            done={(message) => {
              // A removed backup changes its target's count.
              targets.reload();
              done(message);
            }}
          />
        </>
      )}
      dialog={(close, created) => (
        <CreateBackupDialog
          targets={targets.data ?? []}
          onClose={close}
          onCreated={(b) => {
            targets.reload();
            created(`Started a ${b.kind} backup of '${b.volumeName}' to target '${b.targetName}' (backup ${shortId(b.id)}).`);
          }}
        />
      )}
    />
  );
}

// ---- targets ----------------------------------------------------------------

function TargetsPanel({ targets }: { targets: Loaded<BackupTargetInfo[]> }) {
  const [removing, setRemoving] = useState<BackupTargetInfo | null>(null);
  const [flash, setFlash] = useState<string | null>(null);
  const list = targets.data ?? [];
  return (
    <Panel title={`Targets (${list.length})`}>
      <ErrorNote error={targets.error} />
      <Flash message={flash} />
      {targets.data && list.length === 0 && <p className="empty">No backup targets yet: add a directory, a device or another pool to back up to.</p>}
      {list.length > 0 && (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Where</th>
                <th scope="col" className="num">
                  Backups
                </th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((t) => (
                <tr key={t.id} data-target={t.name}>
                  <td className="strong">{t.name}</td>
                  <td className="mono">{targetWhere(t)}</td>
                  <td className="num">{t.backupCount}</td>
                  <td className="nowrap">{formatTime(t.createdAt)}</td>
                  <td className="actions-cell">
                    <button type="button" className="button button-small" onClick={() => setRemoving(t)} aria-label={`Remove target ${t.name}`}>
                      Remove
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h3 className="subhead">Add a target</h3>
      <AddTargetForm
        onAdded={(t) => {
          setFlash(`Added backup target '${t.name}' (${targetWhere(t)}).`);
          targets.reload();
        }}
      />
      {removing && (
        <ConfirmDialog
          title={`Remove target ${removing.name}?`}
          confirmLabel="Remove target"
          onClose={() => setRemoving(null)}
          onConfirm={() => api.backups.targets.remove(removing.id)}
          onDone={() => {
            setRemoving(null);
            setFlash(`Removed backup target '${removing.name}'.`);
            targets.reload();
          }}
        >
          <p>
            The gateway forgets {targetWhere(removing)} as a place for backups; nothing there is deleted.{' '}
            {removing.backupCount > 0
              ? `It still holds ${plural(removing.backupCount, 'backup')}: remove them first, or the gateway refuses.`
              : 'It holds no backups.'}
          </p>
        </ConfirmDialog>
      )}
    </Panel>
  );
}

function AddTargetForm({ onAdded }: { onAdded: (t: BackupTargetInfo) => void }) {
  const pools = useLoad('backup:pools', (signal) => api.pools.list(signal));
  const [name, setName] = useState('');
  const [kind, setKind] = useState<BackupTargetKind>('directory');
  const [path, setPath] = useState('');
  const [pool, setPool] = useState('');
  const action = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const where = kind === 'pool' ? { pool: pool || pools.data?.[0]?.name } : { path: path.trim() };
    const ok = await action.run(async () => onAdded(await api.backups.targets.create({ name: name.trim(), kind, ...where })));
    if (ok) {
      setName('');
      setPath('');
    }
  };
  return (
    <form className="form form-inline" onSubmit={submit} aria-label="Add a target">
      <div className="field">
        <label htmlFor="target-name">Name</label>
        <input id="target-name" required autoComplete="off" placeholder="nightly" value={name} onChange={(e) => setName(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor="target-kind">Kind</label>
        <select id="target-kind" value={kind} onChange={(e) => setKind(e.target.value as BackupTargetKind)}>
          <option value="directory">directory (image files, incrementals)</option>
          <option value="device">device (one full raw image)</option>
          <option value="pool">pool (snapshots in another pool)</option>
        </select>
      </div>
      {kind === 'pool' ? (
        <PoolField id="target-pool" pools={pools} value={pool || pools.data?.[0]?.name || ''} onChange={setPool} />
      ) : (
        <div className="field">
          <label htmlFor="target-path">{kind === 'directory' ? 'Directory' : 'Device or file'}</label>
          <input
            id="target-path"
            required
            autoComplete="off"
            placeholder={kind === 'directory' ? '/srv/backups' : '/dev/sdx'}
            value={path}
            onChange={(e) => setPath(e.target.value)}
          />
        </div>
      )}
      <button type="submit" className="button button-primary" disabled={action.busy}>
        {action.busy ? 'Adding…' : 'Add target'}
      </button>
      <ErrorNote error={action.error} />
    </form>
  );
}

// ---- backups ----------------------------------------------------------------

type Pending = { kind: 'restore' | 'remove'; backup: BackupInfo };

export function BackupTable({ backups, done }: { backups: BackupInfo[]; done: (message: string) => void }) {
  const [pending, setPending] = useState<Pending | null>(null);
  const [verifying, setVerifying] = useState<{ backup: BackupInfo; jobId: string } | null>(null);
  const verify = useAction();
  const startVerify = (b: BackupInfo) =>
    void verify.run(async () => {
      const job = await api.backups.verify(b.id);
      setVerifying({ backup: b, jobId: job.id });
    });
  const finish = (message: string) => {
    setPending(null);
    done(message);
  };
  return (
    <>
      <ErrorNote error={verify.error} />
      {verifying && <VerifyResult backup={verifying.backup} jobId={verifying.jobId} />}
      <ListTable
        empty="No backups yet: add a target above, then create a backup of a volume."
        count={backups.length}
        head={
          <>
            <th scope="col">Backup</th>
            <th scope="col">Volume</th>
            <th scope="col">Target</th>
            <th scope="col">State</th>
            <th scope="col" className="num">
              Stored
            </th>
            <th scope="col">Chain</th>
            <th scope="col">
              <span className="sr-only">Actions</span>
            </th>
          </>
        }
      >
        {backups.map((b) => (
          <tr key={b.id} data-backup={b.id}>
            <td className="nowrap">
              <span className="mono strong">{shortId(b.id)}</span> <span className="muted">{b.kind}</span>
              <div className="muted">{formatTime(b.createdAt)}</div>
            </td>
            <td>
              <Link to={pathTo('volumes', b.volumeName)}>{b.volumeName}</Link>
            </td>
            <td>{b.targetName}</td>
            <td data-cell="state">
              <span className={b.state === 'pending' && b.job?.state === 'failed' ? 'text-bad' : b.state === 'complete' ? undefined : 'muted'}>{backupStateText(b)}</span>
            </td>
            <td className="num nowrap">
              {formatSize(b.bytesStored)}
              <div className="muted">of {formatSize(b.size)}</div>
            </td>
            <td className="mono" data-cell="chain">
              {chainText(b, backups)}
            </td>
            <td className="actions-cell">
              <button
                type="button"
                className="button button-small"
                disabled={b.state !== 'complete'}
                onClick={() => setPending({ kind: 'restore', backup: b })}
                aria-label={`Restore backup ${shortId(b.id)}`}
              >
                Restore
              </button>{' '}
              <button type="button" className="button button-small" disabled={verify.busy} onClick={() => startVerify(b)} aria-label={`Verify backup ${shortId(b.id)}`}>
                Verify
              </button>{' '}
              <button type="button" className="button button-small" onClick={() => setPending({ kind: 'remove', backup: b })} aria-label={`Remove backup ${shortId(b.id)}`}>
                Remove
              </button>
            </td>
          </tr>
        ))}
      </ListTable>
      {pending?.kind === 'restore' && (
        <RestoreDialog
          backup={pending.backup}
          chain={chainOf(pending.backup, backups)}
          onClose={() => setPending(null)}
          onStarted={(what) => finish(`Restoring backup ${shortId(pending.backup.id)} into the new ${what}: the Jobs page shows its progress.`)}
        />
      )}
      {pending?.kind === 'remove' && <RemoveBackupDialog backup={pending.backup} all={backups} onClose={() => setPending(null)} onDone={(message) => finish(message)} />}
    </>
  );
}

/** A verify job's outcome, polled until it ends. */
function VerifyResult({ backup: b, jobId }: { backup: BackupInfo; jobId: string }) {
  const job = useLoad<JobInfo>(`verify:${jobId}`, (signal) => api.jobs.get(jobId, signal), REFRESH_MS);
  const result = job.data ? verifyText(job.data) : null;
  return (
    <div role="status" data-verify={b.id}>
      <ErrorNote error={job.error} />
      <p className={job.data?.state === 'failed' ? 'text-bad' : 'flash'}>
        {result === null ? `Verifying backup ${shortId(b.id)} of ${b.volumeName}: ${job.data?.percent ?? 0}%…` : `Verify of backup ${shortId(b.id)} of ${b.volumeName}: ${result}.`}
      </p>
    </div>
  );
}

function RestoreDialog({ backup: b, chain, onClose, onStarted }: { backup: BackupInfo; chain: BackupInfo[]; onClose: () => void; onStarted: (what: string) => void }) {
  const pools = useLoad('restore:pools', (signal) => api.pools.list(signal));
  const share = b.sourceType === 'share';
  const source = share ? b.volumeName.replace(/^share:/, '') : b.volumeName;
  const [name, setName] = useState(`${source}-restored`);
  const [pool, setPool] = useState('');
  const action = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    await action.run(async () => {
      const started = await api.backups.restore(b.id, share ? { toShare: name.trim() } : { to: name.trim() }, pool || undefined);
      onStarted(started.share ? `share '${started.share.name}'` : `volume '${started.volume.name}'`);
    });
  };
  const from = chain.length === 1 ? 'this full backup' : `${plural(chain.length, 'backup')} (${chain.map((x) => shortId(x.id)).join(' → ')})`;
  return (
    <Dialog title={`Restore backup ${shortId(b.id)}`} onClose={onClose}>
      <form className="form dialog-body" onSubmit={submit} aria-label="Restore backup">
        {share ? (
          <p>
            A new share of {formatSize(b.size)} with the files of share {source} as they were at {formatTime(b.createdAt)}, composed from {from} and its metadata
            database; every page is checked against its digest and the filesystem is checked before the share is served. It starts with no export rules: add them on
            its page to let clients mount it.
          </p>
        ) : (
          <p>
            A new thin volume of {formatSize(b.size)} that reads as {b.volumeName} did at {formatTime(b.createdAt)}, composed from {from}; every page is checked
            against its digest before it is written.
          </p>
        )}
        <div className="field">
          <label htmlFor="restore-name">{share ? 'New share name' : 'New volume name'}</label>
          <input id="restore-name" required autoComplete="off" value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="restore-pool">Pool</label>
          <select id="restore-pool" value={pool} onChange={(e) => setPool(e.target.value)}>
            <option value="">{share ? "the backed-up share's pool" : "the backed-up volume's pool"}</option>
            {(pools.data ?? []).map((p) => (
              <option key={p.id} value={p.name}>
                {p.name} — {formatSize(p.freeBytes)} free
              </option>
            ))}
          </select>
          <ErrorNote error={pools.error} />
        </div>
        <FormActions action={action} onCancel={onClose} label="Restore" busyLabel="Starting…" />
      </form>
    </Dialog>
  );
}

/** Names the backups that go with it: withDependents only for those listed here. */
function RemoveBackupDialog({ backup: b, all, onClose, onDone }: { backup: BackupInfo; all: BackupInfo[]; onClose: () => void; onDone: (message: string) => void }) {
  // Dependents of dependents go too: the whole subtree that builds on this backup.
  const gone: string[] = [];
  const walk = (id: string) => {
    for (const d of all.find((x) => x.id === id)?.dependents ?? []) {
      if (gone.includes(d)) continue;
      gone.push(d);
      walk(d);
    }
  };
  walk(b.id);
  return (
    <ConfirmDialog
      title={`Remove backup ${shortId(b.id)}?`}
      confirmLabel={gone.length ? `Remove it and ${plural(gone.length, 'dependent')}` : 'Remove backup'}
      onClose={onClose}
      onConfirm={() => api.backups.remove(b.id, gone.length > 0)}
      onDone={() => onDone(`Removed backup ${shortId(b.id)} of '${b.volumeName}'${gone.length ? ` and ${plural(gone.length, 'backup')} built on it` : ''}.`)}
    >
      <p>This cannot be undone. Removing the backup loses:</p>
      <ul className="loss-list">
        <li>
          the {b.kind} image of {b.volumeName} as it was at {formatTime(b.createdAt)} on target <strong>{b.targetName}</strong> ({formatSize(b.bytesStored)} stored)
        </li>
        {gone.length > 0 && (
          <li>
            {plural(gone.length, 'incremental backup')} built on it, which cannot be restored without it: {gone.map(shortId).join(', ')}
          </li>
        )}
        {b.state === 'pending' && b.job && ['running', 'queued', 'paused'].includes(b.job.state) && <li>its job, cancelled</li>}
      </ul>
    </ConfirmDialog>
  );
}

function CreateBackupDialog({ targets, onClose, onCreated }: { targets: BackupTargetInfo[]; onClose: () => void; onCreated: (b: BackupInfo) => void }) {
  const volumes = useLoad('backup:volumes', (signal) => api.volumes.list(undefined, signal));
  const [volume, setVolume] = useState('');
  const [target, setTarget] = useState('');
  const [incremental, setIncremental] = useState(false);
  const [rate, setRate] = useState('');
  const action = useAction();
  const picked = targets.find((t) => t.name === target);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    await action.run(async () => {
      const started = await api.backups.create({ volume, target, ...(incremental && { incremental: true }), ...(rate.trim() && { rateLimit: rate.trim() }) });
      onCreated(started.backup);
    });
  };
  return (
    <Dialog title="Create backup" onClose={onClose}>
      <form className="form dialog-body" onSubmit={submit} aria-label="Create backup">
        <div className="field">
          <label htmlFor="backup-volume">Volume</label>
          <select id="backup-volume" required value={volume} onChange={(e) => setVolume(e.target.value)}>
            <option value="">Choose a volume…</option>
            {(volumes.data ?? []).map((v) => (
              <option key={v.id} value={v.name}>
                {v.name} ({formatSize(v.size)})
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="backup-target">Target</label>
          <select id="backup-target" required value={target} onChange={(e) => setTarget(e.target.value)}>
            <option value="">Choose a target…</option>
            {targets.map((t) => (
              <option key={t.id} value={t.name}>
                {t.name} ({targetWhere(t)})
              </option>
            ))}
          </select>
          {targets.length === 0 && <p className="hint">There are no targets: add one on this page first.</p>}
        </div>
        <fieldset className="field">
          <legend>Kind</legend>
          <label className="check">
            <input type="radio" name="backup-kind" checked={!incremental} onChange={() => setIncremental(false)} />
            <span>full: every page of a snapshot taken now</span>
          </label>
          <label className="check">
            <input type="radio" name="backup-kind" checked={incremental} disabled={picked?.kind === 'device'} onChange={() => setIncremental(true)} />
            <span>incremental: only the pages changed since the last complete backup of this volume on this target</span>
          </label>
        </fieldset>
        <div className="field">
          <label htmlFor="backup-rate">Rate limit</label>
          <input id="backup-rate" autoComplete="off" placeholder="100M" value={rate} onChange={(e) => setRate(e.target.value)} />
          <p className="hint">Bytes per second the copy may take (100M is 100 MiB/s); blank: no limit.</p>
        </div>
        <FormActions action={action} onCancel={onClose} label="Start backup" busyLabel="Starting…" />
      </form>
    </Dialog>
  );
}
