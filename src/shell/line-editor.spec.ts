import { describe, expect, it } from 'vitest';
import { KeyDecoder, LineEditor, type EditorEvent, type Key } from './line-editor';

const keys = (data: string) => new KeyDecoder().decode(data);

/** Type `data` into a fresh read of `editor`; returns the events of all the keys. */
function type(editor: LineEditor, data: string, decoder = new KeyDecoder()): EditorEvent[] {
  return decoder.decode(data).flatMap((k) => editor.press(k));
}

const lineOf = (events: EditorEvent[]) => events.flatMap((e) => (e.type === 'line' ? [e.line] : []));
const outputOf = (events: EditorEvent[]) => events.map((e) => (e.type === 'output' ? e.data : '')).join('');

const UP = '\x1b[A';
const DOWN = '\x1b[B';
const LEFT = '\x1b[D';
const RIGHT = '\x1b[C';

describe('KeyDecoder', () => {
  it('groups printable characters and names control keys', () => {
    expect(keys('ab\tc\r')).toEqual<Key[]>([{ name: 'text', text: 'ab' }, { name: 'tab' }, { name: 'text', text: 'c' }, { name: 'enter' }]);
    expect(keys('\x03\x04\x7f\b\x01\x05\x15\x0b\x17\x0c')).toEqual(
      ['interrupt', 'eof', 'backspace', 'backspace', 'home', 'end', 'kill-line', 'kill-to-end', 'kill-word', 'clear'].map((name) => ({ name })),
    );
  });

  it('reads \\r, \\n and \\r\\n each as one Enter', () => {
    expect(keys('a\rb\nc\r\nd')).toEqual<Key[]>([
      { name: 'text', text: 'a' },
      { name: 'enter' },
      { name: 'text', text: 'b' },
      { name: 'enter' },
      { name: 'text', text: 'c' },
      { name: 'enter' },
      { name: 'text', text: 'd' },
    ]);
    const d = new KeyDecoder();
    expect([...d.decode('x\r'), ...d.decode('\ny')]).toEqual<Key[]>([{ name: 'text', text: 'x' }, { name: 'enter' }, { name: 'text', text: 'y' }]);
  });

  it('knows the arrows in both cursor modes, Home/End/Delete, and drops other sequences', () => {
    expect(keys(`${UP}${DOWN}${RIGHT}${LEFT}\x1bOA\x1bOD\x1b[H\x1b[F\x1b[1~\x1b[4~\x1b[3~`)).toEqual(
      ['up', 'down', 'right', 'left', 'up', 'left', 'home', 'end', 'home', 'end', 'delete'].map((name) => ({ name })),
    );
    expect(keys('a\x1b[1;5Cb\x1b[15~c')).toEqual<Key[]>([{ name: 'text', text: 'a' }, { name: 'text', text: 'b' }, { name: 'text', text: 'c' }]);
  });

  it('waits for the rest of an escape sequence split across reads', () => {
    const d = new KeyDecoder();
    expect(d.decode('ab\x1b')).toEqual<Key[]>([{ name: 'text', text: 'ab' }]);
    expect(d.decode('[')).toEqual([]);
    expect(d.decode('Ac')).toEqual<Key[]>([{ name: 'up' }, { name: 'text', text: 'c' }]);
  });

  it('keeps multi-byte characters whole', () => {
    expect(keys('Grüße 📦')).toEqual<Key[]>([{ name: 'text', text: 'Grüße 📦' }]);
  });
});

describe('LineEditor', () => {
  it('prints the prompt, echoes what is typed and gives the line on Enter', () => {
    const e = new LineEditor();
    expect(e.begin('strata> ')).toBe('strata> ');
    const events = type(e, 'volume list\r');
    expect(outputOf(events)).toBe('volume list\r\n');
    expect(lineOf(events)).toEqual(['volume list']);
    expect(e.reading).toBe(false);
    expect(type(e, 'ignored')).toEqual([]);
  });

  it('edits in the middle of the line: cursor keys, backspace, delete, home, end', () => {
    const e = new LineEditor();
    e.begin('> ');
    expect(lineOf(type(e, `volme${LEFT}${LEFT}u\x01x${LEFT}\x1b[3~\x05!\x7f list\r`))).toEqual(['volume list']);
  });

  it('redraws the line after an edit in the middle, with the cursor put back', () => {
    const e = new LineEditor();
    e.begin('> ');
    type(e, `abd${LEFT}`);
    expect(outputOf(type(e, 'c'))).toBe('\r> abcd\x1b[K\x1b[1D');
    expect(outputOf(type(e, '\x05\x7f'))).toBe('\x1b[1C\b \b');
  });

  it('kills to the start, to the end, and the word before the cursor', () => {
    const e = new LineEditor();
    e.begin('> ');
    expect(lineOf(type(e, 'junk volume\x01\x1b[C\x1b[C\x1b[C\x1b[C\x1b[C\x15list\r'))).toEqual(['listvolume']);
    e.begin('> ');
    expect(lineOf(type(e, `volume list${LEFT}${LEFT}${LEFT}${LEFT}\x0b\r`))).toEqual(['volume ']);
    e.begin('> ');
    expect(lineOf(type(e, 'pool show  default\x17x\r'))).toEqual(['pool show  x']);
  });

  it('walks the history with up and down, keeping the line being typed', () => {
    const e = new LineEditor();
    for (const line of ['status', 'volume list', 'volume list', '   ']) {
      e.begin('> ', { history: true });
      type(e, `${line}\r`);
    }
    e.begin('> ', { history: true });
    type(e, 'draft');
    expect(outputOf(type(e, UP))).toBe('\r> volume list\x1b[K');
    type(e, UP);
    expect(outputOf(type(e, UP))).toBe('\x07');
    expect(outputOf(type(e, DOWN))).toBe('\r> volume list\x1b[K');
    expect(outputOf(type(e, DOWN))).toBe('\r> draft\x1b[K');
    expect(outputOf(type(e, DOWN))).toBe('\x07');
    type(e, UP);
    type(e, UP);
    expect(lineOf(type(e, ' --json\r'))).toEqual(['status --json']);
  });

  it('keeps a bounded history, and none for reads that do not ask for it', () => {
    const e = new LineEditor(2);
    for (const line of ['a', 'b', 'c']) {
      e.begin('> ', { history: true });
      type(e, `${line}\r`);
    }
    e.begin('> ', { secret: true });
    type(e, 'hunter22\r');
    e.begin('> ', { history: true });
    expect(lineOf(type(e, `${UP}${UP}${UP}\r`))).toEqual(['b']);
  });

  it('drops the line on Ctrl-C and ends on Ctrl-D only when the line is empty', () => {
    const e = new LineEditor();
    e.begin('> ');
    expect(type(e, 'half a\x03')).toEqual([{ type: 'output', data: 'half a' }, { type: 'output', data: '^C\r\n' }, { type: 'cancel' }]);
    e.begin('> ');
    expect(lineOf(type(e, `ab${LEFT}\x04\r`))).toEqual(['a']);
    e.begin('> ');
    expect(type(e, '\x04')).toEqual([{ type: 'output', data: '\r\n' }, { type: 'eof' }]);
  });

  it('echoes nothing of a secret', () => {
    const e = new LineEditor();
    e.begin('Password: ', { secret: true });
    const events = type(e, `s3cret${LEFT}\x7fx\r`);
    expect(outputOf(events)).toBe('\r\n');
    expect(lineOf(events)).toEqual(['s3crxt']);
  });

  it('asks for completions on Tab with the text before the cursor, and only when allowed', () => {
    const e = new LineEditor();
    e.begin('> ', { complete: true });
    expect(type(e, `volume cr${LEFT}\t`)).toContainEqual({ type: 'complete', before: 'volume c' });
    e.begin('> ');
    expect(type(e, 'vol\t')).toEqual([{ type: 'output', data: 'vol' }, { type: 'output', data: '\x07' }]);
  });

  it('completes a single match whole, extends to a shared prefix, lists the rest', () => {
    const e = new LineEditor();
    e.begin('> ', { complete: true });
    type(e, 'vol');
    expect(e.complete(['volume', 'status'])).toBe('ume ');
    type(e, 'de');
    expect(e.complete(['delete', 'deletion'])).toBe('let');
    const listed = e.complete(['delete', 'deletion'], 20);
    expect(listed).toBe('\r\ndelete    deletion\r\n\r> volume delet\x1b[K');
    expect(e.complete(['create'])).toBe('\x07');
    expect(lineOf(type(e, 'e\r'))).toEqual(['volume delete']);
  });

  it('lists many candidates in columns that fit the terminal', () => {
    const e = new LineEditor();
    e.begin('> ', { complete: true });
    const out = e.complete(['aaaa', 'bbbb', 'cccc', 'dddd', 'eeee'], 13);
    expect(out.split('\r\n').slice(1, 4)).toEqual(['aaaa  bbbb', 'cccc  dddd', 'eeee']);
  });
});
