import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex, PassThrough } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AcceptStat } from '../../src/protocols/oncrpc/constants';
import { decodePmapList, decodeRpcbList, encodeMapping, encodeRpcb, type Mapping, type Rpcb } from '../../src/protocols/portmap/codec';
import { IPPROTO_TCP, IPPROTO_UDP, PMAP_PROG, PmapProc, RpcbProc } from '../../src/protocols/portmap/constants';
import type { XdrWriter } from '../../src/protocols/xdr/xdr';
import { RpcClient, RpcUdpClient } from '../../src/nas/rpc/rpc-client';
import { RpcServer } from '../../src/nas/rpc/rpc-server';
import { portmapProgram } from '../../src/nas/portmap/portmap-program';
import { PortmapRegistrar, type PortmapService } from '../../src/nas/portmap/portmap-registrar';
import { PortmapRegistry } from '../../src/nas/portmap/portmap-registry';
import { MemoryLog } from '../utils/rpc-fixture';
import { freePort } from '../utils/process-gateway';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const mapping = (m: Mapping) => (w: XdrWriter) => encodeMapping(w, m);
const rpcb = (b: Rpcb) => (w: XdrWriter) => encodeRpcb(w, b);
const MOUNT: Mapping = { prog: 100005, vers: 3, prot: IPPROTO_TCP, port: 20048 };

type Caller = Pick<RpcClient, 'callOk' | 'call'>;
const set2 = (c: Caller, m: Mapping) => c.callOk(PMAP_PROG, 2, PmapProc.PMAPPROC_SET, mapping(m), (r) => r.bool());
const unset2 = (c: Caller, m: Mapping) => c.callOk(PMAP_PROG, 2, PmapProc.PMAPPROC_UNSET, mapping(m), (r) => r.bool());
const getport = (c: Caller, prog: number, vers: number, prot = IPPROTO_TCP) =>
  c.callOk(PMAP_PROG, 2, PmapProc.PMAPPROC_GETPORT, mapping({ prog, vers, prot, port: 0 }), (r) => r.uint32());
const dump2 = (c: Caller) => c.callOk(PMAP_PROG, 2, PmapProc.PMAPPROC_DUMP, undefined, decodePmapList);
const getaddr = (c: Caller, vers: 3 | 4, prog: number, pvers: number, netid: string, proc = RpcbProc.RPCBPROC_GETADDR) =>
  c.callOk(PMAP_PROG, vers, proc, rpcb({ r_prog: prog, r_vers: pvers, r_netid: netid, r_addr: '', r_owner: '' }), (r) => r.string());

describe('port mapper v2 and rpcbind v3/v4 served by our RPC server', () => {
  const registry = new PortmapRegistry();
  const server = new RpcServer([portmapProgram(registry, () => 1_700_000_000_123)], { log: new MemoryLog() });
  let port: number;
  let udpPort: number;
  let c: RpcClient;
  beforeAll(async () => {
    ({ port } = await server.listen(0, '127.0.0.1'));
    ({ port: udpPort } = await server.listenUdp(0, '127.0.0.1'));
    c = await RpcClient.connect({ host: '127.0.0.1', port });
  });
  afterAll(async () => {
    await c.close();
    await server.close();
  });

  it('v2 SET, GETPORT, DUMP, UNSET (RFC 1833 semantics)', async () => {
    expect(await set2(c, MOUNT)).toBe(true);
    // A mapping for (prog, vers, prot) already exists: refused, whatever the port.
    expect(await set2(c, { ...MOUNT, port: 1 })).toBe(false);
    expect(await set2(c, { ...MOUNT, prot: IPPROTO_UDP })).toBe(true);
    expect(await set2(c, { ...MOUNT, prot: 132 })).toBe(false);
    expect(await getport(c, 100005, 3)).toBe(20048);
    expect(await getport(c, 100005, 3, IPPROTO_UDP)).toBe(20048);
    expect(await getport(c, 100099, 1)).toBe(0);
    expect(await dump2(c)).toEqual([MOUNT, { ...MOUNT, prot: IPPROTO_UDP }]);
    // UNSET removes (prog, vers) on every protocol.
    expect(await unset2(c, { ...MOUNT, prot: 0, port: 0 })).toBe(true);
    expect(await unset2(c, MOUNT)).toBe(false);
    expect(await getport(c, 100005, 3)).toBe(0);
    expect(await dump2(c)).toEqual([]);
  });

  it('GETPORT for another version of a registered program answers its port (the service then says PROG_MISMATCH)', async () => {
    expect(await set2(c, { prog: 100003, vers: 3, prot: IPPROTO_TCP, port: 2049 })).toBe(true);
    expect(await getport(c, 100003, 4)).toBe(2049);
    expect(await getport(c, 100003, 4, IPPROTO_UDP)).toBe(0);
    await unset2(c, { prog: 100003, vers: 3, prot: 0, port: 0 });
  });

  it('answers GETPORT with the bytes the RFC lays out', async () => {
    await set2(c, MOUNT);
    const reply = await c.call(PMAP_PROG, 2, PmapProc.PMAPPROC_GETPORT, mapping({ prog: 100005, vers: 3, prot: 6, port: 0 }), { xid: 0x1234 });
    expect(reply.record).toEqual(hex('00001234 00000001 00000000 00000000 00000000 00000000 00004e50'));
    await unset2(c, MOUNT);
  });

  it('rpcbind v3/v4: SET, GETADDR with the wildcard replaced by the address called, GETVERSADDR, DUMP, UNSET', async () => {
    const nfs: Rpcb = { r_prog: 100003, r_vers: 3, r_netid: 'tcp', r_addr: '0.0.0.0.8.1', r_owner: 'strata' };
    const set = (v: 3 | 4, b: Rpcb) => c.callOk(PMAP_PROG, v, RpcbProc.RPCBPROC_SET, rpcb(b), (r) => r.bool());
    expect(await set(4, nfs)).toBe(true);
    expect(await set(3, nfs)).toBe(false);
    expect(await set(4, { ...nfs, r_netid: 'udp', r_addr: '10.9.8.7.8.1' })).toBe(true);
    expect(await set(4, { ...nfs, r_netid: 'tcp6', r_addr: 'nonsense' })).toBe(false);
    expect(await getaddr(c, 3, 100003, 3, 'tcp')).toBe('127.0.0.1.8.1');
    expect(await getaddr(c, 4, 100003, 3, 'udp')).toBe('10.9.8.7.8.1');
    // An empty netid means the transport of the call.
    expect(await getaddr(c, 4, 100003, 3, '')).toBe('127.0.0.1.8.1');
    expect(await getaddr(c, 4, 100003, 4, 'tcp')).toBe('127.0.0.1.8.1');
    expect(await getaddr(c, 4, 100003, 4, 'tcp', RpcbProc.RPCBPROC_GETVERSADDR)).toBe('');
    expect(await getaddr(c, 4, 100003, 3, 'tcp', RpcbProc.RPCBPROC_GETVERSADDR)).toBe('127.0.0.1.8.1');
    expect(await getaddr(c, 3, 100099, 1, 'tcp')).toBe('');
    expect(await c.callOk(PMAP_PROG, 4, RpcbProc.RPCBPROC_DUMP, undefined, decodeRpcbList)).toEqual([nfs, { ...nfs, r_netid: 'udp', r_addr: '10.9.8.7.8.1' }]);
    // v2 sees the same table.
    expect(await getport(c, 100003, 3)).toBe(2049);
    const unset = (b: Partial<Rpcb>) => c.callOk(PMAP_PROG, 3, RpcbProc.RPCBPROC_UNSET, rpcb({ ...nfs, r_addr: '', ...b }), (r) => r.bool());
    expect(await unset({ r_netid: 'udp' })).toBe(true);
    expect(await getaddr(c, 4, 100003, 3, 'udp')).toBe('');
    expect(await unset({ r_netid: '' })).toBe(true);
    expect(await c.callOk(PMAP_PROG, 4, RpcbProc.RPCBPROC_DUMP, undefined, decodeRpcbList)).toEqual([]);
  });

  it('GETTIME answers the clock in seconds', async () => {
    expect(await c.callOk(PMAP_PROG, 3, RpcbProc.RPCBPROC_GETTIME, undefined, (r) => r.uint32())).toBe(1_700_000_000);
  });

  it('refuses CALLIT (PROC_UNAVAIL) and unknown versions (PROG_MISMATCH 2..4)', async () => {
    expect((await c.call(PMAP_PROG, 2, PmapProc.PMAPPROC_CALLIT, (w) => w.uint32(100005).uint32(3).uint32(0).uint32(0))).status).toEqual({ accept_stat: AcceptStat.PROC_UNAVAIL });
    expect((await c.call(PMAP_PROG, 4, RpcbProc.RPCBPROC_INDIRECT)).status).toEqual({ accept_stat: AcceptStat.PROC_UNAVAIL });
    expect((await c.call(PMAP_PROG, 5, 0)).status).toEqual({ accept_stat: AcceptStat.PROG_MISMATCH, mismatch_info: { low: 2, high: 4 } });
  });

  it('refuses registrations from other machines', async () => {
    const toServer = new PassThrough();
    const toClient = new PassThrough();
    const served = server.handle(Duplex.from({ readable: toServer, writable: toClient }), { remoteAddress: '192.0.2.7', remotePort: 700, transport: 'tcp', localAddress: '192.0.2.1', localPort: 111 });
    const remote = new RpcClient(Duplex.from({ readable: toClient, writable: toServer }));
    expect(await set2(remote, MOUNT)).toBe(false);
    expect(await getport(c, 100005, 3)).toBe(0);
    await set2(c, MOUNT);
    expect(await unset2(remote, MOUNT)).toBe(false);
    expect(await getport(remote, 100005, 3)).toBe(20048);
    // GETADDR answers with the address the remote client called.
    expect(await c.callOk(PMAP_PROG, 3, RpcbProc.RPCBPROC_SET, rpcb({ r_prog: 7, r_vers: 1, r_netid: 'tcp', r_addr: '0.0.0.0.0.7', r_owner: '' }), (r) => r.bool())).toBe(true);
    expect(await getaddr(remote, 3, 7, 1, 'tcp')).toBe('192.0.2.1.0.7');
    remote.destroy();
    toServer.destroy();
    await served;
    await unset2(c, MOUNT);
    await unset2(c, { prog: 7, vers: 1, prot: 0, port: 0 });
  });

  it('answers over UDP too', async () => {
    const u = await RpcUdpClient.open('127.0.0.1', udpPort);
    expect(await set2(u as unknown as Caller, MOUNT)).toBe(true);
    expect(await getport(u as unknown as Caller, 100005, 3)).toBe(20048);
    expect(await dump2(u as unknown as Caller)).toEqual([MOUNT]);
    expect(await getaddr(u as unknown as Caller, 4, 100005, 3, 'tcp')).toBe('127.0.0.1.78.80');
    await u.close();
    await unset2(c, MOUNT);
  });
});

describe('PortmapRegistrar', () => {
  const services: PortmapService[] = [
    { prog: 100003, vers: 3, protocol: 'tcp', port: 2049 },
    { prog: 100003, vers: 3, protocol: 'tcp6', port: 2049 },
    { prog: 100005, vers: 3, protocol: 'tcp', port: 20048 },
    { prog: 100005, vers: 3, protocol: 'udp', port: 20048 },
  ];
  const cleanup: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  it('serves its own port mapper when the port is free, with our programs and itself in it', async () => {
    const port = await freePort();
    const registrar = new PortmapRegistrar({ port, host: '127.0.0.1', systemSocket: null, log: new MemoryLog() });
    cleanup.push(() => registrar.close());
    expect(await registrar.start(services)).toBe('own');
    const c = await RpcClient.connect({ host: '127.0.0.1', port });
    cleanup.push(() => c.close());
    expect(await getport(c, 100003, 3)).toBe(2049);
    expect(await getport(c, 100005, 3, IPPROTO_UDP)).toBe(20048);
    expect(await getport(c, PMAP_PROG, 2)).toBe(port);
    // An IPv6 client (libnfs asks v3 GETADDR with the netid of its transport) finds the tcp6 registration.
    expect(await getaddr(c, 3, 100003, 3, 'tcp6')).toBe('::1.8.1');
    const u = await RpcUdpClient.open('127.0.0.1', port);
    cleanup.push(() => u.close());
    expect(await getport(u as unknown as Caller, 100005, 3)).toBe(20048);
    expect((await dump2(c)).filter((m) => m.prog === PMAP_PROG).map((m) => `${m.vers}/${m.prot}`)).toEqual(['2/6', '2/17', '3/6', '3/17', '4/6', '4/17']);
    await c.close();
    await u.close();
    await registrar.close();
    await expect(RpcClient.connect({ host: '127.0.0.1', port })).rejects.toThrow(/ECONNREFUSED/);
  });

  it('registers with the port mapper already on the port (over TCP), replacing stale entries, and unregisters on close', async () => {
    // The "system" port mapper: our own, on an ephemeral port, with a stale NFS entry from an earlier run.
    const system = new PortmapRegistry();
    system.set({ r_prog: 100003, r_vers: 3, r_netid: 'tcp', r_addr: '0.0.0.0.7.208', r_owner: '0' });
    system.set({ r_prog: 100024, r_vers: 1, r_netid: 'tcp', r_addr: '0.0.0.0.3.3', r_owner: '0' });
    const sysServer = new RpcServer([portmapProgram(system)], { log: new MemoryLog() });
    const { port } = await sysServer.listen(0, '127.0.0.1');
    cleanup.push(() => sysServer.close());
    const registrar = new PortmapRegistrar({ port, host: '127.0.0.1', systemSocket: null, log: new MemoryLog() });
    expect(await registrar.start(services)).toBe('system');
    expect(system.getport(100003, 3, IPPROTO_TCP)).toBe(2049);
    expect(system.getport(100005, 3, IPPROTO_UDP)).toBe(20048);
    expect(system.dump().map((e) => `${e.r_prog}/${e.r_vers}/${e.r_netid}/${e.r_addr}`).sort()).toEqual([
      '100003/3/tcp/0.0.0.0.8.1',
      '100003/3/tcp6/::.8.1',
      '100005/3/tcp/0.0.0.0.78.80',
      '100005/3/udp/0.0.0.0.78.80',
      '100024/1/tcp/0.0.0.0.3.3',
    ]);
    await registrar.close();
    expect(system.dump().map((e) => e.r_prog)).toEqual([100024]);
  });

  it("prefers rpcbind's local socket, and falls back to v2 when the port mapper speaks only that", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pmap-'));
    cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
    // TCP on the port: a v2-only port mapper whose table must stay untouched; the local socket: the one to use.
    const overTcp = new PortmapRegistry();
    const v2only = portmapProgram(overTcp);
    const tcpServer = new RpcServer([{ ...v2only, versions: { 2: v2only.versions[2] } }], { log: new MemoryLog() });
    const { port } = await tcpServer.listen(0, '127.0.0.1');
    cleanup.push(() => tcpServer.close());
    const local = new PortmapRegistry();
    const localServer = new RpcServer([portmapProgram(local)], { log: new MemoryLog() });
    await localServer.listenLocal(join(dir, 'rpcbind.sock'));
    cleanup.push(() => localServer.close());

    const viaSocket = new PortmapRegistrar({ port, systemSocket: join(dir, 'rpcbind.sock'), log: new MemoryLog() });
    expect(await viaSocket.start(services)).toBe('system');
    expect(local.dump()).toHaveLength(4);
    expect(overTcp.dump()).toHaveLength(0);
    await viaSocket.close();
    expect(local.dump()).toHaveLength(0);

    // No local socket: TCP, where only v2 is spoken (so no IPv6 entry).
    const log = new MemoryLog();
    const viaTcp = new PortmapRegistrar({ port, systemSocket: join(dir, 'missing.sock'), log });
    expect(await viaTcp.start(services)).toBe('system');
    expect(log.lines).toContain(`warn the port mapper at 127.0.0.1:${port} refused to register program 100003 version 3 tcp6 port 2049`);
    expect(overTcp.mappings()).toEqual([
      { prog: 100003, vers: 3, prot: 6, port: 2049 },
      { prog: 100005, vers: 3, prot: 6, port: 20048 },
      { prog: 100005, vers: 3, prot: 17, port: 20048 },
    ]);
    await viaTcp.close();
    expect(overTcp.dump()).toHaveLength(0);
  });

  it("reports 'none' when the port is taken by something that will not register us", async () => {
    const log = new MemoryLog();
    const notAPortmapper = new RpcServer([], { log: new MemoryLog() });
    const { port } = await notAPortmapper.listen(0, '127.0.0.1');
    cleanup.push(() => notAPortmapper.close());
    const registrar = new PortmapRegistrar({ port, host: '127.0.0.1', systemSocket: null, log });
    expect(await registrar.start(services)).toBe('none');
    expect(log.lines.some((l) => l.startsWith(`warn registering with the port mapper at 127.0.0.1:${port} failed: RPC 100000/4/2`) && l.includes('PROG_UNAVAIL'))).toBe(true);
    await registrar.close();
  });
});
