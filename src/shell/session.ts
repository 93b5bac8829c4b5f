import { StringDecoder } from 'node:string_decoder';
import type { ServerChannel } from 'ssh2';
import type { Actor } from '../storage/domain';
import type { CommandRunner, Outcome } from './command-runner';
import type { CommandContext, ShellServices } from './commands/command';
import { KeyDecoder, LineEditor, type Key, type ReadOptions } from './line-editor';

/** The client's terminal, when it asked for a pty; window-change keeps `cols` current. */
export interface Terminal {
  cols: number;
}

type Read = { type: 'line'; line: string } | { type: 'cancel' } | { type: 'eof' };

/** Input waiting to be read without a terminal; a client sending more without a newline is cut off. */
const MAX_PENDING_INPUT = 1 << 20;

/**
 * One SSH session channel: an interactive shell (with a pty: line editing,
 * history, completion, questions), a script fed on stdin (shell without a
 * pty), or one command (exec). Input is queued as it arrives and read one
 * line at a time, so lines typed ahead wait for the command before them.
 */
export class ShellSession {
  private readonly editor = new LineEditor();
  private readonly decoder = new KeyDecoder();
  private readonly utf8 = new StringDecoder('utf8');
  private keys: Key[] = [];
  private text = '';
  private inputEnded = false;
  private done = false;
  private stopping = false;
  private reader: ((read: Read) => void) | null = null;
  private pumping = false;
  private running: Promise<Outcome> | null = null;
  private readonly context: CommandContext;

  constructor(
    private readonly channel: ServerChannel,
    private readonly terminal: Terminal | null,
    private readonly runner: CommandRunner,
    services: ShellServices,
    private readonly actor: Actor,
  ) {
    this.context = {
      services,
      actor,
      terminal: terminal !== null,
      ask: async (question, opts) => {
        const read = await this.read(question, { secret: opts?.secret });
        return read.type === 'line' ? read.line : null;
      },
    };
    channel.on('data', (chunk: Buffer) => this.input(chunk));
    channel.on('end', () => this.endOfInput());
    channel.on('close', () => {
      this.done = true;
      this.endOfInput();
    });
  }

  /** A shell: the prompt loop on a terminal, or the lines of stdin as a script. */
  async shell(): Promise<void> {
    if (this.terminal) this.out(`Strata admin shell, logged in as ${this.actor.name}. Type help for the commands; exit or Ctrl-D leaves.`);
    let status = 0;
    for (;;) {
      const read = await this.read(`${this.actor.name}@strata> `, { history: true, complete: true });
      if (read.type === 'eof') break;
      if (read.type === 'cancel' || read.line.trim() === '') continue;
      const outcome = await this.run(read.line);
      status = outcome.status;
      if (outcome.leave) break;
    }
    // A script's exit status is its last command's, as with sh; a person leaving is a success.
    this.close(this.terminal ? 0 : status);
  }

  /** One command (ssh gw volume list): its output, then its exit status. */
  async exec(command: string): Promise<void> {
    this.close((await this.run(command)).status);
  }

  /** Gateway shutdown: let a running command finish (bounded by the caller), then say why the session ends. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.running?.catch(() => undefined);
    if (this.done) return;
    this.out('\nThe gateway is shutting down; closing this session.');
    this.close(1);
  }

  private async run(line: string): Promise<Outcome> {
    if (this.stopping) return { status: 1, leave: true };
    const io = { out: (t: string) => this.out(t), err: (t: string) => this.err(t) };
    // A removed admin's open session must not outlive the account.
    if (!(await this.context.services.auth.isAdmin(this.actor.name))) {
      io.err(`error: admin '${this.actor.name}' no longer exists; closing the session (UNAUTHENTICATED)`);
      return { status: 1, leave: true };
    }
    this.running = this.runner.execute(line, this.context, io);
    try {
      return await this.running;
    } finally {
      this.running = null;
    }
  }

  private read(prompt: string, opts: ReadOptions): Promise<Read> {
    return new Promise<Read>((resolve) => {
      this.reader = resolve;
      if (this.terminal) this.write(this.editor.begin(prompt, opts));
      void this.pump();
    });
  }

  private input(chunk: Buffer): void {
    const data = this.utf8.write(chunk);
    if (this.terminal) {
      this.keys.push(...this.decoder.decode(data));
    } else {
      this.text += data;
      if (this.text.length > MAX_PENDING_INPUT) {
        this.err('error: input line too long (USAGE)');
        this.close(2);
        return;
      }
    }
    void this.pump();
  }

  private endOfInput(): void {
    this.inputEnded = true;
    void this.pump();
  }

  /** Feed queued input to whoever is reading, one key (or line) at a time. */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.reader) {
        if (!this.terminal) {
          const read = this.nextLine();
          if (!read) break;
          this.finish(read);
          continue;
        }
        const key = this.keys.shift();
        if (!key) {
          if (this.inputEnded) this.finish({ type: 'eof' });
          break;
        }
        for (const event of this.editor.press(key)) {
          if (event.type === 'output') this.write(event.data);
          else if (event.type === 'complete') this.write(this.editor.complete(await this.completions(event.before), this.terminal.cols));
          else this.finish(event);
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  private nextLine(): Read | null {
    const nl = this.text.indexOf('\n');
    if (nl !== -1) {
      const line = this.text.slice(0, nl).replace(/\r$/, '');
      this.text = this.text.slice(nl + 1);
      return { type: 'line', line };
    }
    if (!this.inputEnded) return null;
    if (this.text === '') return { type: 'eof' };
    const line = this.text;
    this.text = '';
    return { type: 'line', line };
  }

  private finish(read: Read): void {
    const reader = this.reader;
    this.reader = null;
    reader?.(read);
  }

  private async completions(before: string): Promise<string[]> {
    try {
      return await this.runner.complete(before, this.context.services);
    } catch {
      // A completion that cannot be computed (catalog busy) is simply not offered.
      return [];
    }
  }

  /** Command output; a pty on this side does not turn \n into \r\n, so we do. */
  private out(text: string): void {
    this.write(this.terminal ? `${text}\n`.replace(/\r?\n/g, '\r\n') : `${text}\n`);
  }

  /** Errors: on stderr without a terminal; on a terminal, where the admin is looking. */
  private err(text: string): void {
    if (this.terminal) this.out(text);
    else if (!this.done) this.channel.stderr.write(`${text}\n`);
  }

  private write(data: string): void {
    if (!this.done && data) this.channel.write(data);
  }

  private close(status: number): void {
    if (this.done) return;
    this.done = true;
    this.channel.exit(status);
    this.channel.end();
  }
}
