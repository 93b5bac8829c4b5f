import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { CapacityBar } from './CapacityBar';

const MiB = 2 ** 20;

/** Widths of the bar's parts, in order of appearance, by class name. */
function widths(html: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of html.matchAll(/class="(capacity-[a-z]+)" style="([^"]*)"/g)) out[m[1]] = m[2];
  return out;
}

describe('CapacityBar', () => {
  it('draws used over capacity and the promise under it, on one scale', () => {
    const html = renderToStaticMarkup(<CapacityBar capacity={64 * MiB} used={16 * MiB} provisioned={32 * MiB} />);
    expect(widths(html)).toEqual({
      'capacity-track': 'width:100%',
      'capacity-used': 'width:25%',
      'capacity-promised': 'width:50%',
    });
    expect(html).not.toContain('overcommit');
    expect(html).toContain('16 MiB used (25%), 48 MiB free of 64 MiB; 32 MiB provisioned');
  });

  it('shows thin overcommit as promise beyond the capacity mark', () => {
    const html = renderToStaticMarkup(<CapacityBar capacity={64 * MiB} used={8 * MiB} provisioned={128 * MiB} />);
    const w = widths(html);
    // The scale is the promise (128 MiB): capacity is half the width, the overcommit the other half.
    expect(w['capacity-track']).toBe('width:50%');
    expect(w['capacity-promised']).toBe('width:50%');
    expect(w['capacity-over']).toBe('left:50%;width:50%');
    expect(html).toContain('200%, thin overcommit');
  });

  it('copes with an empty pool', () => {
    const html = renderToStaticMarkup(<CapacityBar capacity={0} used={0} provisioned={0} compact />);
    expect(widths(html)['capacity-used']).toBe('width:0%');
  });
});
