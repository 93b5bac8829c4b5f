import { useState, type FormEvent } from 'react';
import { api } from '../api';
import { useAction, useLoad } from '../hooks';
import type { Access, AssignmentInfo, Sharing } from '../types';
import { ErrorNote } from './ErrorNote';

interface AssignFormProps {
  /** The side the page is about; the form picks the other. */
  fixed: { host: string } | { volume: string };
  /** Names already assigned on this page: not offered again. */
  taken: string[];
  onAssigned: (a: AssignmentInfo) => void;
}

/** Give a host a volume: rw or ro, exclusive or shared. */
export function AssignForm({ fixed, taken, onAssigned }: AssignFormProps) {
  const pickHost = 'volume' in fixed;
  const options = useLoad(pickHost ? 'assign:hosts' : 'assign:volumes', async (signal) =>
    pickHost ? (await api.hosts.list(signal)).map((h) => h.name) : (await api.volumes.list(undefined, signal)).map((v) => v.name),
  );
  const [picked, setPicked] = useState('');
  const [access, setAccess] = useState<Access>('rw');
  const [sharing, setSharing] = useState<Sharing>('exclusive');
  const action = useAction();
  const free = (options.data ?? []).filter((n) => !taken.includes(n));
  const target = free.includes(picked) ? picked : (free[0] ?? '');
  const what = pickHost ? 'host' : 'volume';

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const body = pickHost ? { host: target, volume: fixed.volume } : { host: fixed.host, volume: target };
    await action.run(async () => onAssigned(await api.assignments.create({ ...body, access, sharing })));
  };

  if (options.data && free.length === 0) {
    return (
      <p className="hint">
        {options.data.length === 0
          ? `There are no ${what}s to assign: register one on the ${what === 'host' ? 'Hosts' : 'Volumes'} page.`
          : pickHost
            ? 'Every host already has this volume.'
            : 'Every volume is already assigned to this host.'}
      </p>
    );
  }
  return (
    <form className="form form-inline" onSubmit={submit} aria-label={`Assign a ${what}`}>
      <div className="field">
        <label htmlFor="assign-target">{pickHost ? 'Host' : 'Volume'}</label>
        <select id="assign-target" value={target} onChange={(e) => setPicked(e.target.value)}>
          {free.map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="assign-access">Access</label>
        <select id="assign-access" value={access} onChange={(e) => setAccess(e.target.value as Access)}>
          <option value="rw">read-write</option>
          <option value="ro">read-only</option>
        </select>
      </div>
      <div className="field">
        <label htmlFor="assign-sharing">Sharing</label>
        <select id="assign-sharing" value={sharing} onChange={(e) => setSharing(e.target.value as Sharing)}>
          <option value="exclusive">exclusive (this host only)</option>
          <option value="shared">shared (hosts coordinate, e.g. a cluster file system)</option>
        </select>
      </div>
      <button type="submit" className="button button-primary" disabled={action.busy || !target}>
        {action.busy ? 'Assigning…' : 'Assign'}
      </button>
      <ErrorNote error={action.error ?? options.error} />
    </form>
  );
}
