import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { AttachStatus } from '../../src/client/attachment';

export const ROOT = resolve(__dirname, '../..');
const BIN = join(ROOT, 'bin/strata-client.js');
const BUILT = join(ROOT, 'dist/src/client/cli/main.js');

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

export { has } from './tools';

function newest(dir: string): number {
  return Math.max(...readdirSync(dir, { withFileTypes: true }).map((e) => (e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs)));
}

/** strata-client runs from dist: build when it is missing or older than the sources it is made of. */
export function buildClientIfStale(): void {
  const sources = ['src/client', 'src/nbd', 'src/san', 'src/protocols', 'src/cli'].map((d) => newest(join(ROOT, d)));
  if (existsSync(BUILT) && statSync(BUILT).mtimeMs >= Math.max(...sources)) return;
  execFileSync('npx', ['nest', 'build'], { cwd: ROOT, stdio: 'pipe' });
}

/**
 * The real strata-client binary with its own config directory
 * (STRATA_CLIENT_HOME); every attach it starts is detached (and, failing
 * that, killed by PID) by `cleanup()`.
 */
export class StrataClientCli {
  private readonly pids = new Set<number>();

  constructor(readonly home: string) {}

  run(args: string[], opts: { env?: Record<string, string>; input?: string } = {}): Promise<Result> {
    const env: NodeJS.ProcessEnv = { ...process.env, STRATA_CLIENT_HOME: this.home, ...opts.env };
    delete env.STRATA_CLIENT_DAEMON;
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.end(opts.input ?? '');
    return new Promise((res, rej) => {
      child.once('error', rej);
      child.once('close', (code) => res({ code: code ?? -1, stdout, stderr }));
    });
  }

  /** `attach <volume> --background --json ...`: the status of the attach process once its export is ready. */
  async attach(volume: string, extra: string[] = []): Promise<AttachStatus> {
    const r = await this.run(['--json', 'attach', volume, '--background', ...extra]);
    if (r.code !== 0) throw new Error(`attach ${volume} failed (${r.code}): ${r.stderr}`);
    const status = JSON.parse(r.stdout) as AttachStatus;
    this.pids.add(status.pid);
    return status;
  }

  async status(volume: string): Promise<AttachStatus> {
    const r = await this.run(['--json', 'status', volume]);
    if (r.code !== 0) throw new Error(`status ${volume} failed (${r.code}): ${r.stderr}`);
    return (JSON.parse(r.stdout) as AttachStatus[])[0];
  }

  async detach(volume: string, force = false): Promise<Result> {
    return this.run(['detach', volume, ...(force ? ['--force'] : [])]);
  }

  /** Detach everything still attached; kill what does not answer. */
  async cleanup(): Promise<void> {
    await this.run(['detach', '--all', '--force']).catch(() => undefined);
    for (const pid of this.pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }
}

/** Wait for a condition that takes a moment (a path to go down, a process to start); throws after `ms`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
