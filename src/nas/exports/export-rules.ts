import type { ExportAccess, ExportRuleInfo, Squash } from '../../storage/domain';
import { formatAddress, parseAddress, parseClientPattern, patternMatches, type ClientPattern, type IpAddress } from './cidr';

/**
 * Who may use a share, how: a share's export rules against a caller (its
 * address and source port) and its AUTH_SYS credential. Pure; the NFS and
 * MOUNT handlers ask this on every call through the ExportTable.
 *
 * Semantics follow Linux's exports(5) where they overlap:
 * - the first rule whose client list matches the address decides; later
 *   rules are not consulted, even when the first one refuses (port check);
 * - a share without rules admits nobody;
 * - root_squash maps uid 0 to the anonymous uid and gid 0 to the anonymous
 *   gid, in the group list too; all_squash maps everyone and drops the
 *   groups; AUTH_NONE callers are always anonymous (fs/nfsd/auth.c).
 */

/** The user a call acts as: AUTH_SYS's uid, gid and group list. */
export interface UnixCredential {
  uid: number;
  gid: number;
  gids: readonly number[];
}

/** Where a call comes from, as its socket says. */
export interface ExportClient {
  /** `10.1.2.3`, `::ffff:10.1.2.3`, `2001:db8::7`, `fe80::1%eth0`. */
  address: string;
  port: number;
}

/** The fields of a rule the matcher reads (ExportRuleInfo has them all). */
export type ExportRuleSpec = Pick<ExportRuleInfo, 'id' | 'position' | 'clients' | 'access' | 'squash' | 'anonUid' | 'anonGid' | 'requirePrivilegedPort'>;

export type ExportDenial = 'NO_RULES' | 'NO_MATCH' | 'PRIVILEGED_PORT_REQUIRED' | 'BAD_ADDRESS';

export interface DecidingRule {
  id: string;
  position: number;
  clients: readonly string[];
}

export type ExportDecision =
  | {
      allowed: true;
      access: ExportAccess;
      /** The credential to check permissions with, after squashing. */
      credential: UnixCredential;
      /** Whether squashing changed anything. */
      squashed: boolean;
      rule: DecidingRule;
      reason: string;
    }
  | {
      allowed: false;
      code: ExportDenial;
      /** The rule that matched the address but refused (port), if any. */
      rule: DecidingRule | null;
      reason: string;
    };

/** Below this a source port is privileged (only root may bind it): Linux's IPPORT_RESERVED. */
export const PRIVILEGED_PORT_LIMIT = 1024;

/** The conventional `nobody`/`nogroup` ids, the default anonymous credential. */
export const ANONYMOUS_ID = 65534;

interface CompiledRule {
  spec: ExportRuleSpec;
  patterns: ClientPattern[];
  deciding: DecidingRule;
  /** How reasons name the rule, made once. */
  which: string;
}

/** Distinct addresses remembered per rule set before the memo starts over: bounds memory against address scans. */
const MEMO_LIMIT = 4096;

/**
 * A share's rules, parsed once. The address → rule lookup is memoized, so
 * the per-call cost for a known client is one Map lookup and the squash.
 */
export class CompiledExportRules {
  private readonly rules: CompiledRule[];
  /** Address text → index of the first matching rule (-1 for none, -2 for not an address) and the address as reasons show it. */
  private readonly memo = new Map<string, { rule: number; shown: string }>();

  /** Throws InvalidArgument when a stored client is not a valid pattern. */
  constructor(rules: readonly ExportRuleSpec[]) {
    this.rules = [...rules]
      .sort((a, b) => a.position - b.position)
      .map((spec) => ({
        spec,
        patterns: spec.clients.map((c, i) => parseClientPattern(c, `rule ${spec.position} clients[${i}]`)),
        deciding: { id: spec.id, position: spec.position, clients: spec.clients },
        which: `rule ${spec.position} (${spec.clients.join(', ')})`,
      }));
  }

  get size(): number {
    return this.rules.length;
  }

  /** Index of the first rule whose clients include the address (-1 none, -2 not an address), and the address as shown. */
  private find(address: string): { rule: number; shown: string } {
    let m = this.memo.get(address);
    if (m !== undefined) return m;
    const ip = parseAddress(address);
    // Parsed once per address: every call's decision reason names the client.
    m = { rule: ip ? this.firstMatch(ip) : -2, shown: ip ? formatAddress(ip) : address };
    if (this.memo.size >= MEMO_LIMIT) this.memo.clear();
    this.memo.set(address, m);
    return m;
  }

  private firstMatch(ip: IpAddress): number {
    for (let i = 0; i < this.rules.length; i++) {
      for (const p of this.rules[i].patterns) if (patternMatches(p, ip)) return i;
    }
    return -1;
  }

  /** The rule that decides for an address (before the port check), if any. */
  ruleFor(address: string): ExportRuleSpec | undefined {
    const i = this.find(address).rule;
    return i >= 0 ? this.rules[i].spec : undefined;
  }

  /** `credential` null: AUTH_NONE. */
  decide(client: ExportClient, credential: UnixCredential | null): ExportDecision {
    if (this.rules.length === 0) {
      return { allowed: false, code: 'NO_RULES', rule: null, reason: 'the share has no export rules, so no client may use it' };
    }
    const { rule: i, shown: who } = this.find(client.address);
    if (i === -2) return { allowed: false, code: 'BAD_ADDRESS', rule: null, reason: `'${client.address}' is not an IP address` };
    if (i === -1) return { allowed: false, code: 'NO_MATCH', rule: null, reason: `no export rule matches client ${who}` };
    const { spec, deciding, which } = this.rules[i];
    if (spec.requirePrivilegedPort && !(client.port >= 0 && client.port < PRIVILEGED_PORT_LIMIT)) {
      return {
        allowed: false,
        code: 'PRIVILEGED_PORT_REQUIRED',
        rule: deciding,
        reason: `${which} requires a privileged source port (below ${PRIVILEGED_PORT_LIMIT}); client ${who} used port ${client.port}`,
      };
    }
    const effective = squashCredential(spec, credential);
    const squashed = credential === null || !sameCredential(effective, credential);
    const as = squashed ? `, acting as ${effective.uid}:${effective.gid}` : '';
    return {
      allowed: true,
      access: spec.access,
      credential: effective,
      squashed,
      rule: deciding,
      reason: `${which} admits ${who} ${spec.access === 'rw' ? 'read-write' : 'read-only'}${as}`,
    };
  }
}

/** One-shot form of CompiledExportRules#decide, for callers without a table. */
export function decideExport(rules: readonly ExportRuleSpec[], client: ExportClient, credential: UnixCredential | null): ExportDecision {
  return new CompiledExportRules(rules).decide(client, credential);
}

/** The credential a rule makes of the caller's (null: AUTH_NONE, always anonymous). */
export function squashCredential(rule: { squash: Squash; anonUid: number; anonGid: number }, cred: UnixCredential | null): UnixCredential {
  if (cred === null || rule.squash === 'all_squash') return { uid: rule.anonUid, gid: rule.anonGid, gids: [] };
  if (rule.squash === 'no_root_squash') return cred;
  return {
    uid: cred.uid === 0 ? rule.anonUid : cred.uid,
    gid: cred.gid === 0 ? rule.anonGid : cred.gid,
    gids: cred.gids.includes(0) ? cred.gids.map((g) => (g === 0 ? rule.anonGid : g)) : cred.gids,
  };
}

function sameCredential(a: UnixCredential, b: UnixCredential): boolean {
  return a.uid === b.uid && a.gid === b.gid && a.gids === b.gids;
}
