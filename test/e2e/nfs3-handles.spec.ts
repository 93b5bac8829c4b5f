import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nfsstat3, stable_how } from '../../src/protocols/nfs3';
import { startTestGateway, type TestGateway } from '../utils/gateway';
import { createShare } from '../utils/nas-fixture';
import { Nfs3Client } from '../utils/nfs3-client';
import { buildNfsOps, NfsOps, nfsOpsMissing, nfsUrl, removeNfsOps } from '../utils/nfs-ops';
import { freePort } from '../utils/process-gateway';
import { admin } from '../utils/san-fixture';

const noC = nfsOpsMissing();
if (noC) console.warn(`NFS handles across restarts: the libnfs case is skipped: ${noC}`);

/**
 * File handles name objects, not sessions: they survive a gateway restart
 * (export id + inode + generation + MAC, no server state), go STALE when the
 * object or its share is gone, and are refused as BADHANDLE when forged.
 * The gateway restarts on the same data directory and the same NFS and
 * MOUNT ports, so a libnfs context reconnects by itself.
 */
describe('NFSv3 file handles across gateway restarts', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'strata-handles-'));
  let env: Record<string, string>;
  let gw: TestGateway | undefined;
  let ports: { nfs: number; mount: number };
  const clients: Array<{ close(): Promise<void> }> = [];

  const start = async () => {
    gw = await startTestGateway(env, dataDir);
    return gw;
  };
  const restart = async () => {
    await gw!.close();
    gw = undefined;
    return start();
  };
  const connect = async () => {
    const c = await Nfs3Client.connect(ports.nfs);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    ports = { nfs: await freePort(), mount: await freePort() };
    env = { STRATA_DEFAULT_DEVICE_SIZE: '256M', STRATA_NFS_PORT: String(ports.nfs), STRATA_MOUNT_PORT: String(ports.mount) };
    const g = await start();
    await createShare(g, 'home');
    await createShare(g, 'scratch');
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await gw?.close();
    rmSync(dataDir, { recursive: true, force: true });
    removeNfsOps();
  });

  it('old handles read, write and list after a restart; the write verifier changes so clients resend unstable data', async () => {
    let c = await connect();
    const root = await c.mount('/home');
    const dir = await c.mkdir(root, 'docs');
    const file = await c.create(dir, 'letter.txt');
    await c.write(file, 0, Buffer.from('Dear reader,\n'), stable_how.FILE_SYNC);
    const unstable = await c.write(file, 13, Buffer.from('kept by COMMIT\n'), stable_how.UNSTABLE);
    const committed = await c.commit(file);
    expect(committed.verf).toBe(unstable.verf);
    const before = await c.getattr(file);

    await restart();
    c = await connect();
    // No MOUNT, no LOOKUP: the handles from before are enough.
    expect(await c.getattr(file)).toMatchObject({ fileid: before.fileid, size: before.size, mode: before.mode });
    expect((await c.readAll(file)).toString()).toBe('Dear reader,\nkept by COMMIT\n');
    expect((await c.lookup(dir, 'letter.txt')).fh).toEqual(file);
    expect(await c.readdirNames(dir)).toContain('letter.txt');
    const after = await c.write(file, 0, Buffer.from('D'), stable_how.UNSTABLE);
    expect(after.verf).not.toBe(unstable.verf);
    expect((await c.commit(file)).verf).toBe(after.verf);
    // MOUNT hands out the same root handle as before.
    expect(await c.mount('/home')).toEqual(root);
  });

  it.skipIf(noC !== null)('a libnfs client with an open file keeps reading and writing it across a restart', async () => {
    buildNfsOps();
    const ops = await NfsOps.start(nfsUrl(ports, 'home'));
    clients.push(ops);
    expect(ops.mount.ok).toBe(true);
    await ops.put('/open-across.txt', 'before the restart');
    await ops.ok('open', 1, '/open-across.txt', 'rdwr');
    expect(Buffer.from((await ops.ok('read', 1, 0, 6))[1], 'hex').toString()).toBe('before');

    await restart();
    // libnfs reconnects to the same port and retries with the handles it holds.
    expect(Buffer.from((await ops.ok('read', 1, 7, 3))[1], 'hex').toString()).toBe('the');
    await ops.ok('write', 1, 0, Buffer.from('AFTER!').toString('hex'));
    await ops.ok('fsync', 1);
    await ops.ok('close', 1);
    expect((await ops.cat('/open-across.txt')).toString()).toBe('AFTER! the restart');
  });

  it('a removed file’s handle is NFS3ERR_STALE, before and after a restart', async () => {
    let c = await connect();
    const root = await c.mount('/home');
    const gone = await c.create(root, 'short-lived');
    const kept = await c.create(root, 'long-lived');
    await c.remove(root, 'short-lived');
    expect(await c.status(1, { object: gone })).toBe('NFS3ERR_STALE');
    expect(await c.status(6, { file: gone, offset: 0, count: 10 })).toBe('NFS3ERR_STALE');
    expect(await c.status(7, { file: gone, offset: 0, count: 1, stable: stable_how.FILE_SYNC, data: Buffer.from('x') })).toBe('NFS3ERR_STALE');
    // The name comes back as a new file: the old handle still names the old one.
    const reborn = await c.create(root, 'short-lived');
    expect(reborn).not.toEqual(gone);
    expect(await c.status(1, { object: gone })).toBe('NFS3ERR_STALE');

    await restart();
    c = await connect();
    expect(await c.status(1, { object: gone })).toBe('NFS3ERR_STALE');
    expect((await c.getattr(kept)).type).toBeDefined();
    expect((await c.getattr(reborn)).type).toBeDefined();
  });

  it('a forged or malformed handle is NFS3ERR_BADHANDLE', async () => {
    const c = await connect();
    const root = await c.mount('/home');
    const file = await c.create(root, 'target');
    const forge = (at: number) => {
      const b = Buffer.from(file);
      b[at] ^= 0x01;
      return b;
    };
    // The inode number (bytes 12..19), the export id (4..7) and the MAC (24..39) are all covered by the MAC.
    expect(await c.status(1, { object: forge(19) })).toBe('NFS3ERR_BADHANDLE');
    expect(await c.status(1, { object: forge(39) })).toBe('NFS3ERR_BADHANDLE');
    expect(await c.status(1, { object: forge(0) })).toBe('NFS3ERR_BADHANDLE');
    expect(await c.status(1, { object: file.subarray(0, 32) })).toBe('NFS3ERR_BADHANDLE');
    expect(await c.status(1, { object: Buffer.alloc(0) })).toBe('NFS3ERR_BADHANDLE');
    expect(await c.status(6, { file: Buffer.alloc(40, 0xff), offset: 0, count: 1 })).toBe('NFS3ERR_BADHANDLE');
    // A handle of one share with another share's export id: the MAC does not match that share's key.
    const scratch = await c.mount('/scratch');
    const swapped = Buffer.from(file);
    scratch.copy(swapped, 4, 4, 8);
    expect(await c.status(1, { object: swapped })).toBe('NFS3ERR_BADHANDLE');
    expect((await c.getattr(file)).type).toBeDefined();
  });

  it('handles of a deleted share are NFS3ERR_STALE, also after a restart', async () => {
    let c = await connect();
    await createShare(gw!, 'doomed');
    const root = await c.mount('/doomed');
    const fh = await c.create(root, 'inside');
    await admin(gw!, 'DELETE', 'shares/doomed?force=true');
    const res = await c.call(1, { object: fh });
    expect(res.status).toBe(nfsstat3.NFS3ERR_STALE);
    expect(await c.status(1, { object: root })).toBe('NFS3ERR_STALE');
    expect((await c.mnt('/doomed')).fhs_status).not.toBe(0);

    await restart();
    c = await connect();
    expect(await c.status(1, { object: fh })).toBe('NFS3ERR_STALE');
    // A new share of the same name is another export: the old handles stay stale.
    await createShare(gw!, 'doomed');
    const again = await c.mount('/doomed');
    expect(again).not.toEqual(root);
    expect(await c.status(1, { object: root })).toBe('NFS3ERR_STALE');
  });
});
