import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { ExportRuleInfo } from '../types';
import { ExportRuleTable } from './ExportRuleTable';

const rule = (position: number, more: Partial<ExportRuleInfo> = {}): ExportRuleInfo => ({
  id: `r${position}`,
  shareId: 's',
  position,
  clients: ['10.0.0.0/8', '2001:db8::/32'],
  access: 'rw',
  squash: 'root_squash',
  anonUid: 65534,
  anonGid: 65534,
  requirePrivilegedPort: true,
  comment: null,
  createdAt: '2025-01-01T00:00:00.000Z',
  updatedAt: '2025-01-01T00:00:00.000Z',
  ...more,
});

/** The text of each body row's cells, tags stripped. */
function rows(html: string): string[][] {
  const body = html.slice(html.indexOf('<tbody>'));
  return [...body.matchAll(/<tr>(.*?)<\/tr>/g)].map((m) => [...m[1].matchAll(/<td[^>]*>(.*?)<\/td>/g)].map((c) => c[1].replace(/<[^>]+>/g, '').trim()));
}

describe('ExportRuleTable', () => {
  it('says a share without rules is closed to everyone', () => {
    expect(renderToStaticMarkup(<ExportRuleTable rules={[]} />)).toContain('No export rules: no client may mount this share.');
  });

  it('lists rules in order with their access, squash and port check, and the row actions', () => {
    const html = renderToStaticMarkup(
      <ExportRuleTable
        rules={[rule(1), rule(2, { clients: ['*'], access: 'ro', squash: 'all_squash', anonUid: 1000, anonGid: 100, requirePrivilegedPort: false, comment: 'lab' })]}
        onMoveUp={() => undefined}
        onRemove={() => undefined}
      />,
    );
    expect(rows(html)).toEqual([
      ['1', '10.0.0.0/8, 2001:db8::/32', 'read-write', 'root → nobody', 'privileged only', '–', 'Remove'],
      ['2', '*', 'read-only', 'everyone → 1000:100', 'any', 'lab', 'Up Remove'],
    ]);
    // The first rule cannot move up.
    expect(html).not.toContain('Move rule 1 up');
    expect(html).toContain('aria-label="Move rule 2 up"');
  });

  it('offers no buttons when read-only', () => {
    expect(renderToStaticMarkup(<ExportRuleTable rules={[rule(1), rule(2)]} />)).not.toContain('<button');
  });
});
