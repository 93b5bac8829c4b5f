import { createInterface } from 'node:readline';
import { CliError, EXIT, usageError } from './client';

/** Where the CLI reads and writes: the process's streams, or a test's. */
export interface CliIO {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?(raw: boolean): unknown };
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

export const processIO = (): CliIO => ({ stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env });

/** Prompts go to stderr so that stdout stays clean for --json and pipes. */
export function ask(io: CliIO, question: string): Promise<string> {
  const rl = createInterface({ input: io.stdin, output: io.stderr, terminal: Boolean(io.stdin.isTTY) });
  return new Promise<string>((resolve, reject) => {
    rl.once('SIGINT', () => {
      rl.close();
      reject(new CliError('cancelled', { exitCode: 130, code: 'CANCELLED' }));
    });
    rl.question(question, (answer) => {
      rl.close();
      resolve(answer.trim());
    });
  });
}

/** Read a secret from the terminal in raw mode, echoing nothing. */
export function askHidden(io: CliIO, question: string): Promise<string> {
  const input = io.stdin;
  if (!input.isTTY || !input.setRawMode) {
    return Promise.reject(usageError('no terminal to ask the password on: pipe it in with --password-stdin'));
  }
  const setRaw = input.setRawMode.bind(input);
  io.stderr.write(question);
  return new Promise<string>((resolve, reject) => {
    let value = '';
    const done = (err?: CliError) => {
      input.removeListener('data', onData);
      setRaw(false);
      input.pause();
      io.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: Buffer | string) => {
      for (const ch of chunk.toString()) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return done();
        if (ch === '\u0003') return done(new CliError('cancelled', { exitCode: 130, code: 'CANCELLED' }));
        if (ch === '\u007f' || ch === '\b') value = Array.from(value).slice(0, -1).join('');
        else if (ch >= ' ') value += ch;
      }
    };
    setRaw(true);
    input.on('data', onData);
    input.resume();
  });
}

/** All of stdin, as lines without their line ends (for --password-stdin). */
export async function readStdinLines(io: CliIO): Promise<string[]> {
  const chunks: Buffer[] = [];
  for await (const chunk of io.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  const lines = Buffer.concat(chunks).toString('utf8').split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/**
 * Destructive commands: --yes, or a 'y' typed on a terminal. Without either,
 * refuse: a script must say --yes rather than have a prompt eat its stdin.
 */
export async function confirm(io: CliIO, yes: boolean, action: string, consequence = ''): Promise<void> {
  if (yes) return;
  if (!io.stdin.isTTY) throw usageError(`refusing to ${action} without confirmation (no terminal to ask on): pass --yes`);
  const answer = await ask(io, `${action[0].toUpperCase()}${action.slice(1)}${consequence}? [y/N] `);
  if (!/^y(es)?$/i.test(answer)) throw new CliError(`cancelled: did not ${action}`, { exitCode: EXIT.API, code: 'CANCELLED', showCode: false });
}
