/**
 * Words for replication: how the Replication page and a replica's volume
 * page state lag, schedules and cycles. Pure, so the spec pins the wording.
 */
import { formatRate, formatTime } from './format';
import type { ReplicaInfo, ReplicationInfo } from './types';

/** `42s`, `3m 5s`, `2h 10m`, `3d 4h`: the two largest units say enough for a figure to alert on. */
export function durationText(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h`;
}

/** How old the replica's contents are, or that it holds nothing consistent yet. */
export const lagText = (r: Pick<ReplicationInfo, 'lagSeconds'>) => (r.lagSeconds === null ? 'no cycle yet' : durationText(r.lagSeconds));

const EVERY_UNITS: Array<[number, string]> = [
  [86_400, 'd'],
  [3600, 'h'],
  [60, 'm'],
];

/** The interval as `--every` takes it (`15m`, `90s`), or '' for on demand: the edit form's starting value. */
export function everyInput(r: Pick<ReplicationInfo, 'everySeconds'>): string {
  const s = r.everySeconds;
  if (s === null) return '';
  const [size, unit] = EVERY_UNITS.find(([n]) => s % n === 0) ?? [1, 's'];
  return `${s / size}${unit}`;
}

/** The schedule as `replication create --every` takes it: `every 15m`, `every 90s`, or on demand. */
export const everyText = (r: Pick<ReplicationInfo, 'everySeconds'>) => (r.everySeconds === null ? 'on demand' : `every ${everyInput(r)}`);

/** `cycle 4, 2026-11-24 00:48:07Z` or `none yet`. */
export function cycleText(r: Pick<ReplicationInfo, 'lastCycle' | 'lastGoodAt'>): string {
  if (r.lastCycle === 0) return 'none yet';
  return r.lastGoodAt ? `cycle ${r.lastCycle}, ${formatTime(r.lastGoodAt)}` : `cycle ${r.lastCycle}`;
}

const RATE_UNITS: Array<[number, string]> = [
  [2 ** 30, 'G'],
  [2 ** 20, 'M'],
  [2 ** 10, 'K'],
];

/** The limit as `--rate` takes it (`50M`, `1G`, or bytes), or '' for none: the edit form's starting value. */
export function rateInput(r: Pick<ReplicationInfo, 'rateLimit'>): string {
  const n = r.rateLimit;
  if (n <= 0) return '';
  const [size, unit] = RATE_UNITS.find(([u]) => n % u === 0) ?? [1, ''];
  return `${n / size}${unit}`;
}

export const rateLimitText = (r: Pick<ReplicationInfo, 'rateLimit'>) => (r.rateLimit > 0 ? formatRate(r.rateLimit) : 'no limit');

/** The target side's state of a replica, in a line. */
export function replicaText(r: Pick<ReplicaInfo, 'lastCycle' | 'lastCommitAt' | 'snapshot'>): string {
  if (r.lastCycle === 0) return 'no cycle committed yet: it holds no consistent image';
  return `cycle ${r.lastCycle} committed${r.lastCommitAt ? ` at ${formatTime(r.lastCommitAt)}` : ''}; consistent point ${r.snapshot ?? '–'}`;
}

/** What promoting a replica does to its contents, for the confirm dialog. */
export function promoteEffect(r: Pick<ReplicaInfo, 'lastCycle' | 'lastCommitAt' | 'snapshot' | 'hostName'>): { force: boolean; rollback: string } {
  if (r.lastCycle === 0 || !r.snapshot) {
    return {
      force: true,
      rollback: 'No cycle was ever committed, so there is nothing to roll back to: the volume keeps whatever part of the first copy arrived, which may be partial.',
    };
  }
  return {
    force: false,
    rollback: `If a cycle was cut off after cycle ${r.lastCycle}, what it wrote is rolled back: the volume reads as ${r.snapshot}, the source as it was${r.lastCommitAt ? ` when that cycle was committed (${formatTime(r.lastCommitAt)})` : ''}.`,
  };
}

/** What a replication copies: the share's name when it is a share's (its volume's name means little to people), else the volume's. */
export const sourceName = (r: Pick<ReplicationInfo, 'volume' | 'share'>) => r.share?.name ?? r.volume.name;

/** `share 'home'`, or a volume's plain `'db'` (volumes are what replication copied first), for sentences. */
export const sourceText = (r: Pick<ReplicationInfo, 'volume' | 'share'>) => (r.share ? `share '${r.share.name}'` : `'${r.volume.name}'`);

/**
 * What promoting a share replica does, for its confirm dialog: its volume and
 * metadata go back to the last committed cycle and it is served again.
 */
export function sharePromoteEffect(r: Pick<ReplicaInfo, 'lastCycle' | 'lastCommitAt' | 'snapshot'>, rules: number): { force: boolean; rollback: string; served: string } {
  const served =
    rules > 0
      ? `It is served again with its ${rules === 1 ? 'export rule' : `${rules} export rules`}: clients they match can mount it.`
      : 'It is served again, but it has no export rules: no client can mount it until one is added.';
  if (r.lastCycle === 0 || !r.snapshot) {
    return { force: true, rollback: 'No cycle was ever committed: the share is the empty filesystem it was made with, none of the source\u2019s files.', served };
  }
  return {
    force: false,
    rollback: `It is rolled back to cycle ${r.lastCycle} (${r.snapshot}): its files are as they were on the source at that cycle's snapshot${r.lastCommitAt ? `, committed ${formatTime(r.lastCommitAt)}` : ''}; what a cycle cut off after it wrote is dropped.`,
    served,
  };
}
