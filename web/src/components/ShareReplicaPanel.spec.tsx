import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { ShareTable } from '../pages/SharesPage';
import type { ExportRuleInfo, ReplicaInfo, ShareInfo } from '../types';
import { AcceptShareForm, ConfirmPromote, ShareReplicaPanel } from './ShareReplicaPanel';

const MiB = 2 ** 20;
const noop = () => undefined;

const share = (name: string, more: Partial<ShareInfo> = {}): ShareInfo => ({
  id: `id-${name}`,
  name,
  path: `/${name}`,
  poolId: 'p1',
  poolName: 'default',
  volumeId: `v-${name}`,
  volumeName: `share:${name}`,
  size: 64 * MiB,
  allocatedBytes: 0,
  exportId: 1,
  sync: false,
  state: 'online',
  replica: null,
  rules: [],
  createdAt: '2026-11-24T00:00:00.000Z',
  updatedAt: '2026-11-24T00:00:00.000Z',
  ...more,
});

const rule = { id: 'r1', position: 1, clients: ['*'], access: 'rw' } as unknown as ExportRuleInfo;
const cycle3: ReplicaInfo = { hostId: 'h1', hostName: 'site-a', lastCycle: 3, lastCommitAt: '2026-11-24T01:00:00.000Z', snapshot: 'share:home-r@cycle-3' };

/** Markup as text: tags stripped, entities of quotes undone, spaces folded. */
const textOf = (html: string) =>
  html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#x27;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/\s+/g, ' ')
    .trim();

describe('ShareReplicaPanel', () => {
  it('shows a replica share as written by its host, not served until promoted, with its last cycle and consistent point', () => {
    const html = renderToStaticMarkup(<ShareReplicaPanel share={share('home-r', { replica: cycle3 })} onChanged={noop} onFlash={noop} />);
    const text = textOf(html);
    expect(text).toContain('It is not served: NFS clients cannot mount it until it is promoted.');
    expect(html).toContain('<a href="/hosts/site-a">site-a</a>');
    expect(html).toContain('<span data-replica="cycle">cycle 3</span>');
    expect(text).toContain('Consistent point share:home-r@cycle-3');
    expect(text).toContain('Committed at 2026-11-24 01:00:00Z');
    expect(text).toContain('Promote replica');
    expect(html).not.toContain('Accept as replica');
  });

  it('says a replica with no committed cycle holds nothing consistent yet, and a removed host as such', () => {
    const text = textOf(renderToStaticMarkup(<ShareReplicaPanel share={share('home-r', { replica: { ...cycle3, hostName: null, lastCycle: 0, lastCommitAt: null, snapshot: null } })} onChanged={noop} onFlash={noop} />));
    expect(text).toContain('Last committed cycle none yet');
    expect(text).toContain('a host since removed');
    expect(text).toContain('no cycle committed yet: it holds no consistent image');
    expect(text).toContain('Consistent point – State');
  });
});

describe('AcceptShareForm', () => {
  it('offers accept with no "replace its files" box for an empty share', () => {
    const html = renderToStaticMarkup(<AcceptShareForm share={share('home-r')} onAccepted={noop} />);
    expect(html).toContain('aria-label="Accept as replica"');
    expect(html).toContain('<label for="share-replica-host">Source gateway&#x27;s host</label>');
    expect(html).not.toContain('type="checkbox"');
    expect(html).not.toMatch(/<button[^>]*disabled=""[^>]*>Accept as replica/);
    expect(textOf(html)).toContain('From then on the share is not served until it is promoted.');
  });

  it('holds accept back for a share with files until "replace its files" is ticked, and says how much would be replaced', () => {
    const html = renderToStaticMarkup(<AcceptShareForm share={share('busy', { allocatedBytes: 5 * MiB })} onAccepted={noop} />);
    expect(html).toContain('type="checkbox"');
    expect(textOf(html)).toContain('Replace its files (5 MiB)');
    expect(html).toMatch(/<button type="submit"[^>]*disabled=""[^>]*>Accept as replica/);
    expect(textOf(html)).toContain('This share holds 5 MiB of file data: the source\'s copy would replace it.');
  });
});

describe('ConfirmPromote', () => {
  it('says the share is rolled back to its last cycle and served with its export rules', () => {
    const text = textOf(renderToStaticMarkup(<ConfirmPromote share={share('home-r', { replica: cycle3, rules: [rule] })} replica={cycle3} onClose={noop} onDone={noop} />));
    expect(text).toContain('Promote replica share home-r?');
    expect(text).toContain("It is rolled back to cycle 3 (share:home-r@cycle-3): its files are as they were on the source at that cycle's snapshot, committed 2026-11-24 01:00:00Z");
    expect(text).toContain('It is served again with its export rule: clients they match can mount it.');
    expect(text).toContain('host site-a loses its read-write assignment');
    expect(text).toMatch(/Cancel Promote$/);
  });

  it('asks to promote anyway when no cycle was committed, and warns of a share without rules', () => {
    const none = { ...cycle3, lastCycle: 0, lastCommitAt: null, snapshot: null };
    const text = textOf(renderToStaticMarkup(<ConfirmPromote share={share('home-r', { replica: none })} replica={none} onClose={noop} onDone={noop} />));
    expect(text).toContain('the share is the empty filesystem it was made with');
    expect(text).toContain('it has no export rules: no client can mount it until one is added');
    expect(text).toMatch(/Cancel Promote anyway$/);
  });
});

describe('ShareTable', () => {
  it('tags a replica share in the list', () => {
    const html = renderToStaticMarkup(<ShareTable shares={[share('home'), share('home-r', { replica: cycle3 })]} />);
    const rows = [...html.matchAll(/<tr>(.*?)<\/tr>/g)].map((m) => textOf(m[1]));
    expect(rows.slice(-2)).toEqual([
      'home /home default 64 MiB 0 B (0%) none: closed online',
      'home-r /home-r default 64 MiB 0 B (0%) none: closed online replica',
    ]);
  });
});
