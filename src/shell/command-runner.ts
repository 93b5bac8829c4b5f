import { Logger } from '@nestjs/common';
import { DomainError } from '../common/errors';
import { assignmentCommands } from './commands/assignment.commands';
import { auditCommands } from './commands/audit.commands';
import { backupCommands } from './commands/backup.commands';
import { Parsed, wordsOf, type CommandContext, type CommandSpec, type OptionSpec, type ShellServices } from './commands/command';
import { deviceCommands } from './commands/device.commands';
import { hostCommands } from './commands/host.commands';
import { poolCommands } from './commands/pool.commands';
import { shareCommands } from './commands/share.commands';
import { snapshotCommands } from './commands/snapshot.commands';
import { jobCommands } from './commands/job.commands';
import { mirrorCommands } from './commands/mirror.commands';
import { replicationCommands } from './commands/replication.commands';
import { statusCommands } from './commands/status.commands';
import { userCommands } from './commands/user.commands';
import { volumeCommands } from './commands/volume.commands';
import { tokenize, tokenizePartial } from './tokenize';
import { UsageError } from './usage-error';

/** One line of the overview per command group. */
const GROUPS: Record<string, string> = {
  device: 'backing devices: files, block devices, RAM disks',
  pool: 'storage pools built from device extents',
  volume: 'volumes: block devices carved from pools',
  snapshot: 'snapshots of volumes, rollback and clones',
  share: 'NAS shares and their export rules',
  mirror: "a volume's synchronous mirror on another pool",
  job: 'long operations: progress, cancel, resume',
  backup: 'client-free backups of volumes; restore and verify',
  host: 'SAN client hosts, known by their Ed25519 key',
  assignment: 'which host may use which volume, and how',
  user: 'admin accounts and their SSH keys',
};

/** Switches every command takes; --yes only matters to the ones that ask. */
const GLOBAL_OPTIONS: OptionSpec[] = [
  { name: 'json', help: 'print the result as JSON' },
  { name: 'help', help: 'show this help' },
];
const YES: OptionSpec = { name: 'yes', help: 'do it without asking for confirmation' };

export interface Outcome {
  /** 0 done, 1 refused or failed, 2 not understood. */
  status: number;
  leave?: boolean;
}

export interface Printer {
  out(text: string): void;
  err(text: string): void;
}

/**
 * The shell's commands as one table, and everything driven by it: matching
 * a line to an entry, parsing its arguments, help, confirmation of
 * destructive commands, error reporting and tab completion.
 */
export class CommandRunner {
  private readonly log = new Logger('Shell');
  private readonly table: CommandSpec[];

  constructor() {
    this.table = [
      ...statusCommands,
      ...deviceCommands,
      ...poolCommands,
      ...volumeCommands,
      ...snapshotCommands,
      ...shareCommands,
      ...mirrorCommands,
      ...replicationCommands,
      ...jobCommands,
      ...backupCommands,
      ...hostCommands,
      ...assignmentCommands,
      ...auditCommands,
      ...userCommands,
      {
        name: 'help',
        summary: 'list the commands, or explain one',
        args: [
          { name: 'command', optional: true, complete: async () => this.nextWords([]) },
          { name: 'subcommand', optional: true, complete: async (_s, [name]) => this.nextWords([name]) },
        ],
        run: async (_ctx, p) => {
          const words = [p.optionalArg('command'), p.optionalArg('subcommand')].filter((w): w is string => w !== undefined);
          return { text: words.length ? this.help(words) : this.overview() };
        },
      },
      { name: 'exit', summary: 'leave the shell (so does Ctrl-D)', run: async () => ({ text: '', leave: true }) },
      { name: 'quit', summary: 'leave the shell', run: async () => ({ text: '', leave: true }) },
    ];
  }

  async execute(line: string, ctx: CommandContext, io: Printer): Promise<Outcome> {
    let json = false;
    try {
      const words = tokenize(line);
      json = words.includes('--json');
      if (words.length === 0) return { status: 0 };
      const { spec, rest } = this.resolve(words);
      if (rest.includes('--help') || rest.includes('-h')) {
        io.out(this.detail(spec));
        return { status: 0 };
      }
      const p = parse(spec, rest);
      const question = spec.confirm?.(p);
      if (question && !p.yes && !(await confirmed(question, ctx))) {
        io.err('Cancelled.');
        return { status: 1 };
      }
      const result = await spec.run(ctx, p);
      if (p.json) {
        if (result.data !== undefined) io.out(JSON.stringify(result.data, null, 2));
      } else if (result.text) {
        io.out(result.text);
      }
      return { status: result.status ?? 0, leave: result.leave };
    } catch (e) {
      io.err(this.describe(e, json));
      return { status: e instanceof UsageError ? 2 : 1 };
    }
  }

  /** Words that may stand where the cursor is, for Tab; the editor keeps those that start with what is typed. */
  async complete(before: string, services: ShellServices): Promise<string[]> {
    const typed = tokenizePartial(before);
    if (!typed) return [];
    const { words, partial } = typed;
    const next = this.nextWords(words);
    if (next.length > 0) return next;
    const found = this.match(words);
    if (!found) return [];
    const { spec, rest } = found;
    const options = [...(spec.options ?? []), ...GLOBAL_OPTIONS, ...(spec.confirm ? [YES] : [])];
    if (partial.startsWith('-')) return options.map((o) => `--${o.name}`);
    const earlier = positionals(spec, rest);
    const pending = rest.at(-1);
    const valueOf = pending?.startsWith('--') ? options.find((o) => `--${o.name}` === pending && o.value) : undefined;
    if (valueOf) return valueOf.complete ? valueOf.complete(services, earlier) : [];
    const arg = spec.args?.[earlier.length];
    return arg?.complete ? arg.complete(services, earlier) : [];
  }

  /** The command words that may follow `words`: sub-commands, or command names at the start. */
  private nextWords(words: string[]): string[] {
    const k = words.length;
    const after = this.table
      .map(wordsOf)
      .filter((w) => w.length > k && words.every((x, i) => w[i] === x))
      .map((w) => w[k]);
    return [...new Set(after)];
  }

  /** The entry whose words begin the line, the longest such. */
  private match(words: string[]): { spec: CommandSpec; rest: string[] } | null {
    let best: CommandSpec | null = null;
    for (const spec of this.table) {
      const w = wordsOf(spec);
      if (w.length <= words.length && w.every((x, i) => x === words[i]) && (!best || w.length > wordsOf(best).length)) best = spec;
    }
    return best ? { spec: best, rest: words.slice(wordsOf(best).length) } : null;
  }

  private resolve(words: string[]): { spec: CommandSpec; rest: string[] } {
    const found = this.match(words);
    if (found) return found;
    // Say how far the line made sense and what could come next.
    let k = 0;
    while (k < words.length && this.nextWords(words.slice(0, k + 1)).length > 0) k++;
    if (k === 0) throw new UsageError(`unknown command '${words[0]}': type help for the list`);
    const known = words.slice(0, k).join(' ');
    const choices = this.nextWords(words.slice(0, k)).join(', ');
    if (k === words.length) throw new UsageError(`'${known}' needs one of: ${choices}`);
    throw new UsageError(`'${known}' has no subcommand '${words[k]}'; it has: ${choices}`);
  }

  private overview(): string {
    const rows: Array<[string, string]> = [];
    const seen = new Set<string>();
    for (const spec of this.table) {
      if (seen.has(spec.name) || spec.name === 'quit') continue;
      seen.add(spec.name);
      const subs = this.nextWords([spec.name]);
      if (spec.name === 'exit') rows.push(['exit, quit', spec.summary]);
      else if (spec.name === 'help') rows.push(['help [command]', spec.summary]);
      else rows.push([subs.length ? `${spec.name} ${subs.join('|')}` : spec.name, GROUPS[spec.name] ?? spec.summary]);
    }
    return [
      'Commands (help <command> for more):',
      columns(rows),
      '',
      'Every command takes --json. Destructive ones ask first; --yes skips the question.',
      'Quote an argument that has blanks: host add web1 --key "ssh-ed25519 AAAA... web1"',
    ].join('\n');
  }

  /** Help for a group (help volume) or one command (help volume create). */
  private help(words: string[]): string {
    const found = this.match(words);
    if (found && found.rest.length === 0) return this.detail(found.spec);
    const specs = this.table.filter((s) => words.every((w, i) => wordsOf(s)[i] === w));
    if (specs.length === 0) throw new UsageError(`no command '${words.join(' ')}': type help for the list`);
    return columns(specs.map((s) => [usage(s), s.summary]));
  }

  private detail(spec: CommandSpec): string {
    const options = [...(spec.options ?? []), ...(spec.confirm ? [YES] : []), ...GLOBAL_OPTIONS];
    const rows = options.map((o): [string, string] => [`--${o.name}${o.value ? ` <${o.value}>` : ''}`, `${o.help}${o.required ? ' (required)' : ''}`]);
    return [`usage: ${usage(spec)}`, '', spec.summary, '', 'options:', columns(rows)].join('\n');
  }

  private describe(e: unknown, json: boolean): string {
    if (!(e instanceof DomainError)) {
      this.log.error(`shell command failed: ${(e as Error)?.stack ?? String(e)}`);
      return json ? JSON.stringify({ code: 'INTERNAL', message: 'internal error (see the gateway log)' }) : 'error: internal error (see the gateway log) (INTERNAL)';
    }
    if (json) return JSON.stringify({ code: e.code, message: e.message, ...(Object.keys(e.details).length ? { details: e.details } : {}) });
    const hint = e instanceof UsageError && e.usage ? `\nusage: ${e.usage}` : '';
    return `error: ${e.message} (${e.code})${hint}`;
  }
}

/** `volume create <name> --pool <pool> --size <size> [--thick]` */
export function usage(spec: CommandSpec): string {
  const parts = wordsOf(spec);
  for (const a of spec.args ?? []) parts.push(a.optional ? `[${a.name}]` : `<${a.name}>`);
  for (const o of spec.options ?? []) {
    const text = `--${o.name}${o.value ? ` <${o.value}>` : ''}${o.repeat ? '...' : ''}`;
    parts.push(o.required ? text : `[${text}]`);
  }
  if (spec.confirm) parts.push('[--yes]');
  return parts.join(' ');
}

/** Match the words after the command against its arguments and options. */
export function parse(spec: CommandSpec, words: string[]): Parsed {
  const positional: string[] = [];
  const values = new Map<string, string[]>();
  const flags = new Set<string>();
  let json = false;
  let yes = false;
  const fail = (message: string) => new UsageError(message, usage(spec));
  for (let i = 0; i < words.length; i++) {
    const word = words[i];
    if (word === '--') {
      positional.push(...words.slice(i + 1));
      break;
    }
    if (word === '-y') {
      yes = true;
      continue;
    }
    if (!word.startsWith('--')) {
      positional.push(word);
      continue;
    }
    const eq = word.indexOf('=');
    const name = word.slice(2, eq === -1 ? undefined : eq);
    const inline = eq === -1 ? undefined : word.slice(eq + 1);
    if ((name === 'json' || name === 'yes') && inline === undefined) {
      if (name === 'json') json = true;
      else yes = true;
      continue;
    }
    const option = spec.options?.find((o) => o.name === name);
    if (!option) throw fail(`'${wordsOf(spec).join(' ')}' has no option --${name}`);
    if (!option.value) {
      if (inline !== undefined) throw fail(`--${name} takes no value`);
      flags.add(name);
      continue;
    }
    const value = inline ?? words[++i];
    if (value === undefined) throw fail(`--${name} needs a value: <${option.value}>`);
    const list = values.get(name) ?? [];
    if (list.length > 0 && !option.repeat) throw fail(`--${name} is given twice`);
    values.set(name, [...list, value]);
  }
  const specs = spec.args ?? [];
  const missing = specs.filter((a, i) => !a.optional && positional[i] === undefined);
  if (missing.length > 0) throw fail(`missing ${missing.map((a) => `<${a.name}>`).join(' ')}`);
  if (positional.length > specs.length) throw fail(`too many arguments: ${positional.slice(specs.length).join(' ')}`);
  for (const o of spec.options ?? []) if (o.required && !values.has(o.name)) throw fail(`--${o.name} is required`);
  const args = new Map(specs.flatMap((a, i) => (positional[i] === undefined ? [] : [[a.name, positional[i]] as [string, string]])));
  return new Parsed(args, values, flags, json, yes);
}

/** The positional arguments among `rest`, skipping options and their values. */
function positionals(spec: CommandSpec, rest: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const w = rest[i];
    if (!w.startsWith('-')) out.push(w);
    else if (!w.includes('=') && spec.options?.find((o) => `--${o.name}` === w)?.value) i++;
  }
  return out;
}

async function confirmed(action: string, ctx: CommandContext): Promise<boolean> {
  if (!ctx.terminal) {
    throw new UsageError(`refusing to ${action} without confirmation: there is no terminal to ask on (ssh without -t); add --yes`, undefined, 'CONFIRMATION_REQUIRED');
  }
  const answer = await ctx.ask(`${action[0].toUpperCase()}${action.slice(1)}? [y/N] `);
  return answer !== null && /^y(es)?$/i.test(answer.trim());
}

/** Two columns, the first padded to its widest cell. */
function columns(rows: Array<[string, string]>): string {
  const width = Math.max(...rows.map(([a]) => a.length));
  return rows.map(([a, b]) => `  ${a.padEnd(width)}  ${b}`.trimEnd()).join('\n');
}
