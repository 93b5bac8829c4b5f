import type { Command } from 'commander';
import { readdirSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { CliError, EXIT } from '../../../cli/client';
import type { CliIO } from '../../../cli/io';
import type { AttachStatus } from '../../attachment';
import { controlRequest } from '../../control-socket';
import { ClientContext } from '../client-context';
import { showAttachment } from '../views';

/** Every attach process that answers on its control socket; sockets nobody answers on are left-overs, removed. */
export async function attachedVolumes(ctx: ClientContext): Promise<AttachStatus[]> {
  let names: string[];
  try {
    names = readdirSync(ctx.home.runDir).filter((f) => f.endsWith('.ctl'));
  } catch {
    return [];
  }
  const found = await Promise.all(
    names.map(async (f) => {
      const path = join(ctx.home.runDir, f);
      try {
        const a = await controlRequest(path, { op: 'status' }, 5000);
        return a.ok ? (a.status as AttachStatus) : null;
      } catch (e) {
        if (['ECONNREFUSED', 'ENOENT'].includes((e as NodeJS.ErrnoException).code ?? '')) await unlink(path).catch(() => undefined);
        return null;
      }
    }),
  );
  return found.filter((s): s is AttachStatus => s !== null).sort((a, b) => a.volume.localeCompare(b.volume));
}

export function registerStatus(program: Command, io: CliIO): void {
  program
    .command('status')
    .description('attached volumes: NBD address, sessions per path, RTT, retransmits, throughput')
    .argument('[volume]', 'only this volume')
    .action(async (volume: string | undefined, _opts: unknown, cmd: Command) => {
      const ctx = ClientContext.of(cmd, io);
      let list = await attachedVolumes(ctx);
      if (volume !== undefined) {
        list = list.filter((s) => s.volume === volume);
        if (list.length === 0) throw new CliError(`volume '${volume}' is not attached`, { exitCode: EXIT.API, code: 'NOT_ATTACHED', showCode: false });
      }
      ctx.emit(list, (l) => (l.length === 0 ? 'No volumes attached.' : l.map(showAttachment).join('\n\n')));
    });
}
