import { validateMetricName, type Metric, type Registry } from 'prom-client';

export interface LiveHistogramSeries<T extends string> {
  labels: Record<T, string>;
  /** Observations per bucket, not cumulative: one entry per bound, then the +Inf bucket. */
  counts: ArrayLike<number>;
  /** Sum of the observed values, in the unit of the bounds. */
  sum: number;
}

export interface LiveHistogramConfig<T extends string> {
  name: string;
  help: string;
  labelNames: readonly T[];
  /** Finite upper bounds, ascending; +Inf is implied. */
  buckets: readonly number[];
  registers: Registry[];
  /** Called at every scrape: the series as they are now. */
  collect: () => Iterable<LiveHistogramSeries<T>>;
}

interface Sample {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

/**
 * A histogram whose counts are kept elsewhere (plain arrays on the data path)
 * and read at scrape time. prom-client's Histogram can only count
 * observations itself, so this emits the samples directly: cumulative
 * `_bucket` series ending in `le="+Inf"`, then `_sum`, and `_count` equal to
 * the +Inf bucket.
 */
export class LiveHistogram<T extends string> {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly name: string;
  readonly help: string;
  private readonly buckets: readonly number[];
  private readonly collect: () => Iterable<LiveHistogramSeries<T>>;

  constructor(config: LiveHistogramConfig<T>) {
    if (!validateMetricName(config.name)) throw new Error(`invalid metric name '${config.name}'`);
    if (config.labelNames.includes('le' as T)) throw new Error(`histogram ${config.name} cannot have a label named le`);
    const b = config.buckets;
    if (b.length === 0 || b.some((x, i) => !Number.isFinite(x) || (i > 0 && x <= b[i - 1]))) {
      throw new Error(`histogram ${config.name} needs finite ascending bucket bounds`);
    }
    this.name = config.name;
    this.help = config.help;
    this.buckets = [...b];
    this.collect = config.collect;
    // The registry formats any object with a name, help, type and get(); its typings only list prom-client's own classes.
    for (const registry of config.registers) registry.registerMetric(this as unknown as Metric);
  }

  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: Sample[] }> {
    const values: Sample[] = [];
    const bucket = `${this.name}_bucket`;
    for (const series of this.collect()) {
      if (series.counts.length !== this.buckets.length + 1) {
        throw new Error(`histogram ${this.name}: ${series.counts.length} bucket counts for ${this.buckets.length} bounds and +Inf`);
      }
      let cumulative = 0;
      for (let i = 0; i < this.buckets.length; i++) {
        cumulative += series.counts[i];
        values.push({ metricName: bucket, labels: { ...series.labels, le: this.buckets[i] }, value: cumulative });
      }
      cumulative += series.counts[this.buckets.length];
      values.push({ metricName: bucket, labels: { ...series.labels, le: '+Inf' }, value: cumulative });
      values.push({ metricName: `${this.name}_sum`, labels: series.labels, value: series.sum });
      values.push({ metricName: `${this.name}_count`, labels: series.labels, value: cumulative });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** Registry.resetMetrics() calls this; the counts belong to the data path, which never resets them. */
  reset(): void {}
}
