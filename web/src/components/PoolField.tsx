import type { Loaded } from '../hooks';
import { formatSize } from '../format';
import { Link } from '../router';
import type { PoolInfo } from '../types';
import { ErrorNote } from './ErrorNote';

interface PoolFieldProps {
  id: string;
  pools: Loaded<PoolInfo[]>;
  /** The pool's name; empty until the admin picks one (the first pool is shown picked). */
  value: string;
  onChange: (name: string) => void;
}

/** Which pool something new is carved from: each with its free space, or a pointer to create one. */
export function PoolField({ id, pools, value, onChange }: PoolFieldProps) {
  return (
    <div className="field">
      <label htmlFor={id}>Pool</label>
      <select id={id} required value={value} onChange={(e) => onChange(e.target.value)}>
        {(pools.data ?? []).map((p) => (
          <option key={p.id} value={p.name}>
            {p.name} — {formatSize(p.freeBytes)} free of {formatSize(p.capacity)}
            {p.state !== 'online' ? ` (${p.state})` : ''}
          </option>
        ))}
      </select>
      {pools.data?.length === 0 && (
        <p className="hint">
          There are no pools: <Link to="/pools">create a pool</Link> first.
        </p>
      )}
      <ErrorNote error={pools.error} />
    </div>
  );
}
