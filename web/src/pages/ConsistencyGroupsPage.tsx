import { useState, type FormEvent } from 'react';
import { api } from '../api';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { Dialog } from '../components/Dialog';
import { FormActions } from '../components/FormActions';
import { ListPage, ListTable } from '../components/ListPage';
import { formatSize, formatTime, plural } from '../format';
import { useAction, useLoad } from '../hooks';
import { Link, pathTo } from '../router';
import { timestampName } from '../snapshots';
import type { ConsistencyGroupInfo, SnapshotInfo } from '../types';

type Pending = { kind: 'snapshot' | 'delete'; group: ConsistencyGroupInfo };

export function ConsistencyGroupsPage() {
  const groups = useLoad('groups', (signal) => api.groups.list(signal));
  return (
    <ListPage
      title="Consistency groups"
      subtitle="Volumes snapshotted together, at one instant: new writes wait while every member's snapshot is taken"
      createLabel="Create group"
      list={groups}
      table={(items, done) => <GroupTable groups={items} done={done} />}
      dialog={(close, created) => <CreateGroupDialog onClose={close} onCreated={(g) => created(`Created consistency group '${g.name}' of ${plural(g.volumes.length, 'volume')}.`)} />}
    />
  );
}

/** The groups with their row actions; done(message) flashes on the page and reloads the list. */
function GroupTable({ groups, done }: { groups: ConsistencyGroupInfo[]; done: (message: string) => void }) {
  const [pending, setPending] = useState<Pending | null>(null);
  const onPick = (kind: Pending['kind'], group: ConsistencyGroupInfo) => setPending({ kind, group });
  const finish = (message: string) => {
    setPending(null);
    done(message);
  };
  return (
    <>
      <ListTable
        empty="No consistency groups yet: create one from volumes that must be snapshotted at the same instant (a database and its log, say)."
        count={groups.length}
        head={
          <>
            <th scope="col">Name</th>
            <th scope="col">Volumes</th>
            <th scope="col">Created</th>
            <th scope="col">
              <span className="sr-only">Actions</span>
            </th>
          </>
        }
      >
        {groups.map((g) => (
          <tr key={g.id} data-group={g.name}>
            <td className="strong">{g.name}</td>
            <td>
              {g.volumes.map((v, i) => (
                <span key={v.id}>
                  {i > 0 && ', '}
                  <Link to={pathTo('volumes', v.name)}>{v.name}</Link>
                </span>
              ))}
            </td>
            <td className="nowrap">{formatTime(g.createdAt)}</td>
            <td className="actions-cell">
              <button type="button" className="button button-small" onClick={() => onPick('snapshot', g)} aria-label={`Snapshot group ${g.name}`}>
                Take snapshot
              </button>{' '}
              <button type="button" className="button button-small" onClick={() => onPick('delete', g)} aria-label={`Delete group ${g.name}`}>
                Delete
              </button>
            </td>
          </tr>
        ))}
      </ListTable>
      {pending?.kind === 'snapshot' && (
        <GroupSnapshotDialog
          group={pending.group}
          onClose={() => setPending(null)}
          onTaken={(snaps) =>
            finish(`Took snapshot '${snaps[0]?.name}' of ${snaps.map((s) => s.originName).join(', ')} at one instant (${formatSize(snaps.reduce((n, s) => n + s.size, 0))} in all).`)
          }
        />
      )}
      {pending?.kind === 'delete' && (
        <ConfirmDialog
          title={`Delete consistency group ${pending.group.name}?`}
          confirmLabel="Delete group"
          onClose={() => setPending(null)}
          onConfirm={() => api.groups.remove(pending.group.id)}
          onDone={() => finish(`Deleted consistency group '${pending.group.name}'.`)}
        >
          <p>
            The group goes: its volumes are no longer snapshotted together (a schedule of the group, if any, must go first). The volumes and the snapshots
            already taken stay.
          </p>
        </ConfirmDialog>
      )}
    </>
  );
}

function CreateGroupDialog({ onClose, onCreated }: { onClose: () => void; onCreated: (g: ConsistencyGroupInfo) => void }) {
  // Block volumes only: the default list is just those.
  const volumes = useLoad('group:volumes', (signal) => api.volumes.list(undefined, signal));
  const [name, setName] = useState('');
  const [picked, setPicked] = useState<string[]>([]);
  const action = useAction();
  const toggle = (id: string, on: boolean) => setPicked((p) => (on ? [...p, id] : p.filter((x) => x !== id)));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    await action.run(async () => onCreated(await api.groups.create(name.trim(), picked)));
  };

  return (
    <Dialog title="Create consistency group" onClose={onClose}>
      <form className="form dialog-body" onSubmit={submit} aria-label="Create consistency group">
        <div className="field">
          <label htmlFor="group-name">Name</label>
          <input id="group-name" required autoComplete="off" value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        <fieldset className="field">
          <legend>Volumes</legend>
          {volumes.data?.length === 0 && <p className="hint">There are no volumes: create them on the Volumes page first.</p>}
          {(volumes.data ?? []).map((v) => (
            <label key={v.id} className="check">
              <input type="checkbox" checked={picked.includes(v.id)} onChange={(e) => toggle(v.id, e.target.checked)} />
              <span>
                {v.name} <span className="muted">({formatSize(v.size)}, pool {v.poolName})</span>
              </span>
            </label>
          ))}
        </fieldset>
        <FormActions action={action} onCancel={onClose} label="Create group" busyLabel="Creating…" disabled={picked.length === 0} />
      </form>
    </Dialog>
  );
}

function GroupSnapshotDialog({ group: g, onClose, onTaken }: { group: ConsistencyGroupInfo; onClose: () => void; onTaken: (s: SnapshotInfo[]) => void }) {
  const [name, setName] = useState(() => timestampName(g.name, new Date()));
  const action = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    await action.run(async () => onTaken(await api.groups.snapshot(g.id, name.trim())));
  };
  return (
    <Dialog title={`Snapshot group ${g.name}`} onClose={onClose}>
      <form className="form dialog-body" onSubmit={submit} aria-label="Snapshot group">
        <p>
          One snapshot of each of {g.volumes.map((v) => v.name).join(', ')}, all at the same instant: writes arriving meanwhile wait a moment and land after it.
        </p>
        <div className="field">
          <label htmlFor="group-snapshot-name">Snapshot name</label>
          <input id="group-snapshot-name" required autoComplete="off" value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        <FormActions action={action} onCancel={onClose} label="Take snapshot" busyLabel="Taking…" />
      </form>
    </Dialog>
  );
}
