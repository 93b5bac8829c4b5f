import { describe, expect, it } from 'vitest';
import { linePath, linear, niceMax, segments, ticks } from './chart-scale';

describe('niceMax', () => {
  it('rounds up to 1, 2, 2.5 or 5 times a power of ten', () => {
    expect(niceMax(0.7)).toBe(1);
    expect(niceMax(1)).toBe(1);
    expect(niceMax(1.2)).toBe(2);
    expect(niceMax(2.2)).toBe(2.5);
    expect(niceMax(3)).toBe(5);
    expect(niceMax(7)).toBe(10);
    expect(niceMax(420)).toBe(500);
    expect(niceMax(0.013)).toBeCloseTo(0.02);
  });

  it('keeps an exact round value instead of jumping a step', () => {
    expect(niceMax(500)).toBe(500);
    expect(niceMax(2.5e6)).toBe(2.5e6);
  });

  it('gives an idle or empty series a unit axis', () => {
    expect(niceMax(0)).toBe(1);
    expect(niceMax(-3)).toBe(1);
    expect(niceMax(Number.NaN)).toBe(1);
  });

  it('rounds bytes in powers of 1024 so the axis reads 5 MiB/s, not 5.24 MB/s', () => {
    expect(niceMax(3.3 * 2 ** 20, true)).toBe(5 * 2 ** 20);
    expect(niceMax(900, true)).toBe(1000);
    expect(niceMax(1.1 * 2 ** 30, true)).toBe(2 * 2 ** 30);
  });
});

describe('ticks and scales', () => {
  it('spaces gridlines so that every label is round', () => {
    expect(ticks(5)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(ticks(100)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(ticks(2)).toEqual([0, 0.5, 1, 1.5, 2]);
    expect(ticks(2.5)).toEqual([0, 0.5, 1, 1.5, 2, 2.5]);
    expect(ticks(1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(ticks(20 * 2 ** 20, true)).toEqual([0, 5, 10, 15, 20].map((m) => m * 2 ** 20));
    expect(ticks(50, true)).toEqual([0, 10, 20, 30, 40, 50]);
  });

  it('maps values linearly, including an inverted (SVG y) range', () => {
    const y = linear([0, 100], [150, 10]);
    expect(y(0)).toBe(150);
    expect(y(100)).toBe(10);
    expect(y(50)).toBe(80);
  });

  it('puts a single sample (zero-width domain) at the end of the range', () => {
    expect(linear([5, 5], [0, 300])(5)).toBe(300);
  });

  it('writes compact path data', () => {
    expect(linePath([])).toBe('');
    expect(linePath([[0, 1], [10.26, 20.04], [30, 40]])).toBe('M0 1 L10.3 20 L30 40');
  });
});

describe('segments', () => {
  const times = [0, 2000, 4000, 12_000, 14_000, 16_000];

  it('breaks the line where more than two intervals have no sample', () => {
    expect(segments(times, [1, 2, 3, 4, 5, 6], 2000)).toEqual([
      [0, 1, 2],
      [3, 4, 5],
    ]);
    expect(segments([0, 2000, 6000], [1, 1, 1], 2000)).toEqual([[0, 1, 2]]);
  });

  it('breaks it where nothing was measured, leaving a lone sample as its own run', () => {
    expect(segments(times, [1, null, 3, 4, null, 6], 2000)).toEqual([[0], [2], [3], [5]]);
    expect(segments(times, [null, null, null, null, null, null], 2000)).toEqual([]);
  });

  it('has nothing to draw without samples', () => {
    expect(segments([], [], 2000)).toEqual([]);
  });
});
