import { useState, type FormEvent } from 'react';
import { api } from '../api';
import { Dialog } from '../components/Dialog';
import { FormActions } from '../components/FormActions';
import { ListPage, ListTable } from '../components/ListPage';
import { SizeInput, type SizeValueState } from '../components/SizeInput';
import { StateBadge } from '../components/StateBadge';
import { formatSize, sizeText } from '../format';
import { useAction, useLoad } from '../hooks';
import { Link, pathTo } from '../router';
import type { CreateDeviceBody, DeviceInfo, DeviceKind } from '../types';

const KINDS: Array<{ kind: DeviceKind; label: string; about: string }> = [
  { kind: 'file', label: 'File', about: 'a sparse image file on the gateway (created if it does not exist)' },
  { kind: 'block', label: 'Block device', about: 'a whole disk or partition, e.g. /dev/sdb; its size is its own' },
  { kind: 'ram', label: 'RAM disk', about: 'memory: fast, and empty again after a restart' },
];

export const poolsOf = (d: DeviceInfo) => [...new Set(d.extents.map((e) => e.poolName))];

export function DevicesPage() {
  const devices = useLoad('devices', (signal) => api.devices.list(signal));
  return (
    <ListPage
      title="Devices"
      subtitle="Files, block devices and RAM disks that pools are built on"
      createLabel="Add device"
      list={devices}
      table={(items) => <DeviceTable devices={items} />}
      dialog={(close, created) => (
        <AddDeviceDialog onClose={close} onAdded={(d) => created(`Added ${d.kind} device '${d.name}' (${formatSize(d.size)}).`)} />
      )}
    />
  );
}

function DeviceTable({ devices }: { devices: DeviceInfo[] }) {
  return (
    <ListTable
      empty="No devices yet: add one to build pools on."
      count={devices.length}
      head={
        <>
          <th scope="col">Name</th>
          <th scope="col">Kind</th>
          <th scope="col" className="num">
            Size
          </th>
          <th scope="col" className="num">
            Free
          </th>
          <th scope="col">State</th>
          <th scope="col">Pools</th>
          <th scope="col">Path</th>
        </>
      }
    >
      {devices.map((d) => (
        <tr key={d.id}>
          <td>
            <Link to={pathTo('devices', d.name)} className="strong">
              {d.name}
            </Link>
          </td>
          <td>{d.kind}</td>
          <td className="num">{formatSize(d.size)}</td>
          <td className="num">{formatSize(d.freeBytes)}</td>
          <td>
            <StateBadge state={d.state} />
            {d.stateReason && <span className="reason">{d.stateReason}</span>}
          </td>
          <td>
            {poolsOf(d).length === 0 ? (
              <span className="muted">unused</span>
            ) : (
              poolsOf(d).map((p, i) => (
                <span key={p}>
                  {i > 0 && ', '}
                  <Link to={pathTo('pools', p)}>{p}</Link>
                </span>
              ))
            )}
          </td>
          <td className="mono truncate" title={d.path ?? undefined}>
            {d.path ?? <span className="muted">–</span>}
          </td>
        </tr>
      ))}
    </ListTable>
  );
}

function AddDeviceDialog({ onClose, onAdded }: { onClose: () => void; onAdded: (d: DeviceInfo) => void }) {
  const [name, setName] = useState('');
  const [kind, setKind] = useState<DeviceKind>('file');
  const [path, setPath] = useState('');
  const [size, setSize] = useState<SizeValueState>({ amount: '', unit: 'G' });
  const [sizeInvalid, setSizeInvalid] = useState(false);
  const action = useAction();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const body: CreateDeviceBody = { name: name.trim(), kind };
    if (kind !== 'ram' && path.trim()) body.path = path.trim();
    if (kind !== 'block' && size.amount.trim()) {
      const text = sizeText(size.amount, size.unit);
      setSizeInvalid(text === null);
      if (text === null) return;
      body.size = text;
    }
    setSizeInvalid(false);
    await action.run(async () => onAdded(await api.devices.create(body)));
  };

  return (
    <Dialog title="Add device" onClose={onClose}>
      <form className="form dialog-body" onSubmit={submit} aria-label="Add device">
        <div className="field">
          <label htmlFor="device-name">Name</label>
          <input id="device-name" required autoComplete="off" value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        <fieldset className="field">
          <legend>Kind</legend>
          <div className="choices">
            {KINDS.map((k) => (
              <label key={k.kind} className="choice">
                <input type="radio" name="device-kind" value={k.kind} checked={kind === k.kind} onChange={() => setKind(k.kind)} />
                <span>
                  <strong>{k.label}</strong>
                  <span className="hint">{k.about}</span>
                </span>
              </label>
            ))}
          </div>
        </fieldset>
        {kind !== 'ram' && (
          <div className="field">
            <label htmlFor="device-path">{kind === 'block' ? 'Device path' : 'File path (optional)'}</label>
            <input
              id="device-path"
              className="mono"
              required={kind === 'block'}
              autoComplete="off"
              placeholder={kind === 'block' ? '/dev/sdb' : '<data dir>/devices/<name>.img'}
              value={path}
              onChange={(e) => setPath(e.target.value)}
            />
          </div>
        )}
        {kind !== 'block' && (
          <SizeInput
            label={kind === 'ram' ? 'Size' : 'Size (to create the file)'}
            required={kind === 'ram'}
            value={size}
            onChange={setSize}
            invalid={sizeInvalid}
            hint={sizeInvalid ? 'Give a positive number, e.g. 64 or 1.5.' : kind === 'file' ? 'Leave empty to use an existing file as it is.' : undefined}
          />
        )}
        <FormActions action={action} onCancel={onClose} label="Add device" busyLabel="Adding…" />
      </form>
    </Dialog>
  );
}
