/**
 * Where a gateway's time goes during a benchmark row, from its own latency
 * histograms in /metrics (strata_nfs_call_duration_seconds and
 * strata_share_metadata_commit_duration_seconds): sums and counts read before and
 * after the row, so the difference covers that row's calls alone.
 */
import { type Labels, parseExposition, samplesOf } from '../test/utils/prometheus-text';

/** Seconds spent and how many, per key: "NFSv3 CREATE", "commit synced", "commit applied". */
export type GatewayTimes = Record<string, { seconds: number; count: number }>;

/** The NFSv3 call times and the metadata commit times of `share` in an exposition text (checked by the tests' strict parser). */
export function parseGatewayTimes(text: string, share: string): GatewayTimes {
  const families = parseExposition(text);
  const out: GatewayTimes = {};
  const read = (metric: string, match: Labels, key: (labels: Labels) => string) => {
    for (const s of samplesOf(families, `${metric}_sum`, match)) (out[key(s.labels)] ??= { seconds: 0, count: 0 }).seconds = s.value;
    for (const s of samplesOf(families, `${metric}_count`, match)) (out[key(s.labels)] ??= { seconds: 0, count: 0 }).count = s.value;
  };
  read('strata_nfs_call_duration_seconds', { program: 'nfs', version: '3' }, (l) => `NFSv3 ${l.procedure}`);
  read('strata_share_metadata_commit_duration_seconds', { share }, (l) => `commit ${l.kind}`);
  return out;
}

/** What `after` adds to `before`, added to `into` (keys with no calls in between are left out). */
export function addTimesBetween(into: GatewayTimes, before: GatewayTimes, after: GatewayTimes): GatewayTimes {
  for (const [key, a] of Object.entries(after)) {
    const b = before[key] ?? { seconds: 0, count: 0 };
    const count = a.count - b.count;
    if (count <= 0) continue;
    const t = (into[key] ??= { seconds: 0, count: 0 });
    t.seconds += a.seconds - b.seconds;
    t.count += count;
  }
  return into;
}

/** Scrape a gateway's /metrics for parseGatewayTimes. */
export async function scrapeGatewayTimes(url: string, token: string, share: string): Promise<GatewayTimes> {
  const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`GET /metrics: ${res.status} ${await res.text()}`);
  return parseGatewayTimes(await res.text(), share);
}

const PROCEDURES = ['LOOKUP', 'GETATTR', 'CREATE', 'WRITE', 'COMMIT', 'REMOVE'];

/**
 * "CREATE 530 µs, WRITE 53 µs, ...; metadata commits: synced 395 µs (3,002), applied 71 µs (2,002)":
 * the mean time of each call in the gateway, then of the share's commits.
 */
export function formatGatewayTimes(t: GatewayTimes): string {
  const us = (x: { seconds: number; count: number }) => `${Math.round((x.seconds / x.count) * 1e6).toLocaleString('en-US')} µs`;
  const calls = PROCEDURES.filter((p) => t[`NFSv3 ${p}`]?.count).map((p) => `${p} ${us(t[`NFSv3 ${p}`])}`);
  const commits = ['synced', 'applied'].filter((k) => t[`commit ${k}`]?.count).map((k) => `${k} ${us(t[`commit ${k}`])} (${t[`commit ${k}`].count.toLocaleString('en-US')})`);
  return `${calls.join(', ')}${commits.length ? `; metadata commits: ${commits.join(', ')}` : ''}`;
}
