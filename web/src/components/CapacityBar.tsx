import { formatSize, percent } from '../format';

interface CapacityBarProps {
  capacity: number;
  used: number;
  /** Sum of the sizes of the pool's volumes: beyond capacity is thin overcommit. */
  provisioned: number;
  /** In a table row: the bar and one line of figures, no legend. */
  compact?: boolean;
}

/**
 * A pool's space as a picture. The thick bar is what exists (used, free);
 * the thin bar under it is what was promised to volumes. Both share one
 * scale, so a promise past the capacity mark sticks out in amber.
 */
export function CapacityBar({ capacity, used, provisioned, compact }: CapacityBarProps) {
  const scale = Math.max(capacity, provisioned, 1);
  const w = (bytes: number) => `${(Math.max(0, bytes) / scale) * 100}%`;
  const free = Math.max(0, capacity - used);
  const over = provisioned > capacity;
  const summary =
    `${formatSize(used)} used (${percent(used, capacity)}), ${formatSize(free)} free of ${formatSize(capacity)}; ` +
    `${formatSize(provisioned)} provisioned${over ? `, ${percent(provisioned, capacity)} of capacity (thin overcommit)` : ''}`;
  return (
    <div className={compact ? 'capacity capacity-compact' : 'capacity'}>
      <div className="capacity-bars" role="img" aria-label={summary} title={summary}>
        <div className="capacity-track" style={{ width: w(capacity) }}>
          <div className="capacity-used" style={{ width: capacity > 0 ? `${Math.min(1, used / capacity) * 100}%` : '0%' }} />
        </div>
        <div className="capacity-provisioned">
          <div className="capacity-promised" style={{ width: w(Math.min(provisioned, capacity)) }} />
          {over && <div className="capacity-over" style={{ left: w(capacity), width: w(provisioned - capacity) }} />}
        </div>
        {over && <div className="capacity-mark" style={{ left: w(capacity) }} />}
      </div>
      {compact ? (
        <div className="capacity-figures">
          <span>
            {formatSize(used)} / {formatSize(capacity)}
          </span>
          <span className={over ? 'overcommit' : undefined}>
            {over ? `${percent(provisioned, capacity)} provisioned` : `${percent(used, capacity)} used`}
          </span>
        </div>
      ) : (
        <ul className="capacity-legend">
          <li>
            <span className="swatch swatch-used" aria-hidden="true" />
            Used <strong>{formatSize(used)}</strong> ({percent(used, capacity)})
          </li>
          <li>
            <span className="swatch swatch-free" aria-hidden="true" />
            Free <strong>{formatSize(free)}</strong>
          </li>
          <li>
            <span className={over ? 'swatch swatch-over' : 'swatch swatch-promised'} aria-hidden="true" />
            Provisioned <strong>{formatSize(provisioned)}</strong> of {formatSize(capacity)}
            {over && <span className="overcommit"> — {percent(provisioned, capacity)}, thin overcommit</span>}
          </li>
        </ul>
      )}
    </div>
  );
}
