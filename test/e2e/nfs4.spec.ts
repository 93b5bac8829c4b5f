import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NasService } from '../../src/nas/nas.service';
import { nfs_opnum4 as OP, nfsstat4 } from '../../src/protocols/nfs4/constants';
import { FATTR4 } from '../../src/protocols/nfs4/fattr4.codec';
import { startTestGateway, type TestGateway } from '../utils/gateway';
import { Nfs4Error, Nfs4TestClient, resultOf, rootCred } from '../utils/nfs4-client';
import { admin } from '../utils/san-fixture';

/**
 * NFSv4.1 against a real gateway: shares made through the REST API, served on the NFS port beside
 * NFSv3, driven by our own v4.1 client (libnfs 4.0's tools speak only NFSv4.0).
 */
describe('NFSv4.1 against a gateway', () => {
  let gw: TestGateway;
  let port: number;
  const clients: Nfs4TestClient[] = [];
  const connect = async (cred = rootCred()) => {
    const c = await Nfs4TestClient.connect(port, { cred });
    clients.push(c);
    await c.mount();
    return c;
  };

  beforeAll(async () => {
    gw = await startTestGateway({ STRATA_DEFAULT_DEVICE_SIZE: '256M' });
    await admin(gw, 'POST', 'shares', { name: 'projects', pool: 'default', size: '64M', rules: [{ clients: ['127.0.0.0/8'], access: 'rw', squash: 'no_root_squash', requirePrivilegedPort: false }] });
    await admin(gw, 'POST', 'shares', { name: 'readonly', pool: 'default', size: '32M', rules: [{ clients: ['127.0.0.0/8'], access: 'ro', squash: 'no_root_squash', requirePrivilegedPort: false }] });
    await admin(gw, 'POST', 'shares', { name: 'elsewhere', pool: 'default', size: '32M', rules: [{ clients: ['192.0.2.0/24'], access: 'rw', squash: 'no_root_squash', requirePrivilegedPort: false }] });
    port = gw.app.get(NasService).addresses().nfs!.port;
  });

  afterAll(async () => {
    for (const c of clients) await c.destroy().catch(() => undefined);
    await gw?.close();
  });

  it('mounts: EXCHANGE_ID, CREATE_SESSION, RECLAIM_COMPLETE, PUTROOTFH, LOOKUP of the share', async () => {
    const c = await connect();
    const root = await c.fh('/');
    expect((await c.readdir(root)).map((e) => e.name).sort()).toEqual(['projects', 'readonly']);
    const a = await c.getattr(await c.fh('/projects'), [FATTR4.TYPE, FATTR4.SUPPORTED_ATTRS, FATTR4.LEASE_TIME, FATTR4.SPACE_TOTAL]);
    expect(a.type).toBe(2);
    expect(a.lease_time).toBe(90);
    expect(a.space_total).toBeGreaterThan(0);
    expect((await c.send([...Nfs4TestClient.path('/elsewhere')])).status).toBe(nfsstat4.NFS4ERR_NOENT);
  });

  it('creates, writes 3 MiB unstable then commits, reads back, lists, renames and removes', async () => {
    const c = await connect();
    const dir = await c.fh('/projects');
    await c.call([{ argop: OP.OP_PUTFH, args: dir }, { argop: OP.OP_CREATE, args: { objtype: { type: 2 }, objname: 'sub', createattrs: { mode: 0o755 } } }]);
    const sub = await c.fh('/projects/sub');
    const { fh, stateid } = await c.open(sub, 'data.bin', { create: true });
    const data = randomBytes(3 * 2 ** 20);
    let verf: Buffer | undefined;
    for (let off = 0; off < data.length; off += 2 ** 20) {
      const w = await c.write(fh, stateid, off, data.subarray(off, off + 2 ** 20), 0);
      expect(w.count).toBe(2 ** 20);
      verf ??= Buffer.from(w.writeverf);
    }
    const commit = await c.call([{ argop: OP.OP_PUTFH, args: fh }, { argop: OP.OP_COMMIT, args: { offset: 0, count: 0 } }]);
    expect(resultOf<Buffer>(commit, OP.OP_COMMIT).equals(verf!)).toBe(true);
    const back: Buffer[] = [];
    for (let off = 0; ; off += 2 ** 20) {
      const r = await c.read(fh, stateid, off, 2 ** 20);
      back.push(r.data);
      if (r.eof) break;
    }
    expect(Buffer.concat(back).equals(data)).toBe(true);
    await c.close(fh, stateid);
    expect((await c.getattr(fh, [FATTR4.SIZE])).size).toBe(data.length);
    await c.call([{ argop: OP.OP_PUTFH, args: sub }, { argop: OP.OP_SAVEFH, args: undefined }, { argop: OP.OP_PUTFH, args: dir }, { argop: OP.OP_RENAME, args: { oldname: 'data.bin', newname: 'moved.bin' } }]);
    expect((await c.readdir(dir)).map((e) => e.name).sort()).toEqual(['moved.bin', 'sub']);
    await c.call([{ argop: OP.OP_PUTFH, args: dir }, { argop: OP.OP_REMOVE, args: 'moved.bin' }, { argop: OP.OP_REMOVE, args: 'sub' }]);
    expect(await c.readdir(dir)).toEqual([]);
  });

  it('locks between two clients', async () => {
    const a = await connect();
    const b = await connect();
    const dir = await a.fh('/projects');
    const fa = await a.open(dir, 'shared.db', { create: true });
    const fb = await b.open(dir, 'shared.db', {});
    const lock = (c: Nfs4TestClient, f: typeof fa, owner: string) =>
      c.send([{ argop: OP.OP_PUTFH, args: f.fh }, { argop: OP.OP_LOCK, args: { locktype: 2, reclaim: false, offset: 0n, length: 4096n, locker: { new_lock_owner: true, open_owner: { open_seqid: 0, open_stateid: f.stateid, lock_seqid: 0, lock_owner: { clientid: c.clientid, owner: Buffer.from(owner) } } } } }]);
    const held = await lock(a, fa, 'a');
    expect(held.status).toBe(nfsstat4.NFS4_OK);
    expect((await lock(b, fb, 'b')).status).toBe(nfsstat4.NFS4ERR_DENIED);
    await a.call([{ argop: OP.OP_PUTFH, args: fa.fh }, { argop: OP.OP_LOCKU, args: { locktype: 2, seqid: 0, lock_stateid: resultOf(held, OP.OP_LOCK), offset: 0n, length: 4096n } }]);
    expect((await lock(b, fb, 'b')).status).toBe(nfsstat4.NFS4_OK);
  });

  it('a read-only export refuses changes with NFS4ERR_ROFS, and NFSv3 still answers beside v4', async () => {
    const c = await connect();
    const ro = await c.fh('/readonly');
    await expect(c.open(ro, 'x', { create: true })).rejects.toSatisfy((e: unknown) => e instanceof Nfs4Error && e.status === nfsstat4.NFS4ERR_ROFS);
    const v3 = await c.rpc.call(100003, 3, 0);
    expect(v3.status).toEqual({ accept_stat: 0 });
  });
});

describe('NFSv4.1 across a gateway restart', () => {
  it('file handles stay valid, and a client holding state reclaims it in the grace period', async () => {
    let gw = await startTestGateway({ STRATA_DEFAULT_DEVICE_SIZE: '128M' });
    const dataDir = gw.dataDir;
    try {
      await admin(gw, 'POST', 'shares', { name: 'keep', pool: 'default', size: '32M', rules: [{ clients: ['*'], access: 'rw', squash: 'no_root_squash', requirePrivilegedPort: false }] });
      const owner = Buffer.from('restart-client');
      let c = await Nfs4TestClient.connect(gw.app.get(NasService).addresses().nfs!.port, { ownerId: owner });
      await c.mount();
      const f = await c.open(await c.fh('/keep'), 'kept.txt', { create: true });
      await c.write(f.fh, f.stateid, 0, Buffer.from('still here'));
      await c.rpc.close();
      await gw.close({ keepData: true });
      gw = await startTestGateway({ STRATA_DEFAULT_DEVICE_SIZE: '128M' }, dataDir);
      c = await Nfs4TestClient.connect(gw.app.get(NasService).addresses().nfs!.port, { ownerId: owner });
      await c.mount({ reclaimComplete: false });
      const r = await c.call([{ argop: OP.OP_PUTFH, args: f.fh }, { argop: OP.OP_OPEN, args: { ...c.openArgs(''), claim: { claim: 1, delegate_type: 0 } } }]);
      const sid = resultOf<{ stateid: typeof f.stateid }>(r, OP.OP_OPEN).stateid;
      await c.call([{ argop: OP.OP_RECLAIM_COMPLETE, args: false }]);
      expect((await c.read(f.fh, sid, 0, 100)).data.toString()).toBe('still here');
      await c.close(f.fh, sid);
      await c.destroy();
    } finally {
      await gw.close({ keepData: false });
      const { rmSync } = await import('node:fs');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
