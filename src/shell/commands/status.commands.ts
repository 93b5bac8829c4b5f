import { details, duration } from '../../cli/format';
import { jobTable } from '../../cli/job-views';
import { deviceTable, poolTable } from '../../cli/views';
import type { CommandSpec } from './command';

const NO_SESSIONS =
  'No SAN or NFS sessions: this gateway has no SAN target or NFS server yet, so no client can hold a session.';

export const statusCommands: CommandSpec[] = [
  {
    name: 'status',
    summary: 'the gateway on one screen: readiness, listeners, pools, devices, volume, share and host counts',
    async run({ services: s }) {
      const [pools, devices, volumes, shares, hosts] = await Promise.all([s.pools.list(), s.devices.list(), s.volumes.list(), s.shares.list(), s.hosts.list()]);
      const { reasons, degradedPools } = s.runtime.readiness();
      const data = {
        ready: reasons.length === 0,
        reasons,
        degradedPools,
        uptimeSeconds: Math.round(process.uptime()),
        listeners: s.listeners.list(),
        volumeCount: volumes.length,
        shareCount: shares.length,
        hostCount: hosts.length,
        pools,
        devices,
      };
      const ready = data.ready ? `yes${degradedPools.length ? ` (degraded: ${degradedPools.join(', ')})` : ''}` : `NO: ${reasons.join('; ')}`;
      const head = details([
        ['Ready', ready],
        ['Up', duration(data.uptimeSeconds)],
        ['Listeners', data.listeners.map((l) => (l.address ? `${l.name} ${l.address}${l.detail ? ` (${l.detail})` : ''}` : `${l.name} DOWN (${l.error})`)).join(', ')],
        ['Volumes', data.volumeCount],
        ['Shares', data.shareCount],
        ['Hosts', data.hostCount],
      ]);
      const text = [head, pools.length ? poolTable(pools) : 'No pools.', devices.length ? deviceTable(devices) : 'No devices.'].join('\n\n');
      return { data, text };
    },
  },
  {
    name: 'sessions',
    summary: 'SAN and NFS client sessions',
    async run() {
      return { data: { sessions: [], reason: NO_SESSIONS }, text: NO_SESSIONS };
    },
  },
  {
    name: 'jobs',
    summary: 'background jobs that have not ended (all of them: job ls)',
    async run({ services }) {
      const all = await services.jobs.list();
      const open = all.filter((j) => j.state === 'queued' || j.state === 'running' || j.state === 'paused');
      return { data: open, text: open.length ? jobTable(open) : 'No jobs running.' };
    },
  },
];
