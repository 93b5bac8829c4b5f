import type { Command } from 'commander';
import type { AdminUserInfo } from '../../storage/auth.service';
import { seg, usageError } from '../client';
import { Context } from '../context';
import { table, time } from '../format';
import { askHidden, confirm, readStdinLines, type CliIO } from '../io';

export function registerUser(program: Command, io: CliIO): void {
  const user = program.command('user').description('admin accounts');

  user
    .command('list')
    .description('list admin accounts')
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      const users = await ctx.api.get<AdminUserInfo[]>('users');
      ctx.emit(users, (list) => table(['USERNAME', 'CREATED', 'LAST LOGIN'], list.map((u) => [u.username, time(u.createdAt), time(u.lastLoginAt)])));
    });

  user
    .command('add')
    .description('create an admin account')
    .argument('<name>', 'username')
    .option('--password-stdin', 'read the password from the first line of stdin')
    .action(async (name: string, opts: { passwordStdin?: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      const password = opts.passwordStdin ? (await readStdinLines(io))[0] : await newPassword(io, `Password for ${name}: `);
      if (!password) throw usageError('the password is empty');
      const created = await ctx.api.post<AdminUserInfo>('users', { username: name, password });
      ctx.emit(created, (u) => `Created admin user '${u.username}'.`);
    });

  user
    .command('passwd')
    .description("change a password (your own needs the current one; with --password-stdin give it on the first line, the new one on the second)")
    .argument('[name]', 'username (default: your own)')
    .option('--password-stdin', 'read the password(s) from stdin')
    .action(async (name: string | undefined, opts: { passwordStdin?: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      const me = (await ctx.api.get<{ username: string }>('auth/me')).username;
      const target = name ?? me;
      const own = target === me;
      let currentPassword: string | undefined;
      let next: string | undefined;
      if (opts.passwordStdin) {
        const lines = await readStdinLines(io);
        [currentPassword, next] = own ? [lines[0], lines[1]] : [undefined, lines[0]];
      } else {
        if (own) currentPassword = await askHidden(io, 'Current password: ');
        next = await newPassword(io, `New password for ${target}: `);
      }
      if (!next) throw usageError(own && opts.passwordStdin ? 'give the current password on the first line of stdin and the new one on the second' : 'the new password is empty');
      await ctx.api.request<void>('POST', `users/${seg(target)}/password`, { json: { currentPassword, newPassword: next }, checksCredentials: own });
      // The gateway ends every session of an account whose password changed, this one included.
      if (own) ctx.forgetToken();
      if (!ctx.json) ctx.out(own ? `Password changed; your sessions were ended: run strata login again.` : `Password of '${target}' changed; their sessions were ended.`);
    });

  user
    .command('remove')
    .description('delete an admin account')
    .argument('<name>', 'username')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      await confirm(io, ctx.yes, `remove admin user '${name}'`);
      await ctx.api.delete(`users/${seg(name)}`);
      if (!ctx.json) ctx.out(`Removed admin user '${name}'.`);
    });
}

/** Typed twice on a terminal: a typo here locks the account out. */
async function newPassword(io: CliIO, question: string): Promise<string> {
  const first = await askHidden(io, question);
  const again = await askHidden(io, 'Repeat it: ');
  if (first !== again) throw usageError('the passwords do not match');
  return first;
}
