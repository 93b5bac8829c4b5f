import type { Command } from 'commander';
import type { CliIO } from '../../../cli/io';
import { ClientContext } from '../client-context';
import { volumeTable } from '../views';
import { attachedVolumes } from './status';

export function registerDiscover(program: Command, io: CliIO): void {
  program
    .command('discover')
    .description('the volumes assigned to this host: size, access, sharing')
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = ClientContext.of(cmd, io);
      const client = await ctx.connect();
      try {
        const [volumes, attached] = await Promise.all([client.discover(), attachedVolumes(ctx)]);
        const at = new Map(attached.map((a) => [a.volume, a.uri]));
        const rows = volumes.map((v) => ({ ...v, ...(at.has(v.name) ? { attached: at.get(v.name) } : {}) }));
        ctx.emit(rows, (r) => (r.length === 0 ? `No volumes are assigned to host '${client.host}'.` : volumeTable(r)));
      } finally {
        await client.close();
      }
    });
}
