/**
 * How export rules read in the console, and the rule form's fields as the
 * API takes them. Pure, so the spec can pin the wording.
 */
import { formatTime, plural } from './format';
import { laterSnapshots } from './snapshots';
import type { ExportRuleBody, ExportRuleInfo, ShareFsckReport, ShareInfo, SnapshotInfo, Squash } from './types';

/** The conventional nobody/nogroup: the API's default anonymous ids. */
export const ANONYMOUS_ID = 65534;

export const SQUASH_CHOICES: ReadonlyArray<{ value: Squash; label: string }> = [
  { value: 'root_squash', label: 'root squash (root acts as the anonymous user)' },
  { value: 'all_squash', label: 'all squash (everyone acts as the anonymous user)' },
  { value: 'no_root_squash', label: 'no root squash (root stays root)' },
];

/** Clients as typed: separated by commas, blanks or new lines. */
export function clientsFromText(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((c) => c.trim())
    .filter((c) => c !== '');
}

export function squashText(r: Pick<ExportRuleInfo, 'squash' | 'anonUid' | 'anonGid'>): string {
  if (r.squash === 'no_root_squash') return 'none';
  const who = r.squash === 'all_squash' ? 'everyone' : 'root';
  const ids = r.anonUid === ANONYMOUS_ID && r.anonGid === ANONYMOUS_ID ? 'nobody' : `${r.anonUid}:${r.anonGid}`;
  return `${who} → ${ids}`;
}

export const portText = (r: Pick<ExportRuleInfo, 'requirePrivilegedPort'>) => (r.requirePrivilegedPort ? 'privileged only' : 'any');

export const accessText = (r: Pick<ExportRuleInfo, 'access'>) => (r.access === 'rw' ? 'read-write' : 'read-only');

export interface RuleFormState {
  clients: string;
  access: 'ro' | 'rw';
  squash: Squash;
  anonUid: string;
  anonGid: string;
  requirePrivilegedPort: boolean;
  comment: string;
}

export const EMPTY_RULE: RuleFormState = {
  clients: '',
  access: 'ro',
  squash: 'root_squash',
  anonUid: String(ANONYMOUS_ID),
  anonGid: String(ANONYMOUS_ID),
  requirePrivilegedPort: true,
  comment: '',
};

/** The form as an API body, or what is wrong with it (the API checks the clients themselves). */
export function ruleBody(f: RuleFormState): { body: ExportRuleBody } | { error: string } {
  const clients = clientsFromText(f.clients);
  if (clients.length === 0) return { error: 'Give at least one client: an address, a network like 10.0.0.0/8, or *.' };
  const id = (text: string, what: string) => {
    const t = text.trim();
    return /^\d+$/.test(t) && Number(t) <= 0xffffffff ? Number(t) : `${what} must be a whole number from 0 to 4294967295.`;
  };
  const anonUid = id(f.anonUid, 'The anonymous uid');
  if (typeof anonUid === 'string') return { error: anonUid };
  const anonGid = id(f.anonGid, 'The anonymous gid');
  if (typeof anonGid === 'string') return { error: anonGid };
  const comment = f.comment.trim();
  return {
    body: { clients, access: f.access, squash: f.squash, anonUid, anonGid, requirePrivilegedPort: f.requirePrivilegedPort, ...(comment && { comment }) },
  };
}

/** Where NFS clients find a share's snapshot, read-only: `/home/.snapshots/monday/` (docs/nas.md). */
export const snapshotPath = (sharePath: string, snapshot: string) => `${sharePath.replace(/\/+$/, '')}/.snapshots/${snapshot}/`;

/** One line for an fsck report: `clean: 12 files, 3 directories` or `2 problems: nlink 1, orphan 1`. */
export function fsckText(r: Pick<ShareFsckReport, 'clean' | 'problems' | 'byKind' | 'files' | 'directories'>): string {
  if (r.clean) return `clean: ${plural(r.files, 'file')}, ${r.directories} ${r.directories === 1 ? 'directory' : 'directories'}`;
  const kinds = Object.entries(r.byKind)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([kind, n]) => `${kind} ${n}`);
  return `${plural(r.problems.length, 'problem')}: ${kinds.join(', ')}`;
}

/** `2 rules: 10.0.0.0/8 read-write, * read-only`: the export rules a clone of the share gets, in order. */
export function rulesSummary(rules: Pick<ExportRuleInfo, 'position' | 'clients' | 'access'>[]): string {
  if (rules.length === 0) return 'no rules: no client may mount it until one is added';
  const each = [...rules].sort((a, b) => a.position - b.position).map((r) => `${r.clients.join(' ')} ${accessText(r)}`);
  return `${plural(rules.length, 'rule')}: ${each.join(', ')}`;
}

/** What rolling a share back to a snapshot loses and keeps (docs/nas.md Rollback), for its confirm dialog. */
export interface ShareRollbackWords {
  lost: string[];
  kept: string;
  clients: string;
}

export function shareRollbackWords(share: Pick<ShareInfo, 'name'>, snapshot: Pick<SnapshotInfo, 'id' | 'name' | 'createdAt'>, all: Pick<SnapshotInfo, 'id' | 'name' | 'createdAt'>[]): ShareRollbackWords {
  const later = laterSnapshots(snapshot, all);
  return {
    lost: [
      `everything written to ${share.name} since ${formatTime(snapshot.createdAt)}, when ${snapshot.name} was taken: files made since are gone, files changed since read as they were (take a snapshot first to keep them)`,
      'its files and their metadata (names, owners, modes, sizes) go back to the snapshot together',
    ],
    kept: later.length > 0 ? `Its snapshots stay, also the ones taken after this one (${later.join(', ')}).` : 'Its snapshots stay.',
    // The server refuses while NFSv3 clients have it mounted; NFSv4.1 clients are not in the MOUNT list, so it cannot name them.
    clients:
      'NFS clients should mount it again afterwards: a file made after the snapshot gives them stale handles for good, and their caches may hold newer data. Unmount NFSv4.1 clients first: the gateway cannot see them to refuse.',
  };
}

/** The clone dialog's explanation: what the new share starts as and what it inherits (docs/nas.md Clone). */
export function shareCloneText(share: Pick<ShareInfo, 'name' | 'poolName' | 'rules'>, snapshot: Pick<SnapshotInfo, 'name' | 'createdAt'>): string {
  return (
    `A new share that starts as snapshot ${snapshot.name}: the files of ${share.name} as they were at ${formatTime(snapshot.createdAt)}. ` +
    `It gets this share's export rules (${rulesSummary(share.rules)}), pool ${share.poolName}, size and sync setting, and a file-handle key of its own. ` +
    'Instant: it shares pages with the snapshot until either is written.'
  );
}
