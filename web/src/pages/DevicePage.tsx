import { useState } from 'react';
import { api } from '../api';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { Details } from '../components/Details';
import { DeviceMap } from '../components/DeviceMap';
import { ErrorNote } from '../components/ErrorNote';
import { ExtentHealthCells, ExtentHealthHeads } from '../components/ExtentHealth';
import { DetailHeader } from '../components/DetailHeader';
import { Panel } from '../components/Panel';
import { StateBadge } from '../components/StateBadge';
import { formatSize, formatSizeExact, formatTime } from '../format';
import { useLoad } from '../hooks';
import { Link, navigate, pathTo } from '../router';
import type { DeviceInfo } from '../types';
import { poolsOf } from './DevicesPage';

export function DevicePage({ name }: { name: string }) {
  const device = useLoad(`device:${name}`, (signal) => api.devices.get(name, signal));
  const [removing, setRemoving] = useState(false);
  const [purge, setPurge] = useState(false);
  const d = device.data;
  const pools = d ? poolsOf(d) : [];

  return (
    <>
      <DetailHeader
        title={d?.name ?? name}
        crumb={{ label: 'Devices', to: '/devices' }}
        subtitle={d && <StateBadge state={d.state} />}
        remove={d && { label: 'Remove device', disabled: pools.length > 0, onClick: () => setRemoving(true) }}
      />
      {d && pools.length > 0 && (
        <p className="note">
          In use by {pools.length === 1 ? 'pool' : 'pools'} {pools.join(', ')}: a device can be removed once no pool uses it.
        </p>
      )}
      <ErrorNote error={device.error} />
      {d && (
        <>
          {d.state !== 'online' && (
            <p className="banner banner-bad" role="status">
              This device is {d.state}
              {d.stateReason ? `: ${d.stateReason}` : ''}.
            </p>
          )}
          <div className="grid grid-2 grid-top">
            <Panel title="Properties">
              <Details
                items={[
                  ['Kind', d.kind],
                  ['Path', d.path && <span className="mono">{d.path}</span>],
                  ['Size', formatSizeExact(d.size)],
                  ['Free', formatSizeExact(d.freeBytes)],
                  ['Sector size', `${d.sectorSize} bytes`],
                  ['State', d.stateReason ? `${d.state} (${d.stateReason})` : d.state],
                  ['ID', <span className="mono">{d.id}</span>],
                  ['Added', formatTime(d.createdAt)],
                ]}
              />
            </Panel>
            <Panel title="Layout on the device">
              <DeviceMap size={d.size} extents={d.extents} />
            </Panel>
          </div>
          <Panel title="Extents" flush>
            <ExtentTable device={d} />
          </Panel>
        </>
      )}
      {removing && d && (
        <ConfirmDialog
          title={`Remove device ${d.name}?`}
          confirmLabel={purge ? 'Remove and delete file' : 'Remove device'}
          onClose={() => setRemoving(false)}
          onDone={() => navigate('/devices')}
          onConfirm={() => api.devices.remove(d.id, d.kind === 'file' && purge)}
        >
          <p>
            The gateway forgets the {d.kind} device <strong>{d.name}</strong> ({formatSize(d.size)}). No pool uses it, so no volume loses data.
          </p>
          {d.kind === 'file' && d.path && (
            <label className="check">
              <input type="checkbox" checked={purge} onChange={(e) => setPurge(e.target.checked)} />
              Also delete its backing file <span className="mono">{d.path}</span>
            </label>
          )}
        </ConfirmDialog>
      )}
    </>
  );
}

function ExtentTable({ device }: { device: DeviceInfo }) {
  if (device.extents.length === 0) return <p className="empty">No pool uses this device: all {formatSize(device.size)} are free.</p>;
  return (
    <table className="table">
      <thead>
        <tr>
          <th scope="col">Pool</th>
          <th scope="col" className="num">
            Position
          </th>
          <th scope="col" className="num">
            Offset
          </th>
          <th scope="col" className="num">
            Length
          </th>
          <ExtentHealthHeads stateLabel="State" />
        </tr>
      </thead>
      <tbody>
        {device.extents.map((e) => (
          <tr key={e.id}>
            <td>
              <Link to={pathTo('pools', e.poolName)}>{e.poolName}</Link>
            </td>
            <td className="num">{e.position}</td>
            <td className="num" title={`${e.offset} bytes`}>
              {formatSize(e.offset)}
            </td>
            <td className="num" title={`${e.length} bytes`}>
              {formatSize(e.length)}
            </td>
            <ExtentHealthCells extent={e} />
          </tr>
        ))}
      </tbody>
    </table>
  );
}
