import type { ShareFsckReport } from '../nas/share-fsck';
import type { AssignmentInfo, AuditEntry, ConsistencyGroupInfo, DeviceInfo, ExportRuleInfo, HostInfo, MirrorInfo, PoolInfo, ShareInfo, SnapshotInfo, SnapshotScheduleInfo, VolumeInfo } from '../storage/domain';
import { details, percent, size, sizeExact, table, time } from './format';

/*
 * What a person reads about devices, pools, volumes, shares, hosts,
 * assignments and the audit log: shared by the CLI (src/cli/commands) and the SSH admin shell
 * (src/shell/commands), so both print the same. No commander here, nor
 * anything that pulls it in: the shell imports this module.
 *
 * The list tables render any list as given; what to say for an empty one is
 * up to the caller.
 */

const poolsOf = (d: DeviceInfo) => [...new Set(d.extents.map((e) => e.poolName))].join(',');

const hostsOf = (v: VolumeInfo) => v.assignments.map((a) => (a.access === 'ro' ? `${a.hostName}(ro)` : a.hostName)).join(',');

export function deviceTable(list: DeviceInfo[]): string {
  return table(
    ['NAME', 'KIND', 'SIZE', 'FREE', 'STATE', 'POOLS', 'PATH'],
    list.map((d) => [d.name, d.kind, size(d.size), size(d.freeBytes), d.state, poolsOf(d), d.path]),
  );
}

export function showDevice(d: DeviceInfo): string {
  const head = details([
    ['Name', d.name],
    ['ID', d.id],
    ['Kind', d.kind],
    ['Path', d.path],
    ['Size', sizeExact(d.size)],
    ['Sector size', d.sectorSize],
    ['Free', sizeExact(d.freeBytes)],
    ['State', d.stateReason ? `${d.state} (${d.stateReason})` : d.state],
    ['Created', time(d.createdAt)],
  ]);
  if (d.extents.length === 0) return `${head}\n\nNo pool extents.`;
  const extents = table(
    ['POOL', 'POSITION', 'OFFSET', 'LENGTH', 'STATE', 'ERRORS', 'LAST ERROR'],
    d.extents.map((e) => [e.poolName, e.position, size(e.offset), size(e.length), e.state, e.errors, e.lastError]),
  );
  return `${head}\n\nExtents:\n${extents}`;
}

export function poolTable(list: PoolInfo[]): string {
  return table(
    ['NAME', 'LAYOUT', 'STATE', 'CAPACITY', 'USED', 'FREE', 'USE%', 'PROVISIONED', 'VOLUMES', 'DEVICES'],
    list.map((p) => [
      p.name,
      p.layout,
      p.state,
      size(p.capacity),
      size(p.usedBytes),
      size(p.freeBytes),
      percent(p.usedBytes, p.capacity),
      size(p.provisionedBytes),
      p.volumeCount,
      p.members.map((m) => m.deviceName).join(','),
    ]),
  );
}

export function showPool(p: PoolInfo): string {
  const head = details([
    ['Name', p.name],
    ['ID', p.id],
    ['Layout', p.layout],
    ['State', p.state],
    ['Capacity', sizeExact(p.capacity)],
    ['Used', `${sizeExact(p.usedBytes)} ${percent(p.usedBytes, p.capacity)}`],
    ['Free', sizeExact(p.freeBytes)],
    ['Provisioned', `${sizeExact(p.provisionedBytes)}${p.provisionedBytes > p.capacity ? ' (thin overcommit)' : ''}`],
    ['Volumes', p.volumeCount],
    ['Shares', p.shareCount],
    ['Page size', size(p.pageSize)],
    ['Stripe unit', p.layout === 'raid0' || p.layout === 'raid10' ? size(p.stripeUnit) : null],
    ['Created', time(p.createdAt)],
  ]);
  const members = table(
    ['POSITION', 'DEVICE', 'OFFSET', 'LENGTH', 'STATE', 'ERRORS', 'LAST ERROR'],
    p.members.map((m) => [m.position, m.deviceName, size(m.offset), size(m.length), m.state, m.errors, m.lastError]),
  );
  return `${head}\n\nMembers:\n${members}`;
}

/** 'on pool p2, in-sync' / 'syncing 40%' / 'degraded, 3 dirty regions (3 MiB): why'. */
export function mirrorLine(m: MirrorInfo): string {
  const state = m.state === 'syncing' ? `syncing ${m.syncPercent}%` : m.state;
  const dirty = m.dirtyRegions > 0 ? `, ${m.dirtyRegions} dirty region${m.dirtyRegions === 1 ? '' : 's'} (${size(m.dirtyBytes)})` : '';
  return `on pool ${m.poolName}, ${state}${dirty}${m.reason && m.state !== 'in-sync' ? `: ${m.reason}` : ''}`;
}

export function volumeTable(list: VolumeInfo[]): string {
  return table(
    ['NAME', 'POOL', 'SIZE', 'ALLOCATED', 'PROVISIONING', 'STATE', 'HOSTS'],
    list.map((v) => [v.name, v.poolName, size(v.size), size(v.allocatedBytes), v.provisioning, v.state, hostsOf(v)]),
  );
}

/** UNIQUE is what deleting the snapshot would give back; VOLUME is the name hosts see it under. */
export function snapshotTable(list: SnapshotInfo[]): string {
  return table(
    ['NAME', 'VOLUME', 'SIZE', 'UNIQUE', 'CREATED', 'HOSTS'],
    list.map((s) => [s.name, s.volumeName, size(s.size), size(s.uniqueBytes), time(s.createdAt), s.assignments.map((a) => `${a.hostName}(ro)`).join(',')]),
  );
}

export const NO_SNAPSHOTS = (volume: string) => `Volume '${volume}' has no snapshots.`;

export function groupTable(list: ConsistencyGroupInfo[]): string {
  return table(['NAME', 'VOLUMES', 'CREATED'], list.map((g) => [g.name, g.volumes.map((v) => v.name).join(','), time(g.createdAt)]));
}

const scheduleTarget = (s: SnapshotScheduleInfo) => (s.volume ? `volume ${s.volume.name}` : `group ${s.group?.name ?? '?'}`);

export function scheduleTable(list: SnapshotScheduleInfo[]): string {
  return table(
    ['NAME', 'OF', 'EVERY', 'KEEP', 'NEXT', 'LAST', 'LAST ERROR'],
    list.map((s) => [s.name, scheduleTarget(s), `${s.every} ${s.unit}`, s.keep, time(s.nextRunAt), s.lastRunAt ? time(s.lastRunAt) : null, s.lastError]),
  );
}

export const scheduleLine = (s: SnapshotScheduleInfo) =>
  `Schedule '${s.name}' snapshots ${scheduleTarget(s)} every ${s.every} ${s.unit}, keeping ${s.keep}; first at ${time(s.nextRunAt)}.`;

export function showVolume(v: VolumeInfo): string {
  const head = details([
    ['Name', v.name],
    ['ID', v.id],
    ['Pool', v.poolName],
    ['Size', sizeExact(v.size)],
    ['Allocated', `${sizeExact(v.allocatedBytes)} ${percent(v.allocatedBytes, v.size)}`],
    ['Provisioning', v.provisioning],
    ['Page size', size(v.pageSize)],
    ['Serial', v.serial],
    ['NBD export', v.nbdExport ? 'on (loopback)' : 'off'],
    ['Share', v.share ? `${v.share.name} (this volume is managed through the share)` : null],
    ['Snapshot of', v.origin ? `${v.origin.name} (read-only)` : null],
    ['Mirror', v.mirror ? mirrorLine(v.mirror) : null],
    ['State', v.state],
    ['Created', time(v.createdAt)],
  ]);
  if (v.assignments.length === 0) return `${head}\n\nNot assigned to any host.`;
  const assignments = table(
    ['ASSIGNMENT', 'HOST', 'ACCESS', 'SHARING', 'CREATED'],
    v.assignments.map((a) => [a.id, a.hostName, a.access, a.sharing, time(a.createdAt)]),
  );
  return `${head}\n\nAssignments:\n${assignments}`;
}

export function shareTable(list: ShareInfo[]): string {
  return table(
    ['NAME', 'PATH', 'POOL', 'SIZE', 'ALLOCATED', 'EXPORT', 'RULES', 'STATE'],
    list.map((sh) => [sh.name, sh.path, sh.poolName, size(sh.size), size(sh.allocatedBytes), sh.exportId, sh.rules.length, sh.state]),
  );
}

/** `rw`, `ro`, with the squash and anonymous ids only when they differ from the defaults. */
const squashText = (r: ExportRuleInfo) =>
  r.squash === 'no_root_squash' ? 'no_root_squash' : `${r.squash}${r.anonUid !== 65534 || r.anonGid !== 65534 ? ` (${r.anonUid}:${r.anonGid})` : ''}`;

export function ruleTable(list: ExportRuleInfo[]): string {
  return table(
    ['#', 'CLIENTS', 'ACCESS', 'SQUASH', 'PORT', 'COMMENT', 'ID'],
    list.map((r) => [r.position, r.clients.join(','), r.access, squashText(r), r.requirePrivilegedPort ? 'secure' : 'insecure', r.comment, r.id]),
  );
}

export const NO_RULES = 'No export rules: no client may mount this share (add one with share rule add).';

export function showShare(sh: ShareInfo): string {
  const head = details([
    ['Name', sh.name],
    ['ID', sh.id],
    ['Mount path', sh.path],
    ['Pool', sh.poolName],
    ['Size', sizeExact(sh.size)],
    ['Allocated', `${sizeExact(sh.allocatedBytes)} ${percent(sh.allocatedBytes, sh.size)}`],
    ['Volume', sh.volumeName],
    ['Export ID', sh.exportId],
    ['Metadata', sh.sync ? 'sync (changes durable before the reply)' : 'async (changes committed before the reply, on disk within a second)'],
    ['State', sh.state],
    ['Created', time(sh.createdAt)],
    ['Updated', time(sh.updatedAt)],
  ]);
  return `${head}

${sh.rules.length ? `Export rules (the first that matches a client decides):
${ruleTable(sh.rules)}` : NO_RULES}`;
}

/** Problems listed in full up to this many; beyond, the counts by kind say the rest. */
const FSCK_SHOWN = 50;

export function fsckText(r: ShareFsckReport): string {
  const totals = `${r.inodes} inodes (${r.directories} directories, ${r.files} files), ${r.usedBlocks} of ${r.totalBlocks} blocks in use`;
  const orphans = r.pendingOrphans.length ? `; ${r.pendingOrphans.length} removed file(s) still open, reclaimed later` : '';
  const what = r.snapshot === undefined ? `Share '${r.share}'` : `Snapshot '${r.snapshot}' of share '${r.share}'`;
  if (r.clean) return `${what}: clean. ${totals}${orphans}.`;
  const kinds = Object.entries(r.byKind).map(([kind, n]) => `${kind} ${n}`);
  const lines = r.problems.slice(0, FSCK_SHOWN).map((p) => `  ${p.kind}${p.ino !== undefined ? ` (inode ${p.ino})` : ''}: ${p.detail}`);
  const more = r.problems.length > FSCK_SHOWN ? [`  ... and ${r.problems.length - FSCK_SHOWN} more`] : [];
  return [`${what}: ${r.problems.length} problem(s): ${kinds.join(', ')}. ${totals}${orphans}.`, ...lines, ...more].join('\n');
}

export function showRule(r: ExportRuleInfo): string {
  return details([
    ['Position', r.position],
    ['ID', r.id],
    ['Clients', r.clients.join(', ')],
    ['Access', r.access === 'rw' ? 'read-write' : 'read-only'],
    ['Squash', r.squash],
    ['Anonymous uid:gid', `${r.anonUid}:${r.anonGid}`],
    ['Source port', r.requirePrivilegedPort ? 'privileged only (secure)' : 'any (insecure)'],
    ['Comment', r.comment],
    ['Updated', time(r.updatedAt)],
  ]);
}

export function hostTable(list: HostInfo[]): string {
  return table(
    ['NAME', 'FINGERPRINT', 'SECURITY', 'VOLUMES', 'DESCRIPTION'],
    list.map((h) => [h.name, h.keyFingerprint, h.security, h.assignments.map((a) => a.volumeName).join(','), h.description]),
  );
}

export function showHost(h: HostInfo): string {
  const head = details([
    ['Name', h.name],
    ['ID', h.id],
    ['Fingerprint', h.keyFingerprint],
    ['Public key', h.publicKey],
    ['SAN security', h.security === 'integrity' ? 'integrity (may send data in clear, authenticated)' : 'encrypt'],
    ['Description', h.description],
    ['Created', time(h.createdAt)],
  ]);
  if (h.assignments.length === 0) return `${head}\n\nNo volumes assigned.`;
  const assignments = table(
    ['ASSIGNMENT', 'VOLUME', 'ACCESS', 'SHARING', 'CREATED'],
    h.assignments.map((a) => [a.id, a.volumeName, a.access, a.sharing, time(a.createdAt)]),
  );
  return `${head}\n\nAssignments:\n${assignments}`;
}

export function assignmentTable(list: AssignmentInfo[]): string {
  return table(['ID', 'HOST', 'VOLUME', 'ACCESS', 'SHARING', 'CREATED'], list.map((a) => [a.id, a.hostName, a.volumeName, a.access, a.sharing, time(a.createdAt)]));
}

export function showAssignment(a: AssignmentInfo): string {
  return details([
    ['ID', a.id],
    ['Host', a.hostName],
    ['Volume', a.volumeName],
    ['Access', a.access],
    ['Sharing', a.sharing],
    ['Created', time(a.createdAt)],
  ]);
}

export function auditTable(list: AuditEntry[]): string {
  return table(
    ['ID', 'TIME', 'ACTOR', 'SOURCE', 'ACTION', 'OBJECT', 'OUTCOME'],
    list.map((e) => [
      e.id,
      time(e.at),
      e.actor,
      e.source,
      e.action,
      e.objectType ? `${e.objectType} ${e.objectName ?? e.objectId ?? ''}`.trim() : null,
      e.outcome === 'failure' ? `failure (${e.errorCode ?? '?'})` : e.outcome,
    ]),
  );
}

/** What a rollback did: a volume, or a share (VolumeInfo.share set), whose clients should mount it again. */
export function rolledBackText(v: Pick<VolumeInfo, 'name' | 'share'>, snapshot: string): string {
  return v.share
    ? `Rolled share '${v.share.name}' back to snapshot '${snapshot}': NFS clients should mount it again (handles to files made since are stale, and cached data may be newer than the files).`
    : `Rolled volume '${v.name}' back to snapshot '${snapshot}'.`;
}

/** What a clone made: a volume, or a share (VolumeInfo.share set) that starts as the snapshot. */
export function clonedText(v: Pick<VolumeInfo, 'name' | 'size' | 'share'>, snapshot: string, of: string): string {
  return v.share
    ? `Created share '${v.share.name}' (${size(v.size)}) from snapshot '${snapshot}' of share '${of}', with its export rules.`
    : `Created volume '${v.name}' (${size(v.size)}) from snapshot '${snapshot}' of volume '${of}'.`;
}
