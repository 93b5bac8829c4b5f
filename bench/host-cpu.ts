import { readFileSync } from 'node:fs';
import { pct } from './format';

/**
 * What the whole host's CPUs did while a part of the bench ran, from the
 * first line of /proc/stat. On a virtual machine "steal" is time the
 * hypervisor gave to other guests while ours wanted to run: with several
 * percent of it, every figure of that part is low and noisy, ours and the
 * peer's alike (ratios less so, since both run in the same minutes).
 */

/** Cumulative jiffies of /proc/stat's "cpu" line: user nice system idle iowait irq softirq steal (guest time is inside user). */
export type CpuTimes = number[];

export interface HostCpuShare {
  /** user, nice, system, irq and softirq: everything but idle, iowait and steal. */
  busy: number;
  idle: number;
  steal: number;
}

/** The "cpu" line's first eight counters; undefined if the text has none. */
export function parseCpuLine(procStat: string): CpuTimes | undefined {
  const line = procStat.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return undefined;
  const fields = line.trim().split(/\s+/).slice(1, 9).map(Number);
  if (fields.length < 4 || fields.some((n) => !Number.isFinite(n))) return undefined;
  while (fields.length < 8) fields.push(0);
  return fields;
}

/** Shares of the time between two readings (0..1); undefined if no time passed or a counter went back. */
export function shareBetween(before: CpuTimes, after: CpuTimes): HostCpuShare | undefined {
  const d = after.map((v, i) => v - before[i]);
  if (d.some((v) => v < 0)) return undefined;
  const total = d.reduce((a, b) => a + b, 0);
  if (total === 0) return undefined;
  const [user, nice, system, idle, iowait, irq, softirq, steal] = d;
  return { busy: (user + nice + system + irq + softirq) / total, idle: (idle + iowait) / total, steal: steal / total };
}

/** This host's counters now; undefined where there is no /proc/stat. */
export function hostCpuTimes(): CpuTimes | undefined {
  try {
    return parseCpuLine(readFileSync('/proc/stat', 'utf8'));
  } catch {
    return undefined;
  }
}

/** Steal from this share up makes the part's figures suspect. */
export const STEAL_WARNING = 0.03;

/** One line for the bench output: what the host did since `before` (empty without /proc/stat). */
export function hostCpuLine(part: string, before: CpuTimes | undefined): string {
  const after = hostCpuTimes();
  return hostCpuText(part, before && after ? shareBetween(before, after) : undefined);
}

/** The line for `share` (empty without one). */
export function hostCpuText(part: string, s: HostCpuShare | undefined): string {
  if (!s) return '';
  const warn = s.steal >= STEAL_WARNING ? ' (the hypervisor ran other guests for part of it: figures of this part are low and noisy)' : '';
  return `host CPUs during the ${part} part: ${pct(s.busy)} busy, ${pct(s.idle)} idle, ${pct(s.steal)} steal${warn}`;
}
