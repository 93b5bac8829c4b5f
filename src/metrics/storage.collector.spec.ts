import { describe, expect, it } from 'vitest';
import { parseExposition, sampleValue, samplesOf } from '../../test/utils/prometheus-text';
import type { OpenDevice, StorageRuntime } from '../storage/runtime';
import { createLayout } from '../virtualization/layout';
import { LogicalDisk } from '../virtualization/logical-disk';
import { Pool } from '../virtualization/pool';
import { FakePageMapStore } from '../virtualization/testing/fake-page-map-store';
import { MemDevice } from '../virtualization/testing/mem-device';
import { MetricsRegistry } from './metrics-registry';
import { StorageCollector } from './storage.collector';

const PS = 64 * 1024;

/** The parts of StorageRuntime the collector reads, over real pools and disks on memory devices. */
function setup() {
  const devices = new Map<string, OpenDevice>();
  const pools = new Map<string, Pool>();
  const disks = new Map<string, LogicalDisk>();
  const store = new FakePageMapStore();
  const m1 = new MemDevice('mem:m1', 16 * PS);
  const m2 = new MemDevice('mem:m2', 16 * PS);
  devices.set('d1', { device: m1, name: 'm1' });
  devices.set('d2', { device: m2, name: 'm2' });
  devices.set('d3', { device: new MemDevice('mem:gone', PS), name: 'gone', missingReason: 'ENOENT' });
  const extent = (deviceId: string, device: MemDevice) => ({ deviceId, device, offset: 0, length: device.size });
  const mirror = new Pool({ id: 'p1', name: 'mirror', pageSize: PS, layout: createLayout('raid1', [extent('d1', m1), extent('d2', m2)]) });
  pools.set('p1', mirror);
  const vol = (id: string, name: string, pages: number) => {
    const disk = new LogicalDisk({ id, name, size: pages * PS, provisioning: 'thin', pool: mirror, store });
    disks.set(id, disk);
    return disk;
  };
  const stats = { batches: 3, allocations: 7, releases: 2, failures: 0 };
  const reasons: string[] = [];
  const runtime = { devices, pools, disks, store: { stats }, readiness: () => ({ reasons, degradedPools: [] }) } as unknown as StorageRuntime;
  const metrics = new MetricsRegistry();
  new StorageCollector(metrics, runtime);
  const scrape = async () => parseExposition(await metrics.scrape());
  return { m1, mirror, disks, vol, reasons, scrape };
}

describe('StorageCollector', () => {
  it('exports each volume with its I/O counters, latency histogram, size and allocation', async () => {
    const { vol, scrape } = setup();
    const disk = vol('v1', 'data', 8);
    await disk.write(0, Buffer.alloc(2 * PS + 10, 1));
    await disk.read(0, 4096);
    await disk.read(PS, 100);
    const m = await scrape();
    const labels = { volume: 'data', pool: 'mirror' };
    expect(sampleValue(m, 'strata_volume_ops_total', { ...labels, op: 'read' })).toBe(2);
    expect(sampleValue(m, 'strata_volume_bytes_total', { ...labels, op: 'read' })).toBe(4196);
    expect(sampleValue(m, 'strata_volume_bytes_total', { ...labels, op: 'write' })).toBe(2 * PS + 10);
    expect(sampleValue(m, 'strata_volume_bytes_total', { ...labels, op: 'flush' })).toBeUndefined();
    expect(sampleValue(m, 'strata_volume_ops_total', { ...labels, op: 'flush' })).toBe(0);
    expect(sampleValue(m, 'strata_volume_latency_seconds_count', { ...labels, op: 'read' })).toBe(2);
    expect(samplesOf(m, 'strata_volume_latency_seconds_bucket', { ...labels, op: 'read' })).toHaveLength(18);
    expect(sampleValue(m, 'strata_volume_size_bytes', labels)).toBe(8 * PS);
    expect(sampleValue(m, 'strata_volume_allocated_bytes', labels)).toBe(3 * PS);
  });

  it('exports pool space and state, device state and errors, the group commit and readiness', async () => {
    const { m1, vol, reasons, scrape } = setup();
    const disk = vol('v1', 'data', 20);
    await disk.write(0, Buffer.alloc(3 * PS, 1));
    vol('v2', 'spare', 4);
    let m = await scrape();
    expect(sampleValue(m, 'strata_pool_capacity_bytes', { pool: 'mirror' })).toBe(16 * PS);
    expect(sampleValue(m, 'strata_pool_used_bytes', { pool: 'mirror' })).toBe(3 * PS);
    expect(sampleValue(m, 'strata_pool_free_bytes', { pool: 'mirror' })).toBe(13 * PS);
    expect(sampleValue(m, 'strata_pool_provisioned_bytes', { pool: 'mirror' })).toBe(24 * PS);
    expect(sampleValue(m, 'strata_pool_state', { pool: 'mirror', state: 'online' })).toBe(1);
    expect(sampleValue(m, 'strata_device_state', { device: 'm1', state: 'online' })).toBe(1);
    expect(sampleValue(m, 'strata_device_state', { device: 'gone', state: 'missing' })).toBe(1);
    expect(sampleValue(m, 'strata_device_state', { device: 'gone', state: 'online' })).toBe(0);
    expect(sampleValue(m, 'strata_page_map_commit_batches_total')).toBe(3);
    expect(sampleValue(m, 'strata_page_map_pages_allocated_total')).toBe(7);
    expect(sampleValue(m, 'strata_page_map_pages_released_total')).toBe(2);
    expect(sampleValue(m, 'strata_page_map_commit_failures_total')).toBe(0);
    expect(sampleValue(m, 'strata_ready')).toBe(1);

    // m1 starts failing: the mirror serves from m2 and runs degraded.
    m1.failWrites = true;
    await disk.write(0, Buffer.alloc(PS, 2));
    reasons.push('something');
    m = await scrape();
    expect(sampleValue(m, 'strata_pool_state', { pool: 'mirror', state: 'degraded' })).toBe(1);
    expect(sampleValue(m, 'strata_pool_state', { pool: 'mirror', state: 'online' })).toBe(0);
    expect(sampleValue(m, 'strata_device_state', { device: 'm1', state: 'failed' })).toBe(1);
    expect(sampleValue(m, 'strata_device_state', { device: 'm2', state: 'online' })).toBe(1);
    expect(sampleValue(m, 'strata_device_io_errors_total', { device: 'm1' })).toBe(1);
    expect(sampleValue(m, 'strata_ready')).toBe(0);
  });

  it('drops the series of a volume once it is gone from the runtime, and follows a rename', async () => {
    const { disks, vol, scrape } = setup();
    await vol('v1', 'doomed', 4).write(0, Buffer.alloc(100));
    const keep = vol('v2', 'kept', 4);
    expect(samplesOf(await scrape(), 'strata_volume_ops_total', { volume: 'doomed' })).toHaveLength(5);
    disks.delete('v1');
    keep.name = 'renamed';
    const m = await scrape();
    const volumes = new Set([...m.values()].flatMap((f) => f.samples.map((s) => s.labels.volume)).filter(Boolean));
    expect([...volumes]).toEqual(['renamed']);
  });

  it('keeps registries apart, so several gateways can share a process', async () => {
    const a = setup();
    const b = setup();
    a.vol('v1', 'only-in-a', 4);
    expect(samplesOf(await b.scrape(), 'strata_volume_size_bytes')).toEqual([]);
    expect(samplesOf(await a.scrape(), 'strata_volume_size_bytes')).toHaveLength(1);
  });
});
