import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { constants } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ROOT } from './process-gateway';
import { has } from './tools';

/** The C client (test/c/nfs3-ops.c): libnfs's sync API driven by one command a line. */
export const NFS_OPS_SOURCE = join(ROOT, 'test/c/nfs3-ops.c');
const LIBNFS_HEADER = '/usr/include/nfsc/libnfs.h';

/** Why the C client cannot be built here (cc or libnfs-dev missing), or null when it can. */
export function nfsOpsMissing(): string | null {
  const missing = [has('cc') ? null : 'cc (Debian gcc)', existsSync(LIBNFS_HEADER) ? null : `${LIBNFS_HEADER} (Debian libnfs-dev)`].filter(Boolean);
  return missing.length ? `cannot build test/c/nfs3-ops.c: ${missing.join(' and ')} missing` : null;
}

let built: { dir: string; bin: string } | null = null;

/**
 * Compile the client into a temporary directory once per test process
 * (world-readable, so tests can run it as another uid). removeNfsOps() deletes it.
 */
export function buildNfsOps(): string {
  if (built) return built.bin;
  const dir = mkdtempSync(join(tmpdir(), 'nfs3-ops-'));
  chmodSync(dir, 0o755);
  const bin = join(dir, 'nfs3-ops');
  execFileSync('cc', ['-O1', '-Wall', '-Werror', '-o', bin, NFS_OPS_SOURCE, '-lnfs'], { stdio: 'pipe' });
  built = { dir, bin };
  return bin;
}

export function removeNfsOps(): void {
  if (built) rmSync(built.dir, { recursive: true, force: true });
  built = null;
}

const ERRNO_NAMES = new Map<number, string>(Object.entries(constants.errno).map(([name, n]) => [n, name]));

/** One answer: `ok` with its words, or the errno the call failed with (its name, e.g. EACCES). */
export type OpsResult = { ok: true; words: string[]; line: string } | { ok: false; errno: number; code: string; message: string; line: string };

function parse(line: string): OpsResult {
  if (line === 'ok' || line.startsWith('ok ')) return { ok: true, words: line.split(' ').slice(1), line };
  const m = /^err (\d+) ?(.*)$/.exec(line);
  if (!m) throw new Error(`nfs3-ops printed an unexpected line: ${line}`);
  const errno = Number(m[1]);
  return { ok: false, errno, code: ERRNO_NAMES.get(errno) ?? `errno ${errno}`, message: m[2], line };
}

/** `%XX` for what the client would split or mangle (spaces, %, control bytes). */
export const escapeArg = (s: string): string => Buffer.from(s).reduce((out, b) => out + (b <= 0x20 || b >= 0x7f || b === 0x25 ? `%${b.toString(16).padStart(2, '0')}` : String.fromCharCode(b)), '');
export const unescapeWord = (s: string): string => Buffer.from(s.replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString();

export interface StatLine {
  type: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  nlink: number;
  ino: number;
}

/**
 * A running nfs3-ops: one libnfs context with one mount. `run` sends a
 * command and resolves with its one-line answer; commands go one at a time.
 */
export class NfsOps {
  /** The mount's answer. */
  mount!: OpsResult;
  private readonly lines: string[] = [];
  private waiter: ((line: string | null) => void) | null = null;
  private ended = false;
  private stderr = '';

  private constructor(private readonly child: ChildProcess) {
    child.stderr!.on('data', (d) => (this.stderr += d));
    const rl = createInterface({ input: child.stdout! });
    rl.on('line', (l) => this.deliver(l));
    rl.once('close', () => this.deliver(null));
  }

  /**
   * Start the client on `url` and wait for the mount's answer. `as` runs
   * it as another user (needs root): libnfs then sends that uid and binds
   * an unprivileged source port.
   */
  static async start(url: string, opts: { as?: { uid: number; gid: number } } = {}): Promise<NfsOps> {
    const ops = new NfsOps(spawn(buildNfsOps(), [url], { stdio: ['pipe', 'pipe', 'pipe'], ...(opts.as ?? {}) }));
    try {
      ops.mount = parse(await ops.next(30_000));
    } catch (e) {
      ops.kill();
      throw new Error(`mount of ${url}: ${(e as Error).message}`);
    }
    return ops;
  }

  private deliver(line: string | null): void {
    if (line === null) this.ended = true;
    else this.lines.push(line);
    const w = this.waiter;
    if (w && (this.lines.length || this.ended)) {
      this.waiter = null;
      w(this.lines.length ? this.lines.shift()! : null);
    }
  }

  private next(timeoutMs: number): Promise<string> {
    if (this.lines.length) return Promise.resolve(this.lines.shift()!);
    if (this.ended) return Promise.reject(new Error(`nfs3-ops has exited: ${this.stderr}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        reject(new Error(`nfs3-ops gave no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiter = (line) => {
        clearTimeout(timer);
        if (line === null) reject(new Error(`nfs3-ops has exited: ${this.stderr}`));
        else resolve(line);
      };
    });
  }

  /** Send one command (words are escaped here) and read its answer. */
  async run(...words: Array<string | number>): Promise<OpsResult> {
    if (this.waiter) throw new Error('nfs3-ops runs one command at a time');
    this.child.stdin!.write(`${words.map((w) => escapeArg(String(w))).join(' ')}\n`);
    return parse(await this.next(60_000));
  }

  /** Run a command that must succeed; its result words. */
  async ok(...words: Array<string | number>): Promise<string[]> {
    const r = await this.run(...words);
    if (!r.ok) throw new Error(`${words.join(' ')}: ${r.code} ${r.message}`);
    return r.words;
  }

  /** Run a command that must fail; the errno name (EACCES, EROFS, ...). */
  async fails(...words: Array<string | number>): Promise<string> {
    const r = await this.run(...words);
    if (r.ok) throw new Error(`${words.join(' ')} succeeded (${r.line}) where it should have failed`);
    return r.code;
  }

  async stat(path: string, cmd: 'stat' | 'lstat' = 'stat'): Promise<StatLine> {
    const words = await this.ok(cmd, path);
    const f = Object.fromEntries(words.map((w) => w.split('=') as [string, string]));
    return { type: f.type, mode: parseInt(f.mode, 8), uid: Number(f.uid), gid: Number(f.gid), size: Number(f.size), nlink: Number(f.nlink), ino: Number(f.ino) };
  }

  /** Names in a directory (without . and ..), sorted. */
  async ls(path: string): Promise<string[]> {
    const [count, ...entries] = await this.ok('ls', path);
    if (entries.length !== Number(count)) throw new Error(`ls ${path}: ${count} entries announced, ${entries.length} listed`);
    return entries
      .map((e) => unescapeWord(e.split(':')[0]))
      .filter((n) => n !== '.' && n !== '..')
      .sort();
  }

  async cat(path: string): Promise<Buffer> {
    const [size, hex = ''] = await this.ok('cat', path);
    const data = Buffer.from(hex, 'hex');
    if (data.length !== Number(size)) throw new Error(`cat ${path}: ${size} bytes announced, ${data.length} sent`);
    return data;
  }

  async put(path: string, data: Buffer | string, mode = '644'): Promise<void> {
    await this.ok('put', path, mode, Buffer.from(data).toString('hex'));
  }

  /** Quit and wait for the process; killed if it does not go. */
  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.stdin!.end('quit\n');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

/**
 * A libnfs URL for a path on a share of a gateway that gives its ports (no
 * portmapper). The caller is root (uid=0, gid=0) unless `params` say
 * otherwise: libnfs would send the uid of whoever runs the tests.
 */
export function nfsUrl(ports: { nfs: number; mount: number }, share: string, path = '', params: Record<string, string | number> = {}): string {
  const q = new URLSearchParams({ version: '3', nfsport: String(ports.nfs), mountport: String(ports.mount), uid: '0', gid: '0' });
  for (const [k, v] of Object.entries(params)) q.set(k, String(v));
  return `nfs://127.0.0.1/${share}${path}?${q.toString()}`;
}

/** `nfs-ls` lines: mode, links, uid, gid, size, path. */
export function parseNfsLs(stdout: string): Map<string, { mode: string; size: number }> {
  const out = new Map<string, { mode: string; size: number }>();
  for (const line of stdout.split('\n')) {
    const m = /^([-dlrwxstST]{10})\s+\d+\s+\d+\s+\d+\s+(\d+)\s+(.+)$/.exec(line.trim());
    if (m) out.set(m[3], { mode: m[1], size: Number(m[2]) });
  }
  return out;
}
