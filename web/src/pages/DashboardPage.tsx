import type { ReactNode } from 'react';
import { api } from '../api';
import { CapacityBar } from '../components/CapacityBar';
import { ErrorNote } from '../components/ErrorNote';
import { LineChart } from '../components/LineChart';
import { PageHeader } from '../components/PageHeader';
import { Panel } from '../components/Panel';
import { StateBadge } from '../components/StateBadge';
import { Unavailable } from '../components/Unavailable';
import { formatCount, formatMs, formatRate, formatSize, percent, plural } from '../format';
import { STATS_EVERY_MS, useLoad, useStats } from '../hooks';
import { Link, pathTo } from '../router';
import type { Checked, FrontEndStatus, Series, StatsSample } from '../stats';
import type { DeviceInfo, HostInfo, PoolInfo, ShareInfo, VolumeInfo } from '../types';

/** Inventory changes at human speed; a few seconds keeps the page current without hammering the catalog. */
const INVENTORY_EVERY_MS = 5000;

const READ = '#2563eb';
const WRITE = '#f59e0b';

interface Inventory {
  pools: PoolInfo[];
  devices: DeviceInfo[];
  volumes: VolumeInfo[];
  shares: ShareInfo[];
  hosts: HostInfo[];
}

export function DashboardPage() {
  const inventory = useLoad<Inventory>(
    'dashboard',
    async (signal) => {
      const [pools, devices, volumes, shares, hosts] = await Promise.all([
        api.pools.list(signal),
        api.devices.list(signal),
        api.volumes.list(undefined, signal),
        api.shares.list(signal),
        api.hosts.list(signal),
      ]);
      return { pools, devices, volumes, shares, hosts };
    },
    INVENTORY_EVERY_MS,
  );
  const stats = useStats();
  const inv = inventory.data;

  return (
    <>
      <PageHeader title="Dashboard" subtitle="Capacity, health and activity of this gateway" />
      <ErrorNote error={inventory.error} />
      {inv ? <Summary inv={inv} /> : <p className="loading">Loading…</p>}
      {inv && (
        <div className="grid grid-2">
          <Panel title="Pool capacity" actions={<Link to="/pools">All pools</Link>}>
            <PoolCapacity pools={inv.pools} />
          </Panel>
          <Panel title="Device health" flush actions={<Link to="/devices">All devices</Link>}>
            <DeviceHealth devices={inv.devices} />
          </Panel>
        </div>
      )}
      <Panel title="Performance" actions={<span className="muted">updates every {STATS_EVERY_MS / 1000} s</span>}>
        {stats ? <Charts series={stats.series} /> : <p className="loading">Loading statistics…</p>}
      </Panel>
      <div className="grid grid-activity">
        <Panel title="Busiest volumes" flush actions={<span className="muted">latest interval</span>}>
          {stats ? <BusiestVolumes volumes={stats.volumes} /> : <p className="loading">Loading statistics…</p>}
        </Panel>
        <div className="stack">
          <Panel title="SAN sessions">
            <FrontEnd status={stats?.san} running="The SAN target is running." />
          </Panel>
          <Panel title="NFS clients">
            <FrontEnd status={stats?.nas} running="The NFS server is running." />
          </Panel>
        </div>
      </div>
    </>
  );
}

function Tile({ label, value, detail, to }: { label: string; value: string; detail?: ReactNode; to: string }) {
  return (
    <Link to={to} className="tile">
      <span className="tile-label">{label}</span>
      <span className="tile-value">{value}</span>
      {detail && <span className="tile-detail">{detail}</span>}
    </Link>
  );
}

function Summary({ inv }: { inv: Inventory }) {
  const capacity = inv.pools.reduce((n, p) => n + p.capacity, 0);
  const used = inv.pools.reduce((n, p) => n + p.usedBytes, 0);
  const unhealthyPools = inv.pools.filter((p) => p.state !== 'online').length;
  const badDevices = inv.devices.filter((d) => d.state !== 'online').length;
  const assigned = inv.volumes.filter((v) => v.assignments.length > 0).length;
  const closed = inv.shares.filter((s) => s.rules.length === 0).length;
  return (
    <div className="tiles">
      <Tile label="Capacity" value={formatSize(capacity)} detail={`${formatSize(used)} used (${percent(used, capacity)})`} to="/pools" />
      <Tile
        label="Pools"
        value={String(inv.pools.length)}
        detail={unhealthyPools ? <span className="text-warn">{unhealthyPools} not online</span> : 'all online'}
        to="/pools"
      />
      <Tile
        label="Devices"
        value={String(inv.devices.length)}
        detail={badDevices ? <span className="text-bad">{badDevices} failed or missing</span> : 'all online'}
        to="/devices"
      />
      <Tile label="Volumes" value={String(inv.volumes.length)} detail={`${assigned} assigned to hosts`} to="/volumes" />
      <Tile label="Hosts" value={String(inv.hosts.length)} detail={plural(inv.hosts.reduce((n, h) => n + h.assignments.length, 0), 'assignment')} to="/hosts" />
      <Tile label="Shares" value={String(inv.shares.length)} detail={closed ? <span className="text-warn">{closed} without export rules</span> : inv.shares.length ? 'all have export rules' : 'none yet'} to="/shares" />
    </div>
  );
}

function PoolCapacity({ pools }: { pools: PoolInfo[] }) {
  if (pools.length === 0) {
    return (
      <p className="empty">
        No pools yet. <Link to="/pools">Create one</Link> from device extents.
      </p>
    );
  }
  return (
    <ul className="pool-capacity">
      {pools.map((p) => (
        <li key={p.id}>
          <div className="pool-capacity-head">
            <Link to={pathTo('pools', p.name)} className="strong">
              {p.name}
            </Link>
            <span className="muted">
              {p.layout} · {plural(p.volumeCount, 'volume')}
              {p.shareCount > 0 && ` · ${plural(p.shareCount, 'share')}`}
            </span>
            <StateBadge state={p.state} />
          </div>
          <CapacityBar capacity={p.capacity} used={p.usedBytes} provisioned={p.provisionedBytes} />
        </li>
      ))}
    </ul>
  );
}

function DeviceHealth({ devices }: { devices: DeviceInfo[] }) {
  if (devices.length === 0) {
    return (
      <p className="empty">
        No devices. <Link to="/devices">Add a device</Link> to build pools on.
      </p>
    );
  }
  return (
    <table className="table">
      <thead>
        <tr>
          <th scope="col">Device</th>
          <th scope="col">Kind</th>
          <th scope="col" className="num">
            Size
          </th>
          <th scope="col">State</th>
        </tr>
      </thead>
      <tbody>
        {devices.map((d) => (
          <tr key={d.id}>
            <td>
              <Link to={pathTo('devices', d.name)}>{d.name}</Link>
            </td>
            <td>{d.kind}</td>
            <td className="num">{formatSize(d.size)}</td>
            <td>
              <StateBadge state={d.state} />
              {d.stateReason && <span className="reason">{d.stateReason}</span>}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Charts({ series }: { series: Checked<Series> }) {
  if (!series.ok) return <Unavailable reason={series.reason} />;
  const { samples, intervalSeconds } = series.value;
  if (samples.length === 0) return <p className="empty">No samples yet: the first arrives within {intervalSeconds} s.</p>;
  const times = samples.map((s) => s.t);
  const intervalMs = intervalSeconds * 1000;
  const pick = (k: Exclude<keyof (typeof samples)[number], 't'>) => samples.map((s) => s[k]);
  return (
    <div className="charts">
      <LineChart
        title="IOPS"
        times={times}
        intervalMs={intervalMs}
        format={formatCount}
        series={[
          { label: 'read', colour: READ, values: pick('readIops') },
          { label: 'write', colour: WRITE, values: pick('writeIops') },
        ]}
      />
      <LineChart
        title="Throughput"
        times={times}
        intervalMs={intervalMs}
        format={formatRate}
        binary
        series={[
          { label: 'read', colour: READ, values: pick('readBps') },
          { label: 'write', colour: WRITE, values: pick('writeBps') },
        ]}
      />
      <LineChart
        title="Latency"
        times={times}
        intervalMs={intervalMs}
        format={formatMs}
        series={[
          { label: 'read', colour: READ, values: pick('readLatencyMs') },
          { label: 'write', colour: WRITE, values: pick('writeLatencyMs') },
          { label: 'read p99', colour: READ, values: pick('readLatencyP99Ms'), dashed: true },
          { label: 'write p99', colour: WRITE, values: pick('writeLatencyP99Ms'), dashed: true },
        ]}
      />
    </div>
  );
}

/** How many volumes the activity table lists: the busiest, by operations per second. */
const BUSIEST = 8;

function BusiestVolumes({ volumes }: { volumes: Checked<Record<string, StatsSample>> }) {
  if (!volumes.ok) return <Unavailable reason={volumes.reason} />;
  const rows = Object.entries(volumes.value)
    .map(([name, s]) => ({ name, s, ops: s.readIops + s.writeIops }))
    .sort((a, b) => b.ops - a.ops || a.name.localeCompare(b.name))
    .slice(0, BUSIEST);
  if (rows.length === 0) return <p className="empty">No volume has been sampled yet.</p>;
  const latency = (mean: number | null, p99: number | null) => (mean === null ? '–' : `${formatMs(mean)}${p99 === null ? '' : ` / ${formatMs(p99)}`}`);
  return (
    <table className="table">
      <thead>
        <tr>
          <th scope="col">Volume</th>
          <th scope="col" className="num">
            IOPS r / w
          </th>
          <th scope="col" className="num">
            Throughput r / w
          </th>
          <th scope="col" className="num">
            Read latency (p99)
          </th>
          <th scope="col" className="num">
            Write latency (p99)
          </th>
        </tr>
      </thead>
      <tbody>
        {rows.map(({ name, s }) => (
          <tr key={name}>
            <td>
              <Link to={pathTo('volumes', name)}>{name}</Link>
            </td>
            <td className="num">
              {formatCount(s.readIops)} / {formatCount(s.writeIops)}
            </td>
            <td className="num">
              {formatRate(s.readBps)} / {formatRate(s.writeBps)}
            </td>
            <td className="num">{latency(s.readLatencyMs, s.readLatencyP99Ms)}</td>
            <td className="num">{latency(s.writeLatencyMs, s.writeLatencyP99Ms)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function FrontEnd({ status, running }: { status: Checked<FrontEndStatus> | undefined; running: string }) {
  if (!status) return <p className="loading">Loading…</p>;
  if (!status.ok) return <Unavailable reason={status.reason} />;
  if (status.value.available) return <p>{running}</p>;
  return <p className="unavailable-reason">{status.value.reason ?? 'Not running on this gateway.'}</p>;
}
