import { UsageError } from './usage-error';

/**
 * Splitting a command line into words the way a POSIX shell does for a plain
 * command: blanks separate words; '…' is literal; "…" is literal except for
 * \" and \\; outside quotes a backslash keeps the next character; quoted and
 * plain parts next to each other make one word; a word starting with #
 * comments out the rest of the line. No variables, globs or pipes.
 */
interface Scan {
  words: string[];
  /** The word being read at the end of the line, null after a blank. */
  current: string | null;
  /** The quote still open at the end of the line. */
  openQuote: '"' | "'" | null;
}

const BLANK = /[ \t\r\n]/;

function scan(line: string): Scan {
  const words: string[] = [];
  let current: string | null = null;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote === "'") {
      if (c === "'") quote = null;
      else current += c;
    } else if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) current += line[++i];
      else current += c;
    } else if (BLANK.test(c)) {
      if (current !== null) words.push(current);
      current = null;
    } else if (c === '#' && current === null) {
      break;
    } else if (c === "'" || c === '"') {
      quote = c;
      current ??= '';
    } else if (c === '\\') {
      // A trailing backslash stands for itself rather than waiting for a next line.
      current = (current ?? '') + (i + 1 < line.length ? line[++i] : '\\');
    } else {
      current = (current ?? '') + c;
    }
  }
  return { words, current, openQuote: quote };
}

export function tokenize(line: string): string[] {
  const { words, current, openQuote } = scan(line);
  if (openQuote) throw new UsageError(`unclosed ${openQuote} quote`);
  return current === null ? words : [...words, current];
}

/**
 * For completion: the finished words before the cursor and the word being
 * typed ('' right after a blank). Null inside an open quote or a comment:
 * nothing sensible to offer there.
 */
export function tokenizePartial(before: string): { words: string[]; partial: string } | null {
  const { words, current, openQuote } = scan(before);
  if (openQuote) return null;
  const last = before.at(-1);
  if (current === null) {
    // Nothing pending: either a blank ended the last word, or a comment swallowed it.
    return last === undefined || BLANK.test(last) ? { words, partial: '' } : null;
  }
  return { words, partial: current };
}
