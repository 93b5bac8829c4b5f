import { Option, type Command } from 'commander';
import type { AssignmentInfo } from '../../storage/domain';
import { seg, usageError } from '../client';
import { Context } from '../context';
import { confirm, type CliIO } from '../io';
import { assignmentTable, showAssignment } from '../views';

export function registerAssignment(program: Command, io: CliIO): void {
  const assignment = program.command('assignment').description('which host may use which volume, and how');

  assignment
    .command('list')
    .description('list assignments')
    .option('--host <host>', 'only this host (id or name)')
    .option('--volume <volume>', 'only this volume (id or name)')
    .action(async (opts: { host?: string; volume?: string }, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      const list = await ctx.api.get<AssignmentInfo[]>('assignments', { host: opts.host, volume: opts.volume });
      ctx.emit(list, assignmentTable);
    });

  assignment
    .command('show')
    .description('show an assignment')
    .argument('<id>', 'assignment id')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      ctx.emit(await ctx.api.get<AssignmentInfo>(`assignments/${seg(id)}`), showAssignment);
    });

  assignment
    .command('create')
    .description('let a host use a volume (read-write and exclusive unless told otherwise)')
    .argument('<host>', 'host id or name')
    .argument('<volume>', 'volume id or name')
    .option('--ro', 'read-only access')
    .option('--shared', 'other hosts may be assigned the volume too (they must coordinate, e.g. a cluster file system)')
    .action(async (host: string, volume: string, opts: { ro?: boolean; shared?: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      const created = await ctx.api.post<AssignmentInfo>('assignments', {
        host,
        volume,
        access: opts.ro ? 'ro' : 'rw',
        sharing: opts.shared ? 'shared' : 'exclusive',
      });
      ctx.emit(created, (a) => `Assigned volume '${a.volumeName}' to host '${a.hostName}' (${a.access}, ${a.sharing}); assignment ${a.id}.`);
    });

  assignment
    .command('update')
    .description("change an assignment's access or sharing")
    .argument('<id>', 'assignment id')
    .addOption(new Option('--access <access>', 'read-write or read-only').choices(['rw', 'ro']))
    .addOption(new Option('--sharing <sharing>', 'exclusive to this host, or shared').choices(['exclusive', 'shared']))
    .action(async (id: string, opts: { access?: string; sharing?: string }, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      if (opts.access === undefined && opts.sharing === undefined) throw usageError('nothing to change: give --access and/or --sharing');
      const updated = await ctx.api.patch<AssignmentInfo>(`assignments/${seg(id)}`, { access: opts.access, sharing: opts.sharing });
      ctx.emit(updated, (a) => `Assignment ${a.id} is now ${a.access}, ${a.sharing}.`);
    });

  assignment
    .command('revoke')
    .description('take a volume away from a host')
    .argument('<id>', 'assignment id')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      await confirm(io, ctx.yes, `revoke assignment '${id}'`);
      await ctx.api.delete(`assignments/${seg(id)}`);
      if (!ctx.json) ctx.out(`Revoked assignment ${id}.`);
    });
}
