/**
 * The arithmetic behind the line charts, kept apart from React so it can be
 * tested: round axis maxima, value-to-pixel mapping, SVG path text.
 */

const STEPS = [1, 2, 2.5, 5, 10];

/**
 * The smallest "round" number at or above v: 1, 2, 2.5 or 5 times a power of
 * ten. With binary true the power is of 1024 first (bytes/s reads as 5 MiB/s,
 * not 5.24 MB). A zero or empty series still gets an axis of 1.
 */
export function niceMax(v: number, binary = false): number {
  if (!(v > 0) || !Number.isFinite(v)) return 1;
  let unit = 1;
  if (binary) while (v / unit >= 1024) unit *= 1024;
  const x = v / unit;
  const pow = 10 ** Math.floor(Math.log10(x));
  const step = STEPS.find((s) => s * pow >= x * (1 - 1e-12)) ?? 10;
  return step * pow * unit;
}

/**
 * Gridline values from 0 to a niceMax() maximum, spaced so every label is
 * round too: 5 → 0 1 2 3 4 5, 2 → 0 0.5 1 1.5 2, 2.5 → steps of 0.5.
 */
export function ticks(max: number, binary = false): number[] {
  let unit = 1;
  if (binary) while (max / unit >= 1024) unit *= 1024;
  const lead = max / unit / 10 ** Math.floor(Math.log10(max / unit));
  const count = Math.abs(lead - 2) < 1e-9 ? 4 : 5;
  return Array.from({ length: count + 1 }, (_, i) => (max * i) / count);
}

/** A linear map from a domain to a pixel range; a zero-width domain maps to the range's end. */
export function linear(domain: [number, number], range: [number, number]): (v: number) => number {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  if (d1 === d0) return () => r1;
  return (v) => r0 + ((v - d0) / (d1 - d0)) * (r1 - r0);
}

/** `M x y L x y …` with coordinates rounded to a tenth of a pixel (shorter DOM, same picture). */
export function linePath(points: ReadonlyArray<readonly [number, number]>): string {
  return points.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${Math.round(x * 10) / 10} ${Math.round(y * 10) / 10}`).join(' ');
}

/**
 * The runs of sample indexes to draw as one line each. The line breaks where
 * nothing was measured (a null: no operation completed, so no latency) and
 * where sampling stopped (the gateway restarted, the tab slept: more than two
 * intervals without a sample) instead of drawing a slope across the hole.
 */
export function segments(times: readonly number[], values: ReadonlyArray<number | null>, intervalMs: number): number[][] {
  const runs: number[][] = [];
  let run: number[] = [];
  for (let i = 0; i < times.length; i++) {
    const gap = run.length > 0 && times[i] - times[run[run.length - 1]] > 2 * intervalMs;
    if (values[i] === null || gap) {
      if (run.length > 0) runs.push(run);
      run = [];
    }
    if (values[i] !== null) run.push(i);
  }
  if (run.length > 0) runs.push(run);
  return runs;
}
