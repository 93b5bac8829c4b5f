import type { Command } from 'commander';
import type { HostInfo, PoolInfo, ShareInfo, VolumeInfo } from '../../storage/domain';
import { Context } from '../context';
import { details, duration, percent, size, table } from '../format';
import type { CliIO } from '../io';

interface Health {
  status: string;
  uptimeSeconds: number;
}

interface Readiness {
  ready: boolean;
  reasons: string[];
  degradedPools: string[];
}

export function registerStatus(program: Command, io: CliIO): void {
  program
    .command('status')
    .description('the gateway at a glance: readiness, pools, volume, share and host counts')
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      const health = await ctx.api.request<Health>('GET', '/healthz', { public: true });
      // 503 is readyz's way of saying "not ready", with the reasons in the body.
      const readiness = await ctx.api.request<Readiness>('GET', '/readyz', { public: true, accept: [503] });
      const [pools, volumes, shares, hosts] = await Promise.all([
        ctx.api.get<PoolInfo[]>('pools'),
        ctx.api.get<VolumeInfo[]>('volumes'),
        ctx.api.get<ShareInfo[]>('shares'),
        ctx.api.get<HostInfo[]>('hosts'),
      ]);
      const status = { url: ctx.url, health, readiness, pools, volumeCount: volumes.length, shareCount: shares.length, hostCount: hosts.length };
      ctx.emit(status, (s) => {
        const ready = s.readiness.ready
          ? `yes${s.readiness.degradedPools.length ? ` (degraded: ${s.readiness.degradedPools.join(', ')})` : ''}`
          : `NO: ${s.readiness.reasons.join('; ')}`;
        const head = details([
          ['Gateway', `${s.url} (up ${duration(s.health.uptimeSeconds)})`],
          ['Ready', ready],
          ['Volumes', s.volumeCount],
          ['Shares', s.shareCount],
          ['Hosts', s.hostCount],
        ]);
        const poolTable = table(
          ['POOL', 'LAYOUT', 'STATE', 'CAPACITY', 'USED', 'FREE', 'USE%', 'VOLUMES'],
          s.pools.map((p) => [p.name, p.layout, p.state, size(p.capacity), size(p.usedBytes), size(p.freeBytes), percent(p.usedBytes, p.capacity), p.volumeCount]),
        );
        return `${head}\n\n${s.pools.length ? poolTable : 'No pools.'}`;
      });
    });
}
