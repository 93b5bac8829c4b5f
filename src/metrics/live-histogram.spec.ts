import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { LiveHistogram, type LiveHistogramSeries } from './live-histogram';

describe('LiveHistogram', () => {
  function setup(series: Array<LiveHistogramSeries<'disk'>>) {
    const registry = new Registry();
    new LiveHistogram({ name: 'io_seconds', help: 'I/O latency.', labelNames: ['disk'], buckets: [0.001, 0.01], registers: [registry], collect: () => series });
    return registry;
  }

  it('emits cumulative buckets ending in +Inf, then _sum and _count (= the +Inf bucket), per series', async () => {
    const registry = setup([
      { labels: { disk: 'a' }, counts: [1, 2, 3], sum: 0.5 },
      { labels: { disk: 'b "quoted"\\' }, counts: [0, 0, 0], sum: 0 },
    ]);
    expect(await registry.metrics()).toBe(
      [
        '# HELP io_seconds I/O latency.',
        '# TYPE io_seconds histogram',
        'io_seconds_bucket{disk="a",le="0.001"} 1',
        'io_seconds_bucket{disk="a",le="0.01"} 3',
        'io_seconds_bucket{disk="a",le="+Inf"} 6',
        'io_seconds_sum{disk="a"} 0.5',
        'io_seconds_count{disk="a"} 6',
        'io_seconds_bucket{disk="b \\"quoted\\"\\\\",le="0.001"} 0',
        'io_seconds_bucket{disk="b \\"quoted\\"\\\\",le="0.01"} 0',
        'io_seconds_bucket{disk="b \\"quoted\\"\\\\",le="+Inf"} 0',
        'io_seconds_sum{disk="b \\"quoted\\"\\\\"} 0',
        'io_seconds_count{disk="b \\"quoted\\"\\\\"} 0',
        '',
      ].join('\n'),
    );
  });

  it('reads the series anew at every scrape, so a vanished series is gone', async () => {
    const series: Array<LiveHistogramSeries<'disk'>> = [{ labels: { disk: 'a' }, counts: [1, 0, 0], sum: 0.0001 }];
    const registry = setup(series);
    expect(await registry.metrics()).toContain('disk="a"');
    series.pop();
    expect(await registry.metrics()).toBe('# HELP io_seconds I/O latency.\n# TYPE io_seconds histogram\n');
  });

  it('refuses counts that do not fit the bounds', async () => {
    const registry = setup([{ labels: { disk: 'a' }, counts: [1, 2], sum: 0 }]);
    await expect(registry.metrics()).rejects.toThrow(/2 bucket counts for 2 bounds and \+Inf/);
  });

  it('refuses a bad name, an le label and unordered bounds', () => {
    const make = (name: string, labelNames: string[], buckets: number[]) => () =>
      new LiveHistogram({ name, help: 'h', labelNames, buckets, registers: [], collect: () => [] });
    expect(make('bad-name', [], [1])).toThrow(/metric name/);
    expect(make('ok', ['le'], [1])).toThrow(/le/);
    expect(make('ok', [], [2, 1])).toThrow(/ascending/);
    expect(make('ok', [], [1, Infinity])).toThrow(/finite/);
  });
});
