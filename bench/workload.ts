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

export interface WorkloadResult {
  ops: number;
  bytes: number;
  seconds: number;
  iops: number;
  mbps: number;
  p50us: number;
  p99us: number;
}

export async function runWorkload(target: IoTarget, w: Workload, region: number, millis: number, seed = 42): Promise<WorkloadResult> {
  const blocks = Math.floor(region / w.blockSize);
  const prng = new Prng(seed);
  const next = () => prng.next();
  let seq = 0;
  const offset = () => (w.pattern === 'random' ? Math.floor(next() * blocks) : seq++ % blocks) * w.blockSize;
  const latencies: number[] = [];
  let ops = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(millis) * 1_000_000n;
  const worker = async () => {
    // One buffer per slot: writes carry non-zero data, reads land somewhere real.
    const buf = Buffer.alloc(w.blockSize, 0xa5);
    while (process.hrtime.bigint() < deadline) {
      const t0 = process.hrtime.bigint();
      if (w.op === 'read') await target.read(offset(), buf);
      else await target.write(offset(), buf);
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

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
