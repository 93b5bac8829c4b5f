import type { Command } from 'commander';
import type { ReplicationView } from '../../services/replication.service';
import type { ReplicationInfo, VolumeInfo } from '../../storage/domain';
import { sizeArg } from '../args';
import { seg } from '../client';
import { Context } from '../context';
import { confirm, type CliIO } from '../io';
import { jobLine } from '../job-views';
import { acceptedText, identityText, promotedText, NO_REPLICATIONS, replicaText, replicationLine, replicationTable, showReplication, type IdentityView } from '../replication-views';
import { waitFor } from './job';

const afterRun = (v: ReplicationView) => (v.job ? jobLine(v.job) : `Replication of volume '${v.replication.volume.name}': no cycle started.`);

export function registerReplication(program: Command, io: CliIO): void {
  const replication = program.command('replication').description('copy volumes to another Strata gateway in cycles (source side)');

  replication
    .command('identity')
    .description("this gateway's replication key, to register on target gateways with 'strata host add'")
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      ctx.emit(await ctx.api.get<IdentityView>('replication/identity'), identityText);
    });

  replication
    .command('create')
    .description('replicate a volume, or a share, to a replica on another gateway (accepted there with strata replica accept)')
    .argument('<volume>', 'volume id or name, or a share name')
    .requiredOption('--target <host[:port]>', "the target gateway's SAN address (port 7700 when left out)")
    .requiredOption('--target-volume <name>', 'the replica volume on the target (for a share: the replica share)')
    .option('--host-name <name>', "the host name the target registered this gateway's key under (default: this machine's host name)")
    .option('--every <period>', 'run a cycle this often: 30s, 15m, 1h, 1d (default: on demand only)')
    .option('--rate <rate>', 'bandwidth limit per second, like 50M', sizeArg)
    .action(async (volume: string, opts: { target: string; targetVolume: string; hostName?: string; every?: string; rate?: number }, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      const r = await ctx.api.post<ReplicationInfo>('replications', { volume, target: opts.target, targetVolume: opts.targetVolume, hostName: opts.hostName, every: opts.every, rateLimit: opts.rate });
      ctx.emit(r, (x) => `${replicationLine(x)}\nRun the first cycle (a full copy) with: strata replication run ${x.share?.name ?? x.volume.name}`);
    });

  replication
    .command('ls')
    .alias('list')
    .description('list replications: target, schedule, last good cycle, lag, bytes sent, last error')
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      const list = await ctx.api.get<ReplicationInfo[]>('replications');
      ctx.emit(list, (l) => (l.length ? replicationTable(l) : NO_REPLICATIONS));
    });

  replication
    .command('show')
    .description('show a replication and its running (or last) cycle')
    .argument('<volume>', 'the replicated volume, or the replication id')
    .action(async (key: string, _opts: unknown, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      ctx.emit(await ctx.api.get<ReplicationView>(`replications/${seg(key)}`), showReplication);
    });

  replication
    .command('set')
    .description('change the schedule or the bandwidth limit (a running cycle keeps its limit; the next one uses the new)')
    .argument('<volume>', 'the replicated volume, or the replication id')
    .option('--every <period>', "run a cycle this often: 30s, 15m, 1h, 1d; 'off' for on demand only")
    .option('--rate <rate>', "bandwidth limit per second, like 50M; 0 for none", sizeArg)
    .action(async (key: string, opts: { every?: string; rate?: number }, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      const body = { every: opts.every === 'off' ? null : opts.every, rateLimit: opts.rate };
      ctx.emit(await ctx.api.patch<ReplicationInfo>(`replications/${seg(key)}`, body), replicationLine);
    });

  replication
    .command('run')
    .description('run a cycle now (an interrupted one goes on from its checkpoint)')
    .argument('<volume>', 'the replicated volume, or the replication id')
    .option('--wait', 'wait for the cycle, with a progress bar on a terminal')
    .action(async (key: string, opts: { wait?: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      const started = await ctx.api.post<ReplicationView>(`replications/${seg(key)}/run`, {});
      ctx.emit(started, afterRun);
      if (opts.wait && started.job) ctx.emit(await waitFor(ctx, io, started.job.id), jobLine);
    });

  replication
    .command('rm')
    .alias('remove')
    .description('stop replicating a volume: a running cycle is cancelled, its snapshots deleted; the replica stays on the target')
    .argument('<volume>', 'the replicated volume, or the replication id')
    .action(async (key: string, _opts: unknown, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      await confirm(io, ctx.yes, `stop replicating '${key}'`, ' (the replica on the target keeps its last cycle)');
      await ctx.api.delete(`replications/${seg(key)}`);
      if (!ctx.json) ctx.out(`Removed the replication of '${key}'.`);
    });

  const replica = program.command('replica').description('volumes received from another gateway (target side)');

  replica
    .command('accept')
    .description("make a volume, or a share, the replica a source gateway writes (register its key first: strata host add <host> --key '<its replication identity>')")
    .argument('<volume>', 'volume id or name, or a share name (at least the size of the source)')
    .requiredOption('--host <host>', "the host registered with the source's replication key")
    .option('--force', "a share that holds files: accept it anyway (the source's copy replaces them)")
    .action(async (volume: string, opts: { host: string; force?: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      const v = await ctx.api.post<VolumeInfo>(`volumes/${seg(volume)}/replica`, { host: opts.host, ...(opts.force ? { force: true } : {}) });
      ctx.emit(v, (x) => acceptedText(x, opts.host));
    });

  replica
    .command('status')
    .description('which host writes a replica and its last consistent point')
    .argument('<volume>', 'volume id or name')
    .action(async (volume: string, _opts: unknown, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      ctx.emit(await ctx.api.get<VolumeInfo>(`volumes/${seg(volume)}/replica`), replicaText);
    });

  replica
    .command('promote')
    .description('make a replica an ordinary volume (or a served share), rolled back to its last committed cycle if a cycle was interrupted')
    .argument('<volume>', 'volume id or name, or a share name')
    .option('--force', 'promote a replica that has no committed cycle yet (its contents may be partial)')
    .action(async (volume: string, opts: { force?: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      await confirm(io, ctx.yes, `promote replica '${volume}'`, ': the source can no longer write it, and what an unfinished cycle wrote is rolled back');
      const v = await ctx.api.request<VolumeInfo>('POST', `volumes/${seg(volume)}/replica/promote`, { query: { force: opts.force || undefined } });
      ctx.emit(v, promotedText);
    });
}
