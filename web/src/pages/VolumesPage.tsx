import { useState, type FormEvent } from 'react';
import { api } from '../api';
import { Dialog } from '../components/Dialog';
import { FormActions } from '../components/FormActions';
import { ListPage, ListTable } from '../components/ListPage';
import { PoolField } from '../components/PoolField';
import { SizeInput, type SizeValueState } from '../components/SizeInput';
import { StateBadge } from '../components/StateBadge';
import { formatSize, percent, sizeText } from '../format';
import { useAction, useLoad } from '../hooks';
import { Link, pathTo } from '../router';
import type { Provisioning, VolumeInfo } from '../types';

export function VolumesPage() {
  const volumes = useLoad('volumes', (signal) => api.volumes.list(undefined, signal));
  return (
    <ListPage
      title="Volumes"
      subtitle="Block volumes carved from pools, assigned to SAN hosts"
      createLabel="Create volume"
      list={volumes}
      table={(items) => <VolumeTable volumes={items} />}
      dialog={(close, created) => (
        <CreateVolumeDialog
          onClose={close}
          onCreated={(v) => created(`Created ${v.provisioning} volume '${v.name}' (${formatSize(v.size)}) in pool '${v.poolName}'.`)}
        />
      )}
    />
  );
}

/** Hosts a volume is assigned to, read-only ones marked, each a link. */
export function AssignedHosts({ volume }: { volume: VolumeInfo }) {
  if (volume.assignments.length === 0) return <span className="muted">none</span>;
  return (
    <>
      {volume.assignments.map((a, i) => (
        <span key={a.id}>
          {i > 0 && ', '}
          <Link to={pathTo('hosts', a.hostName)}>{a.hostName}</Link>
          {a.access === 'ro' && <span className="muted"> (ro)</span>}
        </span>
      ))}
    </>
  );
}

function VolumeTable({ volumes }: { volumes: VolumeInfo[] }) {
  return (
    <ListTable
      empty="No volumes yet: create one in a pool."
      count={volumes.length}
      head={
        <>
          <th scope="col">Name</th>
          <th scope="col">Pool</th>
          <th scope="col" className="num">
            Size
          </th>
          <th scope="col" className="col-meter">
            Allocated
          </th>
          <th scope="col">Provisioning</th>
          <th scope="col">State</th>
          <th scope="col">Hosts</th>
        </>
      }
    >
      {volumes.map((v) => (
        <tr key={v.id}>
          <td>
            <Link to={pathTo('volumes', v.name)} className="strong">
              {v.name}
            </Link>
          </td>
          <td>
            <Link to={pathTo('pools', v.poolName)}>{v.poolName}</Link>
          </td>
          <td className="num">{formatSize(v.size)}</td>
          <td className="col-meter">
            <AllocatedMeter allocated={v.allocatedBytes} size={v.size} />
          </td>
          <td>{v.provisioning}</td>
          <td>
            <StateBadge state={v.state} />
          </td>
          <td>
            <AssignedHosts volume={v} />
          </td>
        </tr>
      ))}
    </ListTable>
  );
}

/** How much of a volume (or a share's volume) has pool pages behind it: the bar and `3.25 MiB (20%)`. */
export function AllocatedMeter({ allocated, size }: { allocated: number; size: number }) {
  return <Meter part={allocated} whole={size} label={`${formatSize(allocated)} (${percent(allocated, size)})`} />;
}

/** A small inline bar with its figure: how much of a volume has pool pages behind it. */
export function Meter({ part, whole, label }: { part: number; whole: number; label: string }) {
  const fraction = whole > 0 ? Math.min(1, part / whole) : 0;
  return (
    <span className="meter">
      <span className="meter-track" aria-hidden="true">
        <span className="meter-fill" style={{ width: `${fraction * 100}%` }} />
      </span>
      <span className="meter-label">{label}</span>
    </span>
  );
}

function CreateVolumeDialog({ onClose, onCreated }: { onClose: () => void; onCreated: (v: VolumeInfo) => void }) {
  const pools = useLoad('pools', (signal) => api.pools.list(signal));
  const [name, setName] = useState('');
  const [pool, setPool] = useState('');
  const [size, setSize] = useState<SizeValueState>({ amount: '', unit: 'G' });
  const [sizeInvalid, setSizeInvalid] = useState(false);
  const [provisioning, setProvisioning] = useState<Provisioning>('thin');
  const action = useAction();
  const poolName = pool || pools.data?.[0]?.name || '';

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const text = sizeText(size.amount, size.unit);
    setSizeInvalid(text === null);
    if (text === null) return;
    await action.run(async () => onCreated(await api.volumes.create({ name: name.trim(), pool: poolName, size: text, provisioning })));
  };

  return (
    <Dialog title="Create volume" onClose={onClose}>
      <form className="form dialog-body" onSubmit={submit} aria-label="Create volume">
        <div className="field">
          <label htmlFor="volume-name">Name</label>
          <input id="volume-name" required autoComplete="off" value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        <PoolField id="volume-pool" pools={pools} value={poolName} onChange={setPool} />
        <SizeInput
          label="Size"
          required
          value={size}
          onChange={setSize}
          invalid={sizeInvalid}
          hint={sizeInvalid ? 'Give a positive number, e.g. 10 or 1.5.' : 'A multiple of 4 KiB; volumes can grow later, never shrink.'}
        />
        <fieldset className="field">
          <legend>Provisioning</legend>
          <div className="choices choices-row">
            <label className="choice">
              <input type="radio" name="provisioning" value="thin" checked={provisioning === 'thin'} onChange={() => setProvisioning('thin')} />
              <span>
                <strong>Thin</strong>
                <span className="hint">pages are taken from the pool as data is written</span>
              </span>
            </label>
            <label className="choice">
              <input type="radio" name="provisioning" value="thick" checked={provisioning === 'thick'} onChange={() => setProvisioning('thick')} />
              <span>
                <strong>Thick</strong>
                <span className="hint">all pages reserved now: writes never run out of space</span>
              </span>
            </label>
          </div>
        </fieldset>
        <FormActions action={action} onCancel={onClose} label="Create volume" busyLabel="Creating…" disabled={!poolName} />
      </form>
    </Dialog>
  );
}
