import { Injectable } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import type { DeviceState, PoolState } from '../storage/domain';
import { StorageRuntime } from '../storage/runtime';
import { LATENCY_BUCKETS_SECONDS } from '../common/latency-histogram';
import type { IoOp } from '../virtualization/io-stats';
import type { Pool } from '../virtualization/pool';
import { LiveHistogram } from './live-histogram';
import { MetricsRegistry } from './metrics-registry';

/** The `op` label of each counted operation, in Prometheus' snake case. */
const OP_LABELS: ReadonlyArray<[IoOp, string]> = [
  ['read', 'read'],
  ['write', 'write'],
  ['writeZeroes', 'write_zeroes'],
  ['discard', 'discard'],
  ['flush', 'flush'],
];
const POOL_STATES: readonly PoolState[] = ['online', 'degraded', 'failed'];
const DEVICE_STATES: readonly DeviceState[] = ['online', 'failed', 'missing'];

type VolumeLabel = 'volume' | 'pool';

/**
 * Storage series, read from the live runtime at every scrape: volumes (I/O
 * counters and latency from the logical disks, size, allocation), pools
 * (space, state), devices (state, errors), the page-map group commit and
 * readiness. A deleted volume, pool or device is no longer in the runtime,
 * so its series are gone from the next scrape: label sets stay bounded by
 * what exists.
 */
@Injectable()
export class StorageCollector {
  constructor(metrics: MetricsRegistry, runtime: StorageRuntime) {
    const registers = [metrics.registry];
    const volumes = () =>
      [...runtime.disks.values()].map((disk) => ({ labels: { volume: disk.name, pool: disk.pool.name }, disk }));
    const ioCounter = (name: string, help: string, field: 'ops' | 'bytes' | 'errors', ops: ReadonlyArray<[IoOp, string]>) =>
      new Counter<VolumeLabel | 'op'>({
        name,
        help,
        labelNames: ['volume', 'pool', 'op'],
        registers,
        collect() {
          this.reset();
          for (const { labels, disk } of volumes()) {
            const stats = disk.stats();
            for (const [op, label] of ops) this.inc({ ...labels, op: label }, stats[op][field]);
          }
        },
      });

    ioCounter('strata_volume_ops_total', 'Completed operations on a volume, by operation.', 'ops', OP_LABELS);
    ioCounter(
      'strata_volume_bytes_total',
      'Bytes of completed operations on a volume (read, written, zeroed, discarded).',
      'bytes',
      OP_LABELS.filter(([op]) => op !== 'flush'),
    );
    ioCounter('strata_volume_errors_total', 'Failed operations on a volume, by operation.', 'errors', OP_LABELS);
    new LiveHistogram<VolumeLabel | 'op'>({
      name: 'strata_volume_latency_seconds',
      help: 'Latency of completed operations on a volume, from the call to the virtualization layer to its completion.',
      labelNames: ['volume', 'pool', 'op'],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
      collect: () =>
        volumes().flatMap(({ labels, disk }) => {
          const stats = disk.stats();
          return OP_LABELS.map(([op, label]) => ({
            labels: { ...labels, op: label },
            counts: stats[op].buckets,
            sum: stats[op].latencySumSeconds,
          }));
        }),
    });
    new Gauge<VolumeLabel>({
      name: 'strata_volume_size_bytes',
      help: 'Size of a volume.',
      labelNames: ['volume', 'pool'],
      registers,
      collect() {
        this.reset();
        for (const { labels, disk } of volumes()) this.set(labels, disk.size);
      },
    });
    new Gauge<VolumeLabel>({
      name: 'strata_volume_allocated_bytes',
      help: 'Bytes of pool pages backing a volume.',
      labelNames: ['volume', 'pool'],
      registers,
      collect() {
        this.reset();
        for (const { labels, disk } of volumes()) this.set(labels, disk.allocatedPages * disk.pageSize);
      },
    });

    const poolGauge = (name: string, help: string, value: (pool: Pool) => number) =>
      new Gauge<'pool'>({
        name,
        help,
        labelNames: ['pool'],
        registers,
        collect() {
          this.reset();
          for (const pool of runtime.pools.values()) this.set({ pool: pool.name }, value(pool));
        },
      });
    poolGauge('strata_pool_capacity_bytes', 'Usable bytes of a pool (whole pages).', (p) => p.pageCount * p.pageSize);
    poolGauge('strata_pool_used_bytes', 'Bytes of a pool given to volumes.', (p) => p.usedPages * p.pageSize);
    poolGauge('strata_pool_free_bytes', 'Bytes of a pool not given to any volume.', (p) => p.freePages * p.pageSize);
    poolGauge('strata_pool_provisioned_bytes', 'Sum of the sizes of the volumes of a pool; above capacity is thin overcommit.', (p) => {
      let sum = 0;
      for (const disk of runtime.disks.values()) if (disk.pool.id === p.id) sum += disk.size;
      return sum;
    });
    new Gauge<'pool' | 'state'>({
      name: 'strata_pool_state',
      help: 'State of a pool: 1 for its current state (online, degraded or failed), 0 for the others.',
      labelNames: ['pool', 'state'],
      registers,
      collect() {
        this.reset();
        for (const pool of runtime.pools.values()) {
          const current = pool.health().state;
          for (const state of POOL_STATES) this.set({ pool: pool.name, state }, state === current ? 1 : 0);
        }
      },
    });

    /** A device is failed when a pool took one of its extents out of service, missing when it could not be opened. */
    const devices = () => {
      const members = [...runtime.pools.values()].flatMap((pool) => pool.health().members);
      return [...runtime.devices].map(([id, open]) => {
        const mine = members.filter((m) => m.deviceId === id);
        const state: DeviceState = open.missingReason ? 'missing' : mine.some((m) => m.state === 'failed') ? 'failed' : 'online';
        return { name: open.name, state, errors: mine.reduce((n, m) => n + m.errors, 0) };
      });
    };
    new Gauge<'device' | 'state'>({
      name: 'strata_device_state',
      help: 'State of a device: 1 for its current state (online, failed or missing), 0 for the others.',
      labelNames: ['device', 'state'],
      registers,
      collect() {
        this.reset();
        for (const d of devices()) for (const state of DEVICE_STATES) this.set({ device: d.name, state }, state === d.state ? 1 : 0);
      },
    });
    new Counter<'device'>({
      name: 'strata_device_io_errors_total',
      help: 'I/O errors the pools saw on a device since start.',
      labelNames: ['device'],
      registers,
      collect() {
        this.reset();
        for (const d of devices()) this.inc({ device: d.name }, d.errors);
      },
    });

    const commitCounter = (name: string, help: string, field: keyof typeof runtime.store.stats) =>
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(runtime.store.stats[field]);
        },
      });
    commitCounter('strata_page_map_commit_batches_total', 'Group commits of page-map changes (one device flush per pool and one catalog transaction each).', 'batches');
    commitCounter('strata_page_map_pages_allocated_total', 'Pool pages committed as newly mapped.', 'allocations');
    commitCounter('strata_page_map_pages_released_total', 'Pool pages committed as released.', 'releases');
    commitCounter('strata_page_map_commit_failures_total', 'Group commits that failed (their writes failed too).', 'failures');

    new Gauge({
      name: 'strata_ready',
      help: 'Whether the gateway can serve (GET /readyz answers 200): 1 or 0.',
      registers,
      collect() {
        this.set(runtime.readiness().reasons.length === 0 ? 1 : 0);
      },
    });
  }
}
