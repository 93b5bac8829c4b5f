import { useState } from 'react';
import { api } from '../api';
import { CapacityBar } from '../components/CapacityBar';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { Details } from '../components/Details';
import { ErrorNote } from '../components/ErrorNote';
import { ExtentHealthCells, ExtentHealthHeads } from '../components/ExtentHealth';
import { DetailHeader } from '../components/DetailHeader';
import { Panel } from '../components/Panel';
import { StateBadge } from '../components/StateBadge';
import { formatSize, formatSizeExact, formatTime, percent, plural } from '../format';
import { useLoad } from '../hooks';
import { Link, navigate, pathTo } from '../router';
import type { PoolInfo, VolumeInfo } from '../types';

/** What a pool that is not online means for its volumes, in one sentence. */
function healthBanner(p: PoolInfo) {
  const failed = p.members.filter((m) => m.state === 'failed');
  const which = failed.map((m) => `${m.deviceName} (member ${m.position}${m.lastError ? `: ${m.lastError}` : ''})`).join(', ');
  if (p.state === 'degraded') {
    return (
      <p className="banner banner-warn" role="status">
        <strong>Degraded:</strong> {failed.length} of {p.members.length} members failed — {which}. Its volumes are still served, without full
        redundancy.
      </p>
    );
  }
  if (p.state === 'failed') {
    return (
      <p className="banner banner-bad" role="status">
        <strong>Failed:</strong> {which || 'too many members are unavailable'}. Its volumes cannot be read or written.
      </p>
    );
  }
  return null;
}

export function PoolPage({ name }: { name: string }) {
  const pool = useLoad(`pool:${name}`, async (signal) => {
    const p = await api.pools.get(name, signal);
    return { pool: p, volumes: await api.volumes.list(p.id, signal) };
  });
  const [deleting, setDeleting] = useState(false);
  const p = pool.data?.pool;

  return (
    <>
      <DetailHeader
        title={p?.name ?? name}
        crumb={{ label: 'Pools', to: '/pools' }}
        subtitle={p && <StateBadge state={p.state} />}
        remove={p && { label: 'Delete pool', disabled: p.volumeCount + p.shareCount > 0, onClick: () => setDeleting(true) }}
      />
      {p && p.volumeCount + p.shareCount > 0 && (
        <p className="note">
          Holds {[p.volumeCount && plural(p.volumeCount, 'volume'), p.shareCount && plural(p.shareCount, 'share')].filter(Boolean).join(' and ')}: a pool can be deleted
          once it has none.
        </p>
      )}
      <ErrorNote error={pool.error} />
      {p && pool.data && (
        <>
          {healthBanner(p)}
          <div className="grid grid-2 grid-top">
            <Panel title="Capacity">
              <CapacityBar capacity={p.capacity} used={p.usedBytes} provisioned={p.provisionedBytes} />
            </Panel>
            <Panel title="Properties">
              <Details
                items={[
                  ['Layout', p.layout],
                  ['Capacity', formatSizeExact(p.capacity)],
                  ['Used', `${formatSizeExact(p.usedBytes)}, ${percent(p.usedBytes, p.capacity)}`],
                  ['Provisioned', `${formatSize(p.provisionedBytes)}${p.provisionedBytes > p.capacity ? ' (thin overcommit)' : ''}`],
                  ['Page size', formatSize(p.pageSize)],
                  ['Stripe unit', p.layout === 'raid0' || p.layout === 'raid10' ? formatSize(p.stripeUnit) : null],
                  ['ID', <span className="mono">{p.id}</span>],
                  ['Created', formatTime(p.createdAt)],
                ]}
              />
            </Panel>
          </div>
          <Panel title="Members" flush>
            <table className="table">
              <thead>
                <tr>
                  <th scope="col" className="num">
                    Position
                  </th>
                  <th scope="col">Device</th>
                  <th scope="col" className="num">
                    Offset
                  </th>
                  <th scope="col" className="num">
                    Length
                  </th>
                  <ExtentHealthHeads stateLabel="Health" />
                </tr>
              </thead>
              <tbody>
                {p.members.map((m) => (
                  <tr key={m.id} className={m.state === 'failed' ? 'row-bad' : undefined}>
                    <td className="num">{m.position}</td>
                    <td>
                      <Link to={pathTo('devices', m.deviceName)}>{m.deviceName}</Link>
                    </td>
                    <td className="num">{formatSize(m.offset)}</td>
                    <td className="num">{formatSize(m.length)}</td>
                    <ExtentHealthCells extent={m} />
                  </tr>
                ))}
              </tbody>
            </table>
          </Panel>
          <Panel title="Volumes" flush actions={<Link to="/volumes">All volumes</Link>}>
            <PoolVolumes volumes={pool.data.volumes} />
          </Panel>
        </>
      )}
      {deleting && p && (
        <ConfirmDialog
          title={`Delete pool ${p.name}?`}
          confirmLabel="Delete pool"
          onClose={() => setDeleting(false)}
          onDone={() => navigate('/pools')}
          onConfirm={() => api.pools.remove(p.id)}
        >
          <p>
            The {p.layout} pool <strong>{p.name}</strong> ({formatSize(p.capacity)}) has no volumes. Deleting it gives its{' '}
            {plural(p.members.length, 'extent')} back to {p.members.length === 1 ? 'its device' : 'their devices'} as free space.
          </p>
        </ConfirmDialog>
      )}
    </>
  );
}

function PoolVolumes({ volumes }: { volumes: VolumeInfo[] }) {
  if (volumes.length === 0) return <p className="empty">No volumes in this pool.</p>;
  return (
    <table className="table">
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col" className="num">
            Size
          </th>
          <th scope="col" className="num">
            Allocated
          </th>
          <th scope="col">Provisioning</th>
          <th scope="col">State</th>
        </tr>
      </thead>
      <tbody>
        {volumes.map((v) => (
          <tr key={v.id}>
            <td>
              <Link to={pathTo('volumes', v.name)}>{v.name}</Link>
            </td>
            <td className="num">{formatSize(v.size)}</td>
            <td className="num">{formatSize(v.allocatedBytes)}</td>
            <td>{v.provisioning}</td>
            <td>
              <StateBadge state={v.state} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
