import { describe, expect, it } from 'vitest';
import { hostCpuLine, hostCpuText, hostCpuTimes, parseCpuLine, shareBetween } from './host-cpu';

const STAT = `cpu  100 5 50 800 20 3 7 15 0 0
cpu0 50 2 25 400 10 1 3 8 0 0
intr 12345
`;

describe('host CPU shares from /proc/stat', () => {
  it('reads the eight counters of the cpu line, not a per-CPU one', () => {
    expect(parseCpuLine(STAT)).toEqual([100, 5, 50, 800, 20, 3, 7, 15]);
  });

  it('pads an old kernel line without steal, and refuses text without a cpu line', () => {
    expect(parseCpuLine('cpu  1 2 3 4\n')).toEqual([1, 2, 3, 4, 0, 0, 0, 0]);
    expect(parseCpuLine('intr 1\n')).toBeUndefined();
    expect(parseCpuLine('cpu  1 x 3 4\n')).toBeUndefined();
  });

  it('splits the time between two readings into busy, idle and steal', () => {
    const s = shareBetween([0, 0, 0, 0, 0, 0, 0, 0], [30, 0, 10, 40, 10, 0, 5, 5])!;
    expect(s.busy).toBeCloseTo(0.45);
    expect(s.idle).toBeCloseTo(0.5);
    expect(s.steal).toBeCloseTo(0.05);
    expect(s.busy + s.idle + s.steal).toBeCloseTo(1);
  });

  it('gives nothing when no time passed or a counter went back (a reset)', () => {
    expect(shareBetween([1, 1, 1, 1, 0, 0, 0, 0], [1, 1, 1, 1, 0, 0, 0, 0])).toBeUndefined();
    expect(shareBetween([5, 1, 1, 1, 0, 0, 0, 0], [4, 1, 1, 9, 0, 0, 0, 0])).toBeUndefined();
  });

  it('warns about steal from 3% up', () => {
    expect(hostCpuText('san', { busy: 0.7, idle: 0.29, steal: 0.01 })).toBe('host CPUs during the san part: 70% busy, 29% idle, 1% steal');
    expect(hostCpuText('san', { busy: 0.7, idle: 0.25, steal: 0.05 })).toMatch(/5% steal \(the hypervisor ran other guests .*low and noisy\)$/);
    expect(hostCpuText('san', undefined)).toBe('');
  });

  const noProcStat = hostCpuTimes() === undefined;
  if (noProcStat) console.log('skipped: no /proc/stat on this host, so no live reading');
  it.skipIf(noProcStat)('reads this host live', async () => {
    const before = hostCpuTimes();
    // Some jiffies must pass (10 ms each).
    await new Promise((r) => setTimeout(r, 60));
    expect(hostCpuLine('test', before)).toMatch(/^host CPUs during the test part: \d+% busy, \d+% idle, \d+% steal/);
    expect(hostCpuLine('test', undefined)).toBe('');
  });
});
