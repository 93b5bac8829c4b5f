import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FATTR4 } from '../../src/protocols/nfs4/fattr4.codec';
import { nfs_opnum4 as OP, nfsstat4 } from '../../src/protocols/nfs4/constants';
import { Prng } from '../../src/common/prng';
import { AcceptStat } from '../../src/protocols/oncrpc/constants';
import { CHANNEL, Nfs4Error, Nfs4TestClient, resultOf, rootCred } from '../utils/nfs4-client';
import { mountedNfs4, startNfs4, type Nfs4Fixture } from '../utils/nfs4-fixture';
import { MemoryRecoveryStore } from '../../src/nas/nfs4/client-table';
import { Nfs4Server } from '../../src/nas/nfs4/nfs4-server';
import { RpcServer } from '../../src/nas/rpc/rpc-server';
import { MemoryLog } from '../utils/rpc-fixture';

const statusOf = async (p: Promise<unknown>): Promise<nfsstat4> => {
  try {
    await p;
    return nfsstat4.NFS4_OK;
  } catch (e) {
    if (e instanceof Nfs4Error) return e.status;
    throw e;
  }
};

describe('NFSv4.1 through the RPC server over TCP: mount, files, directories', () => {
  let fx: Nfs4Fixture;
  let c: Nfs4TestClient;

  beforeAll(async () => {
    fx = await startNfs4([{ name: 'projects' }, { name: 'archive' }]);
    c = await Nfs4TestClient.connect(fx.port);
    await c.mount();
  });
  afterAll(async () => {
    await c?.destroy().catch(() => undefined);
    await fx?.close();
  });

  it('lists the shares in the pseudo root and crosses into one', async () => {
    const root = await c.fh('/');
    const names = (await c.readdir(root, [FATTR4.TYPE, FATTR4.FSID, FATTR4.MOUNTED_ON_FILEID])).map((e) => e.name);
    expect(names.sort()).toEqual(['archive', 'projects']);
    const share = await c.fh('/projects');
    const a = await c.getattr(share, [FATTR4.TYPE, FATTR4.FSID, FATTR4.FILEID]);
    expect(a.type).toBe(2);
    expect(a.fsid).toEqual({ major: 1, minor: 0 });
    // LOOKUPP from a share's root goes back to the pseudo root.
    const r = await c.call([{ argop: OP.OP_PUTFH, args: share }, { argop: OP.OP_LOOKUPP, args: undefined }, { argop: OP.OP_GETFH, args: undefined }]);
    expect(resultOf<Buffer>(r, OP.OP_GETFH).equals(root)).toBe(true);
  });

  it('creates, writes, reads back, lists, renames and removes a file', async () => {
    const dir = await c.fh('/projects');
    const { fh, stateid } = await c.open(dir, 'hello.txt', { create: true });
    const w = await c.write(fh, stateid, 0, Buffer.from('hello, v4.1'));
    expect(w).toMatchObject({ count: 11, committed: 2 });
    const r = await c.read(fh, stateid, 0, 100);
    expect(r.data.toString()).toBe('hello, v4.1');
    expect(r.eof).toBe(true);
    await c.close(fh, stateid);
    expect((await c.readdir(dir)).map((e) => e.name)).toContain('hello.txt');
    await c.call([{ argop: OP.OP_PUTFH, args: dir }, { argop: OP.OP_SAVEFH, args: undefined }, { argop: OP.OP_RENAME, args: { oldname: 'hello.txt', newname: 'renamed.txt' } }]);
    expect((await c.readdir(dir)).map((e) => e.name)).toEqual(['renamed.txt']);
    await c.call([{ argop: OP.OP_PUTFH, args: dir }, { argop: OP.OP_REMOVE, args: 'renamed.txt' }]);
    expect(await c.readdir(dir)).toEqual([]);
  });
});

describe('NFSv4.1 sessions: slot table, reply cache, positions, minor versions', () => {
  let fx: Nfs4Fixture;
  let c: Nfs4TestClient;

  mountedNfs4((m) => ({ fx, c } = m));

  it('a retransmitted SEQUENCE gets the cached reply, not a second execution', async () => {
    const dir = await c.fh('/data');
    const create = c.openArgs('once.txt', { create: true });
    create.openhow = { opentype: 1, how: { mode: 1, createattrs: { mode: 0o644 } } }; // GUARDED: a second run would fail EXIST
    const seqid = c.seqid + 1;
    const first = await c.send([{ argop: OP.OP_PUTFH, args: dir }, { argop: OP.OP_OPEN, args: create }], { seqid, xid: 4242 });
    expect(first.status).toBe(nfsstat4.NFS4_OK);
    const again = await c.send([{ argop: OP.OP_PUTFH, args: dir }, { argop: OP.OP_OPEN, args: create }], { seqid, xid: 4243 });
    expect(again).toEqual(first);
    c.seqid = seqid;
    // The next request in the slot runs normally: GUARDED now finds the file.
    const third = await c.send([{ argop: OP.OP_PUTFH, args: dir }, { argop: OP.OP_OPEN, args: create }]);
    expect(third.status).toBe(nfsstat4.NFS4ERR_EXIST);
  });

  it('a sequence id ahead or behind the slot is NFS4ERR_SEQ_MISORDERED; a slot beyond the table is NFS4ERR_BADSLOT', async () => {
    expect((await c.send([], { seqid: c.seqid + 5 })).status).toBe(nfsstat4.NFS4ERR_SEQ_MISORDERED);
    expect((await c.send([], { seqid: c.seqid - 1 })).status).toBe(nfsstat4.NFS4ERR_SEQ_MISORDERED);
    expect((await c.send([], { slot: 99, seqid: 1 })).status).toBe(nfsstat4.NFS4ERR_BADSLOT);
    // Another slot has its own sequence.
    expect((await c.send([{ argop: OP.OP_PUTROOTFH, args: undefined }], { slot: 1, seqid: 1 })).status).toBe(nfsstat4.NFS4_OK);
    expect((await c.send([], { seqid: c.seqid + 1 })).status).toBe(nfsstat4.NFS4_OK);
    c.seqid++;
  });

  it('calls in flight together take distinct slots, every slot the session has, and the others wait for one', async () => {
    const d = await Nfs4TestClient.connect(fx.port);
    await d.mount();
    expect(d.slots).toBe(CHANNEL.ca_maxrequests);
    const { fh, stateid } = await d.open(await d.fh('/data'), 'slots.bin', { create: true });
    const n = 3 * d.slots;
    const replies = await Promise.all(
      Array.from({ length: n }, (_, i) => d.call([{ argop: OP.OP_PUTFH, args: fh }, { argop: OP.OP_WRITE, args: { stateid, offset: 4 * i, stable: 0, data: Buffer.alloc(4, i) } }])),
    );
    const used = new Set(replies.map((r) => resultOf<{ sr_slotid: number }>(r, OP.OP_SEQUENCE).sr_slotid));
    expect([...used].sort((a, b) => a - b)).toEqual(Array.from({ length: d.slots }, (_, i) => i));
    expect((await d.read(fh, stateid, 0, 4 * n)).data).toEqual(Buffer.concat(Array.from({ length: n }, (_, i) => Buffer.alloc(4, i))));
    await d.close(fh, stateid);
    await d.destroy();
  });

  it('operations outside a session, SEQUENCE out of place, NOT_ONLY_OP, too many operations', async () => {
    expect((await c.raw([{ argop: OP.OP_PUTROOTFH, args: undefined }])).resarray[0].res.status).toBe(nfsstat4.NFS4ERR_OP_NOT_IN_SESSION);
    const dup = await c.send([{ argop: OP.OP_SEQUENCE, args: { sa_sessionid: c.sessionid, sa_sequenceid: 1, sa_slotid: 0, sa_highest_slotid: 0, sa_cachethis: false } }]);
    expect(dup.status).toBe(nfsstat4.NFS4ERR_SEQUENCE_POS);
    const two = await c.raw([
      { argop: OP.OP_EXCHANGE_ID, args: { eia_clientowner: { co_verifier: c.verifier, co_ownerid: c.ownerId }, eia_flags: 0, eia_state_protect: { spa_how: 0 }, eia_client_impl_id: [] } },
      { argop: OP.OP_PUTROOTFH, args: undefined },
    ]);
    expect(two.status).toBe(nfsstat4.NFS4ERR_NOT_ONLY_OP);
    const many = await c.send(Array.from({ length: 20 }, () => ({ argop: OP.OP_PUTROOTFH, args: undefined })));
    expect(many.status).toBe(nfsstat4.NFS4ERR_TOO_MANY_OPS);
    expect(many.resarray).toHaveLength(1);
    c.seqid--; // a SEQUENCE that fails leaves its slot as it was
  });

  it('minor version 0 is NFS4ERR_MINOR_VERS_MISMATCH; 2 is served; unknown ops are ILLEGAL, optional ones NOTSUPP', async () => {
    const v0 = await c.raw([{ argop: OP.OP_PUTROOTFH, args: undefined }], { minorversion: 0, tag: 'v0' });
    expect(v0).toEqual({ status: nfsstat4.NFS4ERR_MINOR_VERS_MISMATCH, tag: Buffer.from('v0'), resarray: [] });
    expect((await c.raw([{ argop: OP.OP_PUTROOTFH, args: undefined }], { minorversion: 3 })).status).toBe(nfsstat4.NFS4ERR_MINOR_VERS_MISMATCH);
    // Raw operation numbers: LAYOUTGET (50) is optional, 60 (COPY) is 4.2 only, 9999 is no operation at all.
    const rawOp = async (op: number, minorversion: number) => {
      c.seqid++;
      const reply = await c.rpc.call(100003, 4, 1, (w) => {
        w.varOpaque(Buffer.alloc(0)).uint32(minorversion).uint32(2).uint32(OP.OP_SEQUENCE);
        w.fixedOpaque(c.sessionid).uint32(c.seqid).uint32(0).uint32(0).uint32(0);
        w.uint32(op);
      }, { cred: c.cred });
      const body = reply.body;
      const status = body.uint32();
      body.varOpaque();
      body.uint32();
      body.uint32();
      body.uint32();
      body.fixedOpaque(16);
      for (let i = 0; i < 5; i++) body.uint32();
      return { status, resop: body.uint32(), opStatus: body.uint32() };
    };
    expect(await rawOp(50, 1)).toEqual({ status: nfsstat4.NFS4ERR_NOTSUPP, resop: 50, opStatus: nfsstat4.NFS4ERR_NOTSUPP });
    expect(await rawOp(60, 1)).toEqual({ status: nfsstat4.NFS4ERR_OP_ILLEGAL, resop: OP.OP_ILLEGAL, opStatus: nfsstat4.NFS4ERR_OP_ILLEGAL });
    expect(await rawOp(60, 2)).toEqual({ status: nfsstat4.NFS4ERR_NOTSUPP, resop: 60, opStatus: nfsstat4.NFS4ERR_NOTSUPP });
    expect(await rawOp(9999, 2)).toEqual({ status: nfsstat4.NFS4ERR_OP_ILLEGAL, resop: OP.OP_ILLEGAL, opStatus: nfsstat4.NFS4ERR_OP_ILLEGAL });
    expect(await rawOp(OP.OP_SETCLIENTID, 1)).toEqual({ status: nfsstat4.NFS4ERR_NOTSUPP, resop: OP.OP_SETCLIENTID, opStatus: nfsstat4.NFS4ERR_NOTSUPP });
  });

  it('CREATE_SESSION replays its last reply and refuses a skipped sequence; DESTROY_CLIENTID waits for the sessions', async () => {
    const d = await Nfs4TestClient.connect(fx.port);
    await d.mount();
    const busy = await d.raw([{ argop: OP.OP_DESTROY_CLIENTID, args: d.clientid }]);
    expect(busy.status).toBe(nfsstat4.NFS4ERR_CLIENTID_BUSY);
    const bad = await d.raw([{ argop: OP.OP_CREATE_SESSION, args: { csa_clientid: d.clientid, csa_sequence: 7, csa_flags: 0, csa_fore_chan_attrs: CHANNEL, csa_back_chan_attrs: CHANNEL, csa_cb_program: 0, csa_sec_parms: [] } }]);
    expect(bad.status).toBe(nfsstat4.NFS4ERR_SEQ_MISORDERED);
    const replay = await d.raw([{ argop: OP.OP_CREATE_SESSION, args: { csa_clientid: d.clientid, csa_sequence: 1, csa_flags: 0, csa_fore_chan_attrs: CHANNEL, csa_back_chan_attrs: CHANNEL, csa_cb_program: 0, csa_sec_parms: [] } }]);
    expect(resultOf<{ csr_sessionid: Buffer }>(replay, OP.OP_CREATE_SESSION).csr_sessionid.equals(d.sessionid)).toBe(true);
    await d.destroy();
    expect((await c.raw([{ argop: OP.OP_DESTROY_CLIENTID, args: d.clientid }])).status).toBe(nfsstat4.NFS4ERR_STALE_CLIENTID);
    expect((await c.raw([{ argop: OP.OP_DESTROY_SESSION, args: d.sessionid }])).status).toBe(nfsstat4.NFS4ERR_BADSESSION);
  });

  it('malformed COMPOUNDs never crash the server: random operations bodies answer statuses, garbage headers GARBAGE_ARGS', async () => {
    const prng = new Prng(11);
    for (let i = 0; i < 300; i++) {
      const body = prng.bytes(prng.int(0, 200));
      const withSeq = i % 2 === 0;
      c.seqid += withSeq ? 1 : 0;
      const reply = await c.rpc.call(100003, 4, 1, (w) => {
        w.varOpaque(Buffer.alloc(0)).uint32(1).uint32(withSeq ? 1 + prng.int(1, 5) : prng.int(0, 6));
        if (withSeq) w.uint32(OP.OP_SEQUENCE).fixedOpaque(c.sessionid).uint32(c.seqid).uint32(0).uint32(0).uint32(0);
        w.uint32(prng.int(0, 60));
        w.fixedOpaque(Buffer.concat([body, Buffer.alloc((4 - (body.length % 4)) % 4)]));
      }, { cred: c.cred });
      expect(reply.status).toEqual({ accept_stat: AcceptStat.SUCCESS });
    }
    // Whole random argument bodies: a header that cannot be read is GARBAGE_ARGS, never SYSTEM_ERR.
    for (let i = 0; i < 200; i++) {
      const reply = await c.rpc.call(100003, 4, 1, (w) => void w.fixedOpaque(prng.bytes(4 * prng.int(0, 40))), { cred: c.cred });
      expect([AcceptStat.SUCCESS, AcceptStat.GARBAGE_ARGS]).toContain((reply.status as { accept_stat: number }).accept_stat);
    }
    expect(fx.faults).toEqual([]);
    // Still serving.
    expect((await c.send([{ argop: OP.OP_PUTROOTFH, args: undefined }])).status).toBe(nfsstat4.NFS4_OK);
  });
});

describe('NFSv4.1 state: share reservations, byte-range locks, leases, grace', () => {
  let fx: Nfs4Fixture;
  let a: Nfs4TestClient;
  let b: Nfs4TestClient;
  let dir: Buffer;
  let clock = 1_000_000;

  beforeAll(async () => {
    fx = await startNfs4([{ name: 'locks' }], { leaseSeconds: 30, now: () => clock });
    a = await Nfs4TestClient.connect(fx.port);
    b = await Nfs4TestClient.connect(fx.port);
    await a.mount();
    await b.mount();
    dir = await a.fh('/locks');
  });
  afterAll(async () => {
    await a?.destroy().catch(() => undefined);
    await b?.destroy().catch(() => undefined);
    await fx?.close();
  });

  it('deny modes: an open denying WRITE keeps writers out until it closes', async () => {
    const x = await a.open(dir, 'shared.txt', { create: true, access: 1, deny: 2 });
    expect(await statusOf(b.open(dir, 'shared.txt', { access: 2 }))).toBe(nfsstat4.NFS4ERR_SHARE_DENIED);
    const reader = await b.open(dir, 'shared.txt', { access: 1 });
    // A reader may not deny what a holder already has.
    expect(await statusOf(b.open(dir, 'shared.txt', { access: 1, deny: 1, owner: Buffer.from('other') }))).toBe(nfsstat4.NFS4ERR_SHARE_DENIED);
    // Writing with the anonymous stateid meets the reservation too.
    expect(await statusOf(b.write(x.fh, { seqid: 0, other: Buffer.alloc(12) }, 0, Buffer.from('x')))).toBe(nfsstat4.NFS4ERR_LOCKED);
    // An open for reading cannot write.
    expect(await statusOf(b.write(x.fh, reader.stateid, 0, Buffer.from('x')))).toBe(nfsstat4.NFS4ERR_OPENMODE);
    await a.close(x.fh, x.stateid);
    const writer = await b.open(dir, 'shared.txt', { access: 2, owner: Buffer.from('writer') });
    expect((await b.write(writer.fh, writer.stateid, 0, Buffer.from('ok'))).count).toBe(2);
    await b.close(writer.fh, writer.stateid);
    await b.close(reader.fh, reader.stateid);
    expect(fx.nfs4.state.counts().opens).toBe(0);
  });

  it('OPEN_DOWNGRADE to a granted mode; an old stateid is NFS4ERR_OLD_STATEID', async () => {
    const x = await a.open(dir, 'down.txt', { create: true, access: 1 });
    const up = await a.open(dir, 'down.txt', { access: 3 });
    expect(up.stateid.other.equals(x.stateid.other)).toBe(true);
    expect(up.stateid.seqid).toBe(x.stateid.seqid + 1);
    const r = await a.call([{ argop: OP.OP_PUTFH, args: x.fh }, { argop: OP.OP_OPEN_DOWNGRADE, args: { open_stateid: up.stateid, seqid: 0, share_access: 1, share_deny: 0 } }]);
    const down = resultOf<typeof x.stateid>(r, OP.OP_OPEN_DOWNGRADE);
    expect(await statusOf(a.write(x.fh, down, 0, Buffer.from('x')))).toBe(nfsstat4.NFS4ERR_OPENMODE);
    expect(await statusOf(a.read(x.fh, x.stateid, 0, 1))).toBe(nfsstat4.NFS4ERR_OLD_STATEID);
    const bad = await a.send([{ argop: OP.OP_PUTFH, args: x.fh }, { argop: OP.OP_OPEN_DOWNGRADE, args: { open_stateid: down, seqid: 0, share_access: 2, share_deny: 0 } }]);
    expect(bad.status).toBe(nfsstat4.NFS4ERR_INVAL);
    await a.close(x.fh, down);
  });

  it('byte-range locks conflict between clients, split on unlock, and are tested by LOCKT', async () => {
    const fa = await a.open(dir, 'locked.bin', { create: true });
    const fb = await b.open(dir, 'locked.bin', {});
    const lock = (cl: Nfs4TestClient, f: typeof fa, type: number, offset: bigint, length: bigint, owner: string) =>
      cl.send([{ argop: OP.OP_PUTFH, args: f.fh }, { argop: OP.OP_LOCK, args: { locktype: type, reclaim: false, offset, length, locker: { new_lock_owner: true, open_owner: { open_seqid: 0, open_stateid: f.stateid, lock_seqid: 0, lock_owner: { clientid: cl.clientid, owner: Buffer.from(owner) } } } } }]);
    const la = await lock(a, fa, 2, 0n, 100n, 'pa');
    expect(la.status).toBe(nfsstat4.NFS4_OK);
    const lockSid = resultOf<typeof fa.stateid>(la, OP.OP_LOCK);
    const denied = await lock(b, fb, 1, 50n, 10n, 'pb');
    expect(denied.status).toBe(nfsstat4.NFS4ERR_DENIED);
    expect((denied.resarray[2].res as { denied: unknown }).denied).toEqual({ offset: 0n, length: 100n, locktype: 2, owner: { clientid: a.clientid, owner: Buffer.from('pa') } });
    // LOCKT sees the same, and nothing past the range.
    const lockt = (offset: bigint, length: bigint) => b.send([{ argop: OP.OP_PUTFH, args: fb.fh }, { argop: OP.OP_LOCKT, args: { locktype: 2, offset, length, owner: { clientid: b.clientid, owner: Buffer.from('pb') } } }]);
    expect((await lockt(99n, 1n)).status).toBe(nfsstat4.NFS4ERR_DENIED);
    expect((await lockt(100n, 0xffffffffffffffffn)).status).toBe(nfsstat4.NFS4_OK);
    // Unlock the middle: the two ends stay locked.
    const u = await a.call([{ argop: OP.OP_PUTFH, args: fa.fh }, { argop: OP.OP_LOCKU, args: { locktype: 2, seqid: 0, lock_stateid: lockSid, offset: 40n, length: 20n } }]);
    const afterU = resultOf<typeof fa.stateid>(u, OP.OP_LOCKU);
    expect((await lock(b, fb, 2, 45n, 10n, 'pb')).status).toBe(nfsstat4.NFS4_OK);
    expect((await lockt(10n, 1n)).status).toBe(nfsstat4.NFS4ERR_DENIED);
    expect((await lockt(70n, 1n)).status).toBe(nfsstat4.NFS4ERR_DENIED);
    // Zero length and ranges past 2^64 are invalid.
    expect((await lock(a, fa, 1, 0n, 0n, 'pa')).status).toBe(nfsstat4.NFS4ERR_INVAL);
    expect((await lock(a, fa, 1, 0xfffffffffffffff0n, 0x20n, 'pa')).status).toBe(nfsstat4.NFS4ERR_INVAL);
    // CLOSE with locks held is refused; FREE_STATEID too; after unlocking both go.
    expect(await statusOf(a.close(fa.fh, fa.stateid))).toBe(nfsstat4.NFS4ERR_LOCKS_HELD);
    expect((await a.send([{ argop: OP.OP_FREE_STATEID, args: afterU }])).status).toBe(nfsstat4.NFS4ERR_LOCKS_HELD);
    const u2 = await a.call([{ argop: OP.OP_PUTFH, args: fa.fh }, { argop: OP.OP_LOCKU, args: { locktype: 2, seqid: 0, lock_stateid: afterU, offset: 0n, length: 0xffffffffffffffffn } }]);
    const test = await a.call([{ argop: OP.OP_TEST_STATEID, args: [resultOf(u2, OP.OP_LOCKU), { seqid: 5, other: Buffer.alloc(12) }] }]);
    expect(resultOf(test, OP.OP_TEST_STATEID)).toEqual([nfsstat4.NFS4_OK, nfsstat4.NFS4ERR_BAD_STATEID]);
    await a.call([{ argop: OP.OP_FREE_STATEID, args: resultOf(u2, OP.OP_LOCKU) }]);
    await a.close(fa.fh, fa.stateid);
  });

  it('a client whose lease runs out loses its opens and locks; others then get them', async () => {
    const c = await Nfs4TestClient.connect(fx.port);
    await c.mount();
    const f = await c.open(dir, 'lease.txt', { create: true, deny: 3 });
    expect(await statusOf(a.open(dir, 'lease.txt', { access: 1 }))).toBe(nfsstat4.NFS4ERR_SHARE_DENIED);
    // a and b renew by calling; c stays silent past its lease.
    clock += 20_000;
    await a.call([]);
    await b.call([]);
    clock += 11_000;
    const x = await a.open(dir, 'lease.txt', { access: 1 });
    await a.close(x.fh, x.stateid);
    expect((await c.send([{ argop: OP.OP_PUTFH, args: f.fh }])).status).toBe(nfsstat4.NFS4ERR_BADSESSION);
    await c.rpc.close();
  });
  it('leases run out on a quiet server too: a silent client\'s opens and sessions go without any call from anyone', async () => {
    // The server now sweeps on its own: a and b renew before the clock moves (b last called 11 s of lease ago).
    await a.call([]);
    await b.call([]);
    const c = await Nfs4TestClient.connect(fx.port);
    await c.mount();
    await c.open(dir, 'quiet.txt', { create: true });
    const before = { clients: fx.nfs4.clients.counts().clients, opens: fx.nfs4.state.counts().opens };
    clock += 20_000;
    await a.call([]);
    await b.call([]);
    clock += 11_000;
    // No COMPOUND from here on: only the server's own sweep can expire c.
    await vi.waitFor(() => expect(fx.nfs4.clients.counts().clients).toBe(before.clients - 1), { timeout: 5000 });
    await vi.waitFor(() => expect(fx.nfs4.state.counts().opens).toBe(before.opens - 1));
    await c.rpc.close();
  });
});

describe('NFSv4.1 export rules and read-only exports, as in NFSv3', () => {
  let fx: Nfs4Fixture;
  let c: Nfs4TestClient;
  let user: Nfs4TestClient;

  beforeAll(async () => {
    fx = await startNfs4([
      { name: 'rw', rules: [{ clients: ['127.0.0.1'], access: 'rw', squash: 'root_squash' }] },
      { name: 'ro', rules: [{ clients: ['127.0.0.0/8'], access: 'ro', squash: 'no_root_squash' }] },
      { name: 'hidden', rules: [{ clients: ['10.0.0.0/8'], access: 'rw' }] },
    ]);
    c = await Nfs4TestClient.connect(fx.port);
    await c.mount();
    user = await Nfs4TestClient.connect(fx.port, { cred: rootCred(1000, 1000) });
    await user.mount();
  });
  afterAll(async () => {
    await c?.destroy().catch(() => undefined);
    await user?.destroy().catch(() => undefined);
    await fx?.close();
  });

  it('the pseudo root shows only the shares this client may use', async () => {
    expect((await c.readdir(await c.fh('/'))).map((e) => e.name).sort()).toEqual(['ro', 'rw']);
    expect(await statusOf(c.fh('/hidden'))).toBe(nfsstat4.NFS4ERR_NOENT);
  });

  it('a handle of a share outside the rules is refused with NFS4ERR_ACCESS', async () => {
    const e = fx.table.byShareName('hidden')!;
    const { encodeFileHandle } = await import('../../src/nas/file-handle');
    const fh = encodeFileHandle({ exportId: e.exportId, snapshotId: 0, ino: 1, generation: fx.fs('hidden').root.gen }, e.secretKey);
    expect((await c.send([{ argop: OP.OP_PUTFH, args: fh }])).status).toBe(nfsstat4.NFS4ERR_ACCESS);
    const forged = Buffer.from(fh);
    forged[30] ^= 1;
    expect((await c.send([{ argop: OP.OP_PUTFH, args: forged }])).status).toBe(nfsstat4.NFS4ERR_BADHANDLE);
  });

  it('writes to a read-only export are NFS4ERR_ROFS; ACCESS grants no change there', async () => {
    const ro = await c.fh('/ro');
    expect(await statusOf(c.open(ro, 'new.txt', { create: true }))).toBe(nfsstat4.NFS4ERR_ROFS);
    expect((await c.send([{ argop: OP.OP_PUTFH, args: ro }, { argop: OP.OP_CREATE, args: { objtype: { type: 2 }, objname: 'd', createattrs: {} } }])).status).toBe(nfsstat4.NFS4ERR_ROFS);
    const acc = await c.call([{ argop: OP.OP_PUTFH, args: ro }, { argop: OP.OP_ACCESS, args: 0x3f }]);
    expect(resultOf<{ access: number }>(acc, OP.OP_ACCESS).access & 0x1c).toBe(0);
  });

  it('root is squashed to the anonymous user: files it makes belong to 65534', async () => {
    const rw = await c.fh('/rw');
    const f = await c.open(rw, 'squashed.txt', { create: true });
    expect(await c.getattr(f.fh, [FATTR4.OWNER, FATTR4.OWNER_GROUP])).toEqual({ owner: '65534', owner_group: '65534' });
    await c.close(f.fh, f.stateid);
    // A user cannot open another user's private file.
    await c.call([{ argop: OP.OP_PUTFH, args: f.fh }, { argop: OP.OP_SETATTR, args: { stateid: { seqid: 0, other: Buffer.alloc(12) }, obj_attributes: { mode: 0o600 } } }]);
    expect(await statusOf(user.open(rw, 'squashed.txt', { access: 1 }))).toBe(nfsstat4.NFS4ERR_ACCESS);
  });
});

describe('NFSv4.1 restart: grace period, reclaim, RECLAIM_COMPLETE; exclusive creates', () => {
  it('after a restart a known client reclaims its open, others wait in NFS4ERR_GRACE until it completes', async () => {
    const store = new MemoryRecoveryStore();
    const owner = Buffer.from('returning-client');
    const fx = await startNfs4([{ name: 'g' }], { store });
    let a = await Nfs4TestClient.connect(fx.port, { ownerId: owner });
    await a.mount();
    const dir = await a.fh('/g');
    const f = await a.open(dir, 'kept.txt', { create: true });
    expect(store.owners).toEqual([owner.toString('hex')]);
    // Same filesystems, new server instance (its state is gone, its recovery record is not).
    const fs = fx.fs('g');
    await a.rpc.close();
    const table = fx.table;
    const restarted = new Nfs4Server({ shares: { list: () => table.list(), byShareName: (n) => table.byShareName(n), byExportId: (id) => table.byExportId(id), decide: (id, cl, cr) => table.decide(id, cl, cr), filesystem: () => fs, fault: () => undefined }, store });
    const server = new RpcServer([{ prog: 100003, name: 'nfs', versions: { 4: restarted.version() } }], { log: new MemoryLog() });
    const { port } = await server.listen(0, '127.0.0.1');
    try {
      const other = await Nfs4TestClient.connect(port);
      await other.mount();
      expect(await statusOf(other.open(dir, 'new.txt', { create: true }))).toBe(nfsstat4.NFS4ERR_GRACE);
      // A client that held nothing cannot reclaim.
      const claimPrev = (cl: Nfs4TestClient) => cl.send([{ argop: OP.OP_PUTFH, args: f.fh }, { argop: OP.OP_OPEN, args: { ...cl.openArgs(''), claim: { claim: 1, delegate_type: 0 } } }]);
      expect((await claimPrev(other)).status).toBe(nfsstat4.NFS4ERR_NO_GRACE);
      a = await Nfs4TestClient.connect(port, { ownerId: owner });
      await a.mount({ reclaimComplete: false });
      const reclaimed = await claimPrev(a);
      expect(reclaimed.status).toBe(nfsstat4.NFS4_OK);
      await a.call([{ argop: OP.OP_RECLAIM_COMPLETE, args: false }]);
      expect((await a.send([{ argop: OP.OP_RECLAIM_COMPLETE, args: false }])).status).toBe(nfsstat4.NFS4ERR_COMPLETE_ALREADY);
      // Every known client has reclaimed: the grace period is over for everyone.
      const g = await other.open(dir, 'new.txt', { create: true });
      await other.close(g.fh, g.stateid);
      await other.destroy();
      await a.destroy();
    } finally {
      await server.close();
      restarted.close();
      await fx.close();
    }
  });

  it('a client that has not sent RECLAIM_COMPLETE cannot open', async () => {
    const fx = await startNfs4([{ name: 'x' }]);
    const c = await Nfs4TestClient.connect(fx.port);
    try {
      await c.mount({ reclaimComplete: false });
      expect(await statusOf(c.open(await c.fh('/x'), 'f', { create: true }))).toBe(nfsstat4.NFS4ERR_GRACE);
    } finally {
      await c.destroy();
      await fx.close();
    }
  });

  it('EXCLUSIVE4_1 creates once per verifier, with its attributes; another verifier finds NFS4ERR_EXIST', async () => {
    const fx = await startNfs4([{ name: 'x' }]);
    const c = await Nfs4TestClient.connect(fx.port);
    try {
      await c.mount();
      const dir = await c.fh('/x');
      const excl = (v: number) => ({ ...c.openArgs('excl.txt'), openhow: { opentype: 1 as const, how: { mode: 3 as const, ch_createboth: { cva_verf: Buffer.alloc(8, v), cva_attrs: { mode: 0o640 } } } } });
      const first = await c.call([{ argop: OP.OP_PUTFH, args: dir }, { argop: OP.OP_OPEN, args: excl(1) }, { argop: OP.OP_GETFH, args: undefined }]);
      const fh = resultOf<Buffer>(first, OP.OP_GETFH);
      expect(resultOf<{ attrset: number[] }>(first, OP.OP_OPEN).attrset).toEqual([0, 2]);
      expect((await c.getattr(fh, [FATTR4.MODE])).mode).toBe(0o640);
      const again = await c.send([{ argop: OP.OP_PUTFH, args: dir }, { argop: OP.OP_OPEN, args: excl(1) }, { argop: OP.OP_GETFH, args: undefined }]);
      expect(again.status).toBe(nfsstat4.NFS4_OK);
      expect(resultOf<Buffer>(again, OP.OP_GETFH).equals(fh)).toBe(true);
      expect((await c.send([{ argop: OP.OP_PUTFH, args: dir }, { argop: OP.OP_OPEN, args: excl(2) }])).status).toBe(nfsstat4.NFS4ERR_EXIST);
      // Attributes outside suppattr_exclcreat are refused.
      const bad = { ...excl(3), openhow: { opentype: 1 as const, how: { mode: 3 as const, ch_createboth: { cva_verf: Buffer.alloc(8, 3), cva_attrs: { fileid: 5 } } } } };
      expect((await c.send([{ argop: OP.OP_PUTFH, args: dir }, { argop: OP.OP_OPEN, args: bad }])).status).toBe(nfsstat4.NFS4ERR_INVAL);
    } finally {
      await c.destroy();
      await fx.close();
    }
  });
});
