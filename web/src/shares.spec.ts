import { describe, expect, it } from 'vitest';
import { EMPTY_RULE, accessText, clientsFromText, fsckText, portText, ruleBody, snapshotPath, squashText } from './shares';

describe('export rule wording', () => {
  it('says who is squashed to whom', () => {
    expect(squashText({ squash: 'root_squash', anonUid: 65534, anonGid: 65534 })).toBe('root → nobody');
    expect(squashText({ squash: 'all_squash', anonUid: 1000, anonGid: 100 })).toBe('everyone → 1000:100');
    expect(squashText({ squash: 'no_root_squash', anonUid: 1, anonGid: 1 })).toBe('none');
    expect(portText({ requirePrivilegedPort: true })).toBe('privileged only');
    expect(portText({ requirePrivilegedPort: false })).toBe('any');
    expect(accessText({ access: 'rw' })).toBe('read-write');
  });
});

describe('the rule form', () => {
  it('reads clients separated by commas, blanks or lines', () => {
    expect(clientsFromText(' 10.0.0.0/8, 2001:db8::/32\n*  ,, ')).toEqual(['10.0.0.0/8', '2001:db8::/32', '*']);
    expect(clientsFromText(' , ')).toEqual([]);
  });

  it('turns the fields into the API body, defaults as the API has them', () => {
    expect(ruleBody({ ...EMPTY_RULE, clients: '10.0.0.0/8' })).toEqual({
      body: { clients: ['10.0.0.0/8'], access: 'ro', squash: 'root_squash', anonUid: 65534, anonGid: 65534, requirePrivilegedPort: true },
    });
    expect(ruleBody({ ...EMPTY_RULE, clients: '*', access: 'rw', squash: 'all_squash', anonUid: ' 1000 ', anonGid: '0', requirePrivilegedPort: false, comment: ' lab ' })).toEqual({
      body: { clients: ['*'], access: 'rw', squash: 'all_squash', anonUid: 1000, anonGid: 0, requirePrivilegedPort: false, comment: 'lab' },
    });
  });

  it('says what is wrong before sending', () => {
    expect(ruleBody(EMPTY_RULE)).toEqual({ error: 'Give at least one client: an address, a network like 10.0.0.0/8, or *.' });
    expect(ruleBody({ ...EMPTY_RULE, clients: '*', anonUid: '-1' })).toEqual({ error: 'The anonymous uid must be a whole number from 0 to 4294967295.' });
    expect(ruleBody({ ...EMPTY_RULE, clients: '*', anonGid: '4294967296' })).toEqual({ error: 'The anonymous gid must be a whole number from 0 to 4294967295.' });
  });
});

describe('share snapshot wording', () => {
  it('gives the path clients read a snapshot under', () => {
    expect(snapshotPath('/home', 'monday')).toBe('/home/.snapshots/monday/');
    expect(snapshotPath('/home/', 'snap-20260101-000000')).toBe('/home/.snapshots/snap-20260101-000000/');
  });
  it('sums up an fsck report: counts when clean, problems by kind when not', () => {
    const base = { problems: [], byKind: {}, files: 12, directories: 3 };
    expect(fsckText({ ...base, clean: true })).toBe('clean: 12 files, 3 directories');
    expect(fsckText({ ...base, clean: true, files: 1, directories: 1 })).toBe('clean: 1 file, 1 directory');
    const problems = [
      { kind: 'orphan', detail: 'x' },
      { kind: 'nlink', detail: 'y' },
      { kind: 'orphan', detail: 'z' },
    ];
    expect(fsckText({ ...base, clean: false, problems, byKind: { orphan: 2, nlink: 1 } })).toBe('3 problems: nlink 1, orphan 2');
  });
});
