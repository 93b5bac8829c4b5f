import type { ReplicationView } from '../services/replication.service';
import type { ReplicationInfo, VolumeInfo } from '../storage/domain';
import { details, duration, size, table, time } from './format';
import { rateText } from './job-views';

/*
 * What a person reads about replication: shared by the CLI and the SSH
 * shell, like views.ts. No commander here.
 */

export interface IdentityView {
  publicKey: string;
  fingerprint: string;
  hostName: string;
  register: string;
}

export const everyText = (seconds: number | null) => (seconds === null ? 'on demand' : `every ${duration(seconds)}`);
const lagText = (r: ReplicationInfo) => (r.lagSeconds === null ? 'no cycle yet' : duration(r.lagSeconds));
const limitText = (bytesPerSecond: number) => (bytesPerSecond > 0 ? `${size(bytesPerSecond)}/s` : 'none');

export function identityText(i: IdentityView): string {
  return [
    i.publicKey,
    '',
    `Fingerprint: ${i.fingerprint}`,
    "Register it on the target gateway (any host name; give the same one to 'replication create --host-name'):",
    `  ${i.register}`,
  ].join('\n');
}

export function replicationTable(list: ReplicationInfo[]): string {
  return table(
    ['VOLUME', 'TARGET', 'TARGET VOLUME', 'SCHEDULE', 'LAST CYCLE', 'LAG', 'SENT', 'STATE', 'LAST ERROR'],
    list.map((r) => [sourceName(r), r.target, r.targetVolume, everyText(r.everySeconds), r.lastCycle, lagText(r), size(r.bytesSent), r.activeJobId ? 'copying' : 'idle', r.lastError]),
  );
}

export const NO_REPLICATIONS = 'No replications (strata replication create <volume> --target HOST[:PORT] --target-volume NAME).';

export function showReplication(v: ReplicationView): string {
  const r = v.replication;
  const j = v.job;
  return details([
    ['ID', r.id],
    [r.share ? 'Share' : 'Volume', r.share ? r.share.name : r.volume.name],
    ['Target', `${r.share ? 'share ' : ''}${r.targetVolume} on ${r.target} (as host ${r.hostName})`],
    ['Schedule', everyText(r.everySeconds)],
    ['Rate limit', limitText(r.rateLimit)],
    ['Last good cycle', r.lastCycle > 0 ? `${r.lastCycle}, done ${time(r.lastGoodAt)}` : 'none yet'],
    ['Replica holds', r.lastPointAt ? `the ${r.share ? 'share' : 'volume'} as of ${time(r.lastPointAt)}` : null],
    ['Lag', lagText(r)],
    ['Bytes sent', size(r.bytesSent)],
    ['Next cycle', r.everySeconds ? time(r.nextRunAt) : null],
    ['Last error', r.lastError],
    ['Cycle job', j ? `${j.id} (cycle ${String(j.params.cycle)}) ${j.state} ${j.percent}% of ${size(j.bytesTotal)}, ${rateText(j.rate)}` : null],
  ]);
}

export const replicationLine = (r: ReplicationInfo) =>
  r.share
    ? `Share '${r.share.name}' replicates to share '${r.targetVolume}' on ${r.target} as host '${r.hostName}', ${everyText(r.everySeconds)}.`
    : `Volume '${r.volume.name}' replicates to '${r.targetVolume}' on ${r.target} as host '${r.hostName}', ${everyText(r.everySeconds)}.`;

/** A replication's source as people name it: the volume, or the share (its volume is `share:<name>`). */
const sourceName = (r: ReplicationInfo) => (r.share ? `${r.share.name} (share)` : r.volume.name);

export function replicaText(v: VolumeInfo): string {
  if (!v.replica) return `Volume '${v.name}' is not a replica.`;
  const r = v.replica;
  return details([
    ['Volume', v.name],
    ['Written by host', r.hostName ?? `${r.hostId} (removed)`],
    ['Last committed cycle', r.lastCycle > 0 ? `${r.lastCycle} at ${time(r.lastCommitAt)}` : 'none yet'],
    ['Consistent point', r.snapshot],
  ]);
}

/** What accepting a replica did, for a volume or a share (VolumeInfo.share set). */
export function acceptedText(v: Pick<VolumeInfo, 'name' | 'share'>, host: string): string {
  return v.share
    ? `Share '${v.share.name}' is now a replica written by host '${host}': it is not served until promoted.`
    : `Volume '${v.name}' is now a replica written by host '${host}' (other hosts may only read it).`;
}

/** What promote did: an ordinary volume, or a share served again. */
export function promotedText(v: Pick<VolumeInfo, 'name' | 'share'>): string {
  return v.share ? `Share '${v.share.name}' is served now, as of its last committed cycle.` : `Volume '${v.name}' is an ordinary volume now.`;
}
