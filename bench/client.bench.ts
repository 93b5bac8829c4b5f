import { execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { num } from './format';
import { quiesce } from './gateway-process';
import { api, fio, has, pick, startGateway, startNbdkit, thickVolume } from './san.bench';
import { median, WORKLOADS, type WorkloadResult } from './workload';

/*
 * The client part of the bench: the same fio (nbd engine) against three NBD
 * servers in one run, round by round: nbdkit's file plugin (the baseline),
 * the gateway's own NBD export of a volume, and strata-client attach of the
 * same volume (fio → NBD → strata-client → SAN over UDP → gateway: the full
 * SAN path), and a second strata-client of a host set to integrity-only
 * sessions, attaching a volume of its own in a pool of its own. The gateway
 * and strata-client are separate processes, as in use.
 */

const CLIENT = resolve(__dirname, '../../bin/strata-client.js');
const SESSIONS = 2;
const run = promisify(execFile);

type Figures = ReturnType<typeof pick>;

export interface ClientBenchRow {
  workload: string;
  nbdkit: Figures;
  gateway: Figures;
  client: Figures;
  /** strata-client with integrity-only sessions (data in clear, authenticated). */
  integrity: Figures;
  /** Medians of per-round ratios to nbdkit (IOPS). */
  gatewayRatio: number;
  clientRatio: number;
  integrityRatio: number;
}

export interface ClientBenchResult {
  rows: ClientBenchRow[];
  skipped?: string;
  sessions: number;
  /** Per-session figures of strata-client at the end (from its status). */
  transport?: Array<{ gateway: string; srtt?: number; retransmits: number; timeouts: number }>;
}

export async function benchClient(opts: { seconds: number; rounds: number; region: number }): Promise<ClientBenchResult> {
  const missing = ['nbdkit', 'fio'].filter((c) => !has(c));
  if (missing.length) return { rows: [], sessions: SESSIONS, skipped: `${missing.join(' and ')} not installed (apt-get install -y nbdkit fio libnbd-bin)` };
  // Short: strata-client's sockets live under it.
  const dir = mkdtempSync('/tmp/strata-client-bench-');
  const homes = { encrypt: join(dir, 'client'), integrity: join(dir, 'client-i') };
  const as = (home: string) => (...args: string[]) => run(process.execPath, [CLIENT, ...args], { env: { ...process.env, STRATA_CLIENT_HOME: home } });
  const client = as(homes.encrypt);
  const clientI = as(homes.integrity);
  let gateway: ChildProcess | undefined;
  let nbdkit: ChildProcess | undefined;
  const attached: Array<typeof client> = [];
  try {
    const gw = await startGateway(dir);
    gateway = gw.child;
    const token = gw.token;
    // Exported by the gateway itself too.
    await thickVolume(gw, dir, 'bench', opts.region, { nbdExport: true });
    // The integrity-only host gets a thick volume of the same size in a pool of its own.
    await thickVolume(gw, dir, 'bench-i', opts.region);
    const uris: string[] = [];
    const clientPids: number[] = [];
    for (const [host, volume, home, cli, security] of [
      ['bench', 'bench', homes.encrypt, client, 'encrypt'],
      ['bench-i', 'bench-i', homes.integrity, clientI, 'integrity'],
    ] as const) {
      await cli('keygen', '--host', host);
      await api(gw.url, token, 'hosts', { name: host, publicKey: readFileSync(join(home, 'host.pub'), 'utf8').trim(), security });
      await api(gw.url, token, 'assignments', { host, volume });
      await cli('login', `127.0.0.1:${gw.sanPort}`, '--security', security);
      uris.push((JSON.parse((await cli('--json', 'attach', volume, '--background', '--listen', '127.0.0.1:0', '--sessions', String(SESSIONS))).stdout) as { uri: string }).uri);
      attached.push(cli);
      clientPids.push((JSON.parse((await cli('--json', 'status', volume)).stdout) as Array<{ pid: number }>)[0].pid);
    }
    const k = await startNbdkit(dir, opts.region);
    nbdkit = k.child;
    // Each run starts with dirty pages written back and the servers (strata-client's attachments too) idle.
    const servers = [gateway.pid!, nbdkit.pid!, ...clientPids];
    const targets = { nbdkit: `nbd://127.0.0.1:${k.port}`, gateway: `nbd://127.0.0.1:${gw.nbdPort}/bench`, client: uris[0], integrity: uris[1] };

    const rows: ClientBenchRow[] = [];
    for (const w of WORKLOADS) {
      const got: Record<keyof typeof targets, WorkloadResult[]> = { nbdkit: [], gateway: [], client: [], integrity: [] };
      for (let r = 0; r < opts.rounds; r++) {
        for (const t of Object.keys(targets) as Array<keyof typeof targets>) {
          await quiesce(servers);
          got[t].push(await fio(targets[t], w, opts.region, opts.seconds, dir));
        }
      }
      const ratio = (t: 'gateway' | 'client' | 'integrity') => median(got[t].map((x, i) => x.iops / got.nbdkit[i].iops));
      rows.push({
        workload: w.name,
        nbdkit: pick(got.nbdkit),
        gateway: pick(got.gateway),
        client: pick(got.client),
        integrity: pick(got.integrity),
        gatewayRatio: ratio('gateway'),
        clientRatio: ratio('client'),
        integrityRatio: ratio('integrity'),
      });
    }
    const final = JSON.parse((await client('--json', 'status', 'bench')).stdout)[0] as { sessions: Array<{ gateway: string; srtt?: number; retransmits: number; timeouts: number }> };
    return { rows, sessions: SESSIONS, transport: final.sessions.map(({ gateway, srtt, retransmits, timeouts }) => ({ gateway, srtt, retransmits, timeouts })) };
  } finally {
    for (const [i, cli] of attached.entries()) await cli('detach', i === 0 ? 'bench' : 'bench-i', '--force').catch(() => undefined);
    nbdkit?.kill('SIGTERM');
    gateway?.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The side-by-side table: nbdkit, then the gateway's NBD export and strata-client, each with its ratio to nbdkit. */
export function clientTable(rows: ClientBenchRow[]): string {
  const cell = (x: Figures) => `${num(x.iops).padStart(8)} ${num(x.mbps).padStart(6)}`;
  const lines = [
    `${'workload'.padEnd(18)} ${'nbdkit IOPS'.padStart(11)} ${'MB/s'.padStart(6)}   ${'gateway NBD IOPS'.padStart(8)} ${'MB/s'.padStart(6)}  ratio   ${'strata-client IOPS'.padStart(8)} ${'MB/s'.padStart(6)}  ratio   ${'integrity-only IOPS'.padStart(8)} ${'MB/s'.padStart(6)}  ratio`,
  ];
  for (const r of rows) {
    lines.push(
      `${r.workload.padEnd(18)} ${cell(r.nbdkit).padStart(18)}   ${cell(r.gateway).padStart(23)}  ${num(r.gatewayRatio, 2).padStart(5)}   ${cell(r.client).padStart(25)}  ${num(r.clientRatio, 2).padStart(5)}   ${cell(r.integrity).padStart(26)}  ${num(r.integrityRatio, 2).padStart(5)}`,
    );
  }
  return lines.join('\n');
}
