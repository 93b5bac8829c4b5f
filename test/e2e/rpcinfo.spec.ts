import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MountStat3 } from '../../src/protocols/mount3/constants';
import { toUniversalAddress } from '../../src/protocols/portmap/codec';
import { RpcServer } from '../../src/nas/rpc/rpc-server';
import { NULL_PROCEDURE, type RpcProgram } from '../../src/nas/rpc/rpc-program';
import { mount3Program } from '../../src/nas/mount3/mount3-program';
import { portmapProgram } from '../../src/nas/portmap/portmap-program';
import { PortmapRegistry } from '../../src/nas/portmap/portmap-registry';
import { PortmapRegistrar } from '../../src/nas/portmap/portmap-registrar';
import { ROOT } from '../utils/process-gateway';
import { MemoryLog } from '../utils/rpc-fixture';

/*
 * The real rpcinfo (Debian package rpcbind) against our RPC server and port
 * mapper. Port 111 is machine-wide and other tests run in parallel, so the
 * tests that need it use a private network namespace (and a private /run
 * for rpcbind's local socket), never the host's.
 */

const which = (cmd: string): string | null => {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
};
const RPCINFO = which('rpcinfo');
const RPCBIND = which('rpcbind');
const IS_ROOT = process.getuid?.() === 0;
const CAN_UNSHARE = IS_ROOT && !!which('unshare') && !!which('nsenter') && !!which('ip') && spawnSync('unshare', ['--net', '--mount', 'true']).status === 0;
const DIST_REGISTRAR = join(ROOT, 'dist/src/nas/portmap/portmap-registrar.js');

if (!RPCINFO) console.warn('rpcinfo.spec: skipped, rpcinfo is missing (Debian package rpcbind)');
else if (!CAN_UNSHARE) console.warn('rpcinfo.spec: namespace tests skipped, they need root, unshare, nsenter and ip (util-linux, iproute2)');

interface Run {
  code: number;
  out: string;
}
/** Run a command without blocking the event loop (our server answers from this process). */
function run(cmd: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, out: `${stdout}${stderr}` });
    });
  });
}

/** MOUNT v3 answering NOENT, and a stand-in for NFS with version 3 only. */
function programs(): RpcProgram[] {
  return [
    mount3Program({ resolveExport: () => ({ fhs_status: MountStat3.MNT3ERR_NOENT }), exports: () => [{ ex_dir: '/export', ex_groups: [] }] }),
    { prog: 100003, name: 'NFS', versions: { 3: { 0: NULL_PROCEDURE } } },
  ];
}

// rpcinfo 1.2.6's -n still asks the port mapper on 111; -a takes the server's universal address directly.
describe.skipIf(!RPCINFO)('rpcinfo pings our RPC server at its address (-a)', () => {
  const server = new RpcServer(programs(), { log: new MemoryLog() });
  let uaddr: string;
  beforeAll(async () => {
    const { port } = await server.listen(0, '127.0.0.1');
    await server.listenUdp(port, '127.0.0.1');
    uaddr = toUniversalAddress('127.0.0.1', port);
  });
  afterAll(() => server.close());

  it('finds the version range through PROG_MISMATCH, then pings each version over TCP', async () => {
    const r = await run(RPCINFO!, ['-a', uaddr, '-T', 'tcp', '100005']);
    expect(r).toEqual({ code: 0, out: 'program 100005 version 3 ready and waiting\n' });
  });

  it('pings over UDP', async () => {
    const r = await run(RPCINFO!, ['-a', uaddr, '-T', 'udp', '100005', '3']);
    expect(r).toEqual({ code: 0, out: 'program 100005 version 3 ready and waiting\n' });
  });

  it('reports PROG_MISMATCH 3..3 for NFS version 4', async () => {
    const r = await run(RPCINFO!, ['-a', uaddr, '-T', 'tcp', '100003', '4']);
    expect(r.code).toBe(1);
    expect(r.out).toContain('RPC: Program/version mismatch; low version = 3, high version = 3');
    expect(r.out).toContain('program 100003 version 4 is not available');
  });

  it('reports PROG_UNAVAIL for a program we do not serve', async () => {
    const r = await run(RPCINFO!, ['-a', uaddr, '-T', 'tcp', '100099', '1']);
    expect(r.code).toBe(1);
    expect(r.out).toContain('RPC: Program unavailable');
    expect(r.out).toContain('program 100099 version 1 is not available');
  });
});

describe.skipIf(!RPCINFO || !CAN_UNSHARE)("rpcinfo against our port mapper on rpcbind's local socket", () => {
  let dir: string;
  const registry = new PortmapRegistry();
  const server = new RpcServer([portmapProgram(registry)], { log: new MemoryLog() });
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rpcinfo-'));
    await server.listenLocal(join(dir, 'rpcbind.sock'));
    registry.set({ r_prog: 100000, r_vers: 2, r_netid: 'tcp', r_addr: '0.0.0.0.0.111', r_owner: 'superuser' });
    registry.set({ r_prog: 100005, r_vers: 3, r_netid: 'tcp', r_addr: '0.0.0.0.78.80', r_owner: 'superuser' });
    registry.set({ r_prog: 100003, r_vers: 3, r_netid: 'tcp', r_addr: '0.0.0.0.8.1', r_owner: 'superuser' });
  });
  afterAll(async () => {
    await server.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** rpcinfo without a host talks to /run/rpcbind.sock: give it a /run where that is ours. */
  const local = (args: string[]) => run('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', `mount --bind ${dir} /run && exec rpcinfo ${args.join(' ')}`]);

  it('rpcinfo -p: the v2 DUMP', async () => {
    const r = await local(['-p']);
    expect(r.code).toBe(0);
    expect(r.out.split('\n').map((l) => l.trim().split(/\s+/).slice(0, 4).join(' '))).toEqual([
      'program vers proto port',
      '100000 2 tcp 111',
      '100005 3 tcp 20048',
      '100003 3 tcp 2049',
      '',
    ]);
  });

  it('rpcinfo and rpcinfo -s: the rpcbind v4 DUMP', async () => {
    const r = await local([]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/100005\s+3\s+tcp\s+0\.0\.0\.0\.78\.80\s+mountd\s+superuser/);
    const s = await local(['-s']);
    expect(s.out).toMatch(/100003\s+3\s+tcp\s+nfs\s+superuser/);
  });
});

/** A child in a network namespace of its own; resolves once it printed `ready` on stdout. */
function spawnInNetns(shellCommand: string, ready: (out: string) => boolean): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn('unshare', ['--net', '--mount', '--propagation', 'private', 'sh', '-c', shellCommand], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const check = () => ready(out) && resolve({ child, output: () => out });
    child.stdout!.on('data', (d) => ((out += d), check()));
    child.stderr!.on('data', (d) => ((out += d), check()));
    child.once('exit', (code) => reject(new Error(`exited with ${code}:\n${out}`)));
    setTimeout(() => reject(new Error(`not ready:\n${out}`)), 20_000).unref();
    check();
  });
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 3000);
  await gone;
  clearTimeout(t);
}

describe.skipIf(!RPCINFO || !CAN_UNSHARE || !existsSync(DIST_REGISTRAR))('our port mapper owning port 111 in a private network namespace', () => {
  let child: ChildProcess | undefined;
  let nsPid = 0;
  beforeAll(async () => {
    // The built gateway code (npm test builds dist/ first): PortmapRegistrar finds 111 free and serves it.
    const script = `
      const { PortmapRegistrar } = require(${JSON.stringify(DIST_REGISTRAR)});
      const { RpcServer } = require(${JSON.stringify(join(ROOT, 'dist/src/nas/rpc/rpc-server.js'))});
      const { mount3Program } = require(${JSON.stringify(join(ROOT, 'dist/src/nas/mount3/mount3-program.js'))});
      (async () => {
        const log = { debug() {}, warn: console.error, error: console.error };
        const mount = new RpcServer([mount3Program({ resolveExport: () => ({ fhs_status: 2 }), exports: () => [] })], { log });
        const { port } = await mount.listen(20048, '127.0.0.1');
        await mount.listenUdp(port, '127.0.0.1');
        const registrar = new PortmapRegistrar({ host: '127.0.0.1', systemSocket: null, log });
        const mode = await registrar.start([{ prog: 100005, vers: 3, protocol: 'tcp', port }, { prog: 100005, vers: 3, protocol: 'udp', port }]);
        console.log('ready ' + mode);
      })();`;
    const started = await spawnInNetns(`ip link set lo up && exec ${JSON.stringify(process.execPath)} -e ${shellQuote(script)}`, (o) => o.includes('ready'));
    child = started.child;
    nsPid = child.pid!;
    expect(started.output()).toContain('ready own');
  });
  afterAll(() => stop(child));

  const inNs = (args: string[]) => run('nsenter', ['-t', String(nsPid), '-n', RPCINFO!, ...args]);

  it('rpcinfo -p 127.0.0.1 lists the port mapper and MOUNT over TCP', async () => {
    const r = await inNs(['-p', '127.0.0.1']);
    expect(r.code).toBe(0);
    const rows = r.out.split('\n').slice(1, -1).map((l) => l.trim().split(/\s+/).slice(0, 4).join(' '));
    expect(rows).toEqual(['100000 2 tcp 111', '100000 2 udp 111', '100000 3 tcp 111', '100000 3 udp 111', '100000 4 tcp 111', '100000 4 udp 111', '100005 3 tcp 20048', '100005 3 udp 20048']);
  });

  it('rpcinfo -t/-u resolve MOUNT through GETPORT and ping it; -T tcp through rpcbind GETADDR', async () => {
    expect(await inNs(['-t', '127.0.0.1', 'mountd'])).toEqual({ code: 0, out: 'program 100005 version 3 ready and waiting\n' });
    expect(await inNs(['-u', '127.0.0.1', '100005', '3'])).toEqual({ code: 0, out: 'program 100005 version 3 ready and waiting\n' });
    expect(await inNs(['-T', 'tcp', '127.0.0.1', '100005', '3'])).toEqual({ code: 0, out: 'program 100005 version 3 ready and waiting\n' });
    const missing = await inNs(['-t', '127.0.0.1', '100003', '3']);
    expect(missing.code).toBe(1);
    expect(missing.out).toContain('Program not registered');
  });
});

describe.skipIf(!RPCINFO || !RPCBIND || !CAN_UNSHARE)("registration with the system's rpcbind (a real rpcbind in a private namespace)", () => {
  let dir: string;
  let rpcbind: ChildProcess | undefined;
  let blocker: Server;
  let takenPort = 0;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rpcbind-'));
    // rpcbind's /run is our directory, so its local socket is reachable from here; its port 111 is the namespace's.
    const child = spawn('unshare', ['--net', '--mount', '--propagation', 'private', 'sh', '-c', `ip link set lo up && mount --bind ${dir} /run && exec ${RPCBIND} -f`], { stdio: 'ignore' });
    rpcbind = child;
    for (let i = 0; i < 200 && !existsSync(join(dir, 'rpcbind.sock')); i++) await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(join(dir, 'rpcbind.sock'))).toBe(true);
    // Our "port 111" is taken here (as the system's rpcbind takes the real one).
    blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    takenPort = (blocker.address() as { port: number }).port;
  });
  afterAll(async () => {
    blocker?.close();
    await stop(rpcbind);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const dumpInNs = async () => {
    const r = await run('nsenter', ['-t', String(rpcbind!.pid), '-n', RPCINFO!, '-p', '127.0.0.1']);
    expect(r.code).toBe(0);
    return r.out.split('\n').slice(1, -1).map((l) => l.trim().split(/\s+/).slice(0, 4).join(' '));
  };

  it('registers our programs through its local socket and takes them back on close', async () => {
    const registrar = new PortmapRegistrar({ port: takenPort, host: '127.0.0.1', systemSocket: join(dir, 'rpcbind.sock'), log: new MemoryLog() });
    expect(
      await registrar.start([
        { prog: 100003, vers: 3, protocol: 'tcp', port: 2049 },
        { prog: 100005, vers: 3, protocol: 'tcp', port: 20048 },
        { prog: 100005, vers: 3, protocol: 'udp', port: 20048 },
      ]),
    ).toBe('system');
    const rows = await dumpInNs();
    expect(rows).toEqual(expect.arrayContaining(['100003 3 tcp 2049', '100005 3 tcp 20048', '100005 3 udp 20048']));
    // Registering again (a restart after a crash) replaces the entries instead of failing.
    const again = new PortmapRegistrar({ port: takenPort, host: '127.0.0.1', systemSocket: join(dir, 'rpcbind.sock'), log: new MemoryLog() });
    expect(await again.start([{ prog: 100003, vers: 3, protocol: 'tcp', port: 3049 }])).toBe('system');
    expect(await dumpInNs()).toContain('100003 3 tcp 3049');
    await again.close();
    await registrar.close();
    expect((await dumpInNs()).filter((r) => !r.startsWith('100000 '))).toEqual([]);
  });
});

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
