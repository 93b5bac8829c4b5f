import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AcceptStat, AuthFlavor } from '../../src/protocols/oncrpc/constants';
import type { Credential } from '../../src/protocols/oncrpc/message';
import { MOUNT_PROGRAM, MountProc3, MountStat3 } from '../../src/protocols/mount3/constants';
import { decodeExports, decodeMountList, decodeMountRes3, encodeDirpath, type ExportNode, type MountRes3 } from '../../src/protocols/mount3/codec';
import type { XdrWriter } from '../../src/protocols/xdr/xdr';
import { RpcClient } from '../../src/nas/rpc/rpc-client';
import type { RpcContext } from '../../src/nas/rpc/rpc-program';
import { RpcServer } from '../../src/nas/rpc/rpc-server';
import { MountList, type MountExports, mount3Program } from '../../src/nas/mount3/mount3-program';
import { MemoryLog } from '../utils/rpc-fixture';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const dirpath = (p: string) => (w: XdrWriter) => encodeDirpath(w, p);
const SYS: Credential = { flavor: AuthFlavor.AUTH_SYS, sys: { stamp: 9, machinename: 'ws1', uid: 0, gid: 0, gids: [] } };
const ROOT_FH = Buffer.alloc(32, 0xab);

/** Shares as the lead will plug them in: here a fixed table with one rule per export. */
class FakeShares implements MountExports {
  seen: RpcContext[] = [];
  resolveExport(path: string, ctx: RpcContext): MountRes3 {
    this.seen.push(ctx);
    if (path === '/boom') throw new Error('catalog unavailable');
    if (path === '/file') return { fhs_status: MountStat3.MNT3ERR_NOTDIR };
    if (path === '/secure' && ctx.remotePort >= 1024) return { fhs_status: MountStat3.MNT3ERR_ACCES };
    if (path === '/export' || path === '/secure') return { fhs_status: MountStat3.MNT3_OK, fhandle: ROOT_FH, auth_flavors: [AuthFlavor.AUTH_SYS] };
    return { fhs_status: MountStat3.MNT3ERR_NOENT };
  }
  exports(): ExportNode[] {
    return [
      { ex_dir: '/export', ex_groups: [] },
      { ex_dir: '/secure', ex_groups: ['10.0.0.0/8', 'ws1'] },
    ];
  }
}

describe('MOUNT v3 through the RPC server and client over TCP', () => {
  const shares = new FakeShares();
  const mounts = new MountList();
  const log = new MemoryLog();
  const server = new RpcServer([mount3Program(shares, mounts)], { log });
  let port: number;
  let c: RpcClient;
  const mnt = (path: string, client = c) => client.callOk(MOUNT_PROGRAM, 3, MountProc3.MOUNTPROC3_MNT, dirpath(path), decodeMountRes3, { cred: SYS });
  const dump = () => c.callOk(MOUNT_PROGRAM, 3, MountProc3.MOUNTPROC3_DUMP, undefined, decodeMountList);

  beforeAll(async () => {
    ({ port } = await server.listen(0, '127.0.0.1'));
    c = await RpcClient.connect({ host: '127.0.0.1', port });
  });
  afterAll(async () => {
    await c.close();
    await server.close();
  });

  it('NULL answers, with no credentials', async () => {
    expect((await c.call(MOUNT_PROGRAM, 3, MountProc3.MOUNTPROC3_NULL)).status).toEqual({ accept_stat: AcceptStat.SUCCESS });
  });

  it('MNT returns the root handle and flavors (bytes as RFC 1813 lays them out)', async () => {
    const reply = await c.call(MOUNT_PROGRAM, 3, MountProc3.MOUNTPROC3_MNT, dirpath('/export'), { xid: 0x100, cred: SYS });
    expect(reply.record).toEqual(
      Buffer.concat([hex('00000100 00000001 00000000 00000000 00000000 00000000'), hex('00000000 00000020'), ROOT_FH, hex('00000001 00000001')]),
    );
    expect(shares.seen.at(-1)).toMatchObject({ remoteAddress: '127.0.0.1', cred: SYS, procName: 'MNT' });
  });

  it('MNT reports the refusals the shares decide', async () => {
    expect(await mnt('/nowhere')).toEqual({ fhs_status: MountStat3.MNT3ERR_NOENT });
    expect(await mnt('/file')).toEqual({ fhs_status: MountStat3.MNT3ERR_NOTDIR });
    expect(await mnt('/secure')).toEqual({ fhs_status: MountStat3.MNT3ERR_ACCES });
  });

  it.skipIf(process.getuid?.() !== 0)('MNT from a privileged source port passes a rule that requires one', async () => {
    let privileged: RpcClient | undefined;
    for (let p = 1023; !privileged && p > 600; p--) {
      privileged = await RpcClient.connect({ host: '127.0.0.1', port }, { localPort: p }).catch(() => undefined);
    }
    expect(privileged).toBeDefined();
    expect((await mnt('/secure', privileged)).fhs_status).toBe(MountStat3.MNT3_OK);
    await privileged!.close();
    await c.callOk(MOUNT_PROGRAM, 3, MountProc3.MOUNTPROC3_UMNT, dirpath('/secure'), () => undefined);
  });

  it('DUMP lists successful mounts by client address; UMNT and UMNTALL remove them', async () => {
    await mnt('/export');
    expect(await dump()).toEqual([{ ml_hostname: '127.0.0.1', ml_directory: '/export' }]);
    await c.callOk(MOUNT_PROGRAM, 3, MountProc3.MOUNTPROC3_UMNT, dirpath('/export'), () => undefined);
    expect(await dump()).toEqual([]);
    mounts.add('10.1.1.1', '/export');
    await mnt('/export');
    await c.callOk(MOUNT_PROGRAM, 3, MountProc3.MOUNTPROC3_UMNTALL, undefined, () => undefined);
    expect(await dump()).toEqual([{ ml_hostname: '10.1.1.1', ml_directory: '/export' }]);
    mounts.removeAll('10.1.1.1');
  });

  it('EXPORT lists the exports with their groups', async () => {
    expect(await c.callOk(MOUNT_PROGRAM, 3, MountProc3.MOUNTPROC3_EXPORT, undefined, decodeExports)).toEqual(shares.exports());
  });

  it('GARBAGE_ARGS for a dirpath over 1024 bytes; PROG_MISMATCH 3..3 for MOUNT v1; SYSTEM_ERR when the shares fail', async () => {
    const long = await c.call(MOUNT_PROGRAM, 3, MountProc3.MOUNTPROC3_MNT, (w) => w.string('/' + 'a'.repeat(1024)));
    expect(long.status).toEqual({ accept_stat: AcceptStat.GARBAGE_ARGS });
    expect((await c.call(MOUNT_PROGRAM, 1, MountProc3.MOUNTPROC3_NULL)).status).toEqual({ accept_stat: AcceptStat.PROG_MISMATCH, mismatch_info: { low: 3, high: 3 } });
    expect((await c.call(MOUNT_PROGRAM, 3, MountProc3.MOUNTPROC3_MNT, dirpath('/boom'))).status).toEqual({ accept_stat: AcceptStat.SYSTEM_ERR });
    expect(log.lines.some((l) => l.includes('MOUNTv3.MNT') && l.includes('catalog unavailable'))).toBe(true);
  });
});

describe('MountList', () => {
  it('keeps one entry per (host, directory) and stays bounded', () => {
    const list = new MountList(2);
    list.add('a', '/x');
    list.add('a', '/x');
    list.add('b', '/x');
    list.add('c', '/y');
    expect(list.list()).toEqual([
      { ml_hostname: 'b', ml_directory: '/x' },
      { ml_hostname: 'c', ml_directory: '/y' },
    ]);
  });
});
