/**
 * GET /api/v1/stats (docs/rest-api.md, "Live stats"), checked field by field:
 * the charts draw only what the gateway measured. Anything missing or
 * malformed makes the panel say "statistics not available" with the reason,
 * never a guess.
 */

export interface StatsSample {
  /** End of the interval, milliseconds since the epoch. */
  t: number;
  readIops: number;
  writeIops: number;
  readBps: number;
  writeBps: number;
  /** Mean latency; null when no operation completed in the interval (nothing was measured, which is not zero). */
  readLatencyMs: number | null;
  writeLatencyMs: number | null;
  /** 99th percentile from the gateway's histogram; null when none completed or the gateway does not send it. */
  readLatencyP99Ms: number | null;
  writeLatencyP99Ms: number | null;
}

export interface FrontEndStatus {
  available: boolean;
  reason: string | null;
}

export interface Series {
  intervalSeconds: number;
  samples: StatsSample[];
}

/** A part of the answer that checked out, or why it did not. */
export type Checked<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Each panel gets its own verdict: a half-built endpoint still shows what it does send. */
export interface StatsView {
  series: Checked<Series>;
  /** The latest sample of each volume, by name. */
  volumes: Checked<Record<string, StatsSample>>;
  san: Checked<FrontEndStatus>;
  nas: Checked<FrontEndStatus>;
}

const RATES = ['readIops', 'writeIops', 'readBps', 'writeBps'] as const;
const LATENCIES = ['readLatencyMs', 'writeLatencyMs'] as const;
const PERCENTILES = ['readLatencyP99Ms', 'writeLatencyP99Ms'] as const;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isMetric = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const fail = (reason: string) => ({ ok: false, reason }) as const;

/**
 * Sample times as an endpoint may send them: epoch milliseconds, epoch
 * seconds, or ISO-8601 text. Seconds are told from milliseconds by size
 * (1e11 ms is 1973; 1e11 s is the year 5138).
 */
export function sampleTime(t: unknown): number | null {
  if (typeof t === 'number' && Number.isFinite(t) && t > 0) return t < 1e11 ? t * 1000 : t;
  if (typeof t === 'string') {
    const ms = Date.parse(t);
    return Number.isNaN(ms) ? null : ms;
  }
  return null;
}

/** One sample, or the first thing wrong with it. */
function sample(s: unknown): StatsSample | string {
  if (!isObject(s)) return 'is not an object';
  const t = sampleTime(s.t);
  if (t === null) return 'has no time';
  const rate = RATES.find((m) => !isMetric(s[m]));
  if (rate) return `has no ${rate}`;
  // A latency must be there, as a number or as null; the percentiles may be left out.
  const latency = LATENCIES.find((m) => s[m] !== null && !isMetric(s[m]));
  if (latency) return `has no ${latency}`;
  const p99 = PERCENTILES.find((m) => s[m] !== undefined && s[m] !== null && !isMetric(s[m]));
  if (p99) return `has a malformed ${p99}`;
  const opt = (v: unknown) => (isMetric(v) ? v : null);
  return {
    t,
    readIops: s.readIops as number,
    writeIops: s.writeIops as number,
    readBps: s.readBps as number,
    writeBps: s.writeBps as number,
    readLatencyMs: opt(s.readLatencyMs),
    writeLatencyMs: opt(s.writeLatencyMs),
    readLatencyP99Ms: opt(s.readLatencyP99Ms),
    writeLatencyP99Ms: opt(s.writeLatencyP99Ms),
  };
}

function series(body: Record<string, unknown>): Checked<Series> {
  const { intervalSeconds } = body;
  if (!isMetric(intervalSeconds) || intervalSeconds === 0) return fail('the answer has no intervalSeconds');
  if (!Array.isArray(body.samples)) return fail('the answer has no samples');
  const samples: StatsSample[] = [];
  for (const [i, raw] of body.samples.entries()) {
    const s = sample(raw);
    if (typeof s === 'string') return fail(`sample ${i} ${s}`);
    samples.push(s);
  }
  samples.sort((a, b) => a.t - b.t);
  return { ok: true, value: { intervalSeconds, samples } };
}

function volumes(v: unknown): Checked<Record<string, StatsSample>> {
  if (!isObject(v)) return fail('the answer has no per-volume figures');
  const out: Record<string, StatsSample> = {};
  for (const [name, raw] of Object.entries(v)) {
    const s = sample(raw);
    if (typeof s === 'string') return fail(`the sample of volume '${name}' ${s}`);
    out[name] = s;
  }
  return { ok: true, value: out };
}

function frontEnd(v: unknown, name: string): Checked<FrontEndStatus> {
  if (!isObject(v) || typeof v.available !== 'boolean') return fail(`the answer has no ${name} status`);
  return { ok: true, value: { available: v.available, reason: typeof v.reason === 'string' ? v.reason : null } };
}

export function parseStats(body: unknown): StatsView {
  if (!isObject(body)) return unavailable('the gateway sent no statistics object');
  return { series: series(body), volumes: volumes(body.volumes), san: frontEnd(body.san, 'san'), nas: frontEnd(body.nas, 'nas') };
}

/** The whole endpoint failed (404, 500, unreachable): every panel says why. */
export function unavailable(reason: string): StatsView {
  const f = fail(reason);
  return { series: f, volumes: f, san: f, nas: f };
}
