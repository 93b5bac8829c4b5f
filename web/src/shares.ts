/**
 * How export rules read in the console, and the rule form's fields as the
 * API takes them. Pure, so the spec can pin the wording.
 */
import { plural } from './format';
import type { ExportRuleBody, ExportRuleInfo, ShareFsckReport, Squash } from './types';

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
