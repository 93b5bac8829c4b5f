import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { SessionStats } from '../src/client';
import type { SecurityMode } from '../src/protocols/san/login';
import { Kind, MAX_DATAGRAM_SIZE, VERSION } from '../src/protocols/san/constants';
import { sealDatagramParts } from '../src/protocols/san/datagram';
import { freePort } from './free-port';
import { api, cpuTicks, has, peakRssMiB, quiesce, startGatewayProcess, type GatewayProcess } from './gateway-process';
import { SanLoad, type LoadResult } from './san-load';
import type { Row } from './virtualization.bench';
import { median, WORKLOADS, type Workload, type WorkloadResult } from './workload';

const run = promisify(execFile);

/*
 * The SAN path end to end on loopback: our client library (in a process of
 * its own, bench/san-load.ts, as fio is) against the gateway (a separate
 * process, as in production) vs fio's nbd engine against nbdkit's file
 * plugin on a backing file of the same size (PEERS.md). Both sides get the
 * same workloads, round by round.
 */

/** Loopback takes datagrams up to 64 KiB: the largest the protocol allows. */
const DATAGRAM_SIZE = MAX_DATAGRAM_SIZE;
const SESSIONS = 2;
/** Run before each measured round and not counted, on both sides: fio's --ramp_time for the peer, runWorkload's ramp for ours. */
const RAMP_SECONDS = 1;

/** The security modes a host may log in with (docs/san-protocol.md, section 4): encryption is the default. */
const MODES = [
  { security: 'encrypt', label: 'encrypt (AES-256-GCM)' },
  { security: 'integrity', label: 'integrity only (AES-256-GCM tag over the clear payload)' },
] as const;

/** Share of one core a process used during our runs of a workload (median of rounds). */
export interface CpuShare {
  workload: string;
  gateway: number;
  client: number;
}

export interface SanModeResult {
  security: string;
  rows: Row[];
  /** Only ours, when the baseline could not run. */
  ours: Array<{ workload: string } & Pick<WorkloadResult, 'iops' | 'mbps' | 'p50us' | 'p99us'>>;
  cpu: CpuShare[];
  /** Per-session transport counters at the end (retransmits, RTT). */
  transport: SessionStats[];
}

/** What one core of this machine seals, in MB/s of CPU time, with the protocol's own sealDatagramParts on full datagrams. */
export interface SealRates {
  encrypt: number;
  integrity: number;
}

export interface SanBenchResult {
  modes: SanModeResult[];
  /** nbdkit's share of one core per workload (median of rounds). */
  nbdkitCpu: Array<{ workload: string; server: number }>;
  skipped?: string;
  datagramSize: number;
  sessions: number;
  seal: SealRates;
  /** The gateway's peak resident set over the whole part (VmHWM), MiB. */
  gatewayRssMiB?: number;
}

/**
 * The ceiling the crypto alone puts on the SAN path: every byte is sealed by
 * one process and opened by the other, so neither direction can pass the rate
 * one core seals at, whatever else the code does.
 */
export function sealRates(datagramSize = DATAGRAM_SIZE): SealRates {
  const key = randomBytes(32);
  const payload = randomBytes(datagramSize - 64);
  const burst = (clear: boolean, n: number) => {
    const t0 = process.cpuUsage();
    for (let i = 0; i < n; i++) {
      sealDatagramParts(key, 1, { version: VERSION, kind: Kind.REPLY_SEG, flags: 0, sessionId: 1, xid: i, segment: 0, segments: 1, messageLength: payload.length, packetNumber: BigInt(i + 1), credits: 0 }, payload, clear);
    }
    const t = process.cpuUsage(t0);
    return (n * payload.length) / (t.user + t.system);
  };
  // A ceiling: compiled first, then the best of five bursts (one burst of 0.1 s varied by 3x with a collection or a slow tick in it).
  const rate = (clear: boolean) => {
    burst(clear, 300);
    return Math.max(...Array.from({ length: 5 }, () => burst(clear, 1500)));
  };
  return { encrypt: rate(false), integrity: rate(true) };
}

/** The built gateway as a child process with its SAN target and NBD export on free ports (and no NAS). */
export async function startGateway(dir: string, env: Record<string, string> = {}): Promise<GatewayProcess & { sanPort: number; nbdPort: number }> {
  const [sanPort, nbdPort] = [await freePort('udp'), await freePort('tcp')];
  const gw = await startGatewayProcess(dir, { STRATA_SAN_PORT: String(sanPort), STRATA_NBD_PORT: String(nbdPort), STRATA_NAS: 'false', ...env });
  return { ...gw, sanPort, nbdPort };
}

/** fio's nbd engine against an NBD URI, for one workload; fio's own figures. */
export async function fio(uri: string, w: Workload, region: number, seconds: number, dir: string): Promise<WorkloadResult> {
  const rw = w.pattern === 'random' ? `rand${w.op}` : w.op;
  const out = join(dir, 'fio.json');
  await run('fio', [
    '--name=x',
    '--ioengine=nbd',
    `--uri=${uri}`,
    `--rw=${rw}`,
    `--bs=${w.blockSize}`,
    `--iodepth=${w.depth}`,
    '--numjobs=1',
    `--size=${region}`,
    '--time_based',
    `--runtime=${seconds}`,
    `--ramp_time=${RAMP_SECONDS}`,
    '--output-format=json',
    `--output=${out}`,
  ]);
  const job = JSON.parse(readFileSync(out, 'utf8')).jobs[0][w.op];
  const pct = job.clat_ns?.percentile ?? {};
  return {
    ops: job.total_ios,
    bytes: job.io_bytes,
    seconds,
    iops: job.iops,
    mbps: job.bw_bytes / 1e6,
    p50us: (pct['50.000000'] ?? 0) / 1000,
    p99us: (pct['99.000000'] ?? 0) / 1000,
  };
}

/**
 * A backing file of `region` bytes written through with zeros, every block
 * allocated (not sparse): nbdkit's, and the gateway's device file, so that
 * both sides' timed I/O starts from the same file state (the gateway would
 * otherwise create its device file sparse, and its first writes would pay
 * for block allocation that nbdkit's do not). Synced, so that no writeback
 * of these zeros runs under the timed rounds. Async: a gigabyte takes
 * seconds, and an event loop blocked that long misses the gateway closing an
 * idle keep-alive connection, so the next API call went out on a dead socket
 * ('other side closed').
 */
export async function writtenFile(path: string, region: number): Promise<string> {
  writeFileSync(path, '');
  await run('truncate', ['-s', String(region), path]);
  await run('dd', ['if=/dev/zero', `of=${path}`, 'bs=1M', `count=${Math.ceil(region / 2 ** 20)}`, 'conv=notrunc,fsync', 'status=none']);
  return path;
}

/**
 * A thick volume `name` of `region` bytes, alone in a pool `name` on a
 * written-through device file `<dir>/<name>.img`: every page allocated and
 * zeroed up front, as nbdkit's backing file is all there. `extra` adds
 * volume fields (nbdExport).
 */
export async function thickVolume(gw: GatewayProcess, dir: string, name: string, region: number, extra: Record<string, unknown> = {}): Promise<void> {
  await api(gw.url, gw.token, 'devices', { name, kind: 'file', path: await writtenFile(join(dir, `${name}.img`), region), size: region });
  await api(gw.url, gw.token, 'pools', { name, layout: 'concat', members: [{ device: name }] });
  await api(gw.url, gw.token, 'volumes', { name, pool: name, size: region, provisioning: 'thick', ...extra });
}

/** Host `name` with a fresh Ed25519 key, set to `security`, assigned `volume`: its private key (PKCS#8 PEM), for startLoad. */
export async function benchHost(gw: GatewayProcess, name: string, volume: string, security: SecurityMode): Promise<string> {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  await api(gw.url, gw.token, 'hosts', { name, publicKey: publicKey.export({ format: 'pem', type: 'spki' }).toString(), security });
  await api(gw.url, gw.token, 'assignments', { host: name, volume });
  return privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
}

/** Our client library in a load process (bench/san-load.ts), logged in to `gw` as `host` asking for `security`, with `volume` open. */
export function startLoad(gw: GatewayProcess & { sanPort: number }, host: string, key: string, volume: string, security: SecurityMode): Promise<SanLoad> {
  return SanLoad.start({ gateway: `127.0.0.1:${gw.sanPort}`, host, key, security, sessions: SESSIONS, datagramSize: DATAGRAM_SIZE, volume });
}

/** nbdkit's file plugin on a written-through backing file of `region` bytes (like a thick volume: reads hit real blocks). */
export async function startNbdkit(dir: string, region: number): Promise<{ child: ChildProcess; port: number }> {
  const img = await writtenFile(join(dir, 'nbd.img'), region);
  const port = await freePort('tcp');
  const child = spawn('nbdkit', ['-f', '-i', '127.0.0.1', '-p', String(port), 'file', img], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 500));
  return { child, port };
}

export const pick = (xs: WorkloadResult[]) => ({
  iops: median(xs.map((x) => x.iops)),
  mbps: median(xs.map((x) => x.mbps)),
  p50us: median(xs.map((x) => x.p50us)),
  p99us: median(xs.map((x) => x.p99us)),
});

export { api, has };

/** Our run of WORKLOADS[workload] on `load`, with the share of one core the gateway and the client process used meanwhile. */
async function measured(load: SanLoad, workload: number, region: number, millis: number, seed: number, gatewayPid: number): Promise<LoadResult & { gatewayCpu: number }> {
  let g0 = cpuTicks(gatewayPid) ?? 0;
  // The same ramp as fio's for nbdkit (--ramp_time): neither side's figures include filling the pipeline.
  const r = await load.run(workload, region, millis, seed, {
    rampMillis: RAMP_SECONDS * 1000,
    measuring: () => (g0 = cpuTicks(gatewayPid) ?? 0),
  });
  return { ...r, gatewayCpu: ((cpuTicks(gatewayPid) ?? 0) - g0) / 100 / r.seconds };
}

export async function benchSan(opts: { seconds: number; rounds: number; region: number }): Promise<SanBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-san-bench-'));
  const missing = ['nbdkit', 'fio'].filter((c) => !has(c));
  const skipped = missing.length ? `${missing.join(' and ')} not installed (apt-get install -y nbdkit fio libnbd-bin)` : undefined;
  let gateway: ChildProcess | undefined;
  let nbdkit: ChildProcess | undefined;
  const loads: SanLoad[] = [];
  try {
    const gw = await startGateway(dir);
    gateway = gw.child;
    await thickVolume(gw, dir, 'bench', opts.region);
    // Set to integrity, the host may log in either way (encryption is what it asks for by default): one client of each kind.
    const key = await benchHost(gw, 'bench', 'bench', 'integrity');
    for (const mode of MODES) loads.push(await startLoad(gw, 'bench', key, 'bench', mode.security));

    let nbdPort = 0;
    if (!skipped) ({ child: nbdkit, port: nbdPort } = await startNbdkit(dir, opts.region));

    // Each measured run starts with dirty pages written back and both servers idle.
    const servers = [gateway.pid!, ...(nbdkit ? [nbdkit.pid!] : [])];
    const quiet = [...servers, ...loads.map((l) => l.pid)];
    const modes: SanModeResult[] = MODES.map((m) => ({ security: m.label, rows: [], ours: [], cpu: [], transport: [] }));
    const nbdkitCpu: SanBenchResult['nbdkitCpu'] = [];
    for (const [wi, w] of WORKLOADS.entries()) {
      for (const l of loads) await l.run(wi, opts.region, 300, 42); // warm-up
      const a: WorkloadResult[] = [];
      const aCpu: number[] = [];
      const b = MODES.map(() => [] as Array<Awaited<ReturnType<typeof measured>>>);
      for (let r = 0; r < opts.rounds; r++) {
        if (!skipped) {
          await quiesce(quiet);
          // Sampled from the end of fio's ramp, as ours is from the end of runWorkload's (fio's start-up makes it a little early).
          let [t0, w0] = [cpuTicks(nbdkit!.pid!) ?? 0, performance.now()];
          const rampDone = setTimeout(() => ([t0, w0] = [cpuTicks(nbdkit!.pid!) ?? 0, performance.now()]), RAMP_SECONDS * 1000);
          a.push(await fio(`nbd://127.0.0.1:${nbdPort}`, w, opts.region, opts.seconds, dir).finally(() => clearTimeout(rampDone)));
          aCpu.push(((cpuTicks(nbdkit!.pid!) ?? 0) - t0) / 100 / ((performance.now() - w0) / 1000));
        }
        for (let m = 0; m < MODES.length; m++) {
          await quiesce(quiet);
          b[m].push(await measured(loads[m], wi, opts.region, opts.seconds * 1000, r + 1, gateway.pid!));
        }
      }
      if (!skipped) nbdkitCpu.push({ workload: w.name, server: median(aCpu) });
      for (let m = 0; m < MODES.length; m++) {
        const ours = b[m];
        modes[m].ours.push({ workload: w.name, ...pick(ours) });
        modes[m].cpu.push({ workload: w.name, gateway: median(ours.map((x) => x.gatewayCpu)), client: median(ours.map((x) => x.cpu)) });
        if (!skipped) modes[m].rows.push({ workload: w.name, raw: pick(a), strata: pick(ours), ratio: median(ours.map((x, i) => x.iops / a[i].iops)) });
      }
    }
    for (const [m, l] of loads.entries()) modes[m].transport = await l.stats();
    const { datagramSize } = loads[0];
    return { modes, nbdkitCpu, skipped, datagramSize, sessions: SESSIONS, seal: sealRates(datagramSize), gatewayRssMiB: peakRssMiB(gateway.pid) };
  } finally {
    for (const l of loads) await l.close();
    nbdkit?.kill('SIGTERM');
    gateway?.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    rmSync(dir, { recursive: true, force: true });
  }
}
