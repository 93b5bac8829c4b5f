import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SUPPORTED_ATTRS } from '../../src/nas/nfs4/nfs4-attrs';
import type { stateid4 } from '../../src/protocols/nfs4/common.codec';
import { createmode4, NFS4_PROGRAM, nfs_ftype4, nfs_lock_type4, nfs_opnum4 as OP, nfsstat4, time_how4 } from '../../src/protocols/nfs4/constants';
import { ATTR_CODECS, type bitmap4, bitmapAttrs, FATTR4, type Fattr4, fattrMask } from '../../src/protocols/nfs4/fattr4.codec';
import { opName, type OPEN4args, type READ4resok, type READDIR4resok, type WRITE4resok } from '../../src/protocols/nfs4/ops.codec';
import { MOUNT_PROGRAM, MOUNT_V3, MountProc3 } from '../../src/protocols/mount3/constants';
import { createmode3, ftype3, stable_how } from '../../src/protocols/nfs3';
import { AcceptStat } from '../../src/protocols/oncrpc/constants';
import type { Credential, ReplyStatus } from '../../src/protocols/oncrpc/message';
import { XdrWriter } from '../../src/protocols/xdr/xdr';
import { startTestGateway, type TestGateway } from '../utils/gateway';
import { createShare, nasPorts } from '../utils/nas-fixture';
import { Nfs3Client } from '../utils/nfs3-client';
import { type Nfs4Exchange, Nfs4TestClient, resultOf } from '../utils/nfs4-client';
import { NfsOps, nfsOpsMissing, nfsUrl, parseNfsLs, removeNfsOps } from '../utils/nfs-ops';
import { type Nfs4Fixture, startNfs4 } from '../utils/nfs4-fixture';
import { PcapRecorder } from '../utils/pcap-recorder';
import { has } from '../utils/tools';
import { childrenNamed, dissect, expertInfos, find, findAll, isMalformed, type PdmlNode, type PdmlPacket, Severity } from '../utils/tshark';

/*
 * Wireshark's dissectors judge what our NFS servers put on the wire. Our own test clients share the
 * server's codec, so an encoding bug that is symmetric (a wrong fattr4 layout, a wrong union arm, a field
 * missing from a reply) passes every other test; tshark's NFSv4.1, NFSv3, MOUNT and ONC RPC dissectors
 * were written apart from it. A recording proxy stands between client and server; tshark decodes the
 * capture and the decoded operations, statuses and values are compared with what our client saw.
 *
 * Set NFS_WIRE_PCAP_DIR to keep the captures for a look with tshark or Wireshark.
 */

const exec = promisify(execFile);
/** A client tool, killed if it hangs (a server that answers wrongly can leave libnfs waiting). */
const run = (cmd: string, args: string[]) => exec(cmd, args, { timeout: 60_000, maxBuffer: 1 << 24 });
const noTshark = !has('tshark');
if (noTshark) console.warn('skipping the NFS wire checks: tshark is not installed (Debian tshark)');
const libnfsMissing = ['nfs-ls', 'nfs-cp', 'nfs-cat'].filter((t) => !has(t));
if (!noTshark && libnfsMissing.length) console.warn(`skipping the NFSv3 wire checks: ${libnfsMissing.join(', ')} not installed (Debian libnfs-utils)`);

/** Something tshark found in a packet: an expert info, a malformed packet, or bytes left over (where, which). */
interface Finding {
  severity: number;
  message: string;
  pos?: number;
  value?: string;
}

/*
 * What tshark 4.0 finds wrong with traffic that is right, each with the reason it is accepted; any other
 * warning, every error, anything malformed and any byte left undecoded fails the spec.
 */
const ACCEPTED: Array<{ message: RegExp; why: string; holds: (p: PdmlPacket, f: Finding) => boolean }> = [
  {
    // RFC 8881 section 18.2.4: the stateid a CLOSE returns is deprecated, and a 4.1 server SHOULD answer
    // the special invalid stateid (section 8.2.3), as Linux's nfsd does; tshark warns on every CLOSE
    // reply whatever it holds, so the warning is accepted when the stateid is that special one.
    message: /^State ID deprecated in CLOSE responses/,
    why: 'CLOSE answers the special invalid stateid (RFC 8881 sections 8.2.3 and 18.2.4)',
    holds: (p) => findAll(p.root, 'nfs.stateid').some((s) => s.value === 'ffffffff000000000000000000000000'),
  },
  {
    // RFC 5662: union open_none_delegation4 switch (why_no_delegation4 ond_why) { case WND4_CONTENTION: bool
    // ond_server_will_push_deleg; case WND4_RESOURCE: bool ond_server_will_signal_avail; default: void; };
    // we send the bool as Linux's nfsd does, tshark 4.0 has no field for either bool (tshark -G fields) and
    // stops after ond_why. Accepted when the bytes left are one XDR bool right after a WND4_CONTENTION or
    // WND4_RESOURCE, so the arm is still checked.
    message: /^4 bytes at \d+ left undecoded$/,
    why: 'the bool of open_none_delegation4 (RFC 5662) after WND4_RESOURCE, which tshark 4.0 does not dissect',
    holds: (p, f) => (f.value === '00000000' || f.value === '00000001') && findAll(p.root, 'nfs.open.why_no_delegation').some((w) => (w.show === '1' || w.show === '2') && w.pos + 4 === f.pos),
  },
  {
    // Operation 9999 exists in no minor version: no dissector can size its arguments, so tshark stops at it.
    message: /^4 bytes at \d+ left undecoded$/,
    why: 'our client\'s deliberately illegal operation 9999 (its number), which tshark cannot dissect',
    holds: (p) => find(p.root, 'rpc.msgtyp').show === '0' && findAll(p.root, 'nfs.opcode').some((o) => o.show === '9999'),
  },
];

/** Keep a capture when asked to (NFS_WIRE_PCAP_DIR). */
function keep(file: string, name: string): void {
  const dir = process.env.NFS_WIRE_PCAP_DIR;
  if (dir) copyFileSync(file, join(dir, name));
}

/**
 * What is wrong in a capture, and what was accepted (printed, so a reader sees it): tshark's expert infos
 * of warning and error severity, malformed packets, and bytes left over after a message. tshark reports a
 * result that ends early as malformed, but one with bytes too many (a field we write and our client
 * reads, the RFC does not have) only as `data`.
 */
function judge(packets: PdmlPacket[]): { bad: string[]; accepted: string[] } {
  const bad: string[] = [];
  const accepted: string[] = [];
  for (const p of packets) {
    const findings: Finding[] = expertInfos(p).filter((e) => e.severity >= Severity.WARN);
    if (isMalformed(p)) findings.push({ severity: Severity.ERROR, message: 'malformed' });
    for (const d of findAll(p.root, 'data.data')) findings.push({ severity: Severity.WARN, message: `${d.size} bytes at ${d.pos} left undecoded`, pos: d.pos, value: d.value });
    for (const f of findings) {
      const ok = f.severity === Severity.WARN && ACCEPTED.find((a) => a.message.test(f.message) && a.holds(p, f));
      if (ok) accepted.push(`frame ${p.frame}: ${f.message} (${ok.why})`);
      else bad.push(`frame ${p.frame}: ${f.severity >= Severity.ERROR ? 'error' : 'warning'}: ${f.message}`);
    }
  }
  return { bad, accepted };
}

/** One ONC RPC message in a capture, with the protocol node that follows it (nfs, mount). */
interface RpcMessage {
  frame: number;
  /** tcp.stream: xids are only unique within a connection (each libnfs tool run has its own). */
  stream: number;
  xid: number;
  call: boolean;
  rpc: PdmlNode;
  body?: PdmlNode;
}

interface RpcExchange {
  call: RpcMessage;
  reply: RpcMessage;
}

/** Every RPC message, in capture order; a frame may carry several (records reassembled or sent together). */
function rpcMessages(packets: PdmlPacket[]): RpcMessage[] {
  const out: RpcMessage[] = [];
  for (const p of packets) {
    const last = () => out[out.length - 1];
    for (const proto of p.root.children) {
      if (proto.name === 'rpc') out.push({ frame: p.frame, stream: Number(find(p.root, 'tcp.stream').show), xid: Number(find(proto, 'rpc.xid').show), call: find(proto, 'rpc.msgtyp').show === '0', rpc: proto });
      else if (out.length && last().frame === p.frame && !last().body && !['frame', 'raw', 'ip', 'tcp'].includes(proto.name)) last().body = proto;
    }
  }
  return out;
}

/** Every call with its one reply, in call order; tshark's rpc.reqframe and rpc.repframe point at each other. */
function pairCalls(packets: PdmlPacket[]): RpcExchange[] {
  const messages = rpcMessages(packets);
  const key = (m: RpcMessage) => `${m.stream}/${m.xid}`;
  const replies = new Map(messages.filter((m) => !m.call).map((m) => [key(m), m]));
  const calls = messages.filter((m) => m.call);
  expect(replies.size).toBe(calls.length);
  return calls.map((call) => {
    const reply = replies.get(key(call));
    expect(reply, `xid ${call.xid} (frame ${call.frame}) has no reply`).toBeDefined();
    expect(find(call.rpc, 'rpc.reqframe').show).toBe(String(reply!.frame));
    expect(find(reply!.rpc, 'rpc.repframe').show).toBe(String(call.frame));
    return { call, reply: reply! };
  });
}

/** The operations of a decoded COMPOUND (call or reply), with each result's status in a reply. */
function compoundOps(nfs: PdmlNode): Array<{ op: number; status?: number; node: PdmlNode }> {
  return childrenNamed(find(nfs, 'nfs.ops.count'), 'nfs.opcode').map((node) => {
    const st = childrenNamed(node, 'nfs.nfsstat4')[0];
    return { op: Number(node.show), status: st ? Number(st.show) : undefined, node };
  });
}

// ---- fattr4 as tshark decodes it ----------------------------------------------------------------------

type Decoded = string | boolean | number[] | Record<string, string>;
const dec = (n: PdmlNode, field: string): string => BigInt(find(n, field).show).toString();
const u = (field: string) => (n: PdmlNode) => dec(n, field);
const flag = (field: string) => (n: PdmlNode) => {
  const v = find(n, field).show;
  if (v !== '0' && v !== '1') throw new Error(`${field} is ${v}, not a bool`);
  return v === '1';
};
const text = (field: string) => (n: PdmlNode) => find(n, field).show;
/** The attribute numbers of a bitmap4 tshark decoded below `n` (one nfs.attr_mask per word). */
const maskOf = (n: PdmlNode): number[] => childrenNamed(n, 'nfs.attr_mask').flatMap((m) => childrenNamed(m, 'nfs.attr').map((a) => Number(a.show)));
const time = (n: PdmlNode) => ({ seconds: dec(n, 'nfs.nfstime4.seconds'), nseconds: dec(n, 'nfs.nfstime4.nseconds') });

/** How to read each attribute we serve out of tshark's tree: RFC 8881 section 5's types, tshark's field names. */
const TSHARK_ATTR: Record<number, (n: PdmlNode) => Decoded> = {
  [FATTR4.SUPPORTED_ATTRS]: maskOf,
  [FATTR4.TYPE]: u('nfs.nfs_ftype4'),
  [FATTR4.FH_EXPIRE_TYPE]: u('nfs.fattr4_fh_expire_type'),
  [FATTR4.CHANGE]: u('nfs.changeid4'),
  [FATTR4.SIZE]: u('nfs.fattr4.size'),
  [FATTR4.LINK_SUPPORT]: flag('nfs.fattr4_link_support'),
  [FATTR4.SYMLINK_SUPPORT]: flag('nfs.fattr4_symlink_support'),
  [FATTR4.NAMED_ATTR]: flag('nfs.fattr4_named_attr'),
  [FATTR4.FSID]: (n) => ({ major: dec(n, 'nfs.fsid4.major'), minor: dec(n, 'nfs.fsid4.minor') }),
  [FATTR4.UNIQUE_HANDLES]: flag('nfs.fattr4_unique_handles'),
  [FATTR4.LEASE_TIME]: u('nfs.fattr4.lease_time'),
  [FATTR4.RDATTR_ERROR]: u('nfs.nfsstat4'),
  [FATTR4.ACLSUPPORT]: u('nfs.fattr4.aclsupport'),
  [FATTR4.CANSETTIME]: flag('nfs.fattr4_cansettime'),
  [FATTR4.CASE_INSENSITIVE]: flag('nfs.fattr4_case_insensitive'),
  [FATTR4.CASE_PRESERVING]: flag('nfs.fattr4_case_preserving'),
  [FATTR4.CHOWN_RESTRICTED]: flag('nfs.fattr4_chown_restricted'),
  [FATTR4.FILEHANDLE]: (n) => find(n, 'nfs.fhandle').value ?? '',
  [FATTR4.FILEID]: u('nfs.fattr4.fileid'),
  [FATTR4.FILES_AVAIL]: u('nfs.fattr4.files_avail'),
  [FATTR4.FILES_FREE]: u('nfs.fattr4.files_free'),
  [FATTR4.FILES_TOTAL]: u('nfs.fattr4.files_total'),
  [FATTR4.HOMOGENEOUS]: flag('nfs.fattr4_homogeneous'),
  [FATTR4.MAXFILESIZE]: u('nfs.fattr4.maxfilesize'),
  [FATTR4.MAXLINK]: u('nfs.fattr4.maxlink'),
  [FATTR4.MAXNAME]: u('nfs.fattr4.maxname'),
  [FATTR4.MAXREAD]: u('nfs.fattr4.maxread'),
  [FATTR4.MAXWRITE]: u('nfs.fattr4.maxwrite'),
  [FATTR4.MODE]: u('nfs.mode'),
  [FATTR4.NO_TRUNC]: flag('nfs.fattr4_no_trunc'),
  [FATTR4.NUMLINKS]: u('nfs.fattr4.numlinks'),
  [FATTR4.OWNER]: text('nfs.fattr4_owner'),
  [FATTR4.OWNER_GROUP]: text('nfs.fattr4_owner_group'),
  [FATTR4.RAWDEV]: (n) => ({ specdata1: dec(n, 'nfs.specdata1'), specdata2: dec(n, 'nfs.specdata2') }),
  [FATTR4.SPACE_AVAIL]: u('nfs.fattr4.space_avail'),
  [FATTR4.SPACE_FREE]: u('nfs.fattr4.space_free'),
  [FATTR4.SPACE_TOTAL]: u('nfs.fattr4.space_total'),
  [FATTR4.SPACE_USED]: u('nfs.fattr4.space_used'),
  [FATTR4.TIME_ACCESS]: time,
  [FATTR4.TIME_DELTA]: time,
  [FATTR4.TIME_METADATA]: time,
  [FATTR4.TIME_MODIFY]: time,
  [FATTR4.MOUNTED_ON_FILEID]: u('nfs.fattr4.mounted_on_fileid'),
  [FATTR4.SUPPATTR_EXCLCREAT]: maskOf,
};

/** A decoded fattr4 (GETATTR's, an entry4's): attribute number -> value, from the nfs.attr nodes under its mask words. */
function tsharkFattr(parent: PdmlNode): Map<number, Decoded> {
  const out = new Map<number, Decoded>();
  for (const word of childrenNamed(parent, 'nfs.attr_mask')) {
    for (const a of childrenNamed(word, 'nfs.attr')) {
      const n = Number(a.show);
      const read = TSHARK_ATTR[n];
      if (!read) throw new Error(`attribute ${n} has no tshark reading in TSHARK_ATTR`);
      out.set(n, read(a));
    }
  }
  return out;
}

/** Our decoded fattr4 in the same shapes: integers as decimal strings, bitmaps as attribute lists, handles in hex. */
function ourFattr(f: Fattr4): Map<number, Decoded> {
  const norm = (v: unknown): Decoded => {
    if (typeof v === 'boolean') return v;
    if (typeof v === 'number' || typeof v === 'bigint') return BigInt(v).toString();
    if (typeof v === 'string') return v;
    if (Buffer.isBuffer(v)) return v.toString('hex');
    if (Array.isArray(v)) return bitmapAttrs(v as bitmap4);
    return Object.fromEntries(Object.entries(v as object).map(([k, x]) => [k, norm(x) as string]));
  };
  const out = new Map<number, Decoded>();
  for (const n of bitmapAttrs(fattrMask(f))) out.set(n, norm(f[ATTR_CODECS.get(n)!.key]));
  return out;
}

// ---- the NFSv4.1 workload ------------------------------------------------------------------------------

const sortAttrs = (m: Map<number, Decoded>) => [...m.entries()].sort((a, b) => a[0] - b[0]);
const BOGUS: stateid4 = { seqid: 1, other: Buffer.from('0badc0ffee0badc0ffee0bad', 'hex') };
const LIST_ATTRS = [FATTR4.TYPE, FATTR4.CHANGE, FATTR4.SIZE, FATTR4.FILEID, FATTR4.MODE, FATTR4.NUMLINKS, FATTR4.OWNER, FATTR4.OWNER_GROUP, FATTR4.FILEHANDLE, FATTR4.TIME_MODIFY, FATTR4.RDATTR_ERROR, FATTR4.MOUNTED_ON_FILEID];

describe.skipIf(noTshark)('NFSv4.1 on the wire, as tshark decodes it', () => {
  let fx: Nfs4Fixture;
  let rec: PcapRecorder;
  let c: Nfs4TestClient;
  let port: number;
  let packets: PdmlPacket[];
  const log: Nfs4Exchange[] = [];
  /** Calls outside COMPOUND, with the reply status our RPC client read. */
  const rpcReplies: Array<{ xid: number; status: ReplyStatus }> = [];
  const dir = mkdtempSync(join(tmpdir(), 'nfs-wire-'));
  const file = join(dir, 'nfs4.pcap');
  const DATA = Buffer.from(Array.from({ length: 5000 }, (_, i) => i % 251));
  const BIG = Buffer.alloc(200_000, 0x5a);
  const seen: { writeverf?: Buffer; commitverf?: Buffer; names?: string[] } = {};
  let started = 0;

  beforeAll(async () => {
    started = Date.now();
    fx = await startNfs4([{ name: 'data' }]);
    rec = PcapRecorder.create(file);
    port = await rec.forward({ port: fx.port });
    c = await Nfs4TestClient.connect(port);
    c.log = log;
    await workload(c);
    await c.destroy();
    await rec.close();
    keep(file, 'nfs4.pcap');
    packets = await dissect(file, [port]);
  });

  /** The exchanges by xid: one client, one connection. */
  const byXid = () => new Map(pairCalls(packets).map((x) => [x.call.xid, x]));

  afterAll(async () => {
    await rec?.close();
    await fx?.close();
    rmSync(dir, { recursive: true, force: true });
    console.log(`NFSv4.1 wire check: ${log.length} COMPOUNDs, ${packets?.length ?? 0} frames, ${Date.now() - started} ms`);
  });

  /**
   * Every operation the server implements and a few it does not, some failing on purpose: the statuses are
   * the server's business (other specs check them), the encoding is tshark's.
   */
  async function workload(c: Nfs4TestClient): Promise<void> {
    await c.mount(); // EXCHANGE_ID, CREATE_SESSION, RECLAIM_COMPLETE
    const root = await c.call([{ argop: OP.OP_PUTROOTFH, args: undefined }, { argop: OP.OP_GETATTR, args: [1 << FATTR4.SUPPORTED_ATTRS] }]);
    const supported = resultOf<Fattr4>(root, OP.OP_GETATTR).supported_attrs!;
    const all = bitmapAttrs(supported);
    await c.call([{ argop: OP.OP_PUTROOTFH, args: undefined }, { argop: OP.OP_GETATTR, args: supported }]);
    const dirFh = await c.fh('/data');
    await c.getattr(dirFh, all);

    // OPEN UNCHECKED4, WRITE unstable, COMMIT, READ to the end, SETATTR, GETATTR.
    const a = await c.open(dirFh, 'a.txt', { create: true, attrs: { mode: 0o640 } });
    seen.writeverf = (await c.write(a.fh, a.stateid, 0, DATA, 0)).writeverf;
    const commit = await c.call([{ argop: OP.OP_PUTFH, args: a.fh }, { argop: OP.OP_COMMIT, args: { offset: 0, count: 0 } }]);
    seen.commitverf = resultOf<Buffer>(commit, OP.OP_COMMIT);
    await c.read(a.fh, a.stateid, 0, 8192);
    const times = { time_modify_set: { set_it: time_how4.SET_TO_CLIENT_TIME4, time: { seconds: 1_600_000_000, nseconds: 123_456_789 } }, time_access_set: { set_it: time_how4.SET_TO_SERVER_TIME4 } } as const;
    await c.call([{ argop: OP.OP_PUTFH, args: a.fh }, { argop: OP.OP_SETATTR, args: { stateid: a.stateid, obj_attributes: { size: 3000, mode: 0o600, ...times } } }]);
    await c.getattr(a.fh, all);
    // SETATTR4res carries attrsset whatever the status: a failing SETATTR (an owner no one knows), and a READ past the end.
    await c.send([{ argop: OP.OP_PUTFH, args: a.fh }, { argop: OP.OP_SETATTR, args: { stateid: a.stateid, obj_attributes: { owner: 'no-such-user@example' } } }]);
    await c.read(a.fh, a.stateid, 10_000, 100);

    // Byte-range locks: LOCK, a conflicting LOCKT (NFS4ERR_DENIED with its LOCK4denied), LOCKU, then the lock stateid tested and freed.
    const owner = (s: string) => ({ clientid: c.clientid, owner: Buffer.from(s) });
    const lock = await c.call([
      { argop: OP.OP_PUTFH, args: a.fh },
      { argop: OP.OP_LOCK, args: { locktype: nfs_lock_type4.WRITE_LT, reclaim: false, offset: 0n, length: 100n, locker: { new_lock_owner: true, open_owner: { open_seqid: 0, open_stateid: a.stateid, lock_seqid: 0, lock_owner: owner('lock-1') } } } },
    ]);
    const lockSid = resultOf<stateid4>(lock, OP.OP_LOCK);
    await c.send([{ argop: OP.OP_PUTFH, args: a.fh }, { argop: OP.OP_LOCKT, args: { locktype: nfs_lock_type4.READ_LT, offset: 50n, length: 10n, owner: owner('lock-2') } }]);
    const other = { new_lock_owner: true, open_owner: { open_seqid: 0, open_stateid: a.stateid, lock_seqid: 0, lock_owner: owner('lock-3') } } as const;
    await c.send([{ argop: OP.OP_PUTFH, args: a.fh }, { argop: OP.OP_LOCK, args: { locktype: nfs_lock_type4.WRITE_LT, reclaim: false, offset: 90n, length: 0xffffffffffffffffn, locker: other } }]);
    const unlock = await c.call([{ argop: OP.OP_PUTFH, args: a.fh }, { argop: OP.OP_LOCKU, args: { locktype: nfs_lock_type4.WRITE_LT, seqid: 0, lock_stateid: lockSid, offset: 0n, length: 100n } }]);
    const unlocked = resultOf<stateid4>(unlock, OP.OP_LOCKU);
    await c.call([{ argop: OP.OP_TEST_STATEID, args: [unlocked, BOGUS] }]);
    await c.call([{ argop: OP.OP_FREE_STATEID, args: unlocked }]);

    // OPEN_DOWNGRADE to read only (an access the owner opened with too), then CLOSE with the stateid it gave.
    const again = await c.open(dirFh, 'a.txt', { access: 1 });
    const down = await c.call([{ argop: OP.OP_PUTFH, args: a.fh }, { argop: OP.OP_OPEN_DOWNGRADE, args: { open_stateid: again.stateid, seqid: 0, share_access: 1, share_deny: 0 } }]);
    await c.close(a.fh, resultOf<stateid4>(down, OP.OP_OPEN_DOWNGRADE));

    // OPEN GUARDED4 (then again: NFS4ERR_EXIST) and EXCLUSIVE4_1; a large WRITE and READ, records over several segments.
    const guarded: OPEN4args = { ...c.openArgs('b.txt'), openhow: { opentype: 1, how: { mode: createmode4.GUARDED4, createattrs: { mode: 0o644 } } } };
    const openOp = (args: OPEN4args) => [{ argop: OP.OP_PUTFH, args: dirFh } as const, { argop: OP.OP_OPEN, args } as const, { argop: OP.OP_GETFH, args: undefined } as const];
    const b = await c.call(openOp(guarded));
    await c.send(openOp(guarded));
    // A share reservation conflict: b.txt is open for writing, and another owner asks to deny writes.
    await c.send(openOp({ ...c.openArgs('b.txt', { owner: Buffer.from('owner-2'), access: 1, deny: 2 }) }));
    const excl: OPEN4args = { ...c.openArgs('c.txt'), openhow: { opentype: 1, how: { mode: createmode4.EXCLUSIVE4_1, ch_createboth: { cva_verf: Buffer.from('verf-c-1'), cva_attrs: { mode: 0o600 } } } } };
    const cc = await c.call(openOp(excl));
    const bFh = resultOf<Buffer>(b, OP.OP_GETFH);
    const bSid = resultOf<{ stateid: stateid4 }>(b, OP.OP_OPEN).stateid;
    await c.write(bFh, bSid, 0, BIG, 2);
    await c.read(bFh, bSid, 0, BIG.length);
    await c.close(bFh, bSid);
    await c.close(resultOf<Buffer>(cc, OP.OP_GETFH), resultOf<{ stateid: stateid4 }>(cc, OP.OP_OPEN).stateid);

    // CREATE a directory and a symlink, READLINK, LINK, RENAME, REMOVE.
    const sub = await c.call([{ argop: OP.OP_PUTFH, args: dirFh }, { argop: OP.OP_CREATE, args: { objtype: { type: nfs_ftype4.NF4DIR }, objname: 'sub', createattrs: { mode: 0o755 } } }, { argop: OP.OP_GETFH, args: undefined }]);
    const subFh = resultOf<Buffer>(sub, OP.OP_GETFH);
    await c.call([{ argop: OP.OP_PUTFH, args: dirFh }, { argop: OP.OP_CREATE, args: { objtype: { type: nfs_ftype4.NF4LNK, linkdata: 'a.txt' }, objname: 'ln', createattrs: { mode: 0o777 } } }, { argop: OP.OP_READLINK, args: undefined }]);
    await c.call([{ argop: OP.OP_PUTFH, args: a.fh }, { argop: OP.OP_SAVEFH, args: undefined }, { argop: OP.OP_PUTFH, args: dirFh }, { argop: OP.OP_LINK, args: 'a-link' }]);
    await c.call([{ argop: OP.OP_PUTFH, args: dirFh }, { argop: OP.OP_SAVEFH, args: undefined }, { argop: OP.OP_RENAME, args: { oldname: 'b.txt', newname: 'b2.txt' } }]);
    await c.call([{ argop: OP.OP_PUTFH, args: dirFh }, { argop: OP.OP_REMOVE, args: 'c.txt' }]);

    // ACCESS, SECINFO_NO_NAME, VERIFY and NVERIFY (and NVERIFY failing with NFS4ERR_SAME), SAVEFH/RESTOREFH, LOOKUPP, PUTPUBFH.
    await c.call([{ argop: OP.OP_PUTFH, args: a.fh }, { argop: OP.OP_ACCESS, args: 0x3f }]);
    await c.call([{ argop: OP.OP_PUTFH, args: dirFh }, { argop: OP.OP_SECINFO_NO_NAME, args: 0 }]);
    await c.call([{ argop: OP.OP_PUTFH, args: a.fh }, { argop: OP.OP_VERIFY, args: { size: 3000, mode: 0o600 } }, { argop: OP.OP_NVERIFY, args: { size: 1 } }, { argop: OP.OP_GETATTR, args: [1 << FATTR4.SIZE] }]);
    await c.send([{ argop: OP.OP_PUTFH, args: a.fh }, { argop: OP.OP_NVERIFY, args: { size: 3000 } }]);
    await c.call([{ argop: OP.OP_PUTFH, args: subFh }, { argop: OP.OP_SAVEFH, args: undefined }, { argop: OP.OP_LOOKUPP, args: undefined }, { argop: OP.OP_GETFH, args: undefined }, { argop: OP.OP_RESTOREFH, args: undefined }, { argop: OP.OP_GETFH, args: undefined }]);
    await c.call([{ argop: OP.OP_PUTPUBFH, args: undefined }, { argop: OP.OP_GETFH, args: undefined }]);

    // READDIR with attributes, in one page and in small pages (cookies and verifiers carried over).
    seen.names = (await c.readdir(dirFh, LIST_ATTRS)).map((e) => e.name);
    const rootFh = resultOf<Buffer>(await c.call([{ argop: OP.OP_PUTROOTFH, args: undefined }, { argop: OP.OP_GETFH, args: undefined }]), OP.OP_GETFH);
    await c.readdir(rootFh, all);
    await c.readdir(dirFh, LIST_ATTRS, 400);

    // OPENs asking for a read delegation and for none: OPEN_DELEGATE_NONE_EXT with its reason (and WND4_RESOURCE's bool;
    // OPEN last in its COMPOUND, as tshark 4.0 does not read that bool: see ACCEPTED).
    await c.call([{ argop: OP.OP_PUTFH, args: dirFh }, { argop: OP.OP_OPEN, args: c.openArgs('a.txt', { access: 1 | 0x0100 }) }]);
    await c.close(a.fh, (await c.open(dirFh, 'a.txt', { access: 1 | 0x0400 })).stateid);
    // OPEN by handle (CLAIM_FH) and its CLOSE; SECINFO by name; session housekeeping: BIND_CONN_TO_SESSION, BACKCHANNEL_CTL with AUTH_SYS.
    const byFh = await c.call([{ argop: OP.OP_PUTFH, args: a.fh }, { argop: OP.OP_OPEN, args: { ...c.openArgs(''), share_access: 1, claim: { claim: 4 } } }]);
    await c.close(a.fh, resultOf<{ stateid: stateid4 }>(byFh, OP.OP_OPEN).stateid);
    await c.call([{ argop: OP.OP_PUTFH, args: dirFh }, { argop: OP.OP_SECINFO, args: 'a.txt' }]);
    await c.check(c.raw([{ argop: OP.OP_BIND_CONN_TO_SESSION, args: { bctsa_sessid: c.sessionid, bctsa_dir: 3, bctsa_use_conn_in_rdma_mode: false } }], { tag: 'bind' }));
    const sys = { stamp: 7, machinename: 'wire-check', uid: 0, gid: 0, gids: [0] };
    await c.call([{ argop: OP.OP_BACKCHANNEL_CTL, args: { bca_cb_program: 0x40000000, bca_sec_parms: [{ cb_secflavor: 1, cbsp_sys_cred: sys }, { cb_secflavor: 0 }] } }]);
    // Minor version 2: a GETATTR, and SEEK (a 4.2 operation not served: NFS4ERR_NOTSUPP).
    await c.raw([{ argop: OP.OP_SEQUENCE, args: { sa_sessionid: c.sessionid, sa_sequenceid: ++c.seqid, sa_slotid: 0, sa_highest_slotid: 0, sa_cachethis: false } }, { argop: OP.OP_PUTFH, args: bFh }, { argop: OP.OP_GETATTR, args: [1 << FATTR4.SIZE] }], { minorversion: 2, tag: 'v4.2' });
    // SEEK4args (RFC 7862 section 15.11.1): stateid, offset, NFS4_CONTENT_DATA.
    const seek = new XdrWriter().uint32(0).fixedOpaque(Buffer.alloc(12)).uhyper(0).uint32(0);
    await c.raw([{ argop: OP.OP_SEQUENCE, args: { sa_sessionid: c.sessionid, sa_sequenceid: ++c.seqid, sa_slotid: 0, sa_highest_slotid: 0, sa_cachethis: false } }, { argop: OP.OP_PUTFH, args: bFh }, { argop: 69, xdr: Buffer.concat(seek.toBuffers()) }], { minorversion: 2 });

    // Error replies: a missing name, a stateid the server never gave, an optional operation it does not do.
    await c.send([{ argop: OP.OP_PUTFH, args: dirFh }, { argop: OP.OP_LOOKUP, args: 'missing' }, { argop: OP.OP_GETFH, args: undefined }]);
    await c.send([{ argop: OP.OP_PUTFH, args: a.fh }, { argop: OP.OP_READ, args: { stateid: { ...a.stateid, seqid: 77 }, offset: 0, count: 10 } }]);
    // LAYOUTGET4args (RFC 8881 section 18.43.1): no signal, LAYOUT4_NFSV4_1_FILES, LAYOUTIOMODE4_READ, offset 0, length all, minlength 0, the open stateid, maxcount.
    const lg = new XdrWriter().bool(false).uint32(1).uint32(1).uhyper(0).uhyper(0xffffffffffffffffn).uhyper(0).uint32(bSid.seqid).fixedOpaque(bSid.other).uint32(4096);
    await c.send([{ argop: OP.OP_PUTFH, args: a.fh }, { argop: OP.OP_LAYOUTGET, xdr: Buffer.concat(lg.toBuffers()) }]);
    await c.send([{ argop: OP.OP_PUTFH, args: a.fh }, { argop: OP.OP_DELEGRETURN, args: BOGUS }]);
    await c.send([{ argop: OP.OP_RECLAIM_COMPLETE, args: false }]);
    await c.send([{ argop: OP.OP_PUTROOTFH, args: undefined }, { argop: 9999, xdr: Buffer.alloc(0) }]);
    await c.raw([{ argop: OP.OP_PUTROOTFH, args: undefined }], { minorversion: 3, tag: 'v4.3' });
    await c.raw([{ argop: OP.OP_SEQUENCE, args: { sa_sessionid: Buffer.alloc(16, 7), sa_sequenceid: 1, sa_slotid: 0, sa_highest_slotid: 0, sa_cachethis: false } }]);

    // RPC replies other than SUCCESS with results: NULL, a version, program and procedure not served, a flavor not accepted.
    const rpcCall = async (prog: number, vers: number, proc: number, cred: Credential = c.cred) => {
      const r = await c.rpc.call(prog, vers, proc, undefined, { cred });
      rpcReplies.push({ xid: r.xid, status: r.status });
    };
    await rpcCall(NFS4_PROGRAM, 4, 0);
    await rpcCall(NFS4_PROGRAM, 5, 0);
    await rpcCall(100099, 1, 0);
    await rpcCall(NFS4_PROGRAM, 4, 9);
    await rpcCall(NFS4_PROGRAM, 4, 1, { flavor: 3, body: Buffer.alloc(8, 1) });
  }

  it('has nothing malformed and no errors; the warnings left are the accepted ones', () => {
    const { bad, accepted } = judge(packets);
    console.log(`NFSv4.1 capture: accepted tshark warnings:\n  ${accepted.join('\n  ') || '(none)'}`);
    expect(bad).toEqual([]);
  });

  it('answers every call, and tshark decodes the operations and per-operation statuses our client saw, COMPOUND by COMPOUND', () => {
    const pairs = byXid();
    expect(new Set(pairs.keys())).toEqual(new Set([...log.map((x) => x.xid), ...rpcReplies.map((x) => x.xid)]));
    for (const x of log) {
      const { call, reply } = pairs.get(x.xid)!;
      const what = `xid ${x.xid} (frames ${call.frame}/${reply.frame})`;
      expect(compoundOps(call.body!).map((o) => o.op), what).toEqual(x.ops);
      expect(Number(childrenNamed(reply.body!, 'nfs.nfsstat4')[0].show), what).toBe(x.reply.status);
      expect(find(reply.body!, 'nfs.tag').show, what).toBe(x.reply.tag.toString());
      expect(compoundOps(reply.body!).map(({ op, status }) => ({ op, status })), what).toEqual(x.reply.resarray.map((r) => ({ op: r.resop, status: r.res.status })));
    }
    // The workload reached what it meant to: each error reply once, and the optional operation refused.
    const statuses = log.flatMap((x) => x.reply.resarray.map((r) => `${opName(r.resop)}:${nfsstat4[r.res.status]}`));
    const failures = ['SETATTR:NFS4ERR_BADOWNER', 'LOCK:NFS4ERR_DENIED', 'OPEN:NFS4ERR_SHARE_DENIED', 'LOCKT:NFS4ERR_DENIED', 'OPEN:NFS4ERR_EXIST', 'NVERIFY:NFS4ERR_SAME', 'LOOKUP:NFS4ERR_NOENT', 'READ:NFS4ERR_BAD_STATEID', 'LAYOUTGET:NFS4ERR_NOTSUPP', 'op69:NFS4ERR_NOTSUPP'];
    for (const f of [...failures, 'DELEGRETURN:NFS4ERR_STALE_STATEID', 'RECLAIM_COMPLETE:NFS4ERR_COMPLETE_ALREADY', 'ILLEGAL:NFS4ERR_OP_ILLEGAL', 'SEQUENCE:NFS4ERR_BADSESSION']) expect(statuses).toContain(f);
    expect(log.map((x) => nfsstat4[x.reply.status])).toContain('NFS4ERR_MINOR_VERS_MISMATCH');
  });

  it('decodes RPC reply statuses other than success as our RPC client read them: accepted or denied, mismatch ranges, auth errors', () => {
    const pairs = byXid();
    const stat = (n: PdmlNode, field: string) => (findAll(n, field)[0] ? Number(find(n, field).show) : undefined);
    const decoded = rpcReplies.map(({ xid }) => {
      const rpc = pairs.get(xid)!.reply.rpc;
      const low = stat(rpc, 'rpc.programversion.min') ?? stat(rpc, 'rpc.version.min');
      return {
        replystat: stat(rpc, 'rpc.replystat'),
        accept: stat(rpc, 'rpc.state_accept'),
        reject: stat(rpc, 'rpc.state_reject'),
        auth: stat(rpc, 'rpc.state_auth'),
        mismatch: low === undefined ? undefined : { low, high: stat(rpc, 'rpc.programversion.max') ?? stat(rpc, 'rpc.version.max') },
      };
    });
    const ours = rpcReplies.map(({ status: s }) => ({
      replystat: 'accept_stat' in s ? 0 : 1,
      accept: 'accept_stat' in s ? s.accept_stat : undefined,
      reject: 'reject_stat' in s ? s.reject_stat : undefined,
      auth: 'auth_stat' in s ? s.auth_stat : undefined,
      mismatch: 'mismatch_info' in s ? s.mismatch_info : undefined,
    }));
    expect(decoded).toEqual(ours);
    expect(ours.map((o) => o.accept ?? `denied ${o.auth}`)).toEqual([AcceptStat.SUCCESS, AcceptStat.PROG_MISMATCH, AcceptStat.PROG_UNAVAIL, AcceptStat.PROC_UNAVAIL, expect.stringMatching(/^denied \d+$/)]);
  });

  it('decodes every attribute of every GETATTR reply to the value our client read, and the values set are the ones asked for', () => {
    const pairs = byXid();
    let checked = 0;
    for (const x of log) {
      const decoded = compoundOps(pairs.get(x.xid)!.reply.body!);
      x.reply.resarray.forEach((r, i) => {
        if (r.resop !== OP.OP_GETATTR || r.res.status !== nfsstat4.NFS4_OK) return;
        const ours = ourFattr((r.res as { resok: Fattr4 }).resok);
        expect(sortAttrs(tsharkFattr(decoded[i].node)), `xid ${x.xid}, operation ${i}`).toEqual(sortAttrs(ours));
        checked++;
      });
    }
    expect(checked).toBeGreaterThanOrEqual(4);
    // The file's GETATTR of every attribute, after SETATTR: size, mode, owner and times as set.
    const full = log.filter((x) => x.ops.includes(OP.OP_GETATTR)).map((x) => resultOf<Fattr4>(x.reply, OP.OP_GETATTR)).filter((f) => f.type === nfs_ftype4.NF4REG && f.supported_attrs);
    expect(full).toHaveLength(1);
    expect(full[0]).toMatchObject({ size: 3000, mode: 0o600, owner: '0', owner_group: '0', time_modify: { seconds: 1_600_000_000, nseconds: 123_456_789 } });
    expect(bitmapAttrs(full[0].supported_attrs!)).toEqual(bitmapAttrs(SUPPORTED_ATTRS));
  });

  it('decodes READDIR entries: names, cookies and each entry\'s attributes', () => {
    const pairs = byXid();
    const pages = log.filter((x) => x.ops.includes(OP.OP_READDIR));
    expect(pages.length).toBeGreaterThan(2);
    for (const x of pages) {
      const ours = resultOf<READDIR4resok>(x.reply, OP.OP_READDIR);
      const node = compoundOps(pairs.get(x.xid)!.reply.body!).find((o) => o.op === OP.OP_READDIR)!.node;
      const entries = findAll(node, 'nfs.name').filter((e) => findAll(e, 'nfs.entry_name').length === 1);
      expect(entries.map((e) => find(e, 'nfs.entry_name').show)).toEqual(ours.reply.entries.map((e) => e.name));
      expect(entries.map((e) => BigInt(find(e, 'nfs.cookie4').show))).toEqual(ours.reply.entries.map((e) => BigInt(e.cookie)));
      entries.forEach((e, i) => expect(sortAttrs(tsharkFattr(e))).toEqual(sortAttrs(ourFattr(ours.reply.entries[i].attrs))));
      expect(find(node, 'nfs.dirlist4.eof').show === '1').toBe(ours.reply.eof);
    }
    expect([...seen.names!].sort()).toEqual(['a-link', 'a.txt', 'b2.txt', 'ln', 'sub']);
  });

  it('decodes WRITE and COMMIT verifiers, and READ lengths and end of file, as our client got them', () => {
    const pairs = byXid();
    const opNode = (x: Nfs4Exchange, op: number) => compoundOps(pairs.get(x.xid)!.reply.body!).find((o) => o.op === op)!.node;
    const writes = log.filter((x) => x.ops.includes(OP.OP_WRITE));
    expect(writes).toHaveLength(2);
    for (const x of writes) {
      const ours = resultOf<WRITE4resok>(x.reply, OP.OP_WRITE);
      const n = opNode(x, OP.OP_WRITE);
      expect({ count: Number(find(n, 'nfs.count4').show), committed: Number(find(n, 'nfs.stable_how4').show), verf: find(n, 'nfs.verifier4').value }).toEqual({ count: ours.count, committed: ours.committed, verf: ours.writeverf.toString('hex') });
    }
    const commit = log.find((x) => x.ops.includes(OP.OP_COMMIT))!;
    expect(find(opNode(commit, OP.OP_COMMIT), 'nfs.verifier4').value).toBe(seen.commitverf!.toString('hex'));
    expect(seen.commitverf).toEqual(seen.writeverf);
    const reads = log.filter((x) => x.ops.includes(OP.OP_READ) && x.reply.status === nfsstat4.NFS4_OK);
    expect(reads.map((x) => resultOf<READ4resok>(x.reply, OP.OP_READ).data.length)).toEqual([DATA.length, 0, BIG.length]);
    for (const x of reads) {
      const ours = resultOf<READ4resok>(x.reply, OP.OP_READ);
      const n = opNode(x, OP.OP_READ);
      expect({ eof: find(n, 'nfs.eof').show === '1', length: Number(find(n, 'nfs.read.data_length').show), data: find(n, 'nfs.data').value ?? '' }).toEqual({ eof: ours.eof, length: ours.data.length, data: ours.data.toString('hex') });
    }
  });
});

// ---- NFSv3 and MOUNT from a real client -----------------------------------------------------------------

describe.skipIf(noTshark || libnfsMissing.length > 0)('NFSv3 and MOUNT from libnfs on the wire, as tshark decodes them', () => {
  let gw: TestGateway;
  let rec: PcapRecorder;
  let ports: { nfs: number; mount: number };
  let packets: PdmlPacket[];
  let listed: Map<string, { mode: string; size: number }>;
  const dir = mkdtempSync(join(tmpdir(), 'nfs3-wire-'));
  const file = join(dir, 'nfs3.pcap');
  const SMALL = Buffer.from('hello, wire\n');
  const BIG = Buffer.from(Array.from({ length: 300_007 }, (_, i) => (i * 7) % 256));
  let started = 0;

  beforeAll(async () => {
    started = Date.now();
    gw = await startTestGateway();
    await createShare(gw, 'wire');
    rec = PcapRecorder.create(file);
    const real = nasPorts(gw);
    ports = { nfs: await rec.forward({ port: real.nfs }), mount: await rec.forward({ port: real.mount }) };
    const url = (path: string) => nfsUrl(ports, 'wire', path);
    writeFileSync(join(dir, 'small.txt'), SMALL);
    writeFileSync(join(dir, 'big.bin'), BIG);
    await run('nfs-cp', [join(dir, 'small.txt'), url('/small.txt')]);
    await run('nfs-cp', [join(dir, 'big.bin'), url('/big.bin')]);
    if (!nfsOpsMissing()) {
      const ops = await NfsOps.start(url(''));
      try {
        await ops.ok('mkdir', '/sub', '755');
        await ops.ok('symlink', 'small.txt', '/ln');
        await ops.ok('readlink', '/ln');
        await ops.ok('link', '/small.txt', '/sub/hard');
        await ops.ok('chmod', '/big.bin', '600');
        await ops.put('/sub/notes.txt', 'some notes, cut short\n');
        await ops.ok('truncate', '/sub/notes.txt', '5');
        await ops.ok('rename', '/sub/notes.txt', '/sub/renamed');
        await ops.ok('statvfs', '/');
        await ops.fails('unlink', '/missing');
      } finally {
        await ops.close();
      }
    }
    listed = parseNfsLs((await run('nfs-ls', [url('/')])).stdout);
    expect((await run('nfs-cat', [url('/small.txt')])).stdout).toBe(SMALL.toString());
    await run('nfs-cp', [url('/big.bin'), join(dir, 'down.bin')]);
    await ownClient();
    await rec.close();
    keep(file, 'nfs3.pcap');
    packets = await dissect(file, [ports.nfs, ports.mount]);
  });

  /**
   * What libnfs never sends, through our own client (on the NFS port, which serves MOUNT too): MOUNT's DUMP
   * and UMNTALL, READDIR, PATHCONF, MKNOD, RMDIR, an EXCLUSIVE CREATE, a FILE_SYNC WRITE, and a guarded
   * SETATTR and a LOOKUP that fail.
   */
  async function ownClient(): Promise<void> {
    const own = await Nfs3Client.connect(ports.nfs);
    const mount = (proc: number) => own.rpc.call(MOUNT_PROGRAM, MOUNT_V3, proc, undefined, { cred: own.cred });
    try {
      const root = await own.mount('/wire');
      await mount(MountProc3.MOUNTPROC3_DUMP);
      await own.readdirNames(root, 0n, 0n, 200);
      await own.ok(20, { object: root });
      await own.ok(11, { where: { dir: root, name: 'fifo' }, what: { type: ftype3.NF3FIFO, pipe_attributes: { mode: 0o600 } } });
      await own.ok(8, { where: { dir: root, name: 'excl' }, how: { mode: createmode3.EXCLUSIVE, verf: 0x0102030405060708n } });
      const excl = (await own.lookup(root, 'excl')).fh;
      await own.write(excl, 0, Buffer.from('sync'), stable_how.FILE_SYNC);
      expect(await own.status(2, { object: excl, new_attributes: { mode: 0o644 }, guard: { seconds: 1, nseconds: 0 } })).toBe('NFS3ERR_NOT_SYNC');
      expect(await own.status(3, { what: { dir: root, name: 'nope' } })).toBe('NFS3ERR_NOENT');
      await own.mkdir(root, 'gone');
      await own.ok(13, { object: { dir: root, name: 'gone' } });
      await mount(MountProc3.MOUNTPROC3_UMNTALL);
    } finally {
      await own.close();
    }
  }

  afterAll(async () => {
    await rec?.close();
    await gw?.close();
    removeNfsOps();
    rmSync(dir, { recursive: true, force: true });
    console.log(`NFSv3 wire check: ${packets?.length ?? 0} frames, ${Date.now() - started} ms`);
  });

  it('has nothing malformed and no errors; the warnings left are the accepted ones', () => {
    const { bad, accepted } = judge(packets);
    console.log(`NFSv3 capture: accepted tshark warnings:\n  ${accepted.join('\n  ') || '(none)'}`);
    expect(bad).toEqual([]);
  });

  /** Each call with its reply, by program, procedure and version, in capture order. */
  const exchanges = () => {
    return pairCalls(packets).map(({ call, reply }) => ({ call, reply, prog: Number(find(call.rpc, 'rpc.program').show), proc: Number(find(call.rpc, 'rpc.procedure').show) }));
  };
  const NFS = 100003;
  const MOUNT = 100005;
  /*
   * RFC 1813: GETATTR 1, SETATTR 2, LOOKUP 3, ACCESS 4, READLINK 5, READ 6, WRITE 7, CREATE 8, MKDIR 9, SYMLINK 10, MKNOD 11, REMOVE 12,
   * RMDIR 13, RENAME 14, LINK 15, READDIR 16, READDIRPLUS 17, FSSTAT 18, FSINFO 19, PATHCONF 20, COMMIT 21; MOUNT: MNT 1, DUMP 2, UMNT 3,
   * UMNTALL 4, EXPORT 5. The libnfs tools and our client send the first list, the C client the second.
   */
  const byTools = [1, 2, 3, 4, 6, 7, 8, 9, 11, 13, 16, 17, 19, 20, 21];
  const byC = [5, 10, 12, 14, 15, 18];

  it('answers every call of both programs, and MNT hands out the root handle the NFS calls then use', () => {
    const all = exchanges();
    const procs = (prog: number) => [...new Set(all.filter((x) => x.prog === prog).map((x) => x.proc))];
    expect(procs(MOUNT)).toEqual(expect.arrayContaining([0, 1, 2, 3, 4, 5]));
    expect(procs(NFS)).toEqual(expect.arrayContaining(nfsOpsMissing() ? byTools : [...byTools, ...byC]));
    for (const x of all) expect(Number(find(x.call.rpc, 'rpc.programversion').show), `frame ${x.call.frame}`).toBe(3);
    const mnt = all.filter((x) => x.prog === MOUNT && x.proc === 1);
    expect(mnt.length).toBeGreaterThanOrEqual(4);
    const handles = new Set(mnt.map((x) => {
      expect(find(x.reply.body!, 'mount.status').show).toBe('0');
      expect(findAll(x.reply.body!, 'mount.flavor').map((f) => f.show)).toEqual(['1']);
      return find(x.reply.body!, 'nfs.fhandle').value;
    }));
    expect(handles.size).toBe(1);
    const list = all.find((x) => x.prog === NFS && x.proc === 17)!;
    const dot = findAll(list.reply.body!, 'nfs.readdir.entry').find((e) => find(e, 'nfs.readdirplus.entry.name').show === '.')!;
    expect(find(dot, 'nfs.fhandle').value).toBe([...handles][0]);
    // The statuses as the clients took them: all NFS3_OK but the failures asked for (NOT_SYNC 10002, NOENT 2).
    const failed = all.filter((x) => x.prog === NFS && x.proc !== 0 && find(x.reply.body!, 'nfs.status3').show !== '0').map((x) => `${x.proc}:${find(x.reply.body!, 'nfs.status3').show}`);
    expect(failed.sort()).toEqual([...(nfsOpsMissing() ? [] : ['12:2']), '2:10002', '3:2'].sort());
  });

  it('decodes READDIRPLUS entries with their attributes: the names, types, modes and sizes nfs-ls printed', () => {
    const lists = exchanges().filter((x) => x.prog === NFS && x.proc === 17);
    const root = lists.find((x) => findAll(x.reply.body!, 'nfs.readdirplus.entry.name').some((n) => n.show === 'big.bin'))!;
    const TYPE: Record<string, string> = { '1': '-', '2': 'd', '5': 'l' };
    const rwx = (m: number) => [6, 3, 0].map((s) => `${m & (4 << s) ? 'r' : '-'}${m & (2 << s) ? 'w' : '-'}${m & (1 << s) ? 'x' : '-'}`).join('');
    const decoded = new Map<string, { mode: string; size: number }>();
    for (const e of findAll(root.reply.body!, 'nfs.readdir.entry')) {
      const name = find(e, 'nfs.readdirplus.entry.name').show;
      expect(find(e, 'nfs.attributes_follow').show, name).toBe('1');
      expect(find(e, 'nfs.handle_follow').show, name).toBe('1');
      if (name === '.' || name === '..') continue;
      decoded.set(name, { mode: `${TYPE[find(e, 'nfs.fattr3.type').show]}${rwx(Number(find(e, 'nfs.mode3').show))}`, size: Number(find(e, 'nfs.fattr3.size').show) });
    }
    expect([...decoded.keys()].sort()).toEqual([...listed.keys()].sort());
    expect(Object.fromEntries(decoded)).toEqual(Object.fromEntries(listed));
    expect(decoded.get('small.txt')?.size).toBe(SMALL.length);
    expect(decoded.get('big.bin')?.size).toBe(BIG.length);
    expect(find(root.reply.body!, 'nfs.readdir.eof').show).toBe('1');
  });

  it('decodes GETATTR, WRITE, COMMIT and READ replies to what the files hold', () => {
    const nfs = exchanges().filter((x) => x.prog === NFS);
    const sizes = nfs.filter((x) => x.proc === 1).map((x) => ({ type: find(x.reply.body!, 'nfs.fattr3.type').show, size: Number(find(x.reply.body!, 'nfs.fattr3.size').show) }));
    expect(sizes).toEqual(expect.arrayContaining([{ type: '1', size: SMALL.length }, { type: '1', size: BIG.length }]));
    const writes = nfs.filter((x) => x.proc === 7);
    for (const w of writes) expect(find(w.reply.body!, 'nfs.count3').show).toBe(find(w.call.body!, 'nfs.count3').show);
    expect(writes.map((w) => Number(find(w.reply.body!, 'nfs.count3').show))).toEqual(expect.arrayContaining([SMALL.length, BIG.length]));
    const verfs = new Set([...writes, ...nfs.filter((x) => x.proc === 21)].map((x) => find(x.reply.body!, 'nfs.verifier').value));
    expect(verfs.size).toBe(1);
    const reads = nfs.filter((x) => x.proc === 6).map((x) => ({ eof: find(x.reply.body!, 'nfs.read.eof').show, count: Number(find(x.reply.body!, 'nfs.count3').show), data: find(x.reply.body!, 'nfs.data').value }));
    expect(reads).toEqual(expect.arrayContaining([{ eof: '1', count: SMALL.length, data: SMALL.toString('hex') }, { eof: '1', count: BIG.length, data: BIG.toString('hex') }]));
  });
});
