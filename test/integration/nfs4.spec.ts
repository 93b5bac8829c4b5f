import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FATTR4 } from '../../src/protocols/nfs4/fattr4.codec';
import { nfs_opnum4 as OP, nfsstat4 } from '../../src/protocols/nfs4/constants';
import { Nfs4Error, Nfs4TestClient, resultOf, rootCred } from '../utils/nfs4-client';
import { startNfs4, type Nfs4Fixture } from '../utils/nfs4-fixture';

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
