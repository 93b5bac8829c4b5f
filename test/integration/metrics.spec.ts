import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatsReport } from '../../src/metrics/stats.service';
import { StatsService } from '../../src/metrics/stats.service';
import { parseExposition, sampleValue, samplesOf, type PromFamily } from '../utils/prometheus-text';
import { startTestGateway, type TestGateway } from '../utils/gateway';

const MiB = 2 ** 20;
const IMAGE_ROUTE = '/api/v1/volumes/:key/image';

async function scrape(gw: TestGateway, init?: RequestInit): Promise<Map<string, PromFamily>> {
  const res = await fetch(`${gw.url}/metrics`, init);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseExposition(await res.text());
}

async function json<T>(res: Response | Promise<Response>): Promise<T> {
  return (await (await res).json()) as T;
}

describe('GET /metrics', () => {
  let gw: TestGateway;
  // A long interval: the sampler's timer stays out of the way and the stats test drives it with its own clock.
  beforeAll(async () => (gw = await startTestGateway({ STRATA_STATS_INTERVAL_MS: '60000' })));
  afterAll(async () => gw?.close());

  it("counts a volume's I/O to the byte, matches the pool's REST view, counts REST calls by route template, and drops a deleted volume", async () => {
    const created = await gw.api('volumes', { method: 'POST', json: { name: 'metered', pool: 'default', size: '8M' } });
    expect(created.status).toBe(201);
    const { id } = await json<{ id: string }>(created);
    const vol = { volume: 'metered', pool: 'default' };

    const before = await scrape(gw);
    for (const op of ['read', 'write', 'write_zeroes', 'discard']) {
      expect(sampleValue(before, 'strata_volume_bytes_total', { ...vol, op })).toBe(0);
    }
    expect(sampleValue(before, 'strata_volume_allocated_bytes', vol)).toBe(0);

    // Random bytes: no zero runs, so the upload is plain writes (zeros would go as WRITE ZEROES).
    const image = randomBytes(3 * MiB + 4096);
    expect((await gw.api('volumes/metered/image', { method: 'PUT', body: image })).status).toBe(200);
    const back = Buffer.from(await (await gw.api(`volumes/metered/image?offset=4096&length=${MiB + 512}`)).arrayBuffer());
    expect(back.equals(image.subarray(4096, 4096 + MiB + 512))).toBe(true);

    const after = await scrape(gw);
    expect(sampleValue(after, 'strata_volume_bytes_total', { ...vol, op: 'write' })).toBe(image.length);
    expect(sampleValue(after, 'strata_volume_bytes_total', { ...vol, op: 'read' })).toBe(MiB + 512);
    expect(sampleValue(after, 'strata_volume_bytes_total', { ...vol, op: 'write_zeroes' })).toBe(0);
    expect(sampleValue(after, 'strata_volume_errors_total', { ...vol, op: 'write' })).toBe(0);
    // The upload ends with a flush, so it is on stable storage before the reply.
    expect(sampleValue(after, 'strata_volume_ops_total', { ...vol, op: 'flush' })).toBe(1);
    for (const op of ['read', 'write']) {
      const ops = sampleValue(after, 'strata_volume_ops_total', { ...vol, op })!;
      expect(ops).toBeGreaterThanOrEqual(1);
      expect(sampleValue(after, 'strata_volume_latency_seconds_count', { ...vol, op })).toBe(ops);
      expect(sampleValue(after, 'strata_volume_latency_seconds_bucket', { ...vol, op, le: '+Inf' })).toBe(ops);
      expect(sampleValue(after, 'strata_volume_latency_seconds_sum', { ...vol, op })).toBeGreaterThan(0);
    }

    const volume = await json<{ allocatedBytes: number; size: number }>(gw.api('volumes/metered'));
    expect(volume.allocatedBytes).toBe(4 * MiB);
    expect(sampleValue(after, 'strata_volume_allocated_bytes', vol)).toBe(volume.allocatedBytes);
    expect(sampleValue(after, 'strata_volume_size_bytes', vol)).toBe(volume.size);

    const pool = await json<{ capacity: number; usedBytes: number; freeBytes: number; provisionedBytes: number; state: string }>(
      gw.api('pools/default'),
    );
    expect(sampleValue(after, 'strata_pool_capacity_bytes', { pool: 'default' })).toBe(pool.capacity);
    expect(sampleValue(after, 'strata_pool_used_bytes', { pool: 'default' })).toBe(pool.usedBytes);
    expect(sampleValue(after, 'strata_pool_free_bytes', { pool: 'default' })).toBe(pool.freeBytes);
    expect(sampleValue(after, 'strata_pool_provisioned_bytes', { pool: 'default' })).toBe(pool.provisionedBytes);
    expect(sampleValue(after, 'strata_pool_state', { pool: 'default', state: pool.state })).toBe(1);
    expect(samplesOf(after, 'strata_pool_state', { pool: 'default' }).reduce((n, s) => n + s.value, 0)).toBe(1);
    expect(sampleValue(after, 'strata_device_state', { device: 'default', state: 'online' })).toBe(1);
    expect(sampleValue(after, 'strata_device_io_errors_total', { device: 'default' })).toBe(0);
    expect(sampleValue(after, 'strata_page_map_pages_allocated_total')).toBeGreaterThanOrEqual(4);
    expect(sampleValue(after, 'strata_page_map_commit_batches_total')).toBeGreaterThanOrEqual(1);
    expect(sampleValue(after, 'strata_ready')).toBe(1);
    // Process metrics, under the gateway's prefix.
    expect(after.get('strata_process_cpu_user_seconds_total')?.type).toBe('counter');
    expect(after.get('strata_nodejs_heap_size_used_bytes')?.type).toBe('gauge');

    // REST calls by route template, never by raw path or id.
    expect(sampleValue(after, 'strata_http_requests_total', { method: 'PUT', route: IMAGE_ROUTE, status_class: '2xx' })).toBe(1);
    expect(sampleValue(after, 'strata_http_requests_total', { method: 'GET', route: IMAGE_ROUTE, status_class: '2xx' })).toBe(1);
    expect(sampleValue(after, 'strata_http_requests_total', { method: 'POST', route: '/api/v1/volumes', status_class: '2xx' })).toBe(1);
    expect(sampleValue(after, 'strata_http_request_duration_seconds_count', { method: 'PUT', route: IMAGE_ROUTE })).toBe(1);
    const labelValues = [...after.values()].flatMap((f) => f.samples.flatMap((s) => Object.values(s.labels)));
    expect(labelValues.filter((v) => v.includes(id) || v.includes('/metered'))).toEqual([]);

    // An unknown route and a refused call: counted, under fixed label values.
    expect((await gw.api('no/such/thing')).status).toBe(404);
    expect((await fetch(`${gw.url}/api/v1/volumes`)).status).toBe(401);
    const refused = await scrape(gw);
    expect(sampleValue(refused, 'strata_http_requests_total', { method: 'GET', route: '(unmatched)', status_class: '4xx' })).toBe(1);
    expect(sampleValue(refused, 'strata_http_requests_total', { method: 'GET', route: '/api/v1/volumes', status_class: '4xx' })).toBe(1);

    expect((await gw.api('volumes/metered', { method: 'DELETE' })).status).toBe(204);
    const gone = await scrape(gw);
    const left = [...gone.values()].flatMap((f) => f.samples).filter((s) => s.labels.volume === 'metered');
    expect(left).toEqual([]);
    expect(sampleValue(gone, 'strata_pool_used_bytes', { pool: 'default' })).toBe(0);
  });

  it('counts shares, their size, allocation and rules, and drops a deleted one', async () => {
    const created = await gw.api('shares', { method: 'POST', json: { name: 'metered-share', pool: 'default', size: '4M', rules: [{ clients: ['*'] }] } });
    expect(created.status).toBe(201);
    const labels = { share: 'metered-share', pool: 'default' };
    const before = await scrape(gw);
    const shares = sampleValue(before, 'strata_shares', {})!;
    expect(shares).toBeGreaterThanOrEqual(1);
    expect(sampleValue(before, 'strata_share_size_bytes', labels)).toBe(4 * MiB);
    expect(sampleValue(before, 'strata_share_allocated_bytes', labels)).toBe(0);
    expect(sampleValue(before, 'strata_share_export_rules', { share: 'metered-share' })).toBe(1);
    // Its volume's I/O series are the volume's own, under the volume's name.
    expect(sampleValue(before, 'strata_volume_size_bytes', { volume: 'share:metered-share', pool: 'default' })).toBe(4 * MiB);

    await gw.api('shares/metered-share', { method: 'PATCH', json: { size: '8M' } });
    await gw.api('shares/metered-share/rules', { method: 'PUT', json: { rules: [] } });
    const changed = await scrape(gw);
    expect(sampleValue(changed, 'strata_share_size_bytes', labels)).toBe(8 * MiB);
    expect(sampleValue(changed, 'strata_share_export_rules', { share: 'metered-share' })).toBe(0);

    expect((await gw.api('shares/metered-share', { method: 'DELETE' })).status).toBe(204);
    const after = await scrape(gw);
    expect(sampleValue(after, 'strata_shares', {})).toBe(shares - 1);
    expect(samplesOf(after, 'strata_share_size_bytes', { share: 'metered-share' })).toHaveLength(0);
  });

  it('samples rates per volume and overall for GET /api/v1/stats', async () => {
    const stats = gw.app.get(StatsService);
    expect((await gw.api('volumes', { method: 'POST', json: { name: 'charted', pool: 'default', size: '8M' } })).status).toBe(201);
    // Far ahead of the real clock, so the timer (which uses it) cannot slip a sample in between.
    const t0 = performance.now() + 1e9;
    stats.sample(t0, Date.parse('2030-01-01T00:00:00Z'));
    const image = randomBytes(2 * MiB);
    expect((await gw.api('volumes/charted/image', { method: 'PUT', body: image })).status).toBe(200);
    expect((await (await gw.api(`volumes/charted/image?length=${MiB}`)).arrayBuffer()).byteLength).toBe(MiB);
    stats.sample(t0 + 2000, Date.parse('2030-01-01T00:00:02Z'));

    const report = await json<StatsReport>(gw.api('stats'));
    expect(report).toMatchObject({
      intervalSeconds: 60,
      windowSeconds: 300,
      san: { available: true, address: expect.stringMatching(/^udp 127\.0\.0\.1:\d+$/) },
      nas: { available: true, nfs: expect.stringMatching(/^tcp 127\.0\.0\.1:\d+$/), portmap: { mode: 'off' } },
    });
    const last = report.samples[report.samples.length - 1];
    expect(last.t).toBe(Date.parse('2030-01-01T00:00:02Z'));
    // Two seconds on the injected clock: exact rates.
    expect(last.writeBps).toBe(MiB);
    expect(last.readBps).toBe(MiB / 2);
    expect(last.writeIops).toBeGreaterThan(0);
    expect(last.readIops).toBeGreaterThan(0);
    expect(last.writeLatencyMs).toBeGreaterThan(0);
    expect(last.readLatencyP99Ms).toBeGreaterThan(0);
    expect(report.volumes.charted).toEqual(last);
    expect((await fetch(`${gw.url}/api/v1/stats`)).status).toBe(401);
  });

  it('gives every request an id: the caller\'s when it is a sane token, else a fresh one', async () => {
    const kept = await fetch(`${gw.url}/healthz`, { headers: { 'x-request-id': 'lb-7f3a.42:1' } });
    expect(kept.headers.get('x-request-id')).toBe('lb-7f3a.42:1');
    for (const bad of ['two words', 'x'.repeat(200), '<script>']) {
      const res = await fetch(`${gw.url}/healthz`, { headers: { 'x-request-id': bad } });
      expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    }
    const ids = new Set<string | null>();
    for (const path of ['/readyz', '/api/v1/volumes', '/api/v1/nothing-here']) ids.add((await fetch(`${gw.url}${path}`)).headers.get('x-request-id'));
    expect(ids.size).toBe(3);
    expect([...ids].every((v) => /^[0-9a-f-]{36}$/.test(v ?? ''))).toBe(true);
    // Routes outside the /api/v1 prefix are seen too.
    const m = await scrape(gw);
    expect(sampleValue(m, 'strata_http_requests_total', { method: 'GET', route: '/healthz', status_class: '2xx' })).toBe(4);
    expect(sampleValue(m, 'strata_http_requests_total', { method: 'GET', route: '/readyz', status_class: '2xx' })).toBe(1);
  });
});

describe('GET /metrics with metrics.public false, and the sampler on its timer', () => {
  let gw: TestGateway;
  beforeAll(async () => (gw = await startTestGateway({ STRATA_METRICS_PUBLIC: 'false', STRATA_STATS_INTERVAL_MS: '50' })));
  afterAll(async () => gw?.close());

  it('needs the admin token', async () => {
    const res = await fetch(`${gw.url}/metrics`);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: 'UNAUTHENTICATED' });
    await scrape(gw, { headers: { authorization: `Bearer ${gw.token}` } });
  });

  it('shows non-zero read and write rates after traffic', async () => {
    expect((await gw.api('volumes', { method: 'POST', json: { name: 'busy', pool: 'default', size: '8M' } })).status).toBe(201);
    expect((await gw.api('volumes/busy/image', { method: 'PUT', body: randomBytes(4 * MiB) })).status).toBe(200);
    // Read the body: a download nobody reads stalls on backpressure and holds the server open.
    expect((await (await gw.api('volumes/busy/image')).arrayBuffer()).byteLength).toBe(8 * MiB);
    let report: StatsReport | undefined;
    for (let i = 0; i < 200; i++) {
      report = await json<StatsReport>(gw.api('stats'));
      if (report.samples.some((s) => s.writeBps > 0) && report.samples.some((s) => s.readBps > 0)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(report!.intervalSeconds).toBe(0.05);
    expect(report!.samples.some((s) => s.writeBps > 0 && s.writeIops > 0 && s.writeLatencyMs! > 0)).toBe(true);
    expect(report!.samples.some((s) => s.readBps > 0 && s.readIops > 0 && s.readLatencyMs! > 0)).toBe(true);
    expect(Object.keys(report!.volumes)).toContain('busy');
  });
});
