import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { ListenerRegistry } from '../common/listeners';
import { STRATA_CONFIG, type StrataConfig } from '../config/config';
import { StorageRuntime } from '../storage/runtime';
import type { IoStatsSnapshot } from '../virtualization/io-stats';
import { addDelta, emptyDelta, ioDelta, rateSample, type RateSample } from './io-rates';

/** How much history GET /api/v1/stats keeps. */
export const STATS_WINDOW_SECONDS = 300;

/** A front end's state: where it listens, or why there is nothing to show. */
export type FrontEndStatus = { available: true; address: string } | { available: false; reason: string };

/** How NFS clients find the ports: our portmapper, the system's rpcbind, neither, or none by configuration. */
export interface NasPortmapStatus {
  mode: 'own' | 'system' | 'none' | 'off';
  /** The portmapper's port (own, system). */
  port?: number;
}

/** The NAS front end: where NFS and MOUNT listen and how clients find them, or why it is not serving. */
export type NasStatus =
  | { available: true; address: string; nfs: string; mount: string | null; portmap: NasPortmapStatus }
  | { available: false; reason: string };

export interface StatsReport {
  intervalSeconds: number;
  windowSeconds: number;
  /** Totals over every volume, oldest first, one per interval. */
  samples: RateSample[];
  /** The latest sample of each volume, by name. */
  volumes: Record<string, RateSample>;
  san: FrontEndStatus;
  nas: NasStatus;
}

/**
 * Live rates for the web console: every interval, the I/O counters of every
 * volume are compared with the previous sample, giving IOPS, bytes per second
 * and latency (mean, and p99 from the histogram buckets) per volume and
 * overall. The last five minutes stay in a ring buffer.
 */
@Injectable()
export class StatsService implements OnModuleInit, OnModuleDestroy {
  private readonly intervalMs: number;
  private readonly ring: RateSample[] = [];
  private readonly capacity: number;
  /** Where the next sample goes once the ring is full (it is then also the oldest). */
  private head = 0;
  private latest: Record<string, RateSample> = {};
  /** Counters at the last sample, by disk id (a rename keeps its history). */
  private previous = new Map<string, IoStatsSnapshot>();
  private lastTick: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private nas: () => NasStatus = () => ({ available: false, reason: 'the NAS front end is not running' });

  constructor(
    private readonly runtime: StorageRuntime,
    private readonly listeners: ListenerRegistry,
    @Inject(STRATA_CONFIG) config: StrataConfig,
  ) {
    this.intervalMs = config.metrics.statsIntervalMs;
    this.capacity = Math.ceil((STATS_WINDOW_SECONDS * 1000) / this.intervalMs);
  }

  /** The NAS front end reports its state through this (it lives in a module this one does not import). */
  setNasStatus(source: () => NasStatus): void {
    this.nas = source;
  }

  onModuleInit(): void {
    this.sample(performance.now(), Date.now());
    this.timer = setInterval(() => this.sample(performance.now(), Date.now()), this.intervalMs);
    // The sampler serves the console; it must not keep a stopping process alive.
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /**
   * Record the rates since the previous call; the first call only sets the
   * baseline. `monotonicMs` measures the interval (performance.now() from the
   * timer, a fake clock in specs), `wallMs` stamps the sample.
   */
  sample(monotonicMs: number, wallMs: number): void {
    // A clock that did not advance gives no interval to divide by.
    if (this.lastTick !== undefined && monotonicMs <= this.lastTick) return;
    const current = new Map<string, { name: string; stats: IoStatsSnapshot }>();
    for (const disk of this.runtime.disks.values()) current.set(disk.id, { name: disk.name, stats: disk.stats() });
    if (this.lastTick !== undefined) {
      const seconds = (monotonicMs - this.lastTick) / 1000;
      const total = emptyDelta();
      const latest: Record<string, RateSample> = {};
      for (const [id, { name, stats }] of current) {
        const delta = ioDelta(this.previous.get(id), stats);
        addDelta(total, delta);
        latest[name] = rateSample(delta, seconds, wallMs);
      }
      this.push(rateSample(total, seconds, wallMs));
      this.latest = latest;
    }
    this.previous = new Map([...current].map(([id, { stats }]) => [id, stats]));
    this.lastTick = monotonicMs;
  }

  report(): StatsReport {
    return {
      intervalSeconds: this.intervalMs / 1000,
      windowSeconds: STATS_WINDOW_SECONDS,
      samples: [...this.ring.slice(this.head), ...this.ring.slice(0, this.head)],
      volumes: { ...this.latest },
      san: this.frontEnd('san', 'the SAN target is disabled or could not listen'),
      nas: this.nas(),
    };
  }

  private frontEnd(name: string, otherwise: string): FrontEndStatus {
    const l = this.listeners.list().find((x) => x.name === name);
    if (l?.address) return { available: true, address: l.address };
    return { available: false, reason: l?.error ? `${otherwise}: ${l.error}` : otherwise };
  }

  private push(sample: RateSample): void {
    if (this.ring.length < this.capacity) {
      this.ring.push(sample);
      return;
    }
    this.ring[this.head] = sample;
    this.head = (this.head + 1) % this.capacity;
  }
}
