import { useEffect, useState, type FormEvent } from 'react';
import { api } from '../api';
import { formatSize } from '../format';
import { useAction, useLoad } from '../hooks';
import { Link, pathTo } from '../router';
import { dirtyText, mirrorHealth } from '../snapshots';
import type { JobInfo, MirrorInfo, MirrorStatus, VolumeInfo } from '../types';
import { ConfirmDialog } from './ConfirmDialog';
import { Details } from './Details';
import { ErrorNote } from './ErrorNote';
import { Panel } from './Panel';
import { PoolField } from './PoolField';
import { ProgressBar } from './ProgressBar';
import { StateBadge } from './StateBadge';

/** How often an unhealthy mirror is looked at again: a resync's progress, or the monitor starting one. */
const FOLLOW_MS = 2000;

interface MirrorPanelProps {
  volume: VolumeInfo;
  /** The mirror changed the volume (added, swapped, removed, state moved on): reload its page. */
  onChanged: () => void;
  onFlash: (message: string) => void;
}

/** A volume's synchronous mirror: add one on another pool; its health, resync, swap of roles and removal. */
export function MirrorPanel({ volume: v, onChanged, onFlash }: MirrorPanelProps) {
  const m = v.mirror ?? null;
  // Polled only while there is something to follow; a healthy mirror is read once with the page.
  const status = useLoad<MirrorStatus | null>(`mirror:${v.id}:${m ? 'on' : 'off'}`, (signal) => (m ? api.mirror.status(v.id, signal) : Promise.resolve(null)), m && m.state !== 'in-sync' ? FOLLOW_MS : undefined);
  const live = status.data?.volume.mirror ?? m;
  const liveState = live?.state;
  const pageState = m?.state;
  // The page's own copy of the volume (its properties) follows the panel when the state moves on.
  useEffect(() => {
    if (pageState && liveState && liveState !== pageState) onChanged();
  }, [liveState, pageState, onChanged]);
  const reloadAll = () => {
    onChanged();
    status.reload();
  };

  return (
    <Panel title="Mirror">
      {live ? (
        <MirrorDetails volume={v} mirror={live} status={status.data ?? null} onChanged={reloadAll} onFlash={onFlash} />
      ) : (
        <AddMirrorForm
          volume={v}
          onAdded={(s) => {
            onFlash(`Added a mirror of '${v.name}' on pool '${s.volume.mirror?.poolName}': its initial sync runs as a job.`);
            onChanged();
          }}
        />
      )}
      <ErrorNote error={status.error} />
    </Panel>
  );
}

interface MirrorDetailsProps {
  volume: VolumeInfo;
  mirror: MirrorInfo;
  status: MirrorStatus | null;
  onChanged: () => void;
  onFlash: (message: string) => void;
}

function MirrorDetails({ volume: v, mirror, status, onChanged, onFlash }: MirrorDetailsProps) {
  const [confirming, setConfirming] = useState<'swap' | 'remove' | null>(null);
  // The resync this page started: a short one may end before the next look, its job stays on the Jobs page.
  const [started, setStarted] = useState<JobInfo | null>(null);
  const resync = useAction();
  const health = mirrorHealth(mirror);
  const job = status?.job ?? null;

  const startResync = () =>
    void resync.run(async () => {
      const s = await api.mirror.resync(v.id);
      setStarted(s.job);
      onFlash(`Resync of '${v.name}' started: it copies only the dirty regions.`);
      onChanged();
    });

  return (
    <>
      <Details
        items={[
          ['Pool', <Link to={pathTo('pools', mirror.poolName)}>{mirror.poolName}</Link>],
          [
            'State',
            <span>
              <StateBadge state={health} />
              {mirror.reason && <span className="muted"> {mirror.reason}</span>}
            </span>,
          ],
          ['Dirty', dirtyText(mirror)],
          [
            'Resync',
            <div>
              {job ? (
                <ProgressBar label={`resync of ${v.name}`} done={job.bytesDone} total={job.bytesTotal} rate={job.state === 'running' ? job.rate : undefined} />
              ) : (
                <span className="muted">no job running </span>
              )}
              {(job ?? started) && <Link to="/jobs">See the resync job on the Jobs page</Link>}
            </div>,
          ],
        ]}
      />
      <div className="button-row">
        {health === 'degraded' && !job && (
          <button type="button" className="button button-primary" disabled={resync.busy} onClick={startResync}>
            {resync.busy ? 'Starting…' : 'Resync'}
          </button>
        )}
        <button type="button" className="button" onClick={() => setConfirming('swap')}>
          Swap roles
        </button>
        <button type="button" className="button button-danger-outline" onClick={() => setConfirming('remove')}>
          Remove mirror
        </button>
      </div>
      <ErrorNote error={resync.error} />
      {confirming === 'swap' && (
        <SwapDialog
          volume={v}
          mirror={mirror}
          onClose={() => setConfirming(null)}
          onDone={() => {
            setConfirming(null);
            onFlash(`Swapped the mirror roles of '${v.name}': pool '${mirror.poolName}' is now the primary.`);
            onChanged();
          }}
        />
      )}
      {confirming === 'remove' && (
        <ConfirmDialog
          title={`Remove the mirror of ${v.name}?`}
          confirmLabel="Remove mirror"
          onClose={() => setConfirming(null)}
          onConfirm={() => api.mirror.remove(v.id)}
          onDone={() => {
            setConfirming(null);
            onFlash(`Removed the mirror of '${v.name}' from pool '${mirror.poolName}'.`);
            onChanged();
          }}
        >
          <p>Removing the mirror loses:</p>
          <ul className="loss-list">
            <li>
              the second copy of {v.name} on pool <strong>{mirror.poolName}</strong>, its pages returned to the pool
            </li>
            <li>the protection it gives: the volume runs on one pool's storage alone</li>
            {job && <li>the resync running now, cancelled</li>}
          </ul>
        </ConfirmDialog>
      )}
    </>
  );
}

/** An in-sync mirror takes over as is; a degraded one only with force, after the dialog has said what its dirty regions lose. */
function SwapDialog({ volume: v, mirror, onClose, onDone }: { volume: VolumeInfo; mirror: MirrorInfo; onClose: () => void; onDone: () => void }) {
  const force = mirror.state === 'degraded';
  return (
    <ConfirmDialog
      title={`Swap the mirror roles of ${v.name}?`}
      confirmLabel={force ? 'Promote the degraded mirror' : 'Swap roles'}
      onClose={onClose}
      onDone={onDone}
      onConfirm={() => api.mirror.swap(v.id, force)}
    >
      <p>
        The copy on pool <strong>{mirror.poolName}</strong> becomes the primary that serves reads; the copy on pool <strong>{v.poolName}</strong> becomes the
        mirror. The volume keeps its name, serial and assignments.
      </p>
      {force && (
        <ul className="loss-list">
          <li>
            The mirror is degraded: <strong>{formatSize(mirror.dirtyBytes)}</strong> in {mirror.dirtyRegions} regions hold older bytes there than on the primary.
            Promoting it loses those newer bytes; do this only when the primary&rsquo;s storage is lost.
          </li>
        </ul>
      )}
    </ConfirmDialog>
  );
}

function AddMirrorForm({ volume: v, onAdded }: { volume: VolumeInfo; onAdded: (s: MirrorStatus) => void }) {
  const pools = useLoad('pools', (signal) => api.pools.list(signal));
  // The mirror must live on another pool than the volume's own.
  const others = { ...pools, data: pools.data?.filter((p) => p.id !== v.poolId) };
  const [pool, setPool] = useState('');
  const action = useAction();
  const poolName = pool || others.data?.[0]?.name || '';

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    await action.run(async () => onAdded(await api.mirror.add(v.id, poolName)));
  };

  return (
    <>
      <p className="hint">No mirror: every write lands on pool {v.poolName} only. A mirror on another pool takes every write too, before it is acknowledged.</p>
      <form className="form form-inline" onSubmit={submit} aria-label="Add a mirror">
        <PoolField id="mirror-pool" pools={others} value={poolName} onChange={setPool} />
        <button type="submit" className="button button-primary" disabled={action.busy || !poolName}>
          {action.busy ? 'Adding…' : 'Add mirror'}
        </button>
        <ErrorNote error={action.error} />
      </form>
    </>
  );
}
