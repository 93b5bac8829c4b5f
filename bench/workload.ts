import { Prng } from '../src/common/prng';

/**
 * A tiny fio: keep `depth` I/Os in flight against a target for a while and
 * count them. Random offsets come from a fixed-seed generator so every target
 * sees the same sequence.
 */
export interface IoTarget {
  read(offset: number, buf: Buffer): Promise<void>;
  write(offset: number, buf: Buffer): Promise<void>;
}

export interface Workload {
  name: string;
  op: 'read' | 'write';
  pattern: 'random' | 'sequential';
  blockSize: number;
  depth: number;
}

const MiB = 2 ** 20;

/** The block workloads every SAN-side bench runs (fio's for the peers, runWorkload's for our client library). */
export const WORKLOADS: Workload[] = [
  { name: '4k randread  QD32', op: 'read', pattern: 'random', blockSize: 4096, depth: 32 },
  { name: '4k randwrite QD32', op: 'write', pattern: 'random', blockSize: 4096, depth: 32 },
  { name: '1M seqread   QD8', op: 'read', pattern: 'sequential', blockSize: MiB, depth: 8 },
  { name: '1M seqwrite  QD8', op: 'write', pattern: 'sequential', blockSize: MiB, depth: 8 },
];

export interface WorkloadResult {
  ops: number;
  bytes: number;
  seconds: number;
  iops: number;
  mbps: number;
  p50us: number;
  p99us: number;
}

/**
 * `ramp`: run this long first and count nothing of it, as fio's `ramp_time`
 * does (what the SAN bench gives fio for the peer): the pipeline fills and
 * the code is compiled before the measured `millis` start. `measuring` is
 * called at that moment (to sample CPU over the measured part only).
 */
export interface RampOptions {
  rampMillis: number;
  measuring?: () => void;
}

export async function runWorkload(target: IoTarget, w: Workload, region: number, millis: number, seed = 42, ramp?: RampOptions): Promise<WorkloadResult> {
  const blocks = Math.floor(region / w.blockSize);
  const prng = new Prng(seed);
  const next = () => prng.next();
  let seq = 0;
  const offset = () => (w.pattern === 'random' ? Math.floor(next() * blocks) : seq++ % blocks) * w.blockSize;
  const latencies: number[] = [];
  let ops = 0;
  const rampEnd = process.hrtime.bigint() + BigInt(ramp?.rampMillis ?? 0) * 1_000_000n;
  const deadline = rampEnd + BigInt(millis) * 1_000_000n;
  // I/Os issued before `start` are not counted; it moves to the first one issued after the ramp (the very first without one).
  let start = rampEnd;
  let measuring = false;
  const worker = async () => {
    // One buffer per slot: writes carry non-zero data, reads land somewhere real.
    const buf = Buffer.alloc(w.blockSize, 0xa5);
    while (process.hrtime.bigint() < deadline) {
      const t0 = process.hrtime.bigint();
      if (!measuring && t0 >= rampEnd) {
        // The first I/O issued after the ramp starts the measured part; those still in flight from the ramp are not counted.
        measuring = true;
        start = t0;
        ramp?.measuring?.();
      }
      if (w.op === 'read') await target.read(offset(), buf);
      else await target.write(offset(), buf);
      if (t0 < start) continue;
      latencies.push(Number(process.hrtime.bigint() - t0) / 1000);
      ops++;
    }
  };
  await Promise.all(Array.from({ length: w.depth }, worker));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0;
  return {
    ops,
    bytes: ops * w.blockSize,
    seconds,
    iops: ops / seconds,
    mbps: (ops * w.blockSize) / seconds / 1e6,
    p50us: pct(0.5),
    p99us: pct(0.99),
  };
}

/** The middle value; with an even count the mean of the two middle ones (the upper one alone would favour whichever side the ratios put above 1). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}
