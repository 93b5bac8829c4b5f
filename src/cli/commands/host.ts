import { Option, type Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { HOST_SECURITIES, type HostInfo, type HostSecurity } from '../../storage/domain';
import { CliError, EXIT, seg, usageError } from '../client';
import { Context } from '../context';
import { confirm, type CliIO } from '../io';
import { hostTable, showHost } from '../views';

export interface KeyOptions {
  key?: string;
  keyFile?: string;
}

export function registerHost(program: Command, io: CliIO): void {
  const host = program.command('host').description('client hosts, known by their Ed25519 public key');

  host
    .command('list')
    .description('list hosts')
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      const hosts = await ctx.api.get<HostInfo[]>('hosts');
      ctx.emit(hosts, hostTable);
    });

  host
    .command('show')
    .description('show a host and its assignments')
    .argument('<key>', 'host id or name')
    .action(async (key: string, _opts: unknown, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      ctx.emit(await ctx.api.get<HostInfo>(`hosts/${seg(key)}`), showHost);
    });

  host
    .command('add')
    .description('register a host by its public key')
    .argument('<name>', 'host name')
    .option('--key <public-key>', 'the key: "ssh-ed25519 AAAA..." as strata-client keygen prints it')
    .option('--key-file <file>', 'read the key from this file (e.g. a .pub file)')
    .option('--description <text>', 'free text, e.g. where the host is')
    .addOption(securityOption())
    .action(async (name: string, opts: KeyOptions & { description?: string; security?: HostSecurity }, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      const publicKey = await publicKeyOf(opts);
      if (publicKey === undefined) throw usageError('give the host key with --key "ssh-ed25519 ..." or --key-file <file>');
      const created = await ctx.api.post<HostInfo>('hosts', { name, publicKey, description: opts.description, security: opts.security });
      ctx.emit(created, (h) => `Added host '${h.name}' (${h.keyFingerprint}).`);
    });

  host
    .command('update')
    .description("change a host's name, key, description or SAN security")
    .argument('<key>', 'host id or name')
    .option('--name <name>', 'new name')
    .option('--key <public-key>', 'new public key')
    .option('--key-file <file>', 'read the new public key from this file')
    .option('--description <text>', 'new description')
    .addOption(securityOption())
    .action(async (key: string, opts: KeyOptions & { name?: string; description?: string; security?: HostSecurity }, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      const change = { name: opts.name, publicKey: await publicKeyOf(opts), description: opts.description, security: opts.security };
      if (Object.values(change).every((v) => v === undefined)) throw usageError('nothing to change: give --name, --key, --key-file, --description or --security');
      const updated = await ctx.api.patch<HostInfo>(`hosts/${seg(key)}`, change);
      ctx.emit(updated, (h) => `Updated host '${h.name}'.`);
    });

  host
    .command('remove')
    .description('unregister a host')
    .argument('<key>', 'host id or name')
    .option('--force', 'revoke its assignments first instead of refusing')
    .action(async (key: string, opts: { force?: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      await confirm(io, ctx.yes, `remove host '${key}'`, opts.force ? ' and revoke its assignments' : '');
      await ctx.api.delete(`hosts/${seg(key)}`, { force: opts.force || undefined });
      if (!ctx.json) ctx.out(`Removed host '${key}'.`);
    });
}

const securityOption = () => new Option('--security <mode>', 'encrypt (default) or integrity: the host may send its SAN data in clear, authenticated (it asks for it: strata-client login --security integrity)').choices([...HOST_SECURITIES]);

/** --key or --key-file (not both); the gateway validates the key itself. */
export async function publicKeyOf(opts: KeyOptions): Promise<string | undefined> {
  if (opts.key !== undefined && opts.keyFile !== undefined) throw usageError('give --key or --key-file, not both');
  if (opts.keyFile === undefined) return opts.key;
  try {
    return (await readFile(opts.keyFile, 'utf8')).trim();
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new CliError(`cannot read ${opts.keyFile}: ${err.message}`, { exitCode: EXIT.API, code: err.code ?? 'FILE_ERROR' });
  }
}
