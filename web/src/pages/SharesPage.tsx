import { useState, type FormEvent } from 'react';
import { api } from '../api';
import { Dialog } from '../components/Dialog';
import { FormActions } from '../components/FormActions';
import { ListPage, ListTable } from '../components/ListPage';
import { PoolField } from '../components/PoolField';
import { SizeInput, type SizeValueState } from '../components/SizeInput';
import { StateBadge } from '../components/StateBadge';
import { formatSize, plural, sizeText } from '../format';
import { useAction, useLoad } from '../hooks';
import { Link, pathTo } from '../router';
import type { ShareInfo } from '../types';
import { AllocatedMeter } from './VolumesPage';

export function SharesPage() {
  const shares = useLoad('shares', (signal) => api.shares.list(signal));
  return (
    <ListPage
      title="Shares"
      subtitle="File systems for NFS clients, each on a thin volume of its own"
      createLabel="Create share"
      list={shares}
      table={(items) => <ShareTable shares={items} />}
      dialog={(close, created) => (
        <CreateShareDialog
          onClose={close}
          onCreated={(s) => created(`Created share '${s.name}' (${formatSize(s.size)}) in pool '${s.poolName}'. Add export rules to let clients mount ${s.path}.`)}
        />
      )}
    />
  );
}

export function ShareTable({ shares }: { shares: ShareInfo[] }) {
  return (
    <ListTable
      empty="No shares yet: create one in a pool, then add export rules for its clients."
      count={shares.length}
      head={
        <>
          <th scope="col">Name</th>
          <th scope="col">Mount path</th>
          <th scope="col">Pool</th>
          <th scope="col" className="num">
            Size
          </th>
          <th scope="col" className="col-meter">
            Allocated
          </th>
          <th scope="col">Export rules</th>
          <th scope="col">State</th>
        </>
      }
    >
      {shares.map((s) => (
        <tr key={s.id}>
          <td>
            <Link to={pathTo('shares', s.name)} className="strong">
              {s.name}
            </Link>
          </td>
          <td className="mono">{s.path}</td>
          <td>
            <Link to={pathTo('pools', s.poolName)}>{s.poolName}</Link>
          </td>
          <td className="num">{formatSize(s.size)}</td>
          <td className="col-meter">
            <AllocatedMeter allocated={s.allocatedBytes} size={s.size} />
          </td>
          <td>{s.rules.length ? plural(s.rules.length, 'rule') : <span className="text-warn">none: closed</span>}</td>
          <td className="nowrap">
            <StateBadge state={s.state} />
            {s.replica && (
              <>
                {' '}
                <StateBadge state="replica" title="Written by another gateway; not served until promoted" />
              </>
            )}
          </td>
        </tr>
      ))}
    </ListTable>
  );
}

function CreateShareDialog({ onClose, onCreated }: { onClose: () => void; onCreated: (s: ShareInfo) => void }) {
  const pools = useLoad('pools', (signal) => api.pools.list(signal));
  const [name, setName] = useState('');
  const [pool, setPool] = useState('');
  const [size, setSize] = useState<SizeValueState>({ amount: '', unit: 'G' });
  const [sizeInvalid, setSizeInvalid] = useState(false);
  const action = useAction();
  const poolName = pool || pools.data?.[0]?.name || '';

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const text = sizeText(size.amount, size.unit);
    setSizeInvalid(text === null);
    if (text === null) return;
    await action.run(async () => onCreated(await api.shares.create({ name: name.trim(), pool: poolName, size: text })));
  };

  return (
    <Dialog title="Create share" onClose={onClose}>
      <form className="form dialog-body" onSubmit={submit} aria-label="Create share">
        <div className="field">
          <label htmlFor="share-name">Name</label>
          <input id="share-name" required autoComplete="off" value={name} onChange={(e) => setName(e.target.value)} aria-describedby="share-name-hint" />
          <p className="hint" id="share-name-hint">
            Clients mount it as <span className="mono">/{name.trim() || 'name'}</span>.
          </p>
        </div>
        <PoolField id="share-pool" pools={pools} value={poolName} onChange={setPool} />
        <SizeInput
          label="Size"
          required
          value={size}
          onChange={setSize}
          invalid={sizeInvalid}
          hint={sizeInvalid ? 'Give a positive number, e.g. 100 or 1.5.' : 'Thin: pool pages are used as files are written. Shares can grow later, never shrink.'}
        />
        <FormActions action={action} onCancel={onClose} label="Create share" busyLabel="Creating…" disabled={!poolName} />
      </form>
    </Dialog>
  );
}
