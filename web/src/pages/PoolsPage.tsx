import { useState, type FormEvent } from 'react';
import { api } from '../api';
import { CapacityBar } from '../components/CapacityBar';
import { Dialog } from '../components/Dialog';
import { ErrorNote } from '../components/ErrorNote';
import { FormActions } from '../components/FormActions';
import { ListPage, ListTable } from '../components/ListPage';
import { StateBadge } from '../components/StateBadge';
import { formatSize } from '../format';
import { useAction, useLoad } from '../hooks';
import { Link, pathTo } from '../router';
import type { CreatePoolBody, DeviceInfo, LayoutKind, PoolInfo, PoolMemberBody } from '../types';

const LAYOUTS: Array<{ layout: LayoutKind; label: string }> = [
  { layout: 'concat', label: 'concat — members end to end (1 or more)' },
  { layout: 'raid0', label: 'raid0 — striped, no redundancy (2 or more)' },
  { layout: 'raid1', label: 'raid1 — mirrored (2 or more)' },
  { layout: 'raid10', label: 'raid10 — striped mirrors (even number, 4 or more)' },
];

const KIB = 1024;
/** Powers of two from 64 KiB to 16 MiB: the range the gateway accepts for a pool's page. */
const PAGE_SIZES = Array.from({ length: 9 }, (_, i) => 64 * KIB * 2 ** i);
const STRIPE_UNITS = Array.from({ length: 7 }, (_, i) => 16 * KIB * 2 ** i);
const DEFAULT_PAGE = 1024 * KIB;
const DEFAULT_STRIPE = 64 * KIB;

export function PoolsPage() {
  const pools = useLoad('pools', (signal) => api.pools.list(signal));
  return (
    <ListPage
      title="Pools"
      subtitle="Device extents combined by a layout, carved into pages for volumes"
      createLabel="Create pool"
      list={pools}
      table={(items) => <PoolTable pools={items} />}
      dialog={(close, created) => (
        <CreatePoolDialog onClose={close} onCreated={(p) => created(`Created ${p.layout} pool '${p.name}' (${formatSize(p.capacity)} usable).`)} />
      )}
    />
  );
}

function PoolTable({ pools }: { pools: PoolInfo[] }) {
  return (
    <ListTable
      empty="No pools yet: create one from the free space of your devices."
      count={pools.length}
      head={
        <>
          <th scope="col">Name</th>
          <th scope="col">Layout</th>
          <th scope="col">State</th>
          <th scope="col" className="col-capacity">
            Capacity
          </th>
          <th scope="col" className="num">
            Free
          </th>
          <th scope="col" className="num">
            Provisioned
          </th>
          <th scope="col" className="num">
            Volumes
          </th>
          <th scope="col">Devices</th>
        </>
      }
    >
      {pools.map((p) => (
        <tr key={p.id}>
          <td>
            <Link to={pathTo('pools', p.name)} className="strong">
              {p.name}
            </Link>
          </td>
          <td>{p.layout}</td>
          <td>
            <StateBadge state={p.state} />
          </td>
          <td className="col-capacity">
            <CapacityBar capacity={p.capacity} used={p.usedBytes} provisioned={p.provisionedBytes} compact />
          </td>
          <td className="num">{formatSize(p.freeBytes)}</td>
          <td className={p.provisionedBytes > p.capacity ? 'num overcommit' : 'num'}>{formatSize(p.provisionedBytes)}</td>
          <td className="num">{p.volumeCount}</td>
          <td>
            {[...new Set(p.members.map((m) => m.deviceName))].map((d, i) => (
              <span key={d}>
                {i > 0 && ', '}
                <Link to={pathTo('devices', d)}>{d}</Link>
              </span>
            ))}
          </td>
        </tr>
      ))}
    </ListTable>
  );
}

interface MemberChoice {
  use: boolean;
  offset: string;
  length: string;
}

function CreatePoolDialog({ onClose, onCreated }: { onClose: () => void; onCreated: (p: PoolInfo) => void }) {
  const devices = useLoad('devices', (signal) => api.devices.list(signal));
  const [name, setName] = useState('');
  const [layout, setLayout] = useState<LayoutKind>('concat');
  const [pageSize, setPageSize] = useState(DEFAULT_PAGE);
  const [stripeUnit, setStripeUnit] = useState(DEFAULT_STRIPE);
  const [members, setMembers] = useState<Record<string, MemberChoice>>({});
  const action = useAction();
  const striped = layout === 'raid0' || layout === 'raid10';
  // A stripe unit never exceeds the page: a smaller page pulls the choice down with it.
  const stripe = Math.min(stripeUnit, pageSize);

  const choice = (id: string): MemberChoice => members[id] ?? { use: false, offset: '', length: '' };
  const update = (id: string, change: Partial<MemberChoice>) => setMembers((m) => ({ ...m, [id]: { ...choice(id), ...change } }));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    // Members in the order the devices are listed: that order is each member's position in the layout.
    const chosen: PoolMemberBody[] = (devices.data ?? [])
      .filter((d) => choice(d.id).use)
      .map((d) => {
        const c = choice(d.id);
        return { device: d.id, ...(c.offset.trim() && { offset: c.offset.trim() }), ...(c.length.trim() && { length: c.length.trim() }) };
      });
    const body: CreatePoolBody = { name: name.trim(), layout, pageSize, members: chosen, ...(striped && { stripeUnit: stripe }) };
    await action.run(async () => onCreated(await api.pools.create(body)));
  };

  return (
    <Dialog title="Create pool" onClose={onClose} wide>
      <form className="form dialog-body" onSubmit={submit} aria-label="Create pool">
        <div className="form-row">
          <div className="field">
            <label htmlFor="pool-name">Name</label>
            <input id="pool-name" required autoComplete="off" value={name} onChange={(e) => setName(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="pool-layout">Layout</label>
            <select id="pool-layout" value={layout} onChange={(e) => setLayout(e.target.value as LayoutKind)}>
              {LAYOUTS.map((l) => (
                <option key={l.layout} value={l.layout}>
                  {l.label}
                </option>
              ))}
            </select>
          </div>
        </div>
        <div className="form-row">
          <div className="field">
            <label htmlFor="pool-page-size">Page size</label>
            <select id="pool-page-size" value={pageSize} onChange={(e) => setPageSize(Number(e.target.value))} aria-describedby="pool-page-hint">
              {PAGE_SIZES.map((s) => (
                <option key={s} value={s}>
                  {formatSize(s)}
                  {s === DEFAULT_PAGE ? ' (default)' : ''}
                </option>
              ))}
            </select>
            <p className="hint" id="pool-page-hint">
              The unit thin volumes allocate in. Smaller wastes less space, larger keeps page maps short.
            </p>
          </div>
          {striped && (
            <div className="field">
              <label htmlFor="pool-stripe">Stripe unit</label>
              <select id="pool-stripe" value={stripe} onChange={(e) => setStripeUnit(Number(e.target.value))}>
                {STRIPE_UNITS.filter((s) => s <= pageSize).map((s) => (
                  <option key={s} value={s}>
                    {formatSize(s)}
                    {s === DEFAULT_STRIPE ? ' (default)' : ''}
                  </option>
                ))}
              </select>
            </div>
          )}
        </div>
        <fieldset className="field">
          <legend>Members</legend>
          <p className="hint">Pick the devices to use. Offset and length are optional (sizes like 1G): by default a member takes the largest free region.</p>
          <ErrorNote error={devices.error} />
          {devices.data && <MemberPicker devices={devices.data} choice={choice} update={update} />}
        </fieldset>
        <FormActions action={action} onCancel={onClose} label="Create pool" busyLabel="Creating…" />
      </form>
    </Dialog>
  );
}

interface MemberPickerProps {
  devices: DeviceInfo[];
  choice: (id: string) => MemberChoice;
  update: (id: string, change: Partial<MemberChoice>) => void;
}

function MemberPicker({ devices, choice, update }: MemberPickerProps) {
  if (devices.length === 0) {
    return (
      <p className="empty">
        No devices: <Link to="/devices">add a device</Link> first.
      </p>
    );
  }
  return (
    <table className="table member-picker">
      <thead>
        <tr>
          <th scope="col">Use</th>
          <th scope="col">Device</th>
          <th scope="col" className="num">
            Free
          </th>
          <th scope="col">Offset</th>
          <th scope="col">Length</th>
        </tr>
      </thead>
      <tbody>
        {devices.map((d) => {
          const c = choice(d.id);
          const usable = d.state === 'online' && d.freeBytes > 0;
          return (
            <tr key={d.id} className={usable ? undefined : 'row-disabled'}>
              <td>
                <input
                  type="checkbox"
                  id={`member-${d.id}`}
                  checked={c.use}
                  disabled={!usable}
                  onChange={(e) => update(d.id, { use: e.target.checked })}
                />
              </td>
              <td>
                <label htmlFor={`member-${d.id}`} className="strong">
                  {d.name}
                </label>{' '}
                <span className="muted">
                  {d.kind}, {formatSize(d.size)}
                  {d.state !== 'online' ? `, ${d.state}` : d.freeBytes === 0 ? ', no free space' : ''}
                </span>
              </td>
              <td className="num">{formatSize(d.freeBytes)}</td>
              <td>
                <input
                  className="input-small"
                  aria-label={`Offset on ${d.name}`}
                  placeholder="auto"
                  disabled={!c.use}
                  value={c.offset}
                  onChange={(e) => update(d.id, { offset: e.target.value })}
                />
              </td>
              <td>
                <input
                  className="input-small"
                  aria-label={`Length on ${d.name}`}
                  placeholder="rest"
                  disabled={!c.use}
                  value={c.length}
                  onChange={(e) => update(d.id, { length: e.target.value })}
                />
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
