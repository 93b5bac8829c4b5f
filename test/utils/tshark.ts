import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Wireshark's dissectors as an independent judge of what our servers put on the wire: tshark reads a pcap
 * (PcapRecorder's) and prints PDML, the full protocol tree of each packet as XML, parsed here into nodes.
 */

/** One PDML <proto> or <field>: the field's filter name (empty for text-only nodes), what tshark shows, the bytes it covers. */
export interface PdmlNode {
  name: string;
  show: string;
  showname: string;
  /** The raw bytes in hex, when tshark gives them. */
  value?: string;
  pos: number;
  size: number;
  children: PdmlNode[];
}

export interface PdmlPacket {
  /** frame.number */
  frame: number;
  root: PdmlNode;
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function unescapeXml(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|lt|gt|amp|quot|apos);/g, (_, e: string) => {
    if (e.startsWith('#x')) return String.fromCodePoint(parseInt(e.slice(2), 16));
    if (e.startsWith('#')) return String.fromCodePoint(Number(e.slice(1)));
    return ENTITIES[e];
  });
}

/** PDML as tshark writes it: <packet>, <proto> and <field> elements whose data is all in attributes. */
export function parsePdml(xml: string): PdmlPacket[] {
  const packets: PdmlPacket[] = [];
  const stack: PdmlNode[] = [];
  const tag = /<(\/?)(packet|proto|field)\b([^>]*?)(\/?)>/g;
  const attr = /([\w.:-]+)="([^"]*)"/g;
  for (let m = tag.exec(xml); m; m = tag.exec(xml)) {
    const [, closing, kind, attrs, selfClosing] = m;
    if (closing) {
      const done = stack.pop();
      if (kind === 'packet' && done) {
        const frame = Number(findAll(done, 'frame.number')[0]?.show ?? NaN);
        packets.push({ frame, root: done });
      }
      continue;
    }
    const a: Record<string, string> = {};
    for (let x = attr.exec(attrs); x; x = attr.exec(attrs)) a[x[1]] = unescapeXml(x[2]);
    const node: PdmlNode = { name: a.name ?? '', show: a.show ?? '', showname: a.showname ?? '', value: a.value, pos: Number(a.pos ?? 0), size: Number(a.size ?? 0), children: [] };
    stack[stack.length - 1]?.children.push(node);
    if (!selfClosing) stack.push(node);
  }
  return packets;
}

/** Every node below `n` (not `n` itself) with this name, depth first in tree order. */
export function findAll(n: PdmlNode, name: string): PdmlNode[] {
  const out: PdmlNode[] = [];
  const walk = (x: PdmlNode) => {
    for (const c of x.children) {
      if (c.name === name) out.push(c);
      walk(c);
    }
  };
  walk(n);
  return out;
}

/** The first node below `n` with this name, or an error naming what is missing. */
export function find(n: PdmlNode, name: string): PdmlNode {
  const hit = findAll(n, name)[0];
  if (!hit) throw new Error(`no ${name} under ${n.name || n.show}`);
  return hit;
}

/** The direct children of `n` with this name. */
export function childrenNamed(n: PdmlNode, name: string): PdmlNode[] {
  return n.children.filter((c) => c.name === name);
}

/* epan/proto.h: PI_COMMENT 0x00100000, PI_CHAT 0x00200000, PI_NOTE 0x00400000, PI_WARN 0x00600000, PI_ERROR 0x00800000 */
export const enum Severity {
  COMMENT = 0x00100000,
  CHAT = 0x00200000,
  NOTE = 0x00400000,
  WARN = 0x00600000,
  ERROR = 0x00800000,
}

export interface ExpertInfo {
  frame: number;
  severity: number;
  message: string;
}

/** The expert infos tshark attached anywhere in a packet's tree. */
export function expertInfos(p: PdmlPacket): ExpertInfo[] {
  return findAll(p.root, '_ws.expert').map((e) => ({ frame: p.frame, severity: Number(find(e, '_ws.expert.severity').show), message: find(e, '_ws.expert.message').show }));
}

/** Whether tshark gave up on part of a packet (the dissector ran past the data or threw). */
export function isMalformed(p: PdmlPacket): boolean {
  return findAll(p.root, '_ws.malformed').length > 0;
}

/**
 * Dissect a capture with the full tree. TCP streams to `rpcPorts` are decoded as ONC RPC, records
 * reassembled across segments. Expert infos are read from this pass: tshark 4.0's NFS dissector reports
 * "bitmap data left undissected" for every fattr4 when it runs without a tree (as `-z expert` does), even
 * for a GETATTR reply of the single attribute `type`; with the tree built, it walks the values and has
 * nothing left over.
 */
export async function dissect(file: string, rpcPorts: number[], filter?: string): Promise<PdmlPacket[]> {
  const args = ['-r', file, '-2', '-n', '-o', 'rpc.desegment_rpc_over_tcp:TRUE', '-o', 'rpc.defragment_rpc_over_tcp:TRUE', '-o', 'rpc.dissect_unknown_programs:TRUE', '-o', 'tcp.desegment_tcp_streams:TRUE', '-o', 'ip.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE'];
  for (const p of rpcPorts) args.push('-d', `tcp.port==${p},rpc`);
  if (filter) args.push('-Y', filter);
  args.push('-T', 'pdml');
  const { stdout } = await run('tshark', args, { maxBuffer: 1 << 30, env: { ...process.env, LC_ALL: 'C' } });
  return parsePdml(stdout);
}
