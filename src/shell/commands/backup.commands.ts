import { parseSize } from '../../common/size';
import { backupStarted, backupTable, NO_TARGETS, restoreStarted, showBackup, targetLine, targetTable } from '../../cli/backup-views';
import { jobLine } from '../../cli/job-views';
import type { JobInfo } from '../../jobs/job-kind';
import { UsageError } from '../usage-error';
import type { CommandContext, CommandSpec, Output } from './command';
import { names } from './completers';

const backupArg = { name: 'id', complete: names.backup };
const RATE = { name: 'rate', value: 'rate', help: 'bandwidth limit per second, like 100M' };
const WAIT = { name: 'wait', help: 'wait for the job to end; status 1 unless it succeeded' };
const rateOf = (v: string | undefined) => (v === undefined ? undefined : parseSize(v, 'rate'));

/** With --wait (or always, for verify): the job's end, and status 1 unless it succeeded. */
async function maybeWait({ services }: CommandContext, job: JobInfo, wait: boolean, first: Output): Promise<Output> {
  if (!wait) return first;
  const end = await services.jobs.wait(job.id);
  return { data: end, text: `${first.text}\n${jobLine(end)}${end.error ? `\n${end.error}` : ''}`, status: end.state === 'succeeded' ? 0 : 1 };
}

/** The same verbs as `strata backup …` in the CLI. */
export const backupCommands: CommandSpec[] = [
  {
    name: 'backup',
    sub: 'target add',
    summary: 'add a backup target: --directory DIR, --device PATH or --pool POOL',
    args: [{ name: 'name' }],
    options: [
      { name: 'directory', value: 'dir', help: 'an existing, writable directory: a sparse image file and a manifest per backup' },
      { name: 'device', value: 'path', help: 'a block device or file: one full raw image, written in place' },
      { name: 'pool', value: 'pool', help: 'another pool of this gateway', complete: names.pool },
    ],
    async run({ services, actor }, p) {
      const given = (['directory', 'device', 'pool'] as const).filter((k) => p.opt(k) !== undefined);
      if (given.length !== 1) throw new UsageError('give exactly one of --directory, --device or --pool');
      const kind = given[0];
      const t = await services.backups.addTarget(actor, kind === 'pool' ? { name: p.arg('name'), kind, pool: p.opt('pool') } : { name: p.arg('name'), kind, path: p.opt(kind) });
      return { data: t, text: `Added ${targetLine(t).charAt(0).toLowerCase()}${targetLine(t).slice(1)}` };
    },
  },
  {
    name: 'backup',
    sub: 'target ls',
    summary: 'list backup targets',
    async run({ services }) {
      const list = await services.backups.listTargets();
      return { data: list, text: list.length ? targetTable(list) : NO_TARGETS };
    },
  },
  {
    name: 'backup',
    sub: 'target rm',
    summary: 'remove a backup target that holds no backups',
    args: [{ name: 'name', complete: names.backupTarget }],
    confirm: (p) => `remove backup target '${p.arg('name')}'`,
    async run({ services, actor }, p) {
      const t = await services.backups.removeTarget(actor, p.arg('name'));
      return { data: t, text: `Removed backup target '${t.name}'.` };
    },
  },
  {
    name: 'backup',
    sub: 'create',
    summary: 'back up a volume: a snapshot of it copied to a target by a job',
    args: [{ name: 'volume', complete: names.volume }],
    options: [
      { name: 'target', value: 'target', help: 'backup target name or id', required: true, complete: names.backupTarget },
      { name: 'incremental', help: 'only the pages changed since the last complete backup on this target' },
      RATE,
      WAIT,
    ],
    async run(ctx, p) {
      const s = await ctx.services.backups.create(ctx.actor, { volume: p.arg('volume'), target: p.opt('target')!, incremental: p.flag('incremental'), rateLimit: rateOf(p.opt('rate')) });
      return maybeWait(ctx, s.job, p.flag('wait'), { data: s, text: backupStarted(s) });
    },
  },
  {
    name: 'backup',
    sub: 'ls',
    summary: 'list backups, oldest first',
    options: [{ name: 'volume', value: 'volume', help: 'only backups of this volume', complete: names.volume }],
    async run({ services }, p) {
      const list = await services.backups.list({ volume: p.opt('volume') });
      return { data: list, text: list.length ? backupTable(list) : 'No backups.' };
    },
  },
  {
    name: 'backup',
    sub: 'show',
    summary: 'show a backup',
    args: [backupArg],
    async run({ services }, p) {
      const b = await services.backups.get(p.arg('id'));
      return { data: b, text: showBackup(b) };
    },
  },
  {
    name: 'backup',
    sub: 'rm',
    summary: 'remove a backup: its image, manifest or snapshot, and its catalog entry',
    args: [backupArg],
    options: [{ name: 'with-dependents', help: 'also remove the incremental backups built on it' }],
    confirm: (p) => `remove backup ${p.arg('id')}${p.flag('with-dependents') ? ' and every backup built on it' : ''}`,
    async run({ services, actor }, p) {
      await services.backups.remove(actor, p.arg('id'), { withDependents: p.flag('with-dependents') });
      return { text: `Removed backup ${p.arg('id')}.` };
    },
  },
  {
    name: 'backup',
    sub: 'restore',
    summary: 'restore a backup into a new volume (--to) or over an existing one (--over with --force); a share backup into a new share (--to-share)',
    args: [backupArg],
    options: [
      { name: 'to', value: 'volume', help: 'a new volume to create' },
      { name: 'to-share', value: 'share', help: 'a share backup: a new share to create (no export rules: add them once restored)' },
      { name: 'pool', value: 'pool', help: "the new volume's pool (default: the backed-up volume's)", complete: names.pool },
      { name: 'over', value: 'volume', help: 'an existing volume with no assignments, overwritten', complete: names.volume },
      { name: 'force', help: 'needed with --over: everything on that volume is replaced' },
      RATE,
      WAIT,
    ],
    confirm: (p) => (p.opt('over') ? `restore backup ${p.arg('id')} over volume '${p.opt('over')}', replacing everything on it` : ''),
    async run(ctx, p) {
      if ([p.opt('to'), p.opt('over'), p.opt('to-share')].filter((x) => x !== undefined).length !== 1) throw new UsageError('give one of --to <new volume>, --over <volume> --force, or --to-share <new share>');
      const s = await ctx.services.backups.restore(ctx.actor, p.arg('id'), { to: p.opt('to'), toShare: p.opt('to-share'), pool: p.opt('pool'), over: p.opt('over'), force: p.flag('force'), rateLimit: rateOf(p.opt('rate')) });
      return maybeWait(ctx, s.job, p.flag('wait'), { data: s, text: restoreStarted(s) });
    },
  },
  {
    name: 'backup',
    sub: 'verify',
    summary: 'read a backup and the ones it builds on and check every page; waits for the result',
    args: [backupArg],
    async run(ctx, p) {
      const job = await ctx.services.backups.verify(ctx.actor, p.arg('id'));
      return maybeWait(ctx, job, true, { data: job, text: `Verifying backup ${p.arg('id')}.` });
    },
  },
];
