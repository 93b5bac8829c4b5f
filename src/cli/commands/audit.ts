import { Option, type Command } from 'commander';
import type { AuditEntry } from '../../storage/domain';
import { countArg } from '../args';
import { Context } from '../context';
import type { CliIO } from '../io';
import { auditTable } from '../views';

interface AuditOptions {
  actor?: string;
  action?: string;
  object?: string;
  type?: string;
  outcome?: string;
  since?: string;
  until?: string;
  limit?: number;
  before?: number;
}

export function registerAudit(program: Command, io: CliIO): void {
  program
    .command('audit')
    .description('who changed what, newest first')
    .option('--actor <name>', 'only this admin (or system)')
    .option('--action <action>', 'exact action (volume.create) or a prefix ending in * (volume.*)')
    .option('--object <key>', 'only this object (id or name)')
    .option('--type <type>', 'only this object type (device, pool, volume, host, assignment, user)')
    .addOption(new Option('--outcome <outcome>', 'only successes or failures').choices(['success', 'failure']))
    .option('--since <time>', 'from this ISO-8601 time')
    .option('--until <time>', 'up to this ISO-8601 time')
    .option('--limit <n>', 'at most n entries', countArg)
    .option('--before <id>', 'entries older than this entry id (paging)', countArg)
    .action(async (opts: AuditOptions, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      const entries = await ctx.api.get<AuditEntry[]>('audit', {
        actor: opts.actor,
        action: opts.action,
        object: opts.object,
        objectType: opts.type,
        outcome: opts.outcome,
        since: opts.since,
        until: opts.until,
        limit: opts.limit,
        before: opts.before,
      });
      ctx.emit(entries, auditTable);
    });
}
