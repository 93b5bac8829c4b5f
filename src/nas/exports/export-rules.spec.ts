import { describe, expect, it } from 'vitest';
import { InvalidArgument } from '../../common/errors';
import { CompiledExportRules, decideExport, squashCredential, type ExportRuleSpec, type UnixCredential } from './export-rules';

let n = 0;
/** A rule as the catalog hands it over, with the API's defaults unless told. */
function rule(clients: string[], more: Partial<ExportRuleSpec> = {}): ExportRuleSpec {
  n++;
  return {
    id: `rule-${n}`,
    position: n,
    clients,
    access: 'ro',
    squash: 'root_squash',
    anonUid: 65534,
    anonGid: 65534,
    requirePrivilegedPort: true,
    ...more,
  };
}

const root: UnixCredential = { uid: 0, gid: 0, gids: [0, 10, 100] };
const alice: UnixCredential = { uid: 1000, gid: 1000, gids: [1000, 27] };
const at = (address: string, port = 800) => ({ address, port });

describe('export decisions', () => {
  it('a share without rules admits nobody', () => {
    const d = decideExport([], at('10.0.0.1'), alice);
    expect(d).toEqual({ allowed: false, code: 'NO_RULES', rule: null, reason: 'the share has no export rules, so no client may use it' });
  });

  it('admits a matching client with the rule access, and refuses the others', () => {
    const rules = [rule(['10.0.0.0/8'], { access: 'rw' })];
    const yes = decideExport(rules, at('10.1.2.3'), alice);
    expect(yes).toMatchObject({ allowed: true, access: 'rw', credential: alice, squashed: false, rule: { id: rules[0].id } });
    expect(yes.reason).toBe('rule ' + rules[0].position + ' (10.0.0.0/8) admits 10.1.2.3 read-write');
    const no = decideExport(rules, at('192.0.2.1'), alice);
    expect(no).toEqual({ allowed: false, code: 'NO_MATCH', rule: null, reason: 'no export rule matches client 192.0.2.1' });
  });

  it('the first matching rule wins, in position order, not array order', () => {
    const wide = rule(['10.0.0.0/8'], { access: 'ro', position: 2 });
    const narrow = rule(['10.1.0.0/16'], { access: 'rw', position: 1 });
    const rules = new CompiledExportRules([wide, narrow]);
    expect(rules.decide(at('10.1.9.9'), alice)).toMatchObject({ allowed: true, access: 'rw', rule: { id: narrow.id, position: 1 } });
    expect(rules.decide(at('10.2.9.9'), alice)).toMatchObject({ allowed: true, access: 'ro', rule: { id: wide.id, position: 2 } });
    expect(rules.ruleFor('10.1.0.1')?.id).toBe(narrow.id);
    expect(rules.ruleFor('11.0.0.1')).toBeUndefined();
  });

  it('a rule that matches but refuses the port does not fall through to later rules', () => {
    const strict = rule(['10.0.0.0/8'], { requirePrivilegedPort: true, access: 'rw' });
    const lax = rule(['*'], { requirePrivilegedPort: false });
    const d = decideExport([strict, lax], at('10.0.0.5', 40312), alice);
    expect(d).toMatchObject({ allowed: false, code: 'PRIVILEGED_PORT_REQUIRED', rule: { id: strict.id } });
    expect(d.reason).toContain('requires a privileged source port (below 1024); client 10.0.0.5 used port 40312');
    // The same client from a reserved port, and another client from any port.
    expect(decideExport([strict, lax], at('10.0.0.5', 1023), alice)).toMatchObject({ allowed: true, access: 'rw' });
    expect(decideExport([strict, lax], at('10.0.0.5', 1024), alice)).toMatchObject({ allowed: false });
    expect(decideExport([strict, lax], at('192.0.2.1', 50000), alice)).toMatchObject({ allowed: true, access: 'ro', rule: { id: lax.id } });
  });

  it('insecure rules take any source port', () => {
    const r = [rule(['*'], { requirePrivilegedPort: false })];
    for (const port of [0, 111, 1023, 1024, 65535]) expect(decideExport(r, at('10.0.0.1', port), alice).allowed).toBe(true);
  });

  it('/0, /32 and /128 rules', () => {
    expect(decideExport([rule(['0.0.0.0/0'])], at('198.51.100.7'), alice).allowed).toBe(true);
    expect(decideExport([rule(['0.0.0.0/0'])], at('2001:db8::1'), alice).allowed).toBe(false);
    expect(decideExport([rule(['::/0'])], at('2001:db8::1'), alice).allowed).toBe(true);
    expect(decideExport([rule(['::/0'])], at('198.51.100.7'), alice).allowed).toBe(false);
    expect(decideExport([rule(['198.51.100.7/32'])], at('198.51.100.7'), alice).allowed).toBe(true);
    expect(decideExport([rule(['198.51.100.7'])], at('198.51.100.8'), alice).allowed).toBe(false);
    expect(decideExport([rule(['2001:db8::7/128'])], at('2001:db8::7'), alice).allowed).toBe(true);
    expect(decideExport([rule(['2001:db8::7'])], at('2001:db8::8'), alice).allowed).toBe(false);
  });

  it('IPv6 and v4-mapped clients', () => {
    const rules = new CompiledExportRules([rule(['10.0.0.0/8'], { access: 'rw' }), rule(['2001:db8::/32'])]);
    // A dual-stack socket reports a v4 client as ::ffff:a.b.c.d; the reason names it as IPv4.
    const mapped = rules.decide(at('::ffff:10.1.2.3'), alice);
    expect(mapped).toMatchObject({ allowed: true, access: 'rw' });
    expect(mapped.reason).toContain('admits 10.1.2.3 read-write');
    expect(rules.decide(at('2001:db8:1::5'), alice)).toMatchObject({ allowed: true, access: 'ro' });
    expect(rules.decide(at('2001:db9::5'), alice)).toMatchObject({ allowed: false, code: 'NO_MATCH' });
    expect(rules.decide(at('fe80::1%eth0'), alice)).toMatchObject({ allowed: false, code: 'NO_MATCH', reason: 'no export rule matches client fe80::1' });
  });

  it('an address that is not one is refused, not thrown', () => {
    for (const address of ['', 'unknown', '10.0.0', '::g']) {
      expect(decideExport([rule(['*'])], at(address), alice)).toEqual({ allowed: false, code: 'BAD_ADDRESS', rule: null, reason: `'${address}' is not an IP address` });
    }
  });

  it('remembers answers per address, bounded, and still answers right', () => {
    const rules = new CompiledExportRules([rule(['10.0.0.0/8'], { requirePrivilegedPort: false })]);
    for (let i = 0; i < 10_000; i++) {
      const a = `${i % 2 ? 10 : 11}.0.${(i >> 8) & 255}.${i & 255}`;
      expect(rules.decide(at(a), alice).allowed).toBe(i % 2 === 1);
      expect(rules.decide(at(a), alice).allowed).toBe(i % 2 === 1);
    }
  });

  it('refuses to compile an unreadable stored client', () => {
    expect(() => new CompiledExportRules([rule(['10.0.0.300'])])).toThrow(InvalidArgument);
  });
});

describe('squashing', () => {
  const base = { anonUid: 65534, anonGid: 65533 };

  it('root_squash maps uid 0, gid 0 and group 0 to the anonymous ids, and leaves others alone', () => {
    expect(squashCredential({ ...base, squash: 'root_squash' }, root)).toEqual({ uid: 65534, gid: 65533, gids: [65533, 10, 100] });
    expect(squashCredential({ ...base, squash: 'root_squash' }, alice)).toEqual(alice);
    // A non-root user in group 0 loses that group; root with a non-zero primary gid keeps the gid.
    expect(squashCredential({ ...base, squash: 'root_squash' }, { uid: 1000, gid: 1000, gids: [0, 5] })).toEqual({ uid: 1000, gid: 1000, gids: [65533, 5] });
    expect(squashCredential({ ...base, squash: 'root_squash' }, { uid: 0, gid: 50, gids: [] })).toEqual({ uid: 65534, gid: 50, gids: [] });
  });

  it('all_squash makes everyone anonymous, with no groups', () => {
    expect(squashCredential({ ...base, squash: 'all_squash' }, alice)).toEqual({ uid: 65534, gid: 65533, gids: [] });
    expect(squashCredential({ ...base, squash: 'all_squash' }, root)).toEqual({ uid: 65534, gid: 65533, gids: [] });
  });

  it('no_root_squash keeps the credential as sent', () => {
    expect(squashCredential({ ...base, squash: 'no_root_squash' }, root)).toEqual(root);
  });

  it('AUTH_NONE is anonymous whatever the mode', () => {
    for (const squash of ['root_squash', 'all_squash', 'no_root_squash'] as const) {
      expect(squashCredential({ ...base, squash }, null)).toEqual({ uid: 65534, gid: 65533, gids: [] });
    }
  });

  it('the decision carries the squashed credential and says so', () => {
    const r = rule(['*'], { access: 'rw', anonUid: 99, anonGid: 98, requirePrivilegedPort: false });
    const d = decideExport([r], at('10.0.0.1'), root);
    expect(d).toMatchObject({ allowed: true, squashed: true, credential: { uid: 99, gid: 98, gids: [98, 10, 100] } });
    expect(d.reason).toMatch(/read-write, acting as 99:98$/);
    const none = decideExport([r], at('10.0.0.1'), null);
    expect(none).toMatchObject({ allowed: true, squashed: true, credential: { uid: 99, gid: 98, gids: [] } });
    const asIs = decideExport([{ ...r, squash: 'no_root_squash' }], at('10.0.0.1'), root);
    expect(asIs).toMatchObject({ allowed: true, squashed: false, credential: root });
    const ro = decideExport([{ ...r, access: 'ro', squash: 'all_squash' }], at('10.0.0.1'), alice);
    expect(ro).toMatchObject({ allowed: true, access: 'ro', credential: { uid: 99, gid: 98, gids: [] } });
  });
});
