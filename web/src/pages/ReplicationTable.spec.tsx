import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { ReplicationInfo } from '../types';
import { ReplicationTable } from './ReplicationPage';

const MiB = 2 ** 20;

const repl = (volume: string, more: Partial<ReplicationInfo> = {}): ReplicationInfo => ({
  id: `id-${volume}`,
  volume: { id: `v-${volume}`, name: volume },
  share: null,
  target: '10.0.0.2:7700',
  targetVolume: `${volume}-r`,
  hostName: 'site-a',
  everySeconds: null,
  rateLimit: 0,
  lastCycle: 0,
  lastGoodAt: null,
  lastPointAt: null,
  lagSeconds: null,
  bytesSent: 0,
  lastError: null,
  nextRunAt: null,
  activeJobId: null,
  createdAt: '2026-11-24T00:00:00.000Z',
  ...more,
});

/** The text of each body row's cells, tags stripped. */
function rows(html: string): string[][] {
  const body = html.slice(html.indexOf('<tbody>'));
  return [...body.matchAll(/<tr[^>]*>(.*?)<\/tr>/g)].map((m) => [...m[1].matchAll(/<td[^>]*>(.*?)<\/td>/g)].map((c) => c[1].replace(/<[^>]+>/g, '').trim()));
}

describe('ReplicationTable', () => {
  it('says a new replication has no cycle yet, runs on demand without a limit, and is idle', () => {
    const html = renderToStaticMarkup(<ReplicationTable replications={[repl('db')]} done={() => undefined} />);
    expect(rows(html)).toEqual([['db', '10.0.0.2:7700as host site-a', 'db-r', 'on demandno limit', 'none yet', 'no cycle yet', '0 B', 'idle', 'Run now Change Remove']]);
    expect(html).not.toMatch(/disabled=""[^>]*>Run now/);
  });

  it('shows a scheduled one with its cycle, lag and bytes; a running cycle links to the Jobs page and holds Run now back', () => {
    const r = repl('web', {
      everySeconds: 900,
      rateLimit: 50 * MiB,
      nextRunAt: '2026-11-24T01:15:00.000Z',
      lastCycle: 7,
      lastGoodAt: '2026-11-24T01:00:02.500Z',
      lagSeconds: 185,
      bytesSent: 96 * MiB,
      activeJobId: 'job-1',
    });
    const html = renderToStaticMarkup(<ReplicationTable replications={[r]} done={() => undefined} />);
    const [row] = rows(html);
    expect(row.slice(3, 8)).toEqual(['every 15m50 MiB/s, next 2026-11-24 01:15:00Z', 'cycle 7, 2026-11-24 01:00:02Z', '3m 5s', '96 MiB', 'cycle running']);
    expect(html).toContain('<a href="/jobs">cycle running</a>');
    expect(html).toMatch(/<button[^>]*disabled=""[^>]*aria-label="Run a cycle of web now"/);
  });

  it("shows the last error when no cycle runs, and the empty state's way to begin", () => {
    const failed = repl('db', { lastCycle: 1, lastGoodAt: '2026-11-24T00:10:00.000Z', lagSeconds: 4000, lastError: "volume 'db-r' is not assigned to host 'site-a'" });
    const html = renderToStaticMarkup(<ReplicationTable replications={[failed]} done={() => undefined} />);
    expect(rows(html)[0].slice(5, 8)).toEqual(['1h 6m', '0 B', 'volume &#x27;db-r&#x27; is not assigned to host &#x27;site-a&#x27;']);
    expect(html).toContain('class="text-bad"');
    expect(renderToStaticMarkup(<ReplicationTable replications={[]} done={() => undefined} />)).toContain('No replications yet: register this gateway&#x27;s key on the target');
  });
  it("shows a share's replication as the share's name, tagged and linked to its page, with its target share", () => {
    const r = repl('share:home', { volume: { id: 'v-home', name: 'share:home' }, share: { id: 's-home', name: 'home' }, targetVolume: 'home-r' });
    const html = renderToStaticMarkup(<ReplicationTable replications={[r, repl('db')]} done={() => undefined} />);
    expect(rows(html).map((row) => row.slice(0, 3))).toEqual([
      ['home share', '10.0.0.2:7700as host site-a', 'home-ra share'],
      ['db', '10.0.0.2:7700as host site-a', 'db-r'],
    ]);
    expect(html).toContain('<tr data-replication="home">');
    expect(html).toContain('<a href="/shares/home">home</a> <span class="badge badge-neutral">share</span>');
    expect(html).toContain('<a href="/volumes/db">db</a>');
    expect(html).not.toContain('share:home');
    for (const label of ['Run a cycle of home now', 'Change schedule of home', 'Remove replication of home']) expect(html).toContain(`aria-label="${label}"`);
  });
});
