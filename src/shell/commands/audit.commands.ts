import { InvalidArgument } from '../../common/errors';
import { auditTable } from '../../cli/views';
import type { CommandSpec } from './command';
import { names, oneOf } from './completers';

function isoTime(value: string | undefined, field: string): string | undefined {
  if (value === undefined) return undefined;
  const at = Date.parse(value);
  if (Number.isNaN(at)) throw new InvalidArgument(`--${field} must be an ISO-8601 time, e.g. 2026-01-31 or 2026-01-31T14:00:00Z`, field);
  return new Date(at).toISOString();
}

function count(value: string | undefined, field: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new InvalidArgument(`--${field} must be a whole number`, field);
  return Number(value);
}

export const auditCommands: CommandSpec[] = [
  {
    name: 'audit',
    summary: 'who changed what, newest first',
    options: [
      { name: 'actor', value: 'name', help: 'only this admin (or system)', complete: names.user },
      { name: 'action', value: 'action', help: 'exact action (volume.create) or a prefix ending in * (volume.*)' },
      { name: 'object', value: 'key', help: 'only this object (id or name)' },
      { name: 'type', value: 'type', help: 'only this object type', complete: oneOf('device', 'pool', 'volume', 'host', 'assignment', 'user') },
      { name: 'outcome', value: 'outcome', help: 'only successes or failures', complete: oneOf('success', 'failure') },
      { name: 'since', value: 'time', help: 'from this ISO-8601 time' },
      { name: 'until', value: 'time', help: 'up to this ISO-8601 time' },
      { name: 'limit', value: 'n', help: 'at most n entries (default 100)' },
      { name: 'before', value: 'id', help: 'entries older than this entry id (paging)' },
    ],
    async run({ services }, p) {
      const outcome = p.opt('outcome');
      if (outcome !== undefined && outcome !== 'success' && outcome !== 'failure') {
        throw new InvalidArgument('--outcome must be success or failure', 'outcome');
      }
      const entries = await services.audit.query({
        actor: p.opt('actor'),
        action: p.opt('action'),
        object: p.opt('object'),
        objectType: p.opt('type'),
        outcome,
        since: isoTime(p.opt('since'), 'since'),
        until: isoTime(p.opt('until'), 'until'),
        limit: count(p.opt('limit'), 'limit'),
        beforeId: count(p.opt('before'), 'before'),
      });
      const text = entries.length ? auditTable(entries) : 'No audit entries match.';
      return { data: entries, text };
    },
  },
];
