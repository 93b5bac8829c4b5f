import { describe, expect, it } from 'vitest';
import { InvalidArgument } from '../../common/errors';
import { canonicalClient, formatV6, parseAddress, parseClientPattern, patternMatches } from './cidr';

const matches = (pattern: string, address: string) => {
  const ip = parseAddress(address);
  if (!ip) throw new Error(`test address ${address} did not parse`);
  return patternMatches(parseClientPattern(pattern), ip);
};

/** The message of the InvalidArgument that parsing `text` throws. */
function refusal(text: unknown, field?: string): string {
  try {
    parseClientPattern(text, field);
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidArgument);
    return (e as Error).message;
  }
  throw new Error(`'${String(text)}' was accepted`);
}

describe('client patterns: canonical spelling', () => {
  it.each([
    ['*', '*'],
    [' * ', '*'],
    ['10.0.0.0/8', '10.0.0.0/8'],
    ['10.1.2.3', '10.1.2.3'],
    ['10.1.2.3/32', '10.1.2.3'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['255.255.255.255', '255.255.255.255'],
    ['2001:DB8::/32', '2001:db8::/32'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8::1/128', '2001:db8::1'],
    ['::/0', '::/0'],
    ['::', '::'],
    ['::1', '::1'],
    ['fe80::/10', 'fe80::/10'],
    // RFC 5952: the longest zero run is compressed, the first one on a tie, never a single group.
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1'],
    ['2001:db8:1:1:1:1:0:1', '2001:db8:1:1:1:1:0:1'],
    ['1:0:0:0:0:0:0:0', '1::'],
    // v4-mapped networks are IPv4 networks.
    ['::ffff:10.0.0.0/104', '10.0.0.0/8'],
    ['::ffff:10.1.2.3', '10.1.2.3'],
    ['::ffff:0:0/96', '0.0.0.0/0'],
    ['::ffff:a01:203', '10.1.2.3'],
    // An embedded IPv4 tail outside the mapped range stays IPv6.
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
  ])('%s → %s', (input, canonical) => {
    expect(canonicalClient(input)).toBe(canonical);
  });
});

describe('client patterns: precise refusals', () => {
  it.each([
    ['', "got ''"],
    ['10.0.0', 'needs four numbers separated by dots'],
    ['10.0.0.0.1', 'needs four numbers separated by dots'],
    ['10..0.1', 'a number is missing between dots'],
    ['10.0.0.256', '256 is not between 0 and 255'],
    ['010.0.0.1', "'010' has a leading zero, which some tools read as octal; write 10"],
    ['10.0.0.-1', "'-1' is not a decimal number"],
    ['10.0.0.0/33', '/33 is too long for an IPv4 address (at most /32)'],
    ['2001:db8::/129', '/129 is too long for an IPv6 address (at most /128)'],
    ['10.0.0.0/', "must be a whole number, not ''"],
    ['10.0.0.0/08', "must be a whole number, not '08'"],
    ['10.0.0.0/a', "must be a whole number, not 'a'"],
    ['10.1.2.3/8', "'10.1.2.3/8' has bits set beyond the /8 prefix: the network is 10.0.0.0/8 (or write 10.1.2.3 for that one host)"],
    ['2001:db8::1/32', 'the network is 2001:db8::/32 (or write 2001:db8::1 for that one host)'],
    ['2001:db8:::1', "':::' is not valid"],
    ['1::2::3', "'::' may appear only once"],
    ['12345::', "group '12345' has more than 4 hex digits"],
    ['2001:db8:g::', "'g' is not a group of hex digits"],
    ['1:2:3:4:5:6:7', 'it has 7 groups, an IPv6 address has 8'],
    ['1:2:3:4:5:6:7:8:9', 'it has 9 groups'],
    ['1:2:3:4::5:6:7:8', "'::' stands for at least one zero group, but 8 groups are given"],
    [':1:2:3:4:5:6:7', 'an empty group'],
    ['1.2.3.4::', 'an embedded IPv4 address may only end an IPv6 address'],
    ['::ffff:1.2.3.999', '999 is not between 0 and 255'],
    ['::ffff:10.0.0.0/64', 'a v4-mapped network needs a prefix of at least /96'],
    ['fe80::1%eth0', 'zone ids (%eth0) have no meaning'],
    ['host.example.com', 'host names and wildcards are not supported'],
    ['*.example.com', 'host names and wildcards are not supported'],
    ['cafe', 'host names and wildcards are not supported'],
    ['@trusted', 'netgroups are not supported'],
  ])('%s: %s', (input, message) => {
    expect(refusal(input)).toContain(message);
  });

  it('names the field and refuses what is not text', () => {
    expect(refusal('10.0.0.300', 'rules[1].clients[0]')).toMatch(/^rules\[1\]\.clients\[0\]: /);
    const e = (() => {
      try {
        parseClientPattern('x.y', 'rules[0].clients[2]');
      } catch (err) {
        return err as InvalidArgument;
      }
    })();
    expect(e?.details).toEqual({ field: 'rules[0].clients[2]' });
    for (const v of [42, null, undefined, ['10.0.0.1'], { a: 1 }]) expect(refusal(v)).toContain('a client is a string');
  });
});

describe('client addresses (the data path)', () => {
  it('reads IPv4, IPv6, v4-mapped, and drops a zone id', () => {
    expect(parseAddress('10.1.2.3')).toEqual({ family: 4, v4: 0x0a010203 });
    expect(parseAddress('::ffff:10.1.2.3')).toEqual({ family: 4, v4: 0x0a010203 });
    expect(parseAddress('::FFFF:a01:203')).toEqual({ family: 4, v4: 0x0a010203 });
    expect(parseAddress('2001:db8::7')).toEqual({ family: 6, v6: [0x20010db8, 0, 0, 7] });
    expect(parseAddress('fe80::1%eth0')).toEqual({ family: 6, v6: [0xfe800000, 0, 0, 1] });
    for (const bad of ['', 'localhost', '1.2.3', '::g', '1.2.3.4.5', '01.2.3.4']) expect(parseAddress(bad)).toBeNull();
  });

  it('formats v6 words per RFC 5952', () => {
    expect(formatV6([0, 0, 0, 0])).toBe('::');
    expect(formatV6([0, 0, 0, 1])).toBe('::1');
    expect(formatV6([0x20010db8, 0, 0, 0])).toBe('2001:db8::');
  });
});

describe('matching', () => {
  it('IPv4 networks, from /0 to /32', () => {
    expect(matches('0.0.0.0/0', '203.0.113.9')).toBe(true);
    expect(matches('10.0.0.0/8', '10.255.255.255')).toBe(true);
    expect(matches('10.0.0.0/8', '11.0.0.0')).toBe(false);
    expect(matches('192.168.1.0/24', '192.168.1.77')).toBe(true);
    expect(matches('192.168.1.0/24', '192.168.2.77')).toBe(false);
    expect(matches('192.168.1.128/25', '192.168.1.127')).toBe(false);
    expect(matches('192.168.1.128/25', '192.168.1.128')).toBe(true);
    expect(matches('10.1.2.3', '10.1.2.3')).toBe(true);
    expect(matches('10.1.2.3/32', '10.1.2.4')).toBe(false);
    // The top bit set: unsigned arithmetic.
    expect(matches('128.0.0.0/1', '255.1.2.3')).toBe(true);
    expect(matches('128.0.0.0/1', '127.1.2.3')).toBe(false);
    expect(matches('255.255.255.255', '255.255.255.255')).toBe(true);
  });

  it('IPv6 networks, from /0 to /128, across word boundaries', () => {
    expect(matches('::/0', '2001:db8::1')).toBe(true);
    expect(matches('2001:db8::/32', '2001:db8:ffff::1')).toBe(true);
    expect(matches('2001:db8::/32', '2001:db9::1')).toBe(false);
    expect(matches('2001:db8:0:1::/64', '2001:db8:0:1:ffff:ffff:ffff:ffff')).toBe(true);
    expect(matches('2001:db8:0:1::/64', '2001:db8:0:2::')).toBe(false);
    expect(matches('2001:db8::/33', '2001:db8:7fff::')).toBe(true);
    expect(matches('2001:db8::/33', '2001:db8:8000::')).toBe(false);
    expect(matches('2001:db8::1', '2001:db8::1')).toBe(true);
    expect(matches('2001:db8::1/128', '2001:db8::2')).toBe(false);
    expect(matches('fe80::/10', 'fe80::1%eth0')).toBe(true);
  });

  it('v4-mapped clients match IPv4 rules and only those; * matches all', () => {
    expect(matches('10.0.0.0/8', '::ffff:10.9.8.7')).toBe(true);
    expect(matches('::ffff:10.0.0.0/104', '10.9.8.7')).toBe(true);
    expect(matches('::/0', '::ffff:10.9.8.7')).toBe(false);
    expect(matches('::/0', '10.9.8.7')).toBe(false);
    expect(matches('0.0.0.0/0', '2001:db8::1')).toBe(false);
    for (const a of ['10.0.0.1', '::ffff:10.0.0.1', '2001:db8::1', '::1']) expect(matches('*', a)).toBe(true);
  });

  it('never throws but its own error on random text (seeded)', () => {
    let seed = 42;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const alphabet = '0123456789abcdefABCDEF:./%*- x@';
    for (let i = 0; i < 5000; i++) {
      const len = Math.floor(rand() * 24);
      let s = '';
      for (let j = 0; j < len; j++) s += alphabet[Math.floor(rand() * alphabet.length)];
      try {
        const p = parseClientPattern(s);
        // Whatever parses re-parses to itself.
        const c = canonicalClient(s);
        expect(canonicalClient(c)).toBe(c);
        expect(p.kind).toMatch(/^(any|v4|v6)$/);
      } catch (e) {
        expect(e).toBeInstanceOf(InvalidArgument);
      }
      parseAddress(s);
    }
  });
});
