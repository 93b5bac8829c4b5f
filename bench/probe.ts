import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { SecurityMode } from '../src/protocols/san/login';
import { pct } from './format';
import { cpuTicks, quiesce, stopProcess } from './gateway-process';
import { hostCpuTimes, shareBetween } from './host-cpu';
import type { SanLoad } from './san-load';
import { benchHost, fio, startGateway, startLoad, startNbdkit, thickVolume } from './san.bench';
import { WORKLOADS, type WorkloadResult } from './workload';

/*
 * A quick probe for performance work, not a benchmark: one workload, a few
 * rounds, and per round what each side spent per operation, so two builds
 * or two settings can be compared without waiting for `npm run bench`.
 *
 *   node dist/bench/probe.js san --workload 0 --rounds 3 --seconds 3 [--security encrypt] [--peer]
 *   node dist/bench/probe.js nbd --workload 2 [--peer]
 *
 * san: our client library (in a process of its own, bench/san-load.ts, as in
 * the bench) against the gateway;
 * nbd: fio's nbd engine against the gateway's NBD export. --peer runs fio
 * against nbdkit's file plugin before each of our rounds. Workloads are the
 * bench's (0 4k randread, 1 4k randwrite, 2 1M seqread, 3 1M seqwrite).
 * Node flags for the gateway (e.g. --perf-basic-prof for `perf record -p`)
 * come from STRATA_BENCH_NODE_FLAGS, the client's from STRATA_BENCH_CLIENT_FLAGS,
 * as in the bench. Each line ends with
 * the host's steal: rounds with several percent of it are not comparable.
 */

const GiB = 2 ** 30;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    workload: { type: 'string', default: '0' },
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '3' },
    security: { type: 'string', default: 'integrity' },
    peer: { type: 'boolean', default: false },
  },
});

async function main(): Promise<void> {
  const mode = positionals[0];
  if (mode !== 'san' && mode !== 'nbd') throw new Error('usage: probe.js san|nbd [--workload 0..3] [--rounds N] [--seconds S] [--security integrity|encrypt] [--peer]');
  const wi = Number(values.workload);
  const w = WORKLOADS[wi];
  if (!w) throw new Error(`--workload is 0..${WORKLOADS.length - 1}: ${WORKLOADS.map((x, i) => `${i} ${x.name.replace(/\s+/g, ' ')}`).join(', ')}`);
  const rounds = Number(values.rounds);
  const seconds = Number(values.seconds);
  const dir = mkdtempSync(join(tmpdir(), 'strata-probe-'));
  const gw = await startGateway(dir);
  let nbdkit: Awaited<ReturnType<typeof startNbdkit>> | undefined;
  let load: SanLoad | undefined;
  try {
    await thickVolume(gw, dir, 'probe', GiB, { nbdExport: mode === 'nbd' });
    let ours: () => Promise<WorkloadResult & { cpu?: number }>;
    if (mode === 'san') {
      const security = values.security as SecurityMode;
      const key = await benchHost(gw, 'probe', 'probe', security);
      const l = (load = await startLoad(gw, 'probe', key, 'probe', security));
      await l.run(wi, GiB, 500, 42);
      ours = () => l.run(wi, GiB, seconds * 1000, 1);
    } else {
      const uri = `nbd://127.0.0.1:${gw.nbdPort}/probe`;
      await fio(uri, w, GiB, 1, dir);
      ours = () => fio(uri, w, GiB, seconds, dir);
    }
    if (values.peer) nbdkit = await startNbdkit(dir, GiB);
    const pids = [gw.child.pid!, ...(nbdkit ? [nbdkit.child.pid!] : []), ...(load ? [load.pid] : [])];
    for (let r = 0; r < rounds; r++) {
      if (nbdkit) {
        await quiesce(pids);
        const a = await fio(`nbd://127.0.0.1:${nbdkit.port}`, w, GiB, seconds, dir);
        console.log(`nbdkit ${w.name} ${figures(a)}`);
      }
      await quiesce(pids);
      const [g0, h0, t0] = [cpuTicks(gw.child.pid!) ?? 0, hostCpuTimes(), performance.now()];
      const x = await ours();
      // Over the whole call: fio's ramp second included (its IOPS are from after it), our run has none here.
      const elapsed = (performance.now() - t0) / 1000;
      const gwCpu = ((cpuTicks(gw.child.pid!) ?? 0) - g0) / 100 / elapsed;
      const h1 = hostCpuTimes();
      const host = h0 && h1 ? shareBetween(h0, h1) : undefined;
      const perOp = (share: number) => `${pct(share)} (${((share * 1e6) / x.iops).toFixed(1)} µs/op)`;
      console.log(
        `${mode === 'san' ? `ours ${values.security}` : 'gateway NBD'} ${w.name} ${figures(x)} gateway ${perOp(gwCpu)}${x.cpu === undefined ? '' : ` client ${perOp(x.cpu)}`}${host ? ` host steal ${pct(host.steal)} idle ${pct(host.idle)}` : ''}`,
      );
    }
  } finally {
    await load?.close();
    nbdkit?.child.kill('SIGTERM');
    await stopProcess(gw.child);
    rmSync(dir, { recursive: true, force: true });
  }
}

function figures(x: WorkloadResult): string {
  return `${x.iops.toFixed(0)} IOPS ${x.mbps.toFixed(0)} MB/s p50 ${x.p50us.toFixed(0)} µs`;
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
