import type { Command } from 'commander';
import type { SnapshotInfo, VolumeInfo } from '../../storage/domain';
import { seg } from '../client';
import { Context } from '../context';
import { size } from '../format';
import { confirm, type CliIO } from '../io';
import { NO_SNAPSHOTS, snapshotTable } from '../views';

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
    .description('make a volume read as one of its snapshots again (what was written since is lost)')
    .argument('<volume>', 'volume id or name')
    .argument('<snapshot>', 'snapshot name or id')
    .option('--force', 'even though hosts have it assigned read-write or it is exported over NBD')
    .action(async (volume: string, snap: string, opts: { force?: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      await confirm(io, ctx.yes, `roll volume '${volume}' back to snapshot '${snap}'`, ', losing everything written since');
      const v = await ctx.api.post<VolumeInfo>(`volumes/${seg(volume)}/rollback`, { snapshot: snap, ...(opts.force ? { force: true } : {}) });
      ctx.emit(v, (x) => `Rolled volume '${x.name}' back to snapshot '${snap}'.`);
    });

  snapshot
    .command('clone')
    .description('create a writable thin volume that starts as a snapshot (instant; shares its pages until written)')
    .argument('<volume>', 'volume id or name')
    .argument('<snapshot>', 'snapshot name or id')
    .argument('<new-volume>', 'name of the new volume')
    .action(async (volume: string, snap: string, name: string, _opts: unknown, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      const v = await ctx.api.post<VolumeInfo>(`volumes/${seg(volume)}/snapshots/${seg(snap)}/clone`, { name });
      ctx.emit(v, (x) => `Created volume '${x.name}' (${size(x.size)}) from snapshot '${snap}' of volume '${volume}'.`);
    });
}
