import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import { closeSync, createReadStream, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { num, pct } from './format';
import { addTimesBetween, formatGatewayTimes, scrapeGatewayTimes, type GatewayTimes } from './gateway-times';
import { freePort } from './free-port';
import { api, has, nodeFlags, peakRssMiB, quiesce, startGatewayProcess, stopProcess } from './gateway-process';
import { DEFAULT_DEPTH, nfs4LoadArgv, parseNfs4LoadResult, type Nfs4LoadCommand, type Nfs4LoadResult } from './nfs4-load';
import { median } from './workload';

/*
 * The NAS path end to end on loopback, with the real clients of PEERS.md:
 * the gateway (a separate process, NFSv3 on ephemeral ports) against
 * nfs-ganesha's VFS FSAL on a directory of the same disk, side by side in
 * one run. Ganesha needs rpcbind and wants ports 111 and 2049, which are
 * machine-wide, so it runs in its own network and mount namespace
 * (unshare) and its clients enter that namespace (nsenter).
 *
 * Rows: nfs-cp upload and nfs-cat download of one file, and metadata
 * through one libnfs mount, one call at a time (bench/nas-meta.c, built
 * here against libnfs-dev): create + 100-byte write + close, stat, unlink.
 * An upload (NFSv3 or NFSv4.1) starts at least 3 s after the last removal
 * of an uploaded file, so neither server's upload lands in blocks the disk
 * has not yet let go of (REMOVAL_FORGOTTEN_MS).
 * The metadata rows run once more on our share exported async: ganesha's
 * VFS FSAL syncs no namespace change either.
 * Then the same rows over NFSv4.1 through Strata's own client
 * (bench/nfs4-load.ts, a process per row): libnfs 4.0 speaks only NFSv4.0
 * and the kernel has no NFS client, so no other v4.1 client runs here.
 */

const MiB = 2 ** 20;
const GiB = 2 ** 30;
const META_SOURCE = resolve(__dirname, '../../bench/nas-meta.c');
const NFS4_LOAD = resolve(__dirname, 'nfs4-load.js');

export interface NasRow {
  workload: string;
  unit: 'MB/s' | 'ops/s';
  /** Medians over the rounds. */
  ganesha?: number;
  strata: number;
  /** Median of the per-round ratios strata / ganesha. */
  ratio?: number;
  /** Measured on a share exported async (committed before the reply, synced within a second; the default, sync, syncs every namespace change before replying). */
  asyncShare?: boolean;
  /** NFSv4.1 through Strata's own client (bench/nfs4-load.ts). */
  nfs4?: boolean;
}

export interface NasBenchResult {
  rows: NasRow[];
  /** Why the NAS benchmark could not run at all. */
  unavailable?: string;
  /** Why there is no ganesha column. */
  ganeshaSkipped?: string;
  /** Why there are no metadata rows. */
  metaSkipped?: string;
  /** The gateway's peak resident set (VmHWM) in MiB, and ganesha's. */
  peakRssMiB?: number;
  ganeshaPeakRssMiB?: number;
  /** Our NFSv4.1 client against each server. */
  nfs4Client: Partial<Record<Server['name'], Nfs4ClientFigures>>;
  /** Where the gateway's time went in the NFSv3 metadata rows, all rounds: on the sync share, and on the async one. */
  gatewayTimes?: { sync: GatewayTimes; async: GatewayTimes };
  /** NFSv4.1 calls in flight during upload and download. */
  nfs4Depth: number;
  size: number;
  files: number;
  rounds: number;
}

/** How our NFSv4.1 client fared against one server. */
export interface Nfs4ClientFigures {
  /** Bytes per WRITE and READ the server's limits allowed (1 MiB unless smaller). */
  write: number;
  read: number;
  /** Medians of the share of one core the load process used: near 100%, the client set the pace. */
  cpu: { upload: number; download: number; meta: number };
}

/** One NFS server as its clients reach it: URLs and how to run a client command next to it. */
interface Server {
  name: 'strata' | 'ganesha';
  /** nfs:// URL of a path in the export (path starts with '/'). */
  url(path: string): string;
  /** The client command line, entering the server's namespace if it has one. */
  command(file: string, args: string[]): [string, string[]];
  /** Where NFSv4.1 reaches the export: the port and the path from the server's pseudo root. */
  nfs4: { port: number; exportPath: string };
  /** Strata only: its call and commit times so far (the export's share), from its /metrics. */
  times?: () => Promise<GatewayTimes>;
}

interface RoundFigures {
  upload: number;
  download: number;
  create?: number;
  stat?: number;
  unlink?: number;
  /** The same metadata rows on a share exported async (strata only). */
  createAsync?: number;
  statAsync?: number;
  unlinkAsync?: number;
  /** The NFSv4.1 rows. */
  upload4?: number;
  download4?: number;
  create4?: number;
  stat4?: number;
  unlink4?: number;
  /** The NFSv4.1 metadata rows on the async share (strata only). */
  create4Async?: number;
  stat4Async?: number;
  unlink4Async?: number;
  /** What the NFSv4.1 load process reported besides: bytes per WRITE and READ, its share of a core. */
  write4Chunk?: number;
  read4Chunk?: number;
  upload4Cpu?: number;
  download4Cpu?: number;
  meta4Cpu?: number;
}

const run = promisify(execFile);

/** Run a client and time it; its stdout goes to /dev/null. */
async function timed(server: Server, file: string, args: string[]): Promise<number> {
  const [cmd, argv] = server.command(file, args);
  const t0 = process.hrtime.bigint();
  await new Promise<void>((res, rej) => {
    const p = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', rej);
    p.on('exit', (code) => (code === 0 ? res() : rej(new Error(`${file} ${args.join(' ')} exited with ${code}: ${err.trim()}`))));
  });
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** sha256 of what nfs-cat reads (outside the timed runs: proves both servers move the right bytes). */
function catDigest(server: Server, path: string): Promise<string> {
  const [cmd, argv] = server.command('nfs-cat', [server.url(path)]);
  return new Promise((res, rej) => {
    const p = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
    const h = createHash('sha256');
    p.stdout.on('data', (d: Buffer) => h.update(d));
    p.on('error', rej);
    p.on('exit', (code) => (code === 0 ? res(h.digest('hex')) : rej(new Error(`nfs-cat ${path} exited with ${code}`))));
  });
}

function fileDigest(path: string): Promise<string> {
  return new Promise((res, rej) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (d) => h.update(d))
      .on('end', () => res(h.digest('hex')))
      .on('error', rej);
  });
}

/** Random bytes (nothing compresses or dedups), written in 16 MiB pieces. */
function makeSource(path: string, size: number): void {
  const fd = openSync(path, 'w');
  try {
    const chunk = Buffer.allocUnsafe(16 * MiB);
    for (let done = 0; done < size; ) {
      const n = Math.min(chunk.length, size - done);
      randomFillSync(chunk, 0, n);
      writeSync(fd, chunk, 0, n);
      done += n;
    }
  } finally {
    closeSync(fd);
  }
}

async function metadata(server: Server, driver: string, files: number, dir: string): Promise<Pick<RoundFigures, 'create' | 'stat' | 'unlink'>> {
  const [cmd, argv] = server.command(driver, ['meta', server.url('/'), String(files), dir]);
  const { stdout } = await run(cmd, argv);
  const out: Record<string, number> = {};
  for (const line of stdout.trim().split('\n')) {
    const [phase, n, seconds] = line.split(' ');
    out[phase] = Number(n) / Number(seconds);
  }
  if (!(out.create > 0 && out.stat > 0 && out.unlink > 0)) throw new Error(`nas-meta printed ${JSON.stringify(stdout)}`);
  return { create: out.create, stat: out.stat, unlink: out.unlink };
}

/** Run one NFSv4.1 load process next to `server` (in its namespace) and read its result line. */
async function nfs4Load<C extends Nfs4LoadCommand>(server: Server, load: C): Promise<Extract<Nfs4LoadResult, { command: C['command'] }>> {
  const argv = nfs4LoadArgv({ host: '127.0.0.1', ...server.nfs4, depth: DEFAULT_DEPTH, run: load });
  const [cmd, args] = server.command(process.execPath, [...nodeFlags('STRATA_BENCH_CLIENT_FLAGS'), NFS4_LOAD, ...argv]);
  let stdout: string;
  try {
    ({ stdout } = await run(cmd, args));
  } catch (e) {
    throw new Error(`${server.name}: NFSv4.1 ${load.command} failed: ${((e as { stderr?: string }).stderr ?? '').trim() || (e as Error).message}`);
  }
  return parseNfs4LoadResult(stdout, load.command) as Extract<Nfs4LoadResult, { command: C['command'] }>;
}

/** What the rounds of both servers share. */
interface RoundSetup {
  /** The file every upload sends, and its sha256 (computed once, when first asked). */
  source: string;
  sourceDigest(): Promise<string>;
  size: number;
  /** bench/nas-meta.c built, if it could be. */
  driver?: string;
  files: number;
  /** The servers' processes, idle before each timed row. */
  pids: number[];
  /** The gateway's times in the NFSv3 metadata rows, added up over the rounds. */
  gatewayTimes: { sync: GatewayTimes; async: GatewayTimes };
  /** When either server last removed an uploaded file (ms, after a sync): see uploadSpace(). */
  removedAt: number;
}

/**
 * Wait for the servers to be idle, then run `fn`, adding what the server's
 * calls and commits took meanwhile to `into` (when the server tells; read
 * before the wait, so that rendering /metrics is not what the row starts after).
 */
async function withTimes<T>(server: Server, pids: number[], into: GatewayTimes, fn: () => Promise<T>): Promise<T> {
  const before = await server.times?.();
  await quiesce(pids);
  const out = await fn();
  if (before) addTimesBetween(into, before, await server.times!());
  return out;
}

/** The NFSv4.1 rows of a round: upload and download of the source (its bytes checked in round 0, untimed), then the metadata rows, on the async share too. */
async function nfs4Round(server: Server, r: number, setup: RoundSetup, asyncShare?: Server): Promise<Partial<RoundFigures>> {
  const { source, sourceDigest, files, pids } = setup;
  const name = `v4-${r}.bin`;
  await uploadSpace(setup);
  await quiesce(pids);
  const up = await nfs4Load(server, { command: 'upload', source, name });
  const down = await nfs4Load(server, { command: 'download', name, sha256: false });
  if (down.bytes !== up.bytes) throw new Error(`${server.name}: NFSv4.1 read ${down.bytes} bytes of ${name}, wrote ${up.bytes}`);
  if (r === 0) {
    const check = await nfs4Load(server, { command: 'download', name, sha256: true });
    if (check.sha256 !== (await sourceDigest())) throw new Error(`${server.name}: ${name} read back over NFSv4.1 differs from what was written`);
  }
  await nfs4Load(server, { command: 'rm', name });
  removed(setup);
  await quiesce(pids);
  const meta = await nfs4Load(server, { command: 'meta', dir: `meta4-${r}`, files });
  let onAsync: Partial<RoundFigures> = {};
  if (asyncShare) {
    await quiesce(pids);
    const m = await nfs4Load(asyncShare, { command: 'meta', dir: `meta4-${r}`, files });
    onAsync = { create4Async: files / m.create, stat4Async: files / m.stat, unlink4Async: files / m.unlink };
  }
  return {
    ...onAsync,
    upload4: up.bytes / up.seconds / 1e6,
    download4: down.bytes / down.seconds / 1e6,
    create4: files / meta.create,
    stat4: files / meta.stat,
    unlink4: files / meta.unlink,
    write4Chunk: up.chunk,
    read4Chunk: down.chunk,
    upload4Cpu: up.cpu,
    download4Cpu: down.cpu,
    meta4Cpu: meta.cpu,
  };
}

/**
 * How long this disk takes to forget blocks a removal gave back. Both
 * servers' files live on one ext4 mounted with `discard` over a virtual
 * disk; a 1 GiB write that reuses blocks freed less than about 1.5 s before
 * ran at 1.8-2 GB/s, one into space freed 2 s or more before (or never
 * used) at about 350 MB/s (dd conv=fdatasync, measured on this machine).
 * Without this wait the second upload of a round landed in the blocks the
 * first server had just removed and was the faster one in 14 of 15 rounds
 * (4 of 4 in one run: 2.0x, 1.2x, 4.1x, 2.5x), whichever server it was.
 */
const REMOVAL_FORGOTTEN_MS = 3000;

/** An uploaded file was removed: its blocks are freed (and discarded) now, by a sync, and the clock for uploadSpace() starts. */
function removed(setup: RoundSetup): void {
  spawnSync('sync');
  setup.removedAt = Date.now();
}

/** Before a timed upload: wait until the last removal is REMOVAL_FORGOTTEN_MS old, so every upload meets space as cold as the other server's did. */
async function uploadSpace(setup: RoundSetup): Promise<void> {
  const left = setup.removedAt + REMOVAL_FORGOTTEN_MS - Date.now();
  if (left > 0) await new Promise((r) => setTimeout(r, left));
}

/** One part of a round on one server (with our async share for strata); a round runs each part on both servers, one right after the other. */
type Phase = (server: Server, r: number, setup: RoundSetup, asyncShare?: Server) => Promise<Partial<RoundFigures>>;

/** nfs-cp upload and nfs-cat download of the source (its bytes checked in round 0, untimed); the file is removed after when the driver is there. */
const transfers: Phase = async (server, r, setup) => {
  const { source, sourceDigest, size, driver, pids } = setup;
  const name = `/up-${r}.bin`;
  await uploadSpace(setup);
  await quiesce(pids);
  const up = await timed(server, 'nfs-cp', [source, server.url(name)]);
  const down = await timed(server, 'nfs-cat', [server.url(name)]);
  if (r === 0) {
    // Once, untimed: what came back is what went up.
    const [want, got] = await Promise.all([sourceDigest(), catDigest(server, name)]);
    if (want !== got) throw new Error(`${server.name}: ${name} read back differs from what nfs-cp wrote`);
  }
  if (driver) {
    const [cmd, argv] = server.command(driver, ['rm', server.url('/'), name]);
    await run(cmd, argv);
    removed(setup);
  }
  // Without the driver nothing removes the file: the share is then sized for all rounds.
  return { upload: size / up / 1e6, download: size / down / 1e6 };
};

/** The NFSv3 metadata rows, then the same on our async share. */
const metadataRows: Phase = async (server, r, { driver, files, pids, gatewayTimes }, asyncShare) => {
  if (!driver) return {};
  // The removal of a 1 GiB file goes on in the background (discards): done before the metadata rows are timed.
  const fig: Partial<RoundFigures> = await withTimes(server, pids, gatewayTimes.sync, () => metadata(server, driver, files, `meta-${r}`));
  if (asyncShare) {
    const m = await withTimes(asyncShare, pids, gatewayTimes.async, () => metadata(asyncShare, driver, files, `meta-${r}`));
    Object.assign(fig, { createAsync: m.create, statAsync: m.stat, unlinkAsync: m.unlink });
  }
  return fig;
};

const PHASES: Phase[] = [transfers, metadataRows, nfs4Round];

/** Compile the metadata driver; undefined with the reason if cc or libnfs-dev is missing. */
function buildDriver(dir: string): { path?: string; skipped?: string } {
  if (!has('cc')) return { skipped: 'no C compiler (apt-get install -y gcc libnfs-dev)' };
  const out = join(dir, 'nas-meta');
  const cc = spawnSync('cc', ['-O2', '-o', out, META_SOURCE, '-lnfs'], { encoding: 'utf8' });
  if (cc.status !== 0) return { skipped: `cannot build bench/nas-meta.c against libnfs (apt-get install -y libnfs-dev): ${cc.stderr.trim().split('\n')[0]}` };
  return { path: out };
}

/** Why ganesha cannot run here, if it cannot. */
function ganeshaMissing(): string | undefined {
  const missing = ['ganesha.nfsd', 'rpcbind', 'unshare', 'nsenter', 'ip'].filter((c) => !has(c));
  if (missing.length) return `${missing.join(', ')} not installed (apt-get install -y nfs-ganesha nfs-ganesha-vfs rpcbind util-linux iproute2)`;
  if (process.getuid?.() !== 0) return 'ganesha runs in its own network namespace, which needs root';
  return undefined;
}

interface Ganesha {
  server: Server;
  /** ganesha.nfsd, also the namespace's first process. */
  child: ChildProcess;
  rpcbindPid(): number | undefined;
}

/**
 * nfs-ganesha (VFS FSAL, PEERS.md's config) and rpcbind in a private network
 * and mount namespace: loopback up, plus an address on it, since glibc's
 * AI_ADDRCONFIG finds no IPv4 address in a namespace that has only 127.0.0.1
 * and ganesha then cannot resolve its Bind_addr; a tmpfs on /run so rpcbind's
 * socket and lock are its own.
 */
async function startGanesha(dir: string): Promise<Ganesha> {
  const g = join(dir, 'ganesha');
  mkdirSync(join(g, 'export'), { recursive: true });
  mkdirSync(join(g, 'recov'), { recursive: true });
  writeFileSync(
    join(g, 'ganesha.conf'),
    `NFS_CORE_PARAM { Bind_addr=127.0.0.1; NFS_Port=2049; MNT_Port=20048; Enable_NLM=false;
  Enable_RQUOTA=false; Enable_UDP=false; Protocols=3,4; mount_path_pseudo=true;
  Plugins_Dir="/usr/lib/x86_64-linux-gnu/ganesha"; }
NFS_KRB5 { Active_krb5=false; }
NFSv4 { Graceless=true; RecoveryRoot="${g}/recov"; Only_Numeric_Owners=true; }
EXPORT { Export_Id=1; Path="${g}/export"; Pseudo="/export"; Access_Type=RW;
  Squash=No_Root_Squash; Protocols=3,4; Transports=TCP; SecType=sys; FSAL { Name=VFS; } }
`,
  );
  const rpcbindPidFile = join(g, 'rpcbind.pid');
  const script = [
    'set -e',
    'ip link set lo up',
    'ip addr add 10.254.254.1/32 dev lo',
    'mount -t tmpfs tmpfs /run',
    `rpcbind -f -w & echo $! > ${rpcbindPidFile}`,
    'sleep 0.3',
    `exec ganesha.nfsd -F -f ${g}/ganesha.conf -L ${g}/ganesha.log -p ${g}/ganesha.pid -N NIV_EVENT`,
  ].join('\n');
  // unshare execs sh, which execs ganesha: the child's PID is ganesha's.
  const child = spawn('unshare', ['--net', '--mount', '--propagation', 'private', 'sh', '-c', script], { stdio: ['ignore', 'ignore', 'inherit'] });
  const pid = child.pid!;
  const server: Server = {
    name: 'ganesha',
    url: (path) => `nfs://127.0.0.1/export${path === '/' ? '' : path}?version=3`,
    command: (file, args) => ['nsenter', [`--net=/proc/${pid}/ns/net`, file, ...args]],
    nfs4: { port: 2049, exportPath: '/export' },
  };
  const rpcbindPid = () => {
    try {
      return Number(readFileSync(rpcbindPidFile, 'utf8').trim()) || undefined;
    } catch {
      return undefined;
    }
  };
  const g0: Ganesha = { server, child, rpcbindPid };
  try {
    for (let i = 0; ; i++) {
      if (child.exitCode !== null) throw new Error(`ganesha exited with ${child.exitCode} (see ${g}/ganesha.log)`);
      const ls = spawnSync(...server.command('nfs-ls', [server.url('/')]), { stdio: 'ignore', timeout: 5000 });
      if (ls.status === 0) break;
      if (i > 60) throw new Error(`ganesha did not answer within 30 s (see ${g}/ganesha.log)`);
      await new Promise((r) => setTimeout(r, 500));
    }
  } catch (e) {
    await stopGanesha(g0);
    throw e;
  }
  return g0;
}

async function stopGanesha(g: Ganesha | undefined): Promise<void> {
  if (!g) return;
  const rpcbind = g.rpcbindPid();
  await stopProcess(g.child);
  if (rpcbind) {
    try {
      process.kill(rpcbind, 'SIGTERM');
    } catch {
      /* already gone */
    }
  }
}

export async function benchNas(opts: { rounds: number; size: number; files: number; verbose?: boolean }): Promise<NasBenchResult> {
  const result: NasBenchResult = { rows: [], nfs4Client: {}, nfs4Depth: DEFAULT_DEPTH, size: opts.size, files: opts.files, rounds: opts.rounds };
  const tools = ['nfs-cp', 'nfs-cat', 'nfs-ls'].filter((c) => !has(c));
  if (tools.length) return { ...result, unavailable: `${tools.join(', ')} not installed (apt-get install -y libnfs-utils)` };
  const dir = mkdtempSync(join(tmpdir(), 'strata-nas-bench-'));
  let gateway: ChildProcess | undefined;
  let ganesha: Ganesha | undefined;
  try {
    const driver = buildDriver(dir);
    result.metaSkipped = driver.skipped;
    const source = join(dir, 'source.bin');
    makeSource(source, opts.size);

    const [nfsPort, mountPort] = [await freePort('tcp'), await freePort('tcp')];
    const gw = await startGatewayProcess(dir, {
      STRATA_SAN: 'false',
      STRATA_NBD: 'false',
      STRATA_NAS: 'true',
      STRATA_NAS_HOST: '127.0.0.1',
      STRATA_NFS_PORT: String(nfsPort),
      STRATA_MOUNT_PORT: String(mountPort),
      STRATA_PORTMAP: 'off',
    });
    gateway = gw.child;
    // Room for every round's NFSv3 upload when nothing removes them, the NFSv4.1 one (removed each round), plus metadata.
    const shareSize = ((driver.path ? 1 : opts.rounds) + 1) * opts.size + 256 * MiB;
    await api(gw.url, gw.token, 'devices', { name: 'bench', kind: 'file', path: join(dir, 'bench.img'), size: shareSize + 256 * MiB });
    await api(gw.url, gw.token, 'pools', { name: 'bench', layout: 'concat', members: [{ device: 'bench' }] });
    await api(gw.url, gw.token, 'shares', {
      name: 'bench',
      pool: 'bench',
      size: shareSize,
      rules: [{ clients: ['127.0.0.1/32'], access: 'rw', squash: 'no_root_squash', requirePrivilegedPort: false }],
    });
    const strata: Server = {
      name: 'strata',
      url: (path) => `nfs://127.0.0.1/bench${path === '/' ? '' : path}?version=3&nfsport=${nfsPort}&mountport=${mountPort}`,
      command: (file, args) => [file, args],
      nfs4: { port: nfsPort, exportPath: '/bench' },
      times: () => scrapeGatewayTimes(gw.url, gw.token, 'bench'),
    };
    // The metadata rows once more on a share exported async (a gateway crash loses nothing, a host crash the last second): ganesha's VFS FSAL does not sync metadata either.
    await api(gw.url, gw.token, 'shares', { name: 'bench-async', pool: 'bench', size: 128 * MiB, sync: false, rules: [{ clients: ['127.0.0.1/32'], access: 'rw', squash: 'no_root_squash', requirePrivilegedPort: false }] });
    const strataAsync: Server = {
      ...strata,
      url: (path) => `nfs://127.0.0.1/bench-async${path === '/' ? '' : path}?version=3&nfsport=${nfsPort}&mountport=${mountPort}`,
      nfs4: { port: nfsPort, exportPath: '/bench-async' },
      times: () => scrapeGatewayTimes(gw.url, gw.token, 'bench-async'),
    };

    result.ganeshaSkipped = ganeshaMissing();
    if (!result.ganeshaSkipped) {
      try {
        ganesha = await startGanesha(dir);
      } catch (e) {
        result.ganeshaSkipped = `ganesha did not start: ${(e as Error).message}`;
      }
    }

    const ours: RoundFigures[] = [];
    const theirs: RoundFigures[] = [];
    let digest: Promise<string> | undefined;
    const setup: RoundSetup = {
      source,
      sourceDigest: () => (digest ??= fileDigest(source)),
      size: opts.size,
      driver: driver.path,
      files: opts.files,
      pids: [gateway.pid, ganesha?.child.pid].filter((p): p is number => p !== undefined),
      gatewayTimes: { sync: {}, async: {} },
      removedAt: 0,
    };
    const contenders: Array<{ server: Server; asyncShare?: Server; figures: RoundFigures[] }> = [
      { server: strata, asyncShare: strataAsync, figures: ours },
      ...(ganesha ? [{ server: ganesha.server, figures: theirs }] : []),
    ];
    for (let r = 0; r < opts.rounds; r++) {
      // Alternate who goes first, so neither always meets a warmer (or dirtier) page cache.
      const order = r % 2 === 1 ? [...contenders].reverse() : contenders;
      const figs = order.map(() => ({}) as RoundFigures);
      // Part by part, the two servers one right after the other: this disk's speed drifts over tens of seconds (its flush latency doubles at times), so each ratio compares runs made seconds apart.
      for (const phase of PHASES) {
        for (let i = 0; i < order.length; i++) Object.assign(figs[i], await phase(order[i].server, r, setup, order[i].asyncShare));
      }
      order.forEach((c, i) => c.figures.push(figs[i]));
      if (opts.verbose) {
        const show = (f: RoundFigures | undefined) => (f ? Object.entries(f).map(([k, v]) => `${k} ${v.toFixed(v < 10 ? 2 : 0)}`).join(', ') : '-');
        console.log(`NAS round ${r + 1}: strata ${show(ours[r])}; ganesha ${show(theirs[r])}`);
      }
    }
    if (driver.path) result.gatewayTimes = setup.gatewayTimes;
    result.peakRssMiB = peakRssMiB(gateway.pid);
    result.ganeshaPeakRssMiB = peakRssMiB(ganesha?.child.pid);
    result.nfs4Client.strata = nfs4ClientFigures(ours);
    if (theirs.length) result.nfs4Client.ganesha = nfs4ClientFigures(theirs);

    const label = `${opts.size >= GiB ? `${opts.size / GiB} GiB` : `${opts.size / MiB} MiB`}`;
    // Each row: our figure, ganesha's (the async rows compare with ganesha's only run, on its one export), and what sets it apart.
    type Key = keyof RoundFigures;
    const rows: Array<{ key: Key; peer?: Key; workload: string; unit: NasRow['unit']; flag?: Pick<NasRow, 'asyncShare' | 'nfs4'> }> = [
      { key: 'upload', workload: `nfs-cp upload ${label}`, unit: 'MB/s' },
      { key: 'download', workload: `nfs-cat download ${label}`, unit: 'MB/s' },
      { key: 'create', workload: 'create+write+close', unit: 'ops/s' },
      { key: 'stat', workload: 'stat', unit: 'ops/s' },
      { key: 'unlink', workload: 'unlink', unit: 'ops/s' },
      { key: 'createAsync', peer: 'create', workload: 'create+write+close', unit: 'ops/s', flag: { asyncShare: true } },
      { key: 'statAsync', peer: 'stat', workload: 'stat', unit: 'ops/s', flag: { asyncShare: true } },
      { key: 'unlinkAsync', peer: 'unlink', workload: 'unlink', unit: 'ops/s', flag: { asyncShare: true } },
      { key: 'upload4', workload: `NFSv4.1 upload ${label}`, unit: 'MB/s', flag: { nfs4: true } },
      { key: 'download4', workload: `NFSv4.1 download ${label}`, unit: 'MB/s', flag: { nfs4: true } },
      { key: 'create4', workload: 'NFSv4.1 create+write+close', unit: 'ops/s', flag: { nfs4: true } },
      { key: 'stat4', workload: 'NFSv4.1 stat', unit: 'ops/s', flag: { nfs4: true } },
      { key: 'unlink4', workload: 'NFSv4.1 unlink', unit: 'ops/s', flag: { nfs4: true } },
      { key: 'create4Async', peer: 'create4', workload: 'NFSv4.1 create+write+close', unit: 'ops/s', flag: { asyncShare: true, nfs4: true } },
      { key: 'stat4Async', peer: 'stat4', workload: 'NFSv4.1 stat', unit: 'ops/s', flag: { asyncShare: true, nfs4: true } },
      { key: 'unlink4Async', peer: 'unlink4', workload: 'NFSv4.1 unlink', unit: 'ops/s', flag: { asyncShare: true, nfs4: true } },
    ];
    for (const { key, peer = key, workload, unit, flag } of rows) {
      if (ours[0][key] === undefined) continue;
      const row: NasRow = { workload, unit, strata: median(ours.map((f) => f[key]!)), ...flag };
      if (theirs.length) {
        row.ganesha = median(theirs.map((f) => f[peer]!));
        row.ratio = median(ours.map((f, i) => f[key]! / theirs[i][peer]!));
      }
      result.rows.push(row);
    }
    return result;
  } finally {
    await stopProcess(gateway);
    await stopGanesha(ganesha);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The NFSv4.1 client's chunks (the first round's) and medians of its CPU over the rounds. */
function nfs4ClientFigures(rounds: RoundFigures[]): Nfs4ClientFigures {
  const cpu = (key: 'upload4Cpu' | 'download4Cpu' | 'meta4Cpu') => median(rounds.map((f) => f[key]!));
  return { write: rounds[0].write4Chunk!, read: rounds[0].read4Chunk!, cpu: { upload: cpu('upload4Cpu'), download: cpu('download4Cpu'), meta: cpu('meta4Cpu') } };
}

/** The NAS table as `npm run bench` prints it. */
export function nasTable(r: NasBenchResult): string {
  if (r.unavailable) return `NAS: skipped: ${r.unavailable}`;
  const f = (n: number | undefined, d = 0) => (n === undefined ? '-' : num(n, d));
  const cols = (workload: string, unit: string, ganesha: string, strata: string, ratio: string) => `${workload.padEnd(34)} ${unit.padEnd(6)} ${ganesha.padStart(10)} ${strata.padStart(10)}   ${ratio}`;
  const line = (workload: string, row: NasRow) => cols(workload, row.unit, f(row.ganesha), f(row.strata), f(row.ratio, 2));
  const lines = [
    `NAS: NFSv3 with libnfs clients on loopback, gateway (separate process) vs nfs-ganesha VFS FSAL; ${r.rounds} rounds, medians (ratio: median of per-round ratios); metadata: ${r.files.toLocaleString('en-US')} files, one call at a time`,
  ];
  if (r.ganeshaSkipped) lines.push(`ganesha column skipped: ${r.ganeshaSkipped}`);
  if (r.metaSkipped) lines.push(`metadata rows skipped: ${r.metaSkipped}`);
  lines.push(cols('workload', 'unit', 'ganesha', 'strata', 'ratio'));
  const v3 = r.rows.filter((x) => !x.asyncShare && !x.nfs4);
  const v4 = r.rows.filter((x) => x.nfs4 && !x.asyncShare);
  const asyncRows = r.rows.filter((x) => x.asyncShare);
  for (const row of v3) lines.push(line(row.workload, row));
  if (v4.length) {
    const client = Object.entries(r.nfs4Client);
    lines.push(
      `NFSv4.1 through Strata's own client (bench/nfs4-load.ts, a process per row; no other v4.1 client runs here), the same for both servers: WRITE UNSTABLE + COMMIT and READ with ${r.nfs4Depth} in flight (bytes per WRITE/READ: ${client.map(([who, c]) => `${who} ${num(c.write / 1024)}/${num(c.read / 1024)} KiB`).join(', ')}); metadata one call at a time, in the COMPOUNDs Linux sends:`,
    );
    for (const row of v4) lines.push(line(row.workload, row));
    lines.push(`our client's CPU, share of one core, upload/download/metadata: ${client.map(([who, c]) => `${who} ${pct(c.cpu.upload)}/${pct(c.cpu.download)}/${pct(c.cpu.meta)}`).join('; ')} (near 100%: the client set the pace, not the server)`);
  }
  lines.push(`gateway peak RSS (VmHWM): ${f(r.peakRssMiB)} MiB${r.ganeshaPeakRssMiB !== undefined ? `; ganesha: ${f(r.ganeshaPeakRssMiB)} MiB` : ''}`);
  if (v3.length && v3.every((x) => x.ratio !== undefined)) {
    lines.push(`goal ratio >= 1.0 on every NFSv3 row (share exported sync, the default): ${v3.every((x) => x.ratio! >= 1) ? 'met' : 'NOT met'}`);
  }
  if (asyncRows.length) {
    lines.push('the metadata rows on a share exported async (committed before the reply, synced within 1 s: survives a gateway crash, not a host crash; ganesha VFS does not sync metadata either):');
    for (const row of asyncRows) lines.push(line(`${row.workload} (async)`, row));
  }
  const times = r.gatewayTimes;
  if (times && (Object.keys(times.sync).length || Object.keys(times.async).length)) {
    lines.push("the gateway's own time per call in the NFSv3 metadata rows, means over the rounds (from its /metrics; the rest of a client's wait is the network and the client):");
    if (Object.keys(times.sync).length) lines.push(`  sync share: ${formatGatewayTimes(times.sync)}`);
    if (Object.keys(times.async).length) lines.push(`  async share: ${formatGatewayTimes(times.async)}`);
  }
  return lines.join('\n');
}
