import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../api';
import type { ExportRuleInfo, ShareInfo, SnapshotInfo } from '../types';
import { ShareCloneDialog, ShareRollbackDialog, isInUse } from './ShareSnapshotsPanel';

const noop = () => undefined;

const home = {
  id: 'id-home',
  name: 'home',
  path: '/home',
  poolName: 'fast',
  volumeId: 'v-home',
  rules: [
    { id: 'r2', position: 2, clients: ['*'], access: 'ro' },
    { id: 'r1', position: 1, clients: ['10.0.0.0/8', 'admin.lan'], access: 'rw' },
  ] as unknown as ExportRuleInfo[],
} as ShareInfo;

const snap = (name: string, createdAt: string) => ({ id: `s-${name}`, name, createdAt, size: 1 << 26, uniqueBytes: 0 }) as SnapshotInfo;
const monday = snap('monday', '2026-11-23T08:00:00.000Z');
const tuesday = snap('tuesday', '2026-11-24T08:00:00.000Z');

/** Markup as text: tags stripped, entities of quotes undone, spaces folded. */
const textOf = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/&#x27;/g, "'").replace(/\s+/g, ' ').trim();

describe('ShareRollbackDialog', () => {
  it('says what goes back to the snapshot, what is lost, that later snapshots stay and that NFS clients should mount again', () => {
    const html = renderToStaticMarkup(<ShareRollbackDialog share={home} snapshot={monday} all={[monday, tuesday]} onClose={noop} onDone={noop} />);
    const text = textOf(html);
    expect(text).toContain('Roll back home to monday?');
    expect(text).toContain('everything written to home since 2026-11-23 08:00:00Z, when monday was taken: files made since are gone');
    expect(text).toContain('its files and their metadata (names, owners, modes, sizes) go back to the snapshot together');
    expect(text).toContain('Its snapshots stay, also the ones taken after this one (tuesday).');
    expect(text).toContain('NFS clients should mount it again afterwards');
    // Not forced until the server has refused and named the clients.
    expect(html).toMatch(/class="button button-danger"[^>]*>Roll back<\/button>/);
    expect(text).not.toContain('Roll back anyway');
  });

  it('names no later snapshots when there are none', () => {
    const text = textOf(renderToStaticMarkup(<ShareRollbackDialog share={home} snapshot={tuesday} all={[monday, tuesday]} onClose={noop} onDone={noop} />));
    expect(text).toContain('Its snapshots stay.');
    expect(text).not.toContain('taken after this one');
  });
});

describe('ShareCloneDialog', () => {
  it("asks for the new share's name (suggested from both names) and says it gets this share's rules in order", () => {
    const html = renderToStaticMarkup(<ShareCloneDialog share={home} snapshot={monday} onClose={noop} onCloned={noop} />);
    const text = textOf(html);
    expect(text).toContain('Clone snapshot monday into a new share');
    expect(text).toContain('A new share that starts as snapshot monday: the files of home as they were at 2026-11-23 08:00:00Z.');
    expect(text).toContain("It gets this share's export rules (2 rules: 10.0.0.0/8 admin.lan read-write, * read-only), pool fast");
    expect(html).toMatch(/<label for="share-clone-name">New share name<\/label><input id="share-clone-name" required="" autoComplete="off" value="home-monday"/);
    expect(text).toContain('Clients mount it at /home-monday .');
  });

  it('warns that a share without rules is a clone no client may mount yet', () => {
    const text = textOf(renderToStaticMarkup(<ShareCloneDialog share={{ ...home, rules: [] }} snapshot={monday} onClose={noop} onCloned={noop} />));
    expect(text).toContain("export rules (no rules: no client may mount it until one is added)");
  });
});

describe('isInUse', () => {
  it('is the 409 refusal naming mounted clients, and nothing else', () => {
    expect(isInUse(new ApiError(409, 'SHARE_IN_USE', "share 'home' is in use by client(s) a"))).toBe(true);
    expect(isInUse(new ApiError(409, 'MIRRORED', 'mirrored'))).toBe(false);
    expect(isInUse(new ApiError(400, 'SHARE_IN_USE', 'odd'))).toBe(false);
    expect(isInUse(new Error('SHARE_IN_USE'))).toBe(false);
  });
});
