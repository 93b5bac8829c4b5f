import { Injectable } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { MetricsRegistry } from '../../metrics/metrics-registry';
import { StorageRuntime } from '../../storage/runtime';
import { ExportTable } from './export-table';

/**
 * Share series, read at every scrape from the ExportTable (kept by events)
 * and the shares' logical disks: how many shares, and each one's size,
 * allocated bytes and rule count. Their I/O shows under strata_volume_*
 * with volume="share:<name>".
 */
@Injectable()
export class ShareCollector {
  constructor(metrics: MetricsRegistry, table: ExportTable, runtime: StorageRuntime) {
    const registers = [metrics.registry];
    const shares = () =>
      table.list().map((e) => {
        const disk = runtime.disk(e.volumeId);
        return { entry: e, disk, labels: { share: e.name, pool: disk?.pool.name ?? e.share.poolName } };
      });
    new Gauge({
      name: 'strata_shares',
      help: 'NAS shares.',
      registers,
      collect() {
        this.set(table.size);
      },
    });
    new Gauge<'share' | 'pool'>({
      name: 'strata_share_size_bytes',
      help: "Size of a share (its volume's size).",
      labelNames: ['share', 'pool'],
      registers,
      collect() {
        this.reset();
        for (const { labels, disk, entry } of shares()) this.set(labels, disk?.size ?? entry.size);
      },
    });
    new Gauge<'share' | 'pool'>({
      name: 'strata_share_allocated_bytes',
      help: "Bytes of pool pages backing a share's volume.",
      labelNames: ['share', 'pool'],
      registers,
      collect() {
        this.reset();
        for (const { labels, disk } of shares()) if (disk) this.set(labels, disk.allocatedPages * disk.pageSize);
      },
    });
    new Gauge<'share'>({
      name: 'strata_share_export_rules',
      help: 'Export rules of a share (0: nobody may mount it).',
      labelNames: ['share'],
      registers,
      collect() {
        this.reset();
        for (const { entry } of shares()) this.set({ share: entry.name }, entry.rules.size);
      },
    });
  }
}
