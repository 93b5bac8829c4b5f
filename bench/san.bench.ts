import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SanClient, type SessionStats } from '../src/client';
import { api, freePort, has, startGatewayProcess, type GatewayProcess } from './gateway-process';
import { WORKLOADS, type Row } from './virtualization.bench';
import { median, runWorkload, type IoTarget, type Workload, type WorkloadResult } from './workload';

/*
 * The SAN path end to end on loopback: our client against the gateway (a
 * separate process, as in production) vs fio's nbd engine against nbdkit's
 * file plugin on a backing file of the same size (PEERS.md). Both sides get
 * the same workloads, round by round.
 */

/** Loopback takes datagrams up to 64 KiB: the largest the protocol allows. */
const DATAGRAM_SIZE = 65_000;
const SESSIONS = 2;

export interface SanBenchResult {
  rows: Row[];
  /** Only ours, when the baseline could not run. */
  ours: Array<{ workload: string } & Pick<WorkloadResult, 'iops' | 'mbps' | 'p50us' | 'p99us'>>;
  skipped?: string;
  datagramSize: number;
  security: string;
  sessions: number;
  /** Per-session transport counters at the end (retransmits, RTT). */
  transport: SessionStats[];
}

/** The built gateway as a child process with its SAN target and NBD export on free ports (and no NAS). */
export async function startGateway(dir: string): Promise<GatewayProcess & { sanPort: number; nbdPort: number }> {
  const [sanPort, nbdPort] = [await freePort('udp'), await freePort('tcp')];
  const gw = await startGatewayProcess(dir, { STRATA_SAN_PORT: String(sanPort), STRATA_NBD_PORT: String(nbdPort), STRATA_NAS: 'false' });
  return { ...gw, sanPort, nbdPort };
}

/** fio's nbd engine against an NBD URI, for one workload; fio's own figures. */
export async function fio(uri: string, w: Workload, region: number, seconds: number, dir: string): Promise<WorkloadResult> {
  const rw = w.pattern === 'random' ? `rand${w.op}` : w.op;
  const out = join(dir, 'fio.json');
  await promisify(execFile)('fio', [
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
    '--ramp_time=1',
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

/** nbdkit's file plugin on a written-through backing file of `region` bytes (like a thick volume: reads hit real blocks). */
export async function startNbdkit(dir: string, region: number): Promise<{ child: ChildProcess; port: number }> {
  const img = join(dir, 'nbd.img');
  writeFileSync(img, '');
  spawnSync('truncate', ['-s', String(region), img]);
  spawnSync('dd', ['if=/dev/zero', `of=${img}`, 'bs=1M', `count=${Math.ceil(region / 2 ** 20)}`, 'conv=notrunc', 'status=none']);
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

export async function benchSan(opts: { seconds: number; rounds: number; region: number }): Promise<SanBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-san-bench-'));
  const missing = ['nbdkit', 'fio'].filter((c) => !has(c));
  const skipped = missing.length ? `${missing.join(' and ')} not installed (apt-get install -y nbdkit fio libnbd-bin)` : undefined;
  let gateway: ChildProcess | undefined;
  let nbdkit: ChildProcess | undefined;
  let client: SanClient | undefined;
  try {
    const gw = await startGateway(dir);
    gateway = gw.child;
    const token = gw.token;
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    await api(gw.url, token, 'devices', { name: 'bench', kind: 'file', path: join(dir, 'bench.img'), size: opts.region });
    await api(gw.url, token, 'pools', { name: 'bench', layout: 'concat', members: [{ device: 'bench' }] });
    // Thick: every page is allocated and zeroed up front, as nbdkit's backing file is all there.
    await api(gw.url, token, 'volumes', { name: 'bench', pool: 'bench', size: opts.region, provisioning: 'thick' });
    await api(gw.url, token, 'hosts', { name: 'bench', publicKey: publicKey.export({ format: 'pem', type: 'spki' }).toString() });
    await api(gw.url, token, 'assignments', { host: 'bench', volume: 'bench' });
    client = await SanClient.connect({ gateways: [`127.0.0.1:${gw.sanPort}`], host: 'bench', key: privateKey, sessionsPerGateway: SESSIONS, datagramSize: DATAGRAM_SIZE });
    const volume = await client.open('bench');
    const target: IoTarget = {
      async read(offset, buf) {
        await volume.readInto(offset, buf);
      },
      write: (offset, buf) => volume.write(offset, buf),
    };

    let nbdPort = 0;
    if (!skipped) ({ child: nbdkit, port: nbdPort } = await startNbdkit(dir, opts.region));

    const rows: Row[] = [];
    const ours: SanBenchResult['ours'] = [];
    for (const w of WORKLOADS) {
      await runWorkload(target, w, opts.region, 300); // warm-up
      const a: WorkloadResult[] = [];
      const b: WorkloadResult[] = [];
      for (let r = 0; r < opts.rounds; r++) {
        if (!skipped) a.push(await fio(`nbd://127.0.0.1:${nbdPort}`, w, opts.region, opts.seconds, dir));
        b.push(await runWorkload(target, w, opts.region, opts.seconds * 1000, r + 1));
      }
      ours.push({ workload: w.name, ...pick(b) });
      if (!skipped) rows.push({ workload: w.name, raw: pick(a), strata: pick(b), ratio: median(b.map((x, i) => x.iops / a[i].iops)) });
    }
    const { datagramSize } = client.negotiated();
    return { rows, ours, skipped, datagramSize, security: 'encrypt (AES-256-GCM)', sessions: SESSIONS, transport: client.stats() };
  } finally {
    await client?.close();
    nbdkit?.kill('SIGTERM');
    gateway?.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    rmSync(dir, { recursive: true, force: true });
  }
}
