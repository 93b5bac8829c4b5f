/**
 * A terminal line editor as pure state: keystrokes in, screen output and
 * events out. The session owns the channel; this owns the line, the cursor,
 * the history and how completions are shown, so all of it is testable
 * without a terminal. Output uses \r\n: nothing on the server side of an
 * SSH pty translates newlines.
 */

export type KeyName =
  | 'enter'
  | 'backspace'
  | 'delete'
  | 'left'
  | 'right'
  | 'up'
  | 'down'
  | 'home'
  | 'end'
  | 'tab'
  | 'interrupt'
  | 'eof'
  | 'kill-line'
  | 'kill-to-end'
  | 'kill-word'
  | 'clear';

export type Key = { name: 'text'; text: string } | { name: KeyName };

/** Emacs-style control keys, as bash's readline binds them. */
const CONTROL: Record<string, KeyName> = {
  '\r': 'enter',
  '\n': 'enter',
  '\x7f': 'backspace',
  '\b': 'backspace',
  '\t': 'tab',
  '\x01': 'home',
  '\x05': 'end',
  '\x02': 'left',
  '\x06': 'right',
  '\x10': 'up',
  '\x0e': 'down',
  '\x03': 'interrupt',
  '\x04': 'eof',
  '\x15': 'kill-line',
  '\x0b': 'kill-to-end',
  '\x17': 'kill-word',
  '\x0c': 'clear',
};

/** ESC sequences of the keys we act on, in both the normal and the application cursor mode. */
const ESCAPES: Record<string, KeyName> = {
  '[A': 'up',
  '[B': 'down',
  '[C': 'right',
  '[D': 'left',
  '[H': 'home',
  '[F': 'end',
  OA: 'up',
  OB: 'down',
  OC: 'right',
  OD: 'left',
  OH: 'home',
  OF: 'end',
  '[1~': 'home',
  '[7~': 'home',
  '[4~': 'end',
  '[8~': 'end',
  '[3~': 'delete',
};

/**
 * Bytes from the terminal (already UTF-8 decoded) to keys. An escape
 * sequence split across two reads is kept until the rest arrives; sequences
 * we do not act on (function keys, Ctrl-arrows, paste brackets) are dropped.
 */
export class KeyDecoder {
  private pending = '';
  /** A \r was the last byte: a \n right after it is the same Enter. */
  private afterCR = false;

  decode(data: string): Key[] {
    const input = this.pending + data;
    this.pending = '';
    const keys: Key[] = [];
    let text = '';
    const flush = () => {
      if (text) keys.push({ name: 'text', text });
      text = '';
    };
    for (let i = 0; i < input.length; i++) {
      const c = input[i];
      const afterCR = this.afterCR;
      this.afterCR = c === '\r';
      if (c === '\x1b') {
        const end = escapeEnd(input, i);
        if (end === null) {
          this.pending = input.slice(i);
          break;
        }
        flush();
        const name = ESCAPES[input.slice(i + 1, end)];
        if (name) keys.push({ name });
        i = end - 1;
      } else if (c === '\n' && afterCR) {
        continue;
      } else if (c in CONTROL) {
        flush();
        keys.push({ name: CONTROL[c] });
      } else if (c >= ' ') {
        text += c;
      }
    }
    flush();
    return keys;
  }
}

/** Index just past the escape sequence starting at `i`, or null when the input ends inside it. */
function escapeEnd(s: string, i: number): number | null {
  const kind = s[i + 1];
  if (kind === undefined) return null;
  if (kind === 'O') return i + 2 < s.length ? i + 3 : null;
  if (kind !== '[') return i + 2;
  // CSI: parameter and intermediate bytes, then one final byte in @..~.
  for (let j = i + 2; j < s.length; j++) {
    const code = s.charCodeAt(j);
    if (code >= 0x40 && code <= 0x7e) return j + 1;
  }
  return null;
}

export type EditorEvent =
  | { type: 'output'; data: string }
  | { type: 'line'; line: string }
  /** Ctrl-C: the line was dropped. */
  | { type: 'cancel' }
  /** Ctrl-D on an empty line. */
  | { type: 'eof' }
  /** Tab: answer with complete(), giving the words that may stand at the cursor. */
  | { type: 'complete'; before: string };

export interface ReadOptions {
  /** Echo nothing and keep nothing (passwords). */
  secret?: boolean;
  /** Up/down walk through earlier lines, and this one joins them. */
  history?: boolean;
  /** Tab asks for completions. */
  complete?: boolean;
}

const BELL = '\x07';
const ERASE_TO_END = '\x1b[K';

export class LineEditor {
  private chars: string[] = [];
  private cursor = 0;
  private prompt = '';
  private opts: ReadOptions = {};
  private active = false;
  private readonly history: string[] = [];
  /** Where up/down is in the history; history.length means the line being typed. */
  private historyIndex = 0;
  /** The line being typed, kept while the user looks through the history. */
  private draft: string[] = [];

  constructor(private readonly maxHistory = 500) {}

  get reading(): boolean {
    return this.active;
  }

  /** Start reading a line; returns the prompt to print. */
  begin(prompt: string, opts: ReadOptions = {}): string {
    this.prompt = prompt;
    this.opts = opts;
    this.chars = [];
    this.cursor = 0;
    this.historyIndex = this.history.length;
    this.draft = [];
    this.active = true;
    return prompt;
  }

  press(key: Key): EditorEvent[] {
    if (!this.active) return [];
    switch (key.name) {
      case 'text':
        return this.insert(Array.from(key.text));
      case 'enter': {
        const line = this.chars.join('');
        this.active = false;
        if (this.opts.history && line.trim() !== '' && this.history.at(-1) !== line) {
          this.history.push(line);
          if (this.history.length > this.maxHistory) this.history.shift();
        }
        return [out('\r\n'), { type: 'line', line }];
      }
      case 'interrupt':
        this.active = false;
        return [out('^C\r\n'), { type: 'cancel' }];
      case 'eof':
        if (this.chars.length > 0) return this.deleteAt(this.cursor);
        this.active = false;
        return [out('\r\n'), { type: 'eof' }];
      case 'backspace':
        return this.cursor > 0 ? this.deleteAt(this.cursor - 1) : [out(BELL)];
      case 'delete':
        return this.deleteAt(this.cursor);
      case 'left':
        return this.moveTo(this.cursor - 1);
      case 'right':
        return this.moveTo(this.cursor + 1);
      case 'home':
        return this.moveTo(0);
      case 'end':
        return this.moveTo(this.chars.length);
      case 'up':
        return this.recall(this.historyIndex - 1);
      case 'down':
        return this.recall(this.historyIndex + 1);
      case 'kill-line':
        this.chars.splice(0, this.cursor);
        this.cursor = 0;
        return this.redraw();
      case 'kill-to-end':
        this.chars.length = this.cursor;
        return this.redraw();
      case 'kill-word': {
        let start = this.cursor;
        while (start > 0 && this.chars[start - 1] === ' ') start--;
        while (start > 0 && this.chars[start - 1] !== ' ') start--;
        this.chars.splice(start, this.cursor - start);
        this.cursor = start;
        return this.redraw();
      }
      case 'clear':
        return [out('\x1b[H\x1b[2J'), ...this.redraw()];
      case 'tab':
        if (!this.opts.complete) return [out(BELL)];
        return [{ type: 'complete', before: this.chars.slice(0, this.cursor).join('') }];
    }
  }

  /**
   * Apply the completions of the word before the cursor: one match is
   * inserted whole with a blank after it; several extend the word to what
   * they share, or are listed under the line when they share no more.
   */
  complete(candidates: string[], columns = 80): string {
    if (!this.active) return '';
    let start = this.cursor;
    while (start > 0 && this.chars[start - 1] !== ' ') start--;
    const word = this.chars.slice(start, this.cursor).join('');
    const matches = [...new Set(candidates.filter((c) => c.startsWith(word)))].sort();
    if (matches.length === 0) return BELL;
    if (matches.length === 1) {
      const rest = Array.from(matches[0].slice(word.length));
      if (this.chars[this.cursor] !== ' ') rest.push(' ');
      return outputOf(this.insert(rest));
    }
    const common = commonPrefix(matches);
    if (common.length > word.length) return outputOf(this.insert(Array.from(common.slice(word.length))));
    return `\r\n${columnize(matches, columns)}\r\n${outputOf(this.redraw())}`;
  }

  private insert(text: string[]): EditorEvent[] {
    const atEnd = this.cursor === this.chars.length;
    this.chars.splice(this.cursor, 0, ...text);
    this.cursor += text.length;
    if (this.opts.secret) return [];
    return atEnd ? [out(text.join(''))] : this.redraw();
  }

  private deleteAt(index: number): EditorEvent[] {
    if (index < 0 || index >= this.chars.length) return [out(BELL)];
    const wasLast = index === this.chars.length - 1 && this.cursor === this.chars.length;
    this.chars.splice(index, 1);
    this.cursor = Math.min(this.cursor, index);
    if (this.opts.secret) return [];
    return wasLast ? [out('\b \b')] : this.redraw();
  }

  private moveTo(position: number): EditorEvent[] {
    if (position < 0 || position > this.chars.length) return [out(BELL)];
    const delta = position - this.cursor;
    this.cursor = position;
    if (this.opts.secret || delta === 0) return [];
    return [out(delta < 0 ? `\x1b[${-delta}D` : `\x1b[${delta}C`)];
  }

  private recall(index: number): EditorEvent[] {
    if (!this.opts.history || index < 0 || index > this.history.length) return [out(BELL)];
    if (this.historyIndex === this.history.length) this.draft = this.chars;
    this.historyIndex = index;
    this.chars = index === this.history.length ? this.draft : Array.from(this.history[index]);
    this.cursor = this.chars.length;
    return this.redraw();
  }

  /** Rewrite the prompt and the line, then put the cursor back where it was. */
  private redraw(): EditorEvent[] {
    if (this.opts.secret) return [];
    const back = this.chars.length - this.cursor;
    return [out(`\r${this.prompt}${this.chars.join('')}${ERASE_TO_END}${back > 0 ? `\x1b[${back}D` : ''}`)];
  }
}

const out = (data: string): EditorEvent => ({ type: 'output', data });

const outputOf = (events: EditorEvent[]) => events.map((e) => (e.type === 'output' ? e.data : '')).join('');

function commonPrefix(words: string[]): string {
  let prefix = words[0];
  for (const w of words) while (!w.startsWith(prefix)) prefix = prefix.slice(0, -1);
  return prefix;
}

/** Candidates in columns across the terminal, like bash lists them. */
function columnize(words: string[], columns: number): string {
  const width = Math.max(...words.map((w) => w.length)) + 2;
  const perRow = Math.max(1, Math.floor(columns / width));
  const rows: string[] = [];
  for (let i = 0; i < words.length; i += perRow) {
    rows.push(words.slice(i, i + perRow).map((w) => w.padEnd(width)).join('').trimEnd());
  }
  return rows.join('\r\n');
}
