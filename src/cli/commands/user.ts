import type { Command } from 'commander';
import type { AdminKeyInfo, AdminUserInfo } from '../../storage/auth.service';
import { seg, usageError } from '../client';
import { Context } from '../context';
import { table, time } from '../format';
import { askHidden, confirm, readStdinLines, type CliIO } from '../io';
import { publicKeyOf, type KeyOptions } from './host';

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

  const key = user.command('key').description("an admin's SSH public keys, for the SSH admin shell");

  key
    .command('list')
    .description("list an admin's SSH keys")
    .argument('<user>', 'username')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      const keys = await ctx.api.get<AdminKeyInfo[]>(`users/${seg(name)}/keys`);
      ctx.emit(keys, (list) =>
        list.length === 0
          ? `Admin '${name}' has no SSH keys.`
          : table(['ID', 'NAME', 'TYPE', 'FINGERPRINT', 'ADDED'], list.map((k) => [k.id, k.name, k.type, k.fingerprint, time(k.createdAt)])),
      );
    });

  key
    .command('add')
    .description('register an SSH public key for an admin')
    .argument('<user>', 'username')
    .option('--key <public-key>', 'the key line: "ssh-ed25519 AAAA... comment" (ssh-rsa and ecdsa-sha2-* work too)')
    .option('--key-file <file>', 'read the key from this file (e.g. ~/.ssh/id_ed25519.pub)')
    .option('--name <label>', 'a label (default: the comment on the key line)')
    .action(async (name: string, opts: KeyOptions & { name?: string }, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      const publicKey = await publicKeyOf(opts);
      if (publicKey === undefined) throw usageError('give the key with --key "ssh-ed25519 ..." or --key-file <file>');
      const added = await ctx.api.post<AdminKeyInfo>(`users/${seg(name)}/keys`, { publicKey, name: opts.name });
      ctx.emit(added, (k) => `Added ${k.type} key '${k.name}' (${k.fingerprint}) for admin '${k.username}'; id ${k.id}.`);
    });

  key
    .command('remove')
    .description("remove one of an admin's SSH keys")
    .argument('<user>', 'username')
    .argument('<id>', 'key id (from strata user key list)')
    .action(async (name: string, id: string, _opts: unknown, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      await confirm(io, ctx.yes, `remove SSH key '${id}' of admin '${name}'`);
      await ctx.api.delete(`users/${seg(name)}/keys/${seg(id)}`);
      if (!ctx.json) ctx.out(`Removed SSH key ${id} of admin '${name}'.`);
    });
}

/** Typed twice on a terminal: a typo here locks the account out. */
async function newPassword(io: CliIO, question: string): Promise<string> {
  const first = await askHidden(io, question);
  const again = await askHidden(io, 'Repeat it: ');
  if (first !== again) throw usageError('the passwords do not match');
  return first;
}
