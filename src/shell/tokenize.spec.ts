import { describe, expect, it } from 'vitest';
import { tokenize, tokenizePartial } from './tokenize';
import { UsageError } from './usage-error';

describe('tokenize', () => {
  it('splits on blanks, any number of them', () => {
    expect(tokenize('  volume   list\t--json ')).toEqual(['volume', 'list', '--json']);
    expect(tokenize('')).toEqual([]);
    expect(tokenize('   ')).toEqual([]);
  });

  it('keeps a quoted key with its blanks as one argument', () => {
    const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEw0 alice@laptop';
    expect(tokenize(`user key add admin --key "${key}"`)).toEqual(['user', 'key', 'add', 'admin', '--key', key]);
    expect(tokenize(`host add web1 --key '${key}'`)).toEqual(['host', 'add', 'web1', '--key', key]);
  });

  it('takes single quotes literally and lets double quotes escape only " and \\', () => {
    expect(tokenize(`'a "b" \\c'`)).toEqual(['a "b" \\c']);
    expect(tokenize(`"say \\"hi\\" \\\\ \\n"`)).toEqual(['say "hi" \\ \\n']);
  });

  it('escapes one character with a backslash outside quotes', () => {
    expect(tokenize('a\\ b c\\"d')).toEqual(['a b', 'c"d']);
    expect(tokenize('trailing\\')).toEqual(['trailing\\']);
  });

  it('joins quoted and plain parts that touch, and keeps empty quotes as an empty word', () => {
    expect(tokenize(`--key="ssh-ed25519 AAAA"x`)).toEqual(['--key=ssh-ed25519 AAAAx']);
    expect(tokenize(`a '' "" b`)).toEqual(['a', '', '', 'b']);
  });

  it('treats # at the start of a word as a comment, elsewhere as a character', () => {
    expect(tokenize('volume list # all of them')).toEqual(['volume', 'list']);
    expect(tokenize('# nothing')).toEqual([]);
    expect(tokenize('a#b "#c"')).toEqual(['a#b', '#c']);
  });

  it('refuses an unclosed quote with a usage error naming it', () => {
    expect(() => tokenize('host add "web1')).toThrow(UsageError);
    expect(() => tokenize('host add "web1')).toThrow(/unclosed " quote/);
    expect(() => tokenize("it's")).toThrow(/unclosed ' quote/);
  });
});

describe('tokenizePartial', () => {
  it('gives the finished words and the one being typed', () => {
    expect(tokenizePartial('volume cr')).toEqual({ words: ['volume'], partial: 'cr' });
    expect(tokenizePartial('volume ')).toEqual({ words: ['volume'], partial: '' });
    expect(tokenizePartial('')).toEqual({ words: [], partial: '' });
    expect(tokenizePartial('host add "a b" --k')).toEqual({ words: ['host', 'add', 'a b'], partial: '--k' });
  });

  it('offers nothing inside an open quote or a comment', () => {
    expect(tokenizePartial('host add "we')).toBeNull();
    expect(tokenizePartial('volume list #po')).toBeNull();
  });
});
