import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { type AddressInfo, connect, createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { internetChecksum, ipv4TcpPacket, MAX_SEGMENT, pcapGlobalHeader, pcapRecord, TcpConversation, TcpFlag } from './pcap';
import { PcapRecorder } from './pcap-recorder';
import { has } from './tools';
import { dissect, expertInfos, find, findAll, isMalformed, Severity } from './tshark';

/*
 * Reference bytes written by hand from the pcap format (tcpdump.org pcap-savefile(5)), RFC 791 and RFC 9293;
 * the checksums in them were computed apart from this code (RFC 1071's algorithm in a few lines of Python).
 */
const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+|#[^\n]*/g, ''), 'hex');
const CLIENT = { ip: '10.0.0.1', port: 40000 };
const SERVER = { ip: '10.0.0.2', port: 2049 };

const SYN_BYTES = `
  45 00 002c 0001 4000 40 06 26c9 0a000001 0a000002  # IPv4: 44 bytes, id 1, DF, TTL 64, TCP, checksum
  9c40 0801                                           # ports 40000 -> 2049
  10000000 00000000                                   # seq 0x10000000, no ack
  60 02 ffff d390 0000                                # 6 words, SYN, window, checksum, urgent
  01 03 03 07                                         # NOP, window scale 7`;

const DATA_BYTES = `
  45 00 002b 0003 4000 40 06 26c8 0a000001 0a000002  # 43 bytes, id 3
  9c40 0801 10000001 20000001                         # seq and ack after the handshake
  50 18 ffff 0321 0000                                # 5 words, PSH|ACK
  616263                                              # 'abc', odd: the checksum pads it`;

describe('pcap writer', () => {
  it('computes the RFC 1071 checksum of its example, in one piece or split at any byte', () => {
    const data = hex('0001 f203 f4f5 f6f7');
    expect(internetChecksum([data])).toBe(0x220d);
    for (let i = 0; i <= data.length; i++) expect(internetChecksum([data.subarray(0, i), data.subarray(i)])).toBe(0x220d);
  });

  it('writes the global header: microsecond magic, version 2.4, snap length, LINKTYPE_RAW', () => {
    expect(pcapGlobalHeader()).toEqual(hex('d4c3b2a1 0200 0400 00000000 00000000 00000400 65000000'));
  });

  it('writes a record header of seconds, microseconds and both lengths before the packet', () => {
    expect(pcapRecord(1_700_000_000_123_456, hex('abcd'))).toEqual(hex('00f15365 40e20100 02000000 02000000 abcd'));
  });

  it('builds a SYN with a window scale option and a data segment as reference bytes', () => {
    expect(ipv4TcpPacket({ src: CLIENT, dst: SERVER, seq: 0x10000000, ack: 0, flags: TcpFlag.SYN, id: 1, options: hex('01030307') })).toEqual(hex(SYN_BYTES));
    expect(ipv4TcpPacket({ src: CLIENT, dst: SERVER, seq: 0x10000001, ack: 0x20000001, flags: TcpFlag.PSH | TcpFlag.ACK, id: 3, payload: Buffer.from('abc') })).toEqual(hex(DATA_BYTES));
  });

  it('keeps sequence numbers per direction: SYN and FIN count one, data its length; each chunk is split and acknowledged', () => {
    const tcp = new TcpConversation(CLIENT, SERVER, { client: 100, server: 5000 });
    const seqAck = (p: Buffer) => ({ from: p.readUInt16BE(20), seq: p.readUInt32BE(24), ack: p.readUInt32BE(28), flags: p[33], len: p.length - 20 - (p[32] >> 4) * 4 });
    const open = tcp.open().map(seqAck);
    expect(open).toEqual([
      { from: 40000, seq: 100, ack: 0, flags: TcpFlag.SYN, len: 0 },
      { from: 2049, seq: 5000, ack: 101, flags: TcpFlag.SYN | TcpFlag.ACK, len: 0 },
      { from: 40000, seq: 101, ack: 5001, flags: TcpFlag.ACK, len: 0 },
    ]);
    const big = tcp.data('server', Buffer.alloc(2 * MAX_SEGMENT + 7)).map(seqAck);
    const PA = TcpFlag.PSH | TcpFlag.ACK;
    expect(big).toEqual([
      { from: 2049, seq: 5001, ack: 101, flags: PA, len: MAX_SEGMENT },
      { from: 2049, seq: 5001 + MAX_SEGMENT, ack: 101, flags: PA, len: MAX_SEGMENT },
      { from: 2049, seq: 5001 + 2 * MAX_SEGMENT, ack: 101, flags: PA, len: 7 },
      { from: 40000, seq: 101, ack: 5008 + 2 * MAX_SEGMENT, flags: TcpFlag.ACK, len: 0 },
    ]);
    expect(tcp.data('client', Buffer.alloc(0))).toEqual([]);
    expect(tcp.fin('client').map(seqAck)).toEqual([
      { from: 40000, seq: 101, ack: 5008 + 2 * MAX_SEGMENT, flags: TcpFlag.FIN | TcpFlag.ACK, len: 0 },
      { from: 2049, seq: 5008 + 2 * MAX_SEGMENT, ack: 102, flags: TcpFlag.ACK, len: 0 },
    ]);
  });

  it('refuses what cannot be one IPv4 packet', () => {
    expect(() => ipv4TcpPacket({ src: CLIENT, dst: SERVER, seq: 0, ack: 0, flags: 0, id: 0, payload: Buffer.alloc(65_496) })).toThrow(/does not fit/);
    expect(() => ipv4TcpPacket({ src: { ip: '10.0.0', port: 1 }, dst: SERVER, seq: 0, ack: 0, flags: 0, id: 0 })).toThrow(/not an IPv4 address/);
  });
});

describe.skipIf(!has('tshark'))('pcap writer read by tshark', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pcap-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('decodes a handshake, an RPC NULL call and reply, a split 130,007-byte chunk and a FIN: checksums good, no TCP analysis flags', async () => {
    const rpc = new TcpConversation(CLIENT, SERVER);
    const bulk = new TcpConversation({ ip: '10.0.0.1', port: 40001 }, { ip: '10.0.0.2', port: 9999 });
    // NULL call to NFS v3: record mark, xid 7, CALL, RPC 2, program 100003 version 3 procedure 0, AUTH_NONE twice.
    const call = hex('80000028 00000007 00000000 00000002 000186a3 00000003 00000000 00000000 00000000 00000000 00000000');
    // Its reply: record mark, xid 7, REPLY, MSG_ACCEPTED, AUTH_NONE verifier, SUCCESS.
    const reply = hex('80000018 00000007 00000001 00000000 00000000 00000000 00000000');
    const packets = [...rpc.open(), ...rpc.data('client', call), ...rpc.data('server', reply), ...bulk.open(), ...bulk.data('server', Buffer.alloc(2 * MAX_SEGMENT + 7, 1)), ...rpc.fin('client'), ...bulk.fin('server')];
    const file = join(dir, 'tiny.pcap');
    writeFileSync(file, Buffer.concat([pcapGlobalHeader(), ...packets.map((p, i) => pcapRecord(1_700_000_000_000_000 + i * 1000, p))]));

    const decoded = await dissect(file, [SERVER.port]);
    expect(decoded.map((p) => p.frame)).toEqual(packets.map((_, i) => i + 1));
    for (const p of decoded) {
      expect(isMalformed(p)).toBe(false);
      expect(find(p.root, 'ip.checksum.status').show).toBe('1');
      expect(find(p.root, 'tcp.checksum.status').show).toBe('1');
      expect(findAll(p.root, 'tcp.analysis.flags')).toEqual([]);
      expect(expertInfos(p).filter((e) => e.severity >= Severity.WARN)).toEqual([]);
    }
    const [callFrame, replyFrame] = decoded.filter((p) => findAll(p.root, 'rpc.xid').length > 0);
    expect(find(callFrame.root, 'rpc.program').show).toBe('100003');
    // tshark's names read backwards: the call's rpc.reqframe is the frame of its reply, the reply's rpc.repframe that of its call.
    expect(find(callFrame.root, 'rpc.reqframe').show).toBe(String(replyFrame.frame));
    expect(find(replyFrame.root, 'rpc.repframe').show).toBe(String(callFrame.frame));
    expect(find(replyFrame.root, 'rpc.state_accept').show).toBe('0');
    const bulkLens = decoded.filter((p) => find(p.root, 'tcp.srcport').show === '9999').map((p) => Number(find(p.root, 'tcp.len').show));
    expect(bulkLens).toEqual([0, MAX_SEGMENT, MAX_SEGMENT, 7, 0]);
  });

  it('the recorder writes two connections from the same client port (libnfs reuses reserved ports) as two streams tshark decodes', async () => {
    const call = (xid: number) => hex(`80000028 0000000${xid} 00000000 00000002 000186a3 00000003 00000000 00000000 00000000 00000000 00000000`);
    const reply = (xid: number) => hex(`80000018 0000000${xid} 00000001 00000000 00000000 00000000 00000000`);
    // A server that answers the NULL call with its reply and closes first, so the client's port is free again at once.
    const server = createServer((sock) => sock.once('data', (b) => sock.end(reply(b.readUInt32BE(4)))));
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
    const file = join(dir, 'reused.pcap');
    const rec = PcapRecorder.create(file);
    const port = await rec.forward({ port: (server.address() as AddressInfo).port });
    const localPort = 20_000 + Math.floor(Math.random() * 20_000);
    try {
      for (const xid of [1, 2]) {
        const sock = connect({ port, host: '127.0.0.1', localPort });
        sock.write(call(xid));
        const got: Buffer[] = [];
        sock.on('data', (b) => got.push(b));
        await new Promise<void>((res, rej) => sock.once('close', () => res()).once('error', rej));
        expect(Buffer.concat(got)).toEqual(reply(xid));
      }
    } finally {
      await rec.close();
      await new Promise<void>((res) => server.close(() => res()));
    }
    const decoded = await dissect(file, [port]);
    const rpc = decoded.filter((p) => findAll(p.root, 'rpc.xid').length > 0).map((p) => ({ srcport: find(p.root, 'tcp.srcport').show, stream: find(p.root, 'tcp.stream').show, xid: find(p.root, 'rpc.xid').show }));
    expect(rpc).toEqual([
      { srcport: String(localPort), stream: '0', xid: '0x00000001' },
      { srcport: String(port), stream: '0', xid: '0x00000001' },
      { srcport: String(localPort), stream: '1', xid: '0x00000002' },
      { srcport: String(port), stream: '1', xid: '0x00000002' },
    ]);
    for (const p of decoded) expect(expertInfos(p).filter((e) => e.severity >= Severity.WARN)).toEqual([]);
  });
});
