import { formatSize } from '../format';
import type { ExtentInfo } from '../types';

const POOL_COLOURS = ['#2563eb', '#0d9488', '#7c3aed', '#c2410c', '#0369a1', '#be185d'];

/** Where each pool's extents lie on a device, to scale, with the unallocated gaps between them. */
export function DeviceMap({ size, extents }: { size: number; extents: ExtentInfo[] }) {
  const pools = [...new Set(extents.map((e) => e.poolName))];
  const colour = (pool: string) => POOL_COLOURS[pools.indexOf(pool) % POOL_COLOURS.length];
  const pct = (bytes: number) => `${(bytes / Math.max(size, 1)) * 100}%`;
  const label = extents.length
    ? extents.map((e) => `pool ${e.poolName}: ${formatSize(e.length)} at ${formatSize(e.offset)}`).join('; ')
    : 'no extents: the whole device is free';
  return (
    <div>
      <div className="device-map-bar" role="img" aria-label={label}>
        {extents.map((e) => (
          <div
            key={e.id}
            className={e.state === 'failed' ? 'device-map-extent device-map-failed' : 'device-map-extent'}
            style={{ left: pct(e.offset), width: pct(e.length), background: colour(e.poolName) }}
            title={`${e.poolName}: ${formatSize(e.length)} at offset ${formatSize(e.offset)}`}
          />
        ))}
      </div>
      <div className="device-map-scale" aria-hidden="true">
        <span>0</span>
        <span>{formatSize(size)}</span>
      </div>
      {pools.length > 0 && (
        <ul className="capacity-legend">
          {pools.map((p) => (
            <li key={p}>
              <span className="swatch" style={{ background: colour(p) }} aria-hidden="true" />
              {p}
            </li>
          ))}
          <li>
            <span className="swatch swatch-free" aria-hidden="true" />
            unallocated
          </li>
        </ul>
      )}
    </div>
  );
}
