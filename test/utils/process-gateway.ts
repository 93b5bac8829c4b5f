import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '../..');
export const MAIN = join(ROOT, 'dist/src/main.js');

/** The lowest port the kernel hands out to sockets bound to port 0 and to outgoing connections. */
function ephemeralLow(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32768;
  } catch {
    return 32768;
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = createServer();
    s.once('error', () => res(false));
    s.listen(port, '127.0.0.1', () => s.close(() => res(true)));
  });
}

/**
 * A free TCP port on 127.0.0.1 for a gateway to listen on, below the
 * kernel's ephemeral range: a port from that range can be taken, between
 * this check and the gateway's listen (or while a gateway is down for a
 * restart on the same ports), as the local port of any process's outgoing
 * connection, and the gateway then fails with EADDRINUSE.
 */
export async function freePort(): Promise<number> {
  const low = Math.min(ephemeralLow(), 65536);
  for (let tries = 0; tries < 200; tries++) {
    const port = 10_000 + Math.floor(Math.random() * (low - 10_000));
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port from 10000 to ${low - 1}`);
}

export interface GatewayProcess {
  child: ChildProcess;
  url: string;
  output: () => string;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

/** The built gateway (dist/) as a child process, as a user runs it; resolves once /healthz answers. */
export async function spawnGateway(dataDir: string, env: Record<string, string> = {}): Promise<GatewayProcess> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first (npm test does)`);
  const port = await freePort();
  let out = '';
  const child = spawn(process.execPath, [MAIN], {
    cwd: dataDir,
    env: { ...process.env, STRATA_DATA_DIR: dataDir, STRATA_HTTP_PORT: String(port), STRATA_SHELL_PORT: '0', STRATA_SAN_PORT: '0', STRATA_NBD_PORT: '0', STRATA_NFS_PORT: '0', STRATA_MOUNT_PORT: '0', STRATA_PORTMAP: 'off', STRATA_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`gateway exited with ${child.exitCode}:\n${out}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      /* not listening yet */
    }
    if (i > 300) {
      child.kill('SIGKILL');
      throw new Error(`gateway did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    url,
    output: () => out,
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

export async function login(url: string, password: string): Promise<string> {
  const res = await fetch(`${url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password }),
  });
  if (!res.ok) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}
