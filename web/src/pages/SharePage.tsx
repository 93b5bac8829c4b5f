import { useState } from 'react';
import { api } from '../api';
import { AddRuleForm } from '../components/AddRuleForm';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { DetailHeader } from '../components/DetailHeader';
import { Details } from '../components/Details';
import { ErrorNote } from '../components/ErrorNote';
import { ExportRuleTable } from '../components/ExportRuleTable';
import { Flash } from '../components/Flash';
import { GrowForm } from '../components/GrowForm';
import { Panel } from '../components/Panel';
import { SchedulesPanel } from '../components/SchedulesPanel';
import { ShareReplicaPanel } from '../components/ShareReplicaPanel';
import { ShareSnapshotsPanel } from '../components/ShareSnapshotsPanel';
import { StateBadge } from '../components/StateBadge';
import { formatSize, formatSizeExact, formatTime, plural } from '../format';
import { useAction, useLoad } from '../hooks';
import { Link, navigate, pathTo } from '../router';
import type { ExportRuleInfo, ShareInfo } from '../types';
import { AllocatedMeter } from './VolumesPage';

export function SharePage({ name }: { name: string }) {
  const share = useLoad(`share:${name}`, (signal) => api.shares.get(name, signal));
  const [flash, setFlash] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<ShareInfo | null>(null);
  const [removing, setRemoving] = useState<ExportRuleInfo | null>(null);
  const opening = useAction();
  const moving = useAction();
  const s = share.data;

  const moveUp = (r: ExportRuleInfo) =>
    void moving.run(async () => {
      await api.shares.rules.update(s!.id, r.id, { position: r.position - 1 });
      setFlash(`Rule ${r.position} is now rule ${r.position - 1}.`);
      share.reload();
    });

  return (
    <>
      <DetailHeader
        title={s?.name ?? name}
        crumb={{ label: 'Shares', to: '/shares' }}
        subtitle={
          s && (
            <>
              <StateBadge state={s.state} /> {s.replica && <StateBadge state="replica" title="Written by another gateway; not served until promoted" />}{' '}
              <span className="mono muted">{s.path}</span>
            </>
          )
        }
        remove={
          s && {
            label: 'Delete share',
            disabled: opening.busy,
            onClick: () => void opening.run(async () => setDeleting(await api.shares.get(s.id))),
          }
        }
      />
      <Flash message={flash} />
      <ErrorNote error={share.error ?? opening.error} />
      {s && (
        <>
          <div className="grid grid-2 grid-top">
            <Panel title="Properties">
              <Details
                items={[
                  ['Mount path', <span className="mono">{s.path}</span>],
                  ['Pool', <Link to={pathTo('pools', s.poolName)}>{s.poolName}</Link>],
                  ['Size', formatSizeExact(s.size)],
                  ['Allocated', <AllocatedMeter allocated={s.allocatedBytes} size={s.size} />],
                  ['Volume', <Link to={pathTo('volumes', s.volumeName)}>{s.volumeName}</Link>],
                  ['Export ID', <span className="mono">{s.exportId}</span>],
                  ['Metadata', s.sync ? 'sync: changes durable before the reply' : 'async: changes committed before the reply, on disk within a second'],
                  ['ID', <span className="mono">{s.id}</span>],
                  ['Created', formatTime(s.createdAt)],
                  ['Updated', formatTime(s.updatedAt)],
                ]}
              />
            </Panel>
            <Panel title="Grow">
              <GrowForm
                what="share"
                current={s.size}
                note="Shares grow, never shrink; clients see the new free space at once."
                grow={(size) => api.shares.grow(s.id, size)}
                onGrown={(g) => {
                  setFlash(`Share '${g.name}' is now ${formatSize(g.size)}.`);
                  share.reload();
                }}
              />
            </Panel>
          </div>
          <Panel title={`Export rules (${s.rules.length})`}>
            <p className="hint">The first rule whose clients match a caller decides: its access, squashing and port check apply, the rules after it do not.</p>
            <ExportRuleTable rules={s.rules} busy={moving.busy} onMoveUp={moveUp} onRemove={setRemoving} />
            <ErrorNote error={moving.error} />
            <h3 className="subhead">Add a rule</h3>
            <AddRuleForm
              share={s.id}
              onAdded={(r) => {
                setFlash(`Added rule ${r.position}: ${r.clients.join(', ')} ${r.access === 'rw' ? 'read-write' : 'read-only'}.`);
                share.reload();
              }}
            />
          </Panel>
          <ShareReplicaPanel share={s} onChanged={share.reload} onFlash={setFlash} />
          <ShareSnapshotsPanel share={s} onChanged={share.reload} onFlash={setFlash} />
          {/* A share's schedules name its volume; people know it by the share's name. */}
          <SchedulesPanel volume={{ id: s.volumeId, name: s.name }} onFlash={setFlash} />
        </>
      )}
      {removing && s && (
        <ConfirmDialog
          title={`Remove rule ${removing.position}?`}
          confirmLabel="Remove rule"
          onClose={() => setRemoving(null)}
          onDone={() => {
            setFlash(`Removed rule ${removing.position} (${removing.clients.join(', ')}).`);
            setRemoving(null);
            share.reload();
          }}
          onConfirm={() => api.shares.rules.remove(s.id, removing.id)}
        >
          <p>
            Clients matched by <span className="mono">{removing.clients.join(', ')}</span> fall through to the rules after it
            {s.rules.length === 1 ? '; this is the last rule, so no client will be able to mount the share.' : ', or are refused if none matches.'}
          </p>
        </ConfirmDialog>
      )}
      {deleting && (
        <ConfirmDialog
          title={`Delete share ${deleting.name}?`}
          confirmLabel="Delete share"
          onClose={() => setDeleting(null)}
          onDone={() => navigate('/shares')}
          onConfirm={() => api.shares.remove(deleting.id)}
        >
          <p>This cannot be undone. Deleting the share loses:</p>
          <ul className="loss-list">
            <li>
              every file on it: <strong>{formatSize(deleting.allocatedBytes)}</strong> of allocated data, returned to pool <strong>{deleting.poolName}</strong>
            </li>
            <li>
              its volume <span className="mono">{deleting.volumeName}</span> ({formatSize(deleting.size)})
            </li>
            <li>{deleting.rules.length ? `its ${plural(deleting.rules.length, 'export rule')}; clients that mount ${deleting.path} lose it` : 'no export rules: no client can mount it now'}</li>
          </ul>
        </ConfirmDialog>
      )}
    </>
  );
}
