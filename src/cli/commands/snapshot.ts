import { Option, type Command } from 'commander';
import type { ConsistencyGroupInfo, SnapshotInfo, SnapshotScheduleInfo, VolumeInfo } from '../../storage/domain';
import { collect, countArg } from '../args';
import { seg } from '../client';
import { Context } from '../context';
import { size } from '../format';
import { confirm, type CliIO } from '../io';
import { clonedText, groupTable, NO_SNAPSHOTS, rolledBackText, scheduleLine, scheduleTable, snapshotTable } from '../views';

export function registerSnapshot(program: Command, io: CliIO): void {
  const snapshot = program.command('snapshot').description('point-in-time, read-only copies of volumes; rollback and writable clones');

  snapshot
    .command('create')
    .description("take a snapshot of a volume now (instant; hosts can be assigned it read-only as '<volume>@<name>')")
    .argument('<volume>', 'volume id or name')
    .argument('<name>', 'snapshot name')
    .action(async (volume: string, name: string, _opts: unknown, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      const s = await ctx.api.post<SnapshotInfo>(`volumes/${seg(volume)}/snapshots`, { name });
      ctx.emit(s, (x) => `Created snapshot '${x.name}' of volume '${x.originName}' (${x.volumeName}).`);
    });

  snapshot
    .command('ls')
    .alias('list')
    .description("list a volume's snapshots")
    .argument('<volume>', 'volume id or name')
    .action(async (volume: string, _opts: unknown, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      const list = await ctx.api.get<SnapshotInfo[]>(`volumes/${seg(volume)}/snapshots`);
      ctx.emit(list, (l) => (l.length ? snapshotTable(l) : NO_SNAPSHOTS(volume)));
    });

  snapshot
    .command('rm')
    .alias('delete')
    .description('delete a snapshot (pages only it holds go back to the pool)')
    .argument('<volume>', 'volume id or name')
    .argument('<snapshot>', 'snapshot name or id')
    .option('--force', 'revoke its assignments first instead of refusing')
    .action(async (volume: string, snap: string, opts: { force?: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      await confirm(io, ctx.yes, `delete snapshot '${snap}' of volume '${volume}'`, opts.force ? ', revoking its assignments' : '');
      await ctx.api.delete(`volumes/${seg(volume)}/snapshots/${seg(snap)}`, { force: opts.force || undefined });
      if (!ctx.json) ctx.out(`Deleted snapshot '${snap}' of volume '${volume}'.`);
    });

  snapshot
    .command('rollback')
    .description('make a volume, or a share, read as one of its snapshots again (what was written since is lost)')
    .argument('<volume>', 'volume id or name, or a share name')
    .argument('<snapshot>', 'snapshot name or id')
    .option('--force', 'even though hosts have it assigned read-write, it is exported over NBD, or NFS clients have the share mounted')
    .action(async (volume: string, snap: string, opts: { force?: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      await confirm(io, ctx.yes, `roll volume '${volume}' back to snapshot '${snap}'`, ', losing everything written since');
      const v = await ctx.api.post<VolumeInfo>(`volumes/${seg(volume)}/rollback`, { snapshot: snap, ...(opts.force ? { force: true } : {}) });
      ctx.emit(v, (x) => rolledBackText(x, snap));
    });

  snapshot
    .command('clone')
    .description("create a writable thin volume (or, of a share's snapshot, a share) that starts as a snapshot (instant; shares its pages until written)")
    .argument('<volume>', 'volume id or name, or a share name')
    .argument('<snapshot>', 'snapshot name or id')
    .argument('<new-volume>', 'name of the new volume (or share)')
    .action(async (volume: string, snap: string, name: string, _opts: unknown, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      const v = await ctx.api.post<VolumeInfo>(`volumes/${seg(volume)}/snapshots/${seg(snap)}/clone`, { name });
      ctx.emit(v, (x) => clonedText(x, snap, volume));
    });

  const group = snapshot.command('group').description('consistency groups: volumes snapshotted together, at one instant');
  group
    .command('create')
    .description('create a consistency group of block volumes')
    .argument('<name>', 'group name')
    .requiredOption('--volume <volume>', 'a member volume; repeat for each', collect, [])
    .action(async (name: string, opts: { volume: string[] }, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      const g = await ctx.api.post<ConsistencyGroupInfo>('consistency-groups', { name, volumes: opts.volume });
      ctx.emit(g, (x) => `Created consistency group '${x.name}' of ${x.volumes.map((v) => v.name).join(', ')}.`);
    });
  group
    .command('ls')
    .alias('list')
    .description('list consistency groups')
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      const list = await ctx.api.get<ConsistencyGroupInfo[]>('consistency-groups');
      ctx.emit(list, (l) => (l.length ? groupTable(l) : 'No consistency groups.'));
    });
  group
    .command('take')
    .description('snapshot every member of a group at one instant, each as <volume>@<name>')
    .argument('<group>', 'group name or id')
    .argument('<name>', 'snapshot name')
    .action(async (key: string, name: string, _opts: unknown, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      const list = await ctx.api.post<SnapshotInfo[]>(`consistency-groups/${seg(key)}/snapshots`, { name });
      ctx.emit(list, (l) => `Took ${l.map((s) => s.volumeName).join(', ')} at one instant.`);
    });
  group
    .command('rm')
    .alias('delete')
    .description('delete a consistency group (its volumes and snapshots stay)')
    .argument('<group>', 'group name or id')
    .action(async (key: string, _opts: unknown, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      await confirm(io, ctx.yes, `delete consistency group '${key}'`);
      await ctx.api.delete(`consistency-groups/${seg(key)}`);
      if (!ctx.json) ctx.out(`Deleted consistency group '${key}'.`);
    });

  const schedule = snapshot.command('schedule').description('snapshots every N minutes, hours or days, keeping the last K');
  schedule
    .command('add')
    .description('snapshot a volume or a consistency group on a schedule')
    .argument('<name>', 'schedule name (snapshots are named <name>-YYYYMMDD-HHMMSS, UTC)')
    .option('--volume <volume>', 'the volume to snapshot')
    .option('--group <group>', 'the consistency group to snapshot')
    .requiredOption('--every <n>', 'how many units between snapshots', countArg)
    .addOption(new Option('--unit <unit>', 'minutes, hours or days').choices(['minutes', 'hours', 'days']).makeOptionMandatory())
    .requiredOption('--keep <k>', 'how many of its snapshots to keep per volume', countArg)
    .option('--start <time>', 'first run, ISO-8601 (default: one interval from now)')
    .action(async (name: string, opts: { volume?: string; group?: string; every: number; unit: string; keep: number; start?: string }, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      const s = await ctx.api.post<SnapshotScheduleInfo>('snapshot-schedules', {
        name,
        volume: opts.volume,
        group: opts.group,
        every: opts.every,
        unit: opts.unit,
        keep: opts.keep,
        startAt: opts.start,
      });
      ctx.emit(s, scheduleLine);
    });
  schedule
    .command('ls')
    .alias('list')
    .description('list snapshot schedules')
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      const list = await ctx.api.get<SnapshotScheduleInfo[]>('snapshot-schedules');
      ctx.emit(list, (l) => (l.length ? scheduleTable(l) : 'No snapshot schedules.'));
    });
  schedule
    .command('rm')
    .alias('delete')
    .description('delete a schedule (the snapshots it took stay)')
    .argument('<schedule>', 'schedule name or id')
    .action(async (key: string, _opts: unknown, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      await confirm(io, ctx.yes, `delete snapshot schedule '${key}'`);
      await ctx.api.delete(`snapshot-schedules/${seg(key)}`);
      if (!ctx.json) ctx.out(`Deleted snapshot schedule '${key}'.`);
    });
}
