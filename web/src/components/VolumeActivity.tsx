import { formatCount, formatMs, formatRate } from '../format';
import { STATS_EVERY_MS, useStats } from '../hooks';
import type { StatsSample } from '../stats';
import { Unavailable } from './Unavailable';

/** One direction's figures from the gateway's latest interval; a latency is absent when no operation completed. */
function Direction({ label, iops, bps, mean, p99 }: { label: string; iops: number; bps: number; mean: number | null; p99: number | null }) {
  return (
    <div className="activity-row">
      <span className="activity-label">{label}</span>
      <span>
        <strong>{formatCount(iops)}</strong> IOPS
      </span>
      <span>
        <strong>{formatRate(bps)}</strong>
      </span>
      <span>
        {mean === null ? (
          <span className="muted">no operations</span>
        ) : (
          <>
            <strong>{formatMs(mean)}</strong> mean{p99 !== null && <>, {formatMs(p99)} p99</>}
          </>
        )}
      </span>
    </div>
  );
}

/** A volume's I/O over the gateway's latest sampling interval, refreshed with the dashboard's charts. */
export function VolumeActivity({ name }: { name: string }) {
  const stats = useStats();
  if (!stats) return <p className="loading">Loading statistics…</p>;
  if (!stats.volumes.ok) return <Unavailable reason={stats.volumes.reason} />;
  const s: StatsSample | undefined = stats.volumes.value[name];
  if (!s) return <p className="empty">The gateway has not sampled this volume yet.</p>;
  return (
    <div className="activity">
      <Direction label="Read" iops={s.readIops} bps={s.readBps} mean={s.readLatencyMs} p99={s.readLatencyP99Ms} />
      <Direction label="Write" iops={s.writeIops} bps={s.writeBps} mean={s.writeLatencyMs} p99={s.writeLatencyP99Ms} />
      <p className="hint">Updated every {STATS_EVERY_MS / 1000} s.</p>
    </div>
  );
}
