import { InvalidArgument } from '../../common/errors';

/**
 * Client networks of export rules: `*`, an IPv4 or IPv6 address (one host),
 * or a CIDR network (`10.0.0.0/8`, `2001:db8::/32`). Pure: no I/O, no Node
 * networking, so the storage manager validates with the same code the NFS
 * data path matches with.
 *
 * IPv4-mapped IPv6 (`::ffff:a.b.c.d`) is IPv4 everywhere: a dual-stack
 * socket reports v4 clients that way, and a rule for `::ffff:10.0.0.0/104`
 * is stored as `10.0.0.0/8`. So `10.0.0.0/8` matches a v4 client however its
 * socket spells it, and `::/0` means IPv6 clients only.
 */

/** An address: IPv4 as one unsigned 32-bit word, IPv6 as four (network order). */
export type IpAddress = { family: 4; v4: number } | { family: 6; v6: readonly [number, number, number, number] };

export type ClientPattern =
  | { kind: 'any' }
  | { kind: 'v4'; net: number; mask: number; bits: number }
  | { kind: 'v6'; net: readonly [number, number, number, number]; mask: readonly [number, number, number, number]; bits: number };

const V4_PART = /^(0|[1-9][0-9]{0,2})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** Parse dotted-quad IPv4; a string says what is wrong. */
function parseV4(text: string): number | string {
  const parts = text.split('.');
  if (parts.length !== 4) return `'${text}' is not an IPv4 address: it needs four numbers separated by dots`;
  let value = 0;
  for (const p of parts) {
    if (p === '') return `'${text}' is not an IPv4 address: a number is missing between dots`;
    if (!/^[0-9]+$/.test(p)) return `'${text}' is not an IPv4 address: '${p}' is not a decimal number`;
    if (!V4_PART.test(p)) {
      // 010 is 8 to inet_aton and 10 to people: refuse to guess.
      if (p.length > 1 && p.startsWith('0')) return `'${text}': '${p}' has a leading zero, which some tools read as octal; write ${Number(p)}`;
      return `'${text}': ${p} is not between 0 and 255`;
    }
    const n = Number(p);
    if (n > 255) return `'${text}': ${p} is not between 0 and 255`;
    value = value * 256 + n;
  }
  return value >>> 0;
}

/** Parse IPv6 text (RFC 4291 section 2.2, with an optional dotted IPv4 tail); a string says what is wrong. */
function parseV6(text: string): [number, number, number, number] | string {
  if (text.includes(':::')) return `'${text}' is not an IPv6 address: ':::' is not valid`;
  const halves = text.split('::');
  if (halves.length > 2) return `'${text}' is not an IPv6 address: '::' may appear only once`;
  const groups = (side: string, last: boolean): number[] | string => {
    if (side === '') return [];
    const out: number[] = [];
    const parts = side.split(':');
    for (const [i, p] of parts.entries()) {
      if (p === '') return `'${text}' is not an IPv6 address: an empty group (a single ':' at the start or end, or '::' needed)`;
      if (p.includes('.')) {
        if (i !== parts.length - 1 || !last) return `'${text}': an embedded IPv4 address may only end an IPv6 address`;
        const v4 = parseV4(p);
        if (typeof v4 === 'string') return v4;
        out.push(v4 >>> 16, v4 & 0xffff);
      } else if (!HEX_GROUP.test(p)) {
        return /^[0-9a-fA-F]+$/.test(p)
          ? `'${text}' is not an IPv6 address: group '${p}' has more than 4 hex digits`
          : `'${text}' is not an IPv6 address: '${p}' is not a group of hex digits`;
      } else {
        out.push(parseInt(p, 16));
      }
    }
    return out;
  };
  const head = groups(halves[0], halves.length === 1);
  if (typeof head === 'string') return head;
  let all: number[];
  if (halves.length === 2) {
    const tail = groups(halves[1], true);
    if (typeof tail === 'string') return tail;
    const missing = 8 - head.length - tail.length;
    if (missing < 1) return `'${text}' is not an IPv6 address: '::' stands for at least one zero group, but ${head.length + tail.length} groups are given`;
    all = [...head, ...new Array<number>(missing).fill(0), ...tail];
  } else {
    if (head.length !== 8) return `'${text}' is not an IPv6 address: it has ${head.length} groups, an IPv6 address has 8 (or use '::')`;
    all = head;
  }
  return [((all[0] << 16) | all[1]) >>> 0, ((all[2] << 16) | all[3]) >>> 0, ((all[4] << 16) | all[5]) >>> 0, ((all[6] << 16) | all[7]) >>> 0];
}

const isMapped = (w: readonly number[]) => w[0] === 0 && w[1] === 0 && w[2] === 0xffff;

/** IPv4, or IPv6 with v4-mapped folded to IPv4; a string says what is wrong. */
function parseIp(text: string): IpAddress | string {
  if (text.includes(':')) {
    const words = parseV6(text);
    if (typeof words === 'string') return words;
    return isMapped(words) ? { family: 4, v4: words[3] } : { family: 6, v6: words };
  }
  const v4 = parseV4(text);
  return typeof v4 === 'string' ? v4 : { family: 4, v4 };
}

/**
 * A client's address as its socket reports it (`10.1.2.3`, `::ffff:10.1.2.3`,
 * `fe80::1%eth0`): the data path's parser. Null when it is not an address.
 */
export function parseAddress(text: string): IpAddress | null {
  const zone = text.indexOf('%');
  const parsed = parseIp(zone >= 0 ? text.slice(0, zone) : text);
  return typeof parsed === 'string' ? null : parsed;
}

const v4Mask = (bits: number) => (bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0);

function v6Mask(bits: number): [number, number, number, number] {
  const m: [number, number, number, number] = [0, 0, 0, 0];
  for (let i = 0; i < 4; i++) m[i] = v4Mask(Math.max(0, Math.min(32, bits - 32 * i)));
  return m;
}

/**
 * Parse one client of an export rule. Throws InvalidArgument naming `field`
 * and saying exactly what is wrong (and, for a network with host bits set,
 * which network was probably meant).
 */
export function parseClientPattern(input: unknown, field = 'clients'): ClientPattern {
  const bad = (why: string) => new InvalidArgument(`${field}: ${why}`, field);
  if (typeof input !== 'string') throw bad('a client is a string: an IP address, a CIDR network (10.0.0.0/8, 2001:db8::/32) or *');
  const text = input.trim();
  if (text === '*') return { kind: 'any' };
  if (text === '') throw bad("a client is an IP address, a CIDR network (10.0.0.0/8, 2001:db8::/32) or *; got ''");
  if (text.startsWith('@')) throw bad(`'${text}': netgroups are not supported; give an IP address, a CIDR network or *`);
  if (text.includes('%')) throw bad(`'${text}': zone ids (%eth0) have no meaning in an export rule; give the address without it`);
  const slash = text.indexOf('/');
  const addrText = slash >= 0 ? text.slice(0, slash) : text;
  if (!addrText.includes(':') && /[A-Za-z*?_]/.test(addrText)) {
    throw bad(`'${text}': host names and wildcards are not supported; give an IP address, a CIDR network or *`);
  }
  const ip = parseIp(addrText);
  if (typeof ip === 'string') throw bad(ip);
  const v6Text = addrText.includes(':');
  const maxBits = v6Text ? 128 : 32;
  let bits = maxBits;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^(0|[1-9][0-9]*)$/.test(p)) throw bad(`'${text}': the prefix length after '/' must be a whole number, not '${p}'`);
    bits = Number(p);
    if (bits > maxBits) throw bad(`'${text}': /${bits} is too long for an ${v6Text ? 'IPv6' : 'IPv4'} address (at most /${maxBits})`);
  }
  if (ip.family === 4 && v6Text) {
    // ::ffff:a.b.c.d/n names the IPv4 network a.b.c.d/(n-96).
    if (bits < 96) throw bad(`'${text}': a v4-mapped network needs a prefix of at least /96 (it is matched as IPv4); write an IPv4 network instead`);
    bits -= 96;
  }
  if (ip.family === 4) {
    const mask = v4Mask(bits);
    if ((ip.v4 & ~mask) >>> 0 !== 0) {
      const net = formatV4((ip.v4 & mask) >>> 0);
      throw bad(`'${text}' has bits set beyond the /${bits} prefix: the network is ${net}/${bits} (or write ${formatV4(ip.v4)} for that one host)`);
    }
    return { kind: 'v4', net: ip.v4, mask, bits };
  }
  const mask = v6Mask(bits);
  if (ip.v6.some((w, i) => (w & ~mask[i]) >>> 0 !== 0)) {
    const net = formatV6(ip.v6.map((w, i) => (w & mask[i]) >>> 0));
    throw bad(`'${text}' has bits set beyond the /${bits} prefix: the network is ${net}/${bits} (or write ${formatV6(ip.v6)} for that one host)`);
  }
  return { kind: 'v6', net: ip.v6, mask, bits };
}

/** Whether a parsed client address falls in a pattern. */
export function patternMatches(p: ClientPattern, ip: IpAddress): boolean {
  if (p.kind === 'any') return true;
  if (p.kind === 'v4') return ip.family === 4 && ((ip.v4 ^ p.net) & p.mask) === 0;
  if (ip.family !== 6) return false;
  for (let i = 0; i < 4; i++) if (((ip.v6[i] ^ p.net[i]) & p.mask[i]) !== 0) return false;
  return true;
}

export function formatV4(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** RFC 5952 text: lower case, no leading zeros, the longest run of two or more zero groups (the first on a tie) as '::'. */
export function formatV6(words: readonly number[]): string {
  const g: number[] = [];
  for (const w of words) g.push(w >>> 16, w & 0xffff);
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (a: number[]) => a.map((x) => x.toString(16)).join(':');
  if (best < 0) return hex(g);
  return `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

export function formatAddress(ip: IpAddress): string {
  return ip.family === 4 ? formatV4(ip.v4) : formatV6(ip.v6);
}

/** The one spelling a pattern is stored and shown in: `*`, `10.0.0.0/8`, `10.1.2.3`, `2001:db8::/32`, `2001:db8::1`. */
export function formatPattern(p: ClientPattern): string {
  if (p.kind === 'any') return '*';
  if (p.kind === 'v4') return p.bits === 32 ? formatV4(p.net) : `${formatV4(p.net)}/${p.bits}`;
  return p.bits === 128 ? formatV6(p.net) : `${formatV6(p.net)}/${p.bits}`;
}

/** Parse and respell a client: what the catalog stores. */
export function canonicalClient(input: unknown, field = 'clients'): string {
  return formatPattern(parseClientPattern(input, field));
}
