import 'reflect-metadata';
import { cpus, loadavg } from 'node:os';
import { parseSize } from '../src/common/size';
import { MAX_DATAGRAM_SIZE } from '../src/protocols/san/constants';
import { backupTable, benchBackup } from './backup.bench';
import { benchClient, clientTable } from './client.bench';
import { dgramFloor, ECHO_DEPTH, ECHO_REPLY, type DgramFloor } from './dgram-floor';
import { num, pct } from './format';
import { hostCpuLine, hostCpuTimes } from './host-cpu';
import { benchMirror, mirrorText } from './mirror.bench';
import { benchNas, nasTable } from './nas.bench';
import { benchReplication, replicationText } from './replication.bench';
import { benchSan, type SanBenchResult } from './san.bench';
import { benchSnapshot, snapshotTable } from './snapshot.bench';
import { benchVirtualization, GiB, type Row } from './virtualization.bench';

/**
 * npm run bench: ours and the baseline side by side in one run, with ratios.
 * BENCH_SECONDS (per round, default 2) and BENCH_ROUNDS (default 5) trade
 * time for steadier figures. BENCH_ONLY=nas (or a comma list of
 * virtualization, san, client, nas, snapshot, mirror, replication, backup) runs only those parts
 * (client: only the NBD table of san, fio against nbdkit, the gateway's NBD export and strata-client). The snapshot
 * part writes a BENCH_SNAPSHOT_SIZE (default 1G) volume before and after a snapshot,
 * in a pool of BENCH_SNAPSHOT_PAGE pages (default the pool default, 1M). The NAS part moves whole
 * files: BENCH_NAS_SIZE (default 1G), BENCH_NAS_FILES (metadata files,
 * default 1000) and BENCH_NAS_ROUNDS (default 4: the servers take turns going first, and an even count
 * gives each the same share of either place); BENCH_NAS_VERBOSE=1 prints
 * every round's figures. The replication part copies a BENCH_REPLICATION_SIZE (default 1G)
 * volume in full and then incrementally, BENCH_REPLICATION_ROUNDS times (default 1: a round writes 3 GiB).
 * The backup part backs up a BENCH_BACKUP_SIZE (default 1G) volume, full then incremental, and restores it.
 * After each part a line says how busy the host's CPUs were meanwhile, and how much time the hypervisor
 * stole for other guests (bench/host-cpu.ts).
 */
function table(title: string, rows: Row[], baseline: string): string {
  const lines = [
    title,
    `${'workload'.padEnd(20)} ${`${baseline} IOPS`.padStart(14)} ${'MB/s'.padStart(8)} ${'p50/p99 µs'.padStart(13)}   ${'strata IOPS'.padStart(12)} ${'MB/s'.padStart(8)} ${'p50/p99 µs'.padStart(13)}   ratio`,
  ];
  for (const r of rows) {
    lines.push(
      `${r.workload.padEnd(20)} ${num(r.raw.iops).padStart(14)} ${num(r.raw.mbps).padStart(8)} ${`${num(r.raw.p50us)}/${num(r.raw.p99us)}`.padStart(13)}   ${num(r.strata.iops).padStart(12)} ${num(r.strata.mbps).padStart(8)} ${`${num(r.strata.p50us)}/${num(r.strata.p99us)}`.padStart(13)}   ${num(r.ratio, 2)}`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const seconds = Number(process.env.BENCH_SECONDS ?? 2);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
  const parts = new Set((process.env.BENCH_ONLY ?? 'virtualization,san,nas,snapshot,mirror,replication,backup').split(',').map((p) => p.trim()));
  const known = ['virtualization', 'san', 'client', 'nas', 'snapshot', 'mirror', 'replication', 'backup'];
  for (const p of parts) if (!known.includes(p)) throw new Error(`BENCH_ONLY: unknown part '${p}' (${known.join(', ')})`);
  const timedParts = parts.has('virtualization') || parts.has('san') || parts.has('client') || parts.has('snapshot') ? `; block workloads: ${rounds} rounds of ${seconds}s each, medians (ratio: median of per-round ratios)` : '';
  console.log(`Strata benchmarks — node ${process.version}, ${cpus().length} CPUs, load average ${loadavg()[0].toFixed(2)} at start${timedParts}`);
  // Each part, then what the host's CPUs did meanwhile (steal makes a part's figures low and noisy).
  const part = async (name: string, fn: () => Promise<void>) => {
    const before = hostCpuTimes();
    await fn();
    const line = hostCpuLine(name, before);
    if (line) console.log(line);
  };
  if (parts.has('virtualization')) await part('virtualization', () => virtualization(seconds, rounds));
  if (parts.has('san')) await part('SAN', () => san(seconds, rounds));
  if (parts.has('san') || parts.has('client')) await part('NBD client', () => nbdClients(seconds, rounds));
  if (parts.has('nas')) {
    await part('NAS', async () => {
      const nas = await benchNas({
        rounds: Number(process.env.BENCH_NAS_ROUNDS ?? 4),
        size: parseSize(process.env.BENCH_NAS_SIZE ?? '1G', 'BENCH_NAS_SIZE'),
        files: Number(process.env.BENCH_NAS_FILES ?? 1000),
        verbose: process.env.BENCH_NAS_VERBOSE === '1',
      });
      console.log(`\n${nasTable(nas)}`);
    });
  }
  if (parts.has('snapshot')) {
    await part('snapshot', async () => {
      const pageSize = process.env.BENCH_SNAPSHOT_PAGE ? parseSize(process.env.BENCH_SNAPSHOT_PAGE, 'BENCH_SNAPSHOT_PAGE') : undefined;
      const snap = await benchSnapshot({ seconds, rounds, region: parseSize(process.env.BENCH_SNAPSHOT_SIZE ?? '1G', 'BENCH_SNAPSHOT_SIZE'), pageSize });
      console.log(`\n${snapshotTable(snap)}`);
    });
  }
  if (parts.has('mirror')) await part('mirror', async () => console.log(`\n${mirrorText(await benchMirror({ seconds, rounds: Math.min(rounds, 3), region: GiB }))}`));
  if (parts.has('replication')) {
    await part('replication', async () => {
      const size = parseSize(process.env.BENCH_REPLICATION_SIZE ?? '1G', 'BENCH_REPLICATION_SIZE');
      console.log(`\n${replicationText(await benchReplication({ size, rounds: Number(process.env.BENCH_REPLICATION_ROUNDS ?? 1) }))}`);
    });
  }
  if (parts.has('backup')) await part('backup', async () => console.log(`\n${backupTable(await benchBackup({ region: parseSize(process.env.BENCH_BACKUP_SIZE ?? '1G', 'BENCH_BACKUP_SIZE') }))}`));
  console.log(`\nbench process peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
}

async function virtualization(seconds: number, rounds: number): Promise<void> {
  const rows = await benchVirtualization({ seconds, rounds, region: GiB });
  console.log(table('Virtualization layer: thick 1 GiB volume on a file device vs the same backing file from Node (fs.read/fs.write)', rows, 'file'));
  const goal = rows.every((r) => r.ratio >= 0.9);
  console.log(`\ngoal ratio >= 0.90 on every row: ${goal ? 'met' : 'NOT met'}`);
}

async function san(seconds: number, rounds: number): Promise<void> {
  // Before the SAN part, not between it and the client part: the floor saturates loopback for seconds, and the gateway's set-up (a 1 GiB device file written through) lets it settle.
  const floor = await dgramFloor(seconds);
  const san = await benchSan({ seconds, rounds, region: GiB });
  for (const mode of san.modes) {
    const setup = `${san.sessions} sessions, datagrams of ${san.datagramSize} bytes, security ${mode.security}`;
    if (san.skipped) {
      console.log(`\nSAN: our client against the gateway on loopback (${setup}); nbdkit baseline skipped: ${san.skipped}`);
      for (const r of mode.ours) {
        console.log(`${r.workload.padEnd(20)} ${r.iops.toFixed(0).padStart(10)} IOPS ${r.mbps.toFixed(0).padStart(7)} MB/s   p50/p99 ${r.p50us.toFixed(0)}/${r.p99us.toFixed(0)} µs`);
      }
    } else {
      console.log(`\n${table(`SAN: our client against the gateway on loopback (${setup}) vs fio's nbd engine against nbdkit's file plugin`, mode.rows, 'nbdkit')}`);
      const [randRead, randWrite, seqRead, seqWrite] = mode.rows;
      const met = seqRead.ratio >= 1 && seqWrite.ratio >= 1 && randRead.ratio >= 0.7 && randWrite.ratio >= 0.7;
      console.log(`goal ratio >= 1.0 on 1 MiB sequential, >= 0.7 on 4 KiB random: ${met ? 'met' : 'NOT met'}`);
    }
    const cpu = mode.cpu.map((c, i) => `${c.workload.split(/\s+/).slice(0, 2).join(' ')} ${pct(c.gateway)}/${pct(c.client)}${san.nbdkitCpu[i] ? ` (nbdkit ${pct(san.nbdkitCpu[i].server)})` : ''}`);
    console.log(`CPU, share of one core, gateway/client: ${cpu.join('; ')}`);
    console.log(`sessions at the end: ${mode.transport.map((t) => `srtt ${t.srtt?.toFixed(2) ?? '-'} ms, ${t.retransmits} retransmits, ${t.timeouts} timeouts`).join('; ')}`);
  }
  console.log(
    `\nOne core seals ${num(san.seal.encrypt)} MB/s encrypted and ${num(san.seal.integrity)} MB/s integrity-only (sealDatagramParts, ${san.datagramSize}-byte datagrams, CPU time): every byte is sealed by one process and opened by the other, so no direction of the SAN path can pass those rates, whatever else it does.`,
  );
  if (san.gatewayRssMiB !== undefined) console.log(`gateway peak RSS over the SAN part: ${san.gatewayRssMiB.toFixed(0)} MiB`);
  console.log(floorText(floor, san.modes[0]?.rows));
}

/** node:dgram alone, in the SAN bench's two traffic shapes (dgram-floor.ts), against nbdkit's figures for the same shapes. */
function floorText(f: DgramFloor, rows: SanBenchResult['modes'][number]['rows'] | undefined): string {
  const [randRead, , , seqWrite] = rows ?? [];
  const vs = (ours: number, peer: number | undefined, what: string) => (peer ? ` (${num(ours / peer, 2)} of nbdkit's ${what})` : '');
  return [
    `node:dgram alone, no protocol, two processes on loopback busy-polling as the SAN ends do (dgram-floor.ts): a ceiling for the SAN path, which adds authentication, reliability and disk I/O to it (the echo sends each reply alone, where the SAN protocol bundles them)`,
    `  echo, ${ECHO_DEPTH} in flight, ${ECHO_REPLY}-byte replies: ${num(f.echo.opsPerSec)} per second${vs(f.echo.opsPerSec, randRead?.raw.iops, '4k randread IOPS')}, server ${pct(f.echo.serverCpu)} / client ${pct(f.echo.clientCpu)} of a core, ${num(f.echo.lost)} requests lost`,
    `  stream of ${num(MAX_DATAGRAM_SIZE)}-byte datagrams: ${num(f.stream.mbps)} MB/s${vs(f.stream.mbps, seqWrite?.raw.mbps, '1M seqwrite MB/s')}, receiver ${pct(f.stream.receiverCpu)} / sender ${pct(f.stream.senderCpu)} of a core, ${num(f.stream.lost)} datagrams lost`,
  ].join('\n');
}

async function nbdClients(seconds: number, rounds: number): Promise<void> {
  // Three servers per workload: at most 3 rounds (BENCH_CLIENT_ROUNDS) keeps the run short.
  const clientRounds = Number(process.env.BENCH_CLIENT_ROUNDS ?? Math.min(rounds, 3));
  const client = await benchClient({ seconds, rounds: clientRounds, region: GiB });
  if (client.skipped) {
    console.log(`\nNBD clients: skipped: ${client.skipped}`);
    return;
  }
  console.log(
    `\nNBD: fio's nbd engine against nbdkit's file plugin, the gateway's own NBD export, and strata-client attach (${client.sessions} SAN sessions, the full SAN path), encrypted and integrity-only; ${clientRounds} rounds, medians, ratios to nbdkit`,
  );
  console.log(clientTable(client.rows));
  const [randRead, randWrite, seqRead, seqWrite] = client.rows;
  const gatewayMet = seqRead.gatewayRatio >= 1 && seqWrite.gatewayRatio >= 1 && randRead.gatewayRatio >= 0.7 && randWrite.gatewayRatio >= 0.7;
  const clientMet = client.rows.every((r) => r.clientRatio >= 0.5);
  console.log(`\ngoal gateway NBD export >= 1.0 on 1 MiB sequential, >= 0.7 on 4 KiB random: ${gatewayMet ? 'met' : 'NOT met'}`);
  console.log(`goal strata-client (full SAN path) >= 0.5 on every row: ${clientMet ? 'met' : 'NOT met'} encrypted, ${client.rows.every((r) => r.integrityRatio >= 0.5) ? 'met' : 'NOT met'} integrity-only`);
  if (client.transport) {
    console.log(`strata-client sessions at the end: ${client.transport.map((t) => `${t.gateway} srtt ${t.srtt?.toFixed(2) ?? '-'} ms, ${t.retransmits} retransmits, ${t.timeouts} timeouts`).join('; ')}`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
