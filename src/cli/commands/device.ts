import { Option, type Command } from 'commander';
import type { DeviceInfo } from '../../storage/domain';
import { sizeArg } from '../args';
import { seg } from '../client';
import { Context } from '../context';
import { size } from '../format';
import { confirm, type CliIO } from '../io';
import { deviceTable, showDevice } from '../views';

export function registerDevice(program: Command, io: CliIO): void {
  const device = program.command('device').description('backing devices: files, block devices, RAM disks');

  device
    .command('list')
    .description('list devices')
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      const devices = await ctx.api.get<DeviceInfo[]>('devices');
      ctx.emit(devices, deviceTable);
    });

  device
    .command('show')
    .description('show a device and the pool extents on it')
    .argument('<key>', 'device id or name')
    .action(async (key: string, _opts: unknown, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      ctx.emit(await ctx.api.get<DeviceInfo>(`devices/${seg(key)}`), showDevice);
    });

  device
    .command('add')
    .description('register a device (a file device is created if its file does not exist)')
    .argument('<name>', 'device name')
    .addOption(new Option('--kind <kind>', 'device kind').choices(['file', 'block', 'ram']).makeOptionMandatory())
    .option('--path <path>', 'file: the image file (default <dataDir>/devices/<name>.img); block: the device node, e.g. /dev/sdb')
    .option('--size <size>', 'file (to create it) and ram: size like 64M or 10G, or bytes', sizeArg)
    .action(async (name: string, opts: { kind: string; path?: string; size?: number }, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      const created = await ctx.api.post<DeviceInfo>('devices', { name, kind: opts.kind, path: opts.path, size: opts.size });
      ctx.emit(created, (d) => `Added ${d.kind} device '${d.name}' (${size(d.size)}).`);
    });

  device
    .command('rename')
    .description('rename a device')
    .argument('<key>', 'device id or name')
    .argument('<new-name>', 'its new name')
    .action(async (key: string, name: string, _opts: unknown, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      const renamed = await ctx.api.patch<DeviceInfo>(`devices/${seg(key)}`, { name });
      ctx.emit(renamed, (d) => `Renamed device '${key}' to '${d.name}'.`);
    });

  device
    .command('remove')
    .description('unregister a device no pool uses')
    .argument('<key>', 'device id or name')
    .option('--purge', 'also delete the backing file of a file device')
    .action(async (key: string, opts: { purge?: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      await confirm(io, ctx.yes, `remove device '${key}'`, opts.purge ? ' and delete its backing file' : '');
      await ctx.api.delete(`devices/${seg(key)}`, { purge: opts.purge || undefined });
      if (!ctx.json) ctx.out(`Removed device '${key}'${opts.purge ? ' and its backing file' : ''}.`);
    });
}
