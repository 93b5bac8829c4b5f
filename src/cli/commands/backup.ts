import type { Command } from 'commander';
import type { JobInfo } from '../../jobs/job-kind';
import type { BackupView, StartedBackup, StartedRestore } from '../../services/backup/backup.service';
import type { BackupTargetInfo } from '../../storage/domain';
import { sizeArg } from '../args';
import { seg, usageError } from '../client';
import { Context } from '../context';
import { confirm, type CliIO } from '../io';
import { backupStarted, backupTable, NO_TARGETS, restoreStarted, showBackup, targetLine, targetTable } from '../backup-views';
import { jobLine } from '../job-views';
import { waitAndReport } from './job';

export function registerBackup(program: Command, io: CliIO): void {
  const backup = program.command('backup').description('client-free backups of volumes to a directory, a device or another pool; restore and verify');
  const target = backup.command('target').description('where backups go');

  target
    .command('add')
    .description('add a backup target: --directory DIR, --device PATH or --pool POOL')
    .argument('<name>', 'target name')
    .option('--directory <dir>', 'an existing, writable directory: a sparse image file and a manifest per backup')
    .option('--device <path>', 'a block device or file: one full raw image, written in place')
    .option('--pool <pool>', 'another pool of this gateway: a volume there, a snapshot of it per backup')
    .action(async (name: string, opts: { directory?: string; device?: string; pool?: string }, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      const given = (['directory', 'device', 'pool'] as const).filter((k) => opts[k] !== undefined);
      if (given.length !== 1) throw usageError('give exactly one of --directory, --device or --pool');
      const kind = given[0];
      const body = kind === 'pool' ? { name, kind, pool: opts.pool } : { name, kind, path: opts[kind] };
      ctx.emit(await ctx.api.post<BackupTargetInfo>('backup-targets', body), (t) => `Added ${targetLine(t).charAt(0).toLowerCase()}${targetLine(t).slice(1)}`);
    });

  target
    .command('ls')
    .alias('list')
    .description('list backup targets')
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      ctx.emit(await ctx.api.get<BackupTargetInfo[]>('backup-targets'), (l) => (l.length ? targetTable(l) : NO_TARGETS));
    });

  target
    .command('rm')
    .alias('remove')
    .description('remove a backup target that holds no backups (its files stay where they are)')
    .argument('<name>', 'target name or id')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      await confirm(io, ctx.yes, `remove backup target '${name}'`, '');
      await ctx.api.delete(`backup-targets/${seg(name)}`);
      if (!ctx.json) ctx.out(`Removed backup target '${name}'.`);
    });

  backup
    .command('create')
    .description('back up a volume: a snapshot of it copied to a target by a job')
    .argument('<volume>', 'volume id or name')
    .requiredOption('--target <target>', 'backup target name or id')
    .option('--incremental', 'only the pages changed since the last complete backup of this volume on this target')
    .option('--rate <rate>', 'bandwidth limit per second, like 100M', sizeArg)
    .option('--wait', 'wait for the job, with a progress bar on a terminal')
    .action(async (volume: string, opts: { target: string; incremental?: boolean; rate?: number; wait?: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      const started = await ctx.api.post<StartedBackup>('backups', { volume, target: opts.target, incremental: !!opts.incremental, rateLimit: opts.rate });
      ctx.emit(started, backupStarted);
      if (opts.wait) await waitAndReport(ctx, io, started.job.id);
    });

  backup
    .command('ls')
    .alias('list')
    .description('list backups, oldest first')
    .option('--volume <volume>', 'only backups of this volume (a deleted volume by its name)')
    .action(async (opts: { volume?: string }, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      ctx.emit(await ctx.api.get<BackupView[]>('backups', { volume: opts.volume }), (l) => (l.length ? backupTable(l) : 'No backups.'));
    });

  backup
    .command('show')
    .description('show a backup')
    .argument('<id>', 'backup id')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      ctx.emit(await ctx.api.get<BackupView>(`backups/${seg(id)}`), showBackup);
    });

  backup
    .command('rm')
    .alias('remove')
    .description('remove a backup: its image, manifest or snapshot, and its catalog entry')
    .argument('<id>', 'backup id')
    .option('--with-dependents', 'also remove the incremental backups built on it')
    .action(async (id: string, opts: { withDependents?: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      await confirm(io, ctx.yes, `remove backup ${id}`, opts.withDependents ? ' and every backup built on it' : '');
      await ctx.api.delete(`backups/${seg(id)}`, { withDependents: opts.withDependents || undefined });
      if (!ctx.json) ctx.out(`Removed backup ${id}.`);
    });

  backup
    .command('restore')
    .description('restore a backup into a new volume (--to) or over an existing one (--over with --force); a share backup into a new share (--to-share)')
    .argument('<id>', 'backup id')
    .option('--to <volume>', 'a new volume to create')
    .option('--to-share <share>', 'a share backup: a new share to create (no export rules: add them once restored)')
    .option('--pool <pool>', "the new volume's pool (default: the backed-up volume's)")
    .option('--over <volume>', 'an existing volume with no assignments, overwritten')
    .option('--force', 'needed with --over: everything on that volume is replaced')
    .option('--rate <rate>', 'bandwidth limit per second, like 100M', sizeArg)
    .option('--wait', 'wait for the job, with a progress bar on a terminal')
    .action(async (id: string, opts: { to?: string; toShare?: string; pool?: string; over?: string; force?: boolean; rate?: number; wait?: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      if ([opts.to, opts.over, opts.toShare].filter((x) => x !== undefined).length !== 1) throw usageError('give one of --to <new volume>, --over <volume> --force, or --to-share <new share>');
      if (opts.over) await confirm(io, ctx.yes, `restore backup ${id} over volume '${opts.over}'`, ', replacing everything on it');
      const started = await ctx.api.post<StartedRestore>(`backups/${seg(id)}/restore`, { to: opts.to, toShare: opts.toShare, pool: opts.pool, over: opts.over, force: opts.force || undefined, rateLimit: opts.rate });
      ctx.emit(started, restoreStarted);
      if (opts.wait) await waitAndReport(ctx, io, started.job.id);
    });

  backup
    .command('verify')
    .description('read a backup and the ones it builds on and check every page, restoring nothing; waits unless --no-wait')
    .argument('<id>', 'backup id')
    .option('--no-wait', 'start the job and return')
    .action(async (id: string, opts: { wait: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      const job = await ctx.api.post<JobInfo>(`backups/${seg(id)}/verify`);
      if (!opts.wait) return ctx.emit(job, jobLine);
      await waitAndReport(ctx, io, job.id);
    });
}
