import { Argument, Option, type Command } from 'commander';
import type { VolumeInfo } from '../../storage/domain';
import { sizeArg } from '../args';
import { seg } from '../client';
import { Context } from '../context';
import { size } from '../format';
import { confirm, type CliIO } from '../io';
import { UPLOAD_CHUNK, download, upload } from '../transfer';
import { showVolume, volumeTable } from '../views';

export function registerVolume(program: Command, io: CliIO): void {
  const volume = program.command('volume').description('volumes: block devices carved from pools');

  volume
    .command('list')
    .description('list volumes')
    .option('--pool <pool>', 'only the volumes of this pool')
    .addOption(new Option('--role <role>', "block volumes (default), the shares' own volumes, snapshots, or all").choices(['block', 'share', 'snapshot', 'all']))
    .action(async (opts: { pool?: string; role?: string }, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      const volumes = await ctx.api.get<VolumeInfo[]>('volumes', { pool: opts.pool, role: opts.role });
      ctx.emit(volumes, volumeTable);
    });

  volume
    .command('show')
    .description('show a volume and its assignments')
    .argument('<key>', 'volume id or name')
    .action(async (key: string, _opts: unknown, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      ctx.emit(await ctx.api.get<VolumeInfo>(`volumes/${seg(key)}`), showVolume);
    });

  volume
    .command('create')
    .description('create a volume (thin unless --thick)')
    .argument('<name>', 'volume name')
    .requiredOption('--pool <pool>', 'pool id or name')
    .requiredOption('--size <size>', 'size like 10G or 512M, or bytes', sizeArg)
    .option('--thick', 'allocate all of it now, so writes never run out of pool space')
    .action(async (name: string, opts: { pool: string; size: number; thick?: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      const created = await ctx.api.post<VolumeInfo>('volumes', { name, pool: opts.pool, size: opts.size, provisioning: opts.thick ? 'thick' : 'thin' });
      ctx.emit(created, (v) => `Created ${v.provisioning} volume '${v.name}' (${size(v.size)}) in pool '${v.poolName}'.`);
    });

  volume
    .command('grow')
    .description('grow a volume (volumes never shrink)')
    .argument('<key>', 'volume id or name')
    .argument('<size>', 'the new size, like 20G, or bytes', sizeArg)
    .action(async (key: string, newSize: number, _opts: unknown, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      const grown = await ctx.api.patch<VolumeInfo>(`volumes/${seg(key)}`, { size: newSize });
      ctx.emit(grown, (v) => `Volume '${v.name}' is now ${size(v.size)}.`);
    });

  volume
    .command('nbd-export')
    .description("serve a volume over the gateway's NBD export on loopback (for VMs on the gateway host), or stop")
    .argument('<key>', 'volume id or name')
    .addArgument(new Argument('<state>', 'on or off').choices(['on', 'off']))
    .action(async (key: string, state: 'on' | 'off', _opts: unknown, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      const v = await ctx.api.patch<VolumeInfo>(`volumes/${seg(key)}`, { nbdExport: state === 'on' });
      ctx.emit(v, (x) => (x.nbdExport ? `Volume '${x.name}' is exported over NBD as '${x.name}'.` : `Volume '${x.name}' is no longer exported over NBD.`));
    });

  volume
    .command('rename')
    .description('rename a volume')
    .argument('<key>', 'volume id or name')
    .argument('<new-name>', 'its new name')
    .action(async (key: string, name: string, _opts: unknown, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      const renamed = await ctx.api.patch<VolumeInfo>(`volumes/${seg(key)}`, { name });
      ctx.emit(renamed, (v) => `Renamed volume '${key}' to '${v.name}'.`);
    });

  volume
    .command('delete')
    .description('delete a volume and its data')
    .argument('<key>', 'volume id or name')
    .option('--force', 'revoke its assignments first instead of refusing')
    .option('--recursive', 'delete its snapshots too (clones stay)')
    .action(async (key: string, opts: { force?: boolean; recursive?: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      await confirm(io, ctx.yes, `delete volume '${key}'`, ` and everything on it${opts.recursive ? ' and its snapshots' : ''}${opts.force ? ', revoking its assignments' : ''}`);
      await ctx.api.delete(`volumes/${seg(key)}`, { force: opts.force || undefined, recursive: opts.recursive || undefined });
      if (!ctx.json) ctx.out(`Deleted volume '${key}'.`);
    });

  volume
    .command('upload')
    .description(`write a file or block device into a volume, in ${size(UPLOAD_CHUNK)} chunks each flushed before the next`)
    .argument('<key>', 'volume id or name')
    .argument('<file>', 'image file or block device to read')
    .option('--offset <bytes>', 'where in the volume the file goes (bytes or a size like 1G)', sizeArg, 0)
    .action(async (key: string, file: string, opts: { offset: number }, cmd: Command) => {
      await upload(Context.of(cmd, io), key, file, opts.offset);
    });

  volume
    .command('download')
    .description('copy a volume (or a range of it) into a file or block device')
    .argument('<key>', 'volume id or name')
    .argument('<file>', 'file to write (an existing file or device is written in place)')
    .option('--offset <bytes>', 'where in the volume to start (bytes or a size)', sizeArg)
    .option('--length <bytes>', 'how much to copy (default: to the end of the volume)', sizeArg)
    .action(async (key: string, file: string, opts: { offset?: number; length?: number }, cmd: Command) => {
      await download(Context.of(cmd, io), key, file, opts);
    });
}
