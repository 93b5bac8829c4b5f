/**
 * Export-rule flags as the CLI and the SSH shell both take them, turned into
 * the API's rule fields. The API checks values and ranges; this only reads
 * the words. No commander here: the shell imports it.
 */
export interface RuleFlags {
  /** Comma-separated: `10.0.0.0/8,2001:db8::/32`. */
  clients?: string;
  access?: string;
  /** --rw on `rule add`: read-write (the default is read-only). */
  rw?: boolean;
  squash?: string;
  anonUid?: string;
  anonGid?: string;
  secure?: boolean;
  insecure?: boolean;
  comment?: string;
  position?: string;
}

export const SQUASH_MODES = ['root_squash', 'all_squash', 'no_root_squash'] as const;

/** `fail` makes the caller's usage error (the CLI's and the shell's differ). */
export function ruleFields(f: RuleFlags, fail: (message: string) => Error): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (f.clients !== undefined) {
    const clients = f.clients
      .split(',')
      .map((c) => c.trim())
      .filter((c) => c !== '');
    if (clients.length === 0) throw fail('give at least one client: an address, a CIDR network or *, comma-separated');
    out.clients = clients;
  }
  if (f.rw && f.access === 'ro') throw fail('--rw and --access ro contradict each other');
  if (f.rw) out.access = 'rw';
  if (f.access !== undefined) {
    if (f.access !== 'rw' && f.access !== 'ro') throw fail(`--access must be rw or ro, not '${f.access}'`);
    out.access = f.access;
  }
  if (f.squash !== undefined) {
    if (!(SQUASH_MODES as readonly string[]).includes(f.squash)) throw fail(`--squash must be ${SQUASH_MODES.join(', ')}, not '${f.squash}'`);
    out.squash = f.squash;
  }
  const whole = (value: string | undefined, flag: string) => {
    if (value === undefined) return undefined;
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) throw fail(`--${flag} must be a whole number, not '${value}'`);
    return Number(value);
  };
  if (f.anonUid !== undefined) out.anonUid = whole(f.anonUid, 'anon-uid');
  if (f.anonGid !== undefined) out.anonGid = whole(f.anonGid, 'anon-gid');
  if (f.position !== undefined) out.position = whole(f.position, 'position');
  if (f.secure && f.insecure) throw fail('--secure and --insecure contradict each other');
  if (f.secure) out.requirePrivilegedPort = true;
  if (f.insecure) out.requirePrivilegedPort = false;
  // An empty comment clears it.
  if (f.comment !== undefined) out.comment = f.comment === '' ? null : f.comment;
  return out;
}
