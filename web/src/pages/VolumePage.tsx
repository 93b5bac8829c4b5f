import { useState, type ReactNode } from 'react';
import { api } from '../api';
import { AssignForm } from '../components/AssignForm';
import { AssignmentTable } from '../components/AssignmentTable';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { Details } from '../components/Details';
import { ErrorNote } from '../components/ErrorNote';
import { Flash } from '../components/Flash';
import { GrowForm } from '../components/GrowForm';
import { ImagePanel } from '../components/ImagePanel';
import { DetailHeader } from '../components/DetailHeader';
import { MirrorPanel } from '../components/MirrorPanel';
import { Panel } from '../components/Panel';
import { ReplicaPanel } from '../components/ReplicaPanel';
import { SchedulesPanel } from '../components/SchedulesPanel';
import { SnapshotsPanel } from '../components/SnapshotsPanel';
import { StateBadge } from '../components/StateBadge';
import { VolumeActivity } from '../components/VolumeActivity';
import { formatSize, formatSizeExact, formatTime, plural } from '../format';
import { useAction, useLoad } from '../hooks';
import { Link, navigate, pathTo } from '../router';
import type { MirrorInfo, SnapshotInfo, VolumeInfo } from '../types';
import { AllocatedMeter } from './VolumesPage';

export function VolumePage({ name }: { name: string }) {
  const volume = useLoad(`volume:${name}`, (signal) => api.volumes.get(name, signal));
  const [flash, setFlash] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<{ volume: VolumeInfo; snapshots: SnapshotInfo[] } | null>(null);
  // The delete dialog lists what goes with the volume as it is now, not as the page last loaded it.
  const opening = useAction();
  const v = volume.data;

  return (
    <>
      <DetailHeader
        title={v?.name ?? name}
        crumb={{ label: 'Volumes', to: '/volumes' }}
        subtitle={
          v && (
            <>
              <StateBadge state={v.state} /> <span className="muted">{v.provisioning}</span>
            </>
          )
        }
        remove={
          v && !v.share
            ? {
                label: 'Delete volume',
                disabled: opening.busy,
                onClick: () =>
                  void opening.run(async () => {
                    const [volume, snapshots] = await Promise.all([api.volumes.get(v.id), api.snapshots.list(v.id)]);
                    setDeleting({ volume, snapshots });
                  }),
              }
            : undefined
        }
      />
      <Flash message={flash} />
      <ErrorNote error={volume.error ?? opening.error} />
      {v && (
        <>
          <div className="grid grid-2 grid-top">
            <Panel title="Properties">
              <Details
                items={[
                  ['Pool', <Link to={pathTo('pools', v.poolName)}>{v.poolName}</Link>],
                  ['Size', formatSizeExact(v.size)],
                  ['Allocated', <AllocatedMeter allocated={v.allocatedBytes} size={v.size} />],
                  ['Provisioning', v.provisioning],
                  ['Page size', formatSize(v.pageSize)],
                  ...(v.mirror ? [['Mirror', <MirrorState mirror={v.mirror} />] as [string, ReactNode]] : []),
                  ['Serial', <span className="mono">{v.serial}</span>],
                  ['ID', <span className="mono">{v.id}</span>],
                  ['Created', formatTime(v.createdAt)],
                ]}
              />
            </Panel>
            {v.share ? (
              <Panel title="Share">
                <p>
                  This volume holds the files of share <Link to={pathTo('shares', v.share.name)}>{v.share.name}</Link>. It grows with the share and goes
                  with it; it is never assigned to a host or written as a raw image.
                </p>
              </Panel>
            ) : (
              <Panel title="Grow">
                <GrowForm
                  what="volume"
                  current={v.size}
                  note="Volumes grow, never shrink; the host sees the new size on its next capacity check."
                  grow={(size) => api.volumes.grow(v.id, size)}
                  onGrown={(g) => {
                    setFlash(`Volume '${g.name}' is now ${formatSize(g.size)}.`);
                    volume.reload();
                  }}
                />
              </Panel>
            )}
          </div>
          <Panel title="Live I/O">
            <VolumeActivity name={v.name} />
          </Panel>
          {!v.share && (
            <>
              <Panel title={`Assignments (${v.assignments.length})`}>
                <AssignmentTable assignments={v.assignments} show="host" onRevoked={volume.reload} />
                <h3 className="subhead">Assign to a host</h3>
                <AssignForm
                  fixed={{ volume: v.name }}
                  taken={v.assignments.map((a) => a.hostName)}
                  onAssigned={(a) => {
                    setFlash(`Assigned volume '${a.volumeName}' to host '${a.hostName}' (${a.access}, ${a.sharing}).`);
                    volume.reload();
                  }}
                />
              </Panel>
              <SnapshotsPanel volume={v} onChanged={volume.reload} onFlash={setFlash} />
              <SchedulesPanel volume={v} onFlash={setFlash} />
              <MirrorPanel volume={v} onChanged={volume.reload} onFlash={setFlash} />
              <ReplicaPanel volume={v} onChanged={volume.reload} onFlash={setFlash} />
              <Panel title="Image">
                <ImagePanel volume={v} onChanged={volume.reload} />
              </Panel>
            </>
          )}
        </>
      )}
      {deleting && <DeleteVolumeDialog volume={deleting.volume} snapshots={deleting.snapshots} onClose={() => setDeleting(null)} />}
    </>
  );
}

/** Names what goes with the volume; force (revoking assignments) and recursive (its snapshots) only for the ones listed here. */
function DeleteVolumeDialog({ volume: v, snapshots, onClose }: { volume: VolumeInfo; snapshots: SnapshotInfo[]; onClose: () => void }) {
  // Its snapshots' hosts lose them too: force covers theirs as well.
  const hosts = [...v.assignments, ...snapshots.flatMap((s) => s.assignments)];
  return (
    <ConfirmDialog
      title={`Delete volume ${v.name}?`}
      confirmLabel={hosts.length ? `Revoke ${plural(hosts.length, 'assignment')} and delete` : 'Delete volume'}
      onClose={onClose}
      onDone={() => navigate('/volumes')}
      onConfirm={() => api.volumes.remove(v.id, hosts.length > 0, snapshots.length > 0)}
    >
      <p>This cannot be undone. Deleting the volume loses:</p>
      <ul className="loss-list">
        <li>
          its {formatSize(v.size)} of {v.provisioning} storage in pool <strong>{v.poolName}</strong>
        </li>
        <li>
          <strong>{formatSize(v.allocatedBytes)}</strong> of allocated data, returned to the pool as free pages
        </li>
        {hosts.length === 0 ? (
          <li>no assignments: no host uses it</li>
        ) : (
          <li>
            {plural(hosts.length, 'assignment')}, revoked:{' '}
            {hosts.map((a, i) => (
              <span key={a.id}>
                {i > 0 && ', '}
                <strong>{a.hostName}</strong> ({a.volumeName}, {a.access}, {a.sharing})
              </span>
            ))}
          </li>
        )}
        {snapshots.length > 0 && (
          <li>
            {plural(snapshots.length, 'snapshot')}, deleted with it: {snapshots.map((s) => s.name).join(', ')} (clones of them stay)
          </li>
        )}
      </ul>
    </ConfirmDialog>
  );
}

/** 'on pool p2' with its state badge, the sync share or what is behind, and why. */
function MirrorState({ mirror: m }: { mirror: MirrorInfo }) {
  return (
    <span>
      on pool <Link to={pathTo('pools', m.poolName)}>{m.poolName}</Link> <StateBadge state={m.state} title={m.reason ?? undefined} />
      {m.state === 'syncing' && <> {m.syncPercent}%</>}
      {m.dirtyRegions > 0 && <span className="muted"> {formatSize(m.dirtyBytes)} behind</span>}
    </span>
  );
}
