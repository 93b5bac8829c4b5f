import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { SnapshotInfo } from '../types';
import { pagesText, SnapshotTable } from './SnapshotsPanel';

const MiB = 2 ** 20;

const snap = (name: string, more: Partial<SnapshotInfo> = {}): SnapshotInfo => ({
  id: `id-${name}`,
  name,
  volumeName: `vol1@${name}`,
  originId: 'v1',
  originName: 'vol1',
  poolName: 'default',
  size: 64 * MiB,
  allocatedBytes: 8 * MiB,
  uniqueBytes: 3 * MiB,
  scheduleId: null,
  assignments: [],
  createdAt: '2025-01-31T14:03:59.123Z',
  ...more,
});

/** The text of each body row's cells, tags stripped. */
function rows(html: string): string[][] {
  const body = html.slice(html.indexOf('<tbody>'));
  return [...body.matchAll(/<tr[^>]*>(.*?)<\/tr>/g)].map((m) => [...m[1].matchAll(/<td[^>]*>(.*?)<\/td>/g)].map((c) => c[1].replace(/<[^>]+>/g, '').trim()));
}

describe('pagesText', () => {
  it('gives bytes and pages of the volume page size', () => {
    expect(pagesText(3 * MiB, MiB)).toBe('3 MiB (3 pages)');
    expect(pagesText(MiB, MiB)).toBe('1 MiB (1 page)');
    expect(pagesText(0, 64 * 1024)).toBe('0 B (0 pages)');
  });
});

describe('SnapshotTable', () => {
  it('lists each snapshot with size, allocated, unique pages, creation time and hosts', () => {
    const html = renderToStaticMarkup(
      <SnapshotTable
        pageSize={MiB}
        onPick={() => undefined}
        snapshots={[
          snap('before-upgrade'),
          snap('hourly-20250131-150000', {
            scheduleId: 's1',
            uniqueBytes: 0,
            assignments: [{ id: 'a', hostId: 'h', hostName: 'backup1', volumeId: 'x', volumeName: 'vol1@hourly', access: 'ro', sharing: 'shared', createdAt: '' }],
          }),
        ]}
      />,
    );
    expect(rows(html)).toEqual([
      ['before-upgrade', '64 MiB', '8 MiB', '3 MiB (3 pages)', '2025-01-31 14:03:59Z', 'none', 'Clone Roll back Delete'],
      ['hourly-20250131-150000 (scheduled)', '64 MiB', '8 MiB', '0 B (0 pages)', '2025-01-31 14:03:59Z', 'backup1', 'Clone Roll back Delete'],
    ]);
    expect(html).toContain('aria-label="Roll back to snapshot before-upgrade"');
  });
});
