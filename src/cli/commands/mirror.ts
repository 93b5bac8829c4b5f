import type { Command } from 'commander';
import type { MirrorStatusView } from '../../services/mirror-sync.service';
import type { VolumeInfo } from '../../storage/domain';
import { sizeArg } from '../args';
import { seg } from '../client';
import { Context } from '../context';
import { confirm, type CliIO } from '../io';
import { jobLine, mirrorStatus } from '../job-views';
import { mirrorLine } from '../views';
import { waitFor } from './job';

const afterStart = (m: MirrorStatusView) => `Volume '${m.volume.name}': mirror ${m.volume.mirror ? mirrorLine(m.volume.mirror) : ''}.${m.job ? `\n${jobLine(m.job)}` : ''}`;

export function registerMirror(program: Command, io: CliIO): void {
  const mirror = program.command('mirror').description("a volume's synchronous mirror on another pool");

  mirror
    .command('add')
    .description('give a volume a mirror on another pool; its initial sync runs as a job')
    .argument('<volume>', 'volume id or name')
    .requiredOption('--pool <pool>', 'the pool for the mirror')
    .option('--rate-limit <rate>', 'bandwidth limit of the initial sync per second, like 100M', sizeArg)
    .option('--wait', 'wait for the initial sync, with a progress bar on a terminal')
    .action(async (volume: string, opts: { pool: string; rateLimit?: number; wait?: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      const added = await ctx.api.post<MirrorStatusView>(`volumes/${seg(volume)}/mirror`, { pool: opts.pool, rateLimit: opts.rateLimit });
      ctx.emit(added, afterStart);
      if (opts.wait && added.job) ctx.emit(await waitFor(ctx, io, added.job.id), jobLine);
    });

  mirror
    .command('rm')
    .alias('remove')
    .description("remove a volume's mirror and free its pages (a running resync is cancelled)")
    .argument('<volume>', 'volume id or name')
    .action(async (volume: string, _opts: unknown, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      await confirm(io, ctx.yes, `remove the mirror of volume '${volume}'`, ' (the volume keeps running on its primary alone)');
      const v = await ctx.api.request<VolumeInfo>('DELETE', `volumes/${seg(volume)}/mirror`);
      ctx.emit(v, (x) => `Removed the mirror of volume '${x.name}'.`);
    });

  mirror
    .command('swap')
    .description('make the mirror the primary; reads then come from it')
    .argument('<volume>', 'volume id or name')
    .option('--force', "promote a degraded mirror (the primary's storage is lost): its dirty regions hold older bytes")
    .action(async (volume: string, opts: { force?: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      if (opts.force) await confirm(io, ctx.yes, `make the mirror of volume '${volume}' the primary`, ', even if it is behind (its dirty regions go back to older bytes)');
      const v = await ctx.api.request<VolumeInfo>('POST', `volumes/${seg(volume)}/mirror/swap`, { query: { force: opts.force || undefined } });
      ctx.emit(v, (x) => `Volume '${x.name}' now runs on pool '${x.poolName}'; its mirror is ${x.mirror ? mirrorLine(x.mirror) : 'gone'}.`);
    });

  mirror
    .command('resync')
    .description("copy a degraded mirror's dirty regions, as a job")
    .argument('<volume>', 'volume id or name')
    .option('--rate-limit <rate>', 'bandwidth limit per second, like 100M', sizeArg)
    .option('--wait', 'wait for it, with a progress bar on a terminal')
    .action(async (volume: string, opts: { rateLimit?: number; wait?: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      const started = await ctx.api.post<MirrorStatusView>(`volumes/${seg(volume)}/mirror/resync`, { rateLimit: opts.rateLimit });
      ctx.emit(started, afterStart);
      if (opts.wait && started.job) ctx.emit(await waitFor(ctx, io, started.job.id), jobLine);
    });

  mirror
    .command('status')
    .description("a volume's mirror: pool, state, dirty regions, resync job")
    .argument('<volume>', 'volume id or name')
    .action(async (volume: string, _opts: unknown, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      ctx.emit(await ctx.api.get<MirrorStatusView>(`volumes/${seg(volume)}/mirror`), mirrorStatus);
    });
}
