import { Option, type Command } from 'commander';
import { parseSize } from '../../common/size';
import type { PoolInfo } from '../../storage/domain';
import { collect, sizeArg } from '../args';
import { seg, usageError } from '../client';
import { Context } from '../context';
import { size } from '../format';
import { confirm, type CliIO } from '../io';
import { poolTable, showPool } from '../views';

interface MemberSpec {
  device: string;
  offset?: number;
  length?: number;
}

export function registerPool(program: Command, io: CliIO): void {
  const pool = program.command('pool').description('storage pools built from device extents');

  pool
    .command('list')
    .description('list pools')
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      const pools = await ctx.api.get<PoolInfo[]>('pools');
      ctx.emit(pools, poolTable);
    });

  pool
    .command('show')
    .description('show a pool and its members')
    .argument('<key>', 'pool id or name')
    .action(async (key: string, _opts: unknown, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      ctx.emit(await ctx.api.get<PoolInfo>(`pools/${seg(key)}`), showPool);
    });

  pool
    .command('create')
    .description('create a pool on device extents')
    .argument('<name>', 'pool name')
    .addOption(new Option('--layout <layout>', 'how members combine').choices(['concat', 'raid0', 'raid1', 'raid10']).makeOptionMandatory())
    .requiredOption(
      '--member <device[:offset[:length]]>',
      'a device, optionally with the extent to use (default: its largest free region); repeat for each member',
      collect,
    )
    .option('--page-size <size>', 'allocation unit, a power of two from 64K to 16M (default 1M)', sizeArg)
    .option('--stripe-unit <size>', 'raid0/raid10 stripe unit (default 64K)', sizeArg)
    .action(async (name: string, opts: { layout: string; member: string[]; pageSize?: number; stripeUnit?: number }, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      const members = opts.member.map(parseMember);
      const created = await ctx.api.post<PoolInfo>('pools', { name, layout: opts.layout, pageSize: opts.pageSize, stripeUnit: opts.stripeUnit, members });
      ctx.emit(created, (p) => `Created ${p.layout} pool '${p.name}' (${size(p.capacity)} usable).`);
    });

  pool
    .command('rename')
    .description('rename a pool')
    .argument('<key>', 'pool id or name')
    .argument('<new-name>', 'its new name')
    .action(async (key: string, name: string, _opts: unknown, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      const renamed = await ctx.api.patch<PoolInfo>(`pools/${seg(key)}`, { name });
      ctx.emit(renamed, (p) => `Renamed pool '${key}' to '${p.name}'.`);
    });

  pool
    .command('check')
    .description("cross-check the pool's page allocator against its volumes' page maps")
    .argument('<key>', 'pool id or name')
    .action(async (key: string, _opts: unknown, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      const report = await ctx.api.get<{ pool: string; ok: boolean; leaked: number[]; doubleAllocated: number[] }>(`pools/${seg(key)}/check`);
      ctx.emit(report, (r) =>
        r.ok
          ? `Pool '${r.pool}': consistent (no leaked or doubly used pages).`
          : `Pool '${r.pool}': ${r.leaked.length} leaked page(s) [${r.leaked.slice(0, 20).join(', ')}], ${r.doubleAllocated.length} doubly used page(s) [${r.doubleAllocated.slice(0, 20).join(', ')}]`,
      );
      if (!report.ok) process.exitCode = 1;
    });

  pool
    .command('delete')
    .description('delete a pool that has no volumes, freeing its extents')
    .argument('<key>', 'pool id or name')
    .action(async (key: string, _opts: unknown, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      await confirm(io, ctx.yes, `delete pool '${key}'`);
      await ctx.api.delete(`pools/${seg(key)}`);
      if (!ctx.json) ctx.out(`Deleted pool '${key}'.`);
    });
}

/** `disk1`, `disk1:1G`, `disk1:1G:10G`, `disk1::10G` (empty offset: the default). */
function parseMember(spec: string): MemberSpec {
  const [device, offset, length, ...rest] = spec.split(':');
  if (!device || rest.length > 0) throw usageError(`--member '${spec}' must be device[:offset[:length]]`);
  const sizeOf = (value: string | undefined, field: string) => {
    if (value === undefined || value === '') return undefined;
    try {
      return parseSize(value, field);
    } catch (e) {
      throw usageError(`--member '${spec}': ${(e as Error).message}`);
    }
  };
  return { device, offset: sizeOf(offset, 'offset'), length: sizeOf(length, 'length') };
}
