import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { freePort } from './free-port';

/*
 * The gateway as the benchmarks run it: a separate process (`node
 * dist/src/main.js`, as in production) on a fresh data directory, driven
 * over REST, stopped by PID.
 */

const MAIN = resolve(__dirname, '../src/main.js');
export const BENCH_PASSWORD = 'bench-password';

export const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

export interface GatewayProcess {
  child: ChildProcess;
  url: string;
  token: string;
}

/** Node flags for a child process, space-separated in the environment variable `name` (none when unset). */
export function nodeFlags(name: string): string[] {
  return (process.env[name] ?? '').split(' ').filter(Boolean);
}

/**
 * Start a gateway with only what a benchmark asks for: `env` turns the
 * front ends it needs on (the shell and the default pool are always off).
 * Extra node flags (e.g. --cpu-prof) come from STRATA_BENCH_NODE_FLAGS.
 */
export async function startGatewayProcess(dir: string, env: Record<string, string>): Promise<GatewayProcess> {
  const http = await freePort('tcp');
  const flags = nodeFlags('STRATA_BENCH_NODE_FLAGS');
  const child = spawn(process.execPath, [...flags, MAIN], {
    cwd: dir,
    env: {
      ...process.env,
      STRATA_DATA_DIR: dir,
      STRATA_HTTP_PORT: String(http),
      STRATA_SHELL: 'false',
      STRATA_DEFAULT_POOL: 'false',
      STRATA_ADMIN_PASSWORD: BENCH_PASSWORD,
      STRATA_LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${http}`;
  try {
    for (let i = 0; ; i++) {
      if (child.exitCode !== null) throw new Error(`gateway exited with ${child.exitCode}`);
      try {
        if ((await fetch(`${url}/healthz`)).ok) break;
      } catch {
        /* not yet */
      }
      if (i > 300) throw new Error('gateway did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    const login = await fetch(`${url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: BENCH_PASSWORD }) });
    const { token } = (await login.json()) as { token: string };
    return { child, url, token };
  } catch (e) {
    await stopProcess(child);
    throw e;
  }
}

export async function api(url: string, token: string, path: string, json: unknown): Promise<unknown> {
  const res = await fetch(`${url}/api/v1/${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(json) });
  if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** Peak resident set of a live process in MiB (VmHWM), or undefined once it is gone. */
export function peakRssMiB(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** CPU time (user + system, clock ticks of 10 ms) a process has used so far, or undefined once it is gone. */
export function cpuTicks(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

/** SIGTERM, then SIGKILL if it has not exited within `graceMs`; resolves once it has exited. */
export async function stopProcess(child: ChildProcess | undefined, graceMs = 10_000): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), graceMs)));
  if ((await Promise.race([exited, late])) === 'late') {
    child.kill('SIGKILL');
    await exited;
  }
  clearTimeout(timer);
}

/**
 * Before a measured run: servers store on the same disk and share two cores,
 * so what the run before left behind (dirty pages, discards of a removed
 * file, background work of its own) is finished first and no side pays for
 * another's: sync, then wait until every process in `pids` has been idle for
 * half a second (at most 15 s). 1 MiB writes leave gigabytes dirty (nbdkit
 * takes 5 GB/s into the page cache): whoever ran next had its writes
 * throttled by that writeback.
 */
export async function quiesce(pids: number[] = []): Promise<void> {
  spawnSync('sync');
  const deadline = Date.now() + 15_000;
  let last = pids.map(cpuTicks);
  while (pids.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
    const now = pids.map(cpuTicks);
    // At most one tick (10 ms) of CPU in half a second: idle.
    if (now.every((t, i) => t === undefined || last[i] === undefined || t - last[i]! <= 1)) return;
    last = now;
  }
}
