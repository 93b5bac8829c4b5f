import type { INestApplication } from '@nestjs/common';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type StrataConfig } from '../../src/config/config';
import { startGateway } from '../../src/gateway';

export const ADMIN_PASSWORD = 'test-admin-password';

export interface TestGateway {
  app: INestApplication;
  url: string;
  dataDir: string;
  config: StrataConfig;
  /** A bearer token for the bootstrap admin. */
  token: string;
  /** fetch against the API with the admin token; path is relative to /api/v1 unless it starts with '/'. */
  api(path: string, init?: RequestInit & { json?: unknown }): Promise<Response>;
  close(opts?: { keepData?: boolean }): Promise<void>;
}

/**
 * A real gateway in this process on a fresh data directory and a random
 * loopback port, with a small default pool (64 MiB unless told otherwise).
 */
export async function startTestGateway(env: Record<string, string> = {}, dataDir?: string): Promise<TestGateway> {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'strata-gw-'));
  const config = loadConfig({
    cwd: dir,
    env: {
      STRATA_DATA_DIR: dir,
      STRATA_HTTP_PORT: '0',
      // Gateways of test files running side by side must not race for the shell's or the SAN target's default port.
      STRATA_SHELL_PORT: '0',
      STRATA_SAN_PORT: '0',
      STRATA_NBD_PORT: '0',
      STRATA_NFS_PORT: '0',
      STRATA_MOUNT_PORT: '0',
      // Port 111 is machine-wide: tests give clients the ports instead.
      STRATA_PORTMAP: 'off',
      STRATA_DEFAULT_DEVICE_SIZE: '64M',
      STRATA_ADMIN_PASSWORD: ADMIN_PASSWORD,
      ...env,
    },
  });
  const app = await startGateway(config, false);
  const addr = app.getHttpServer().address() as AddressInfo;
  const url = `http://127.0.0.1:${addr.port}`;
  const login = await fetch(`${url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
  });
  const { token } = (await login.json()) as { token: string };
  const api = (path: string, init: RequestInit & { json?: unknown } = {}) => {
    const headers = new Headers(init.headers);
    if (!headers.has('authorization')) headers.set('authorization', `Bearer ${token}`);
    let body = init.body;
    if (init.json !== undefined) {
      headers.set('content-type', 'application/json');
      body = JSON.stringify(init.json);
    }
    return fetch(path.startsWith('/') ? `${url}${path}` : `${url}/api/v1/${path}`, { ...init, headers, body });
  };
  return {
    app,
    url,
    dataDir: dir,
    config,
    token,
    api,
    async close({ keepData = false } = {}) {
      await app.close();
      if (!keepData && !dataDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A call against the API with the status and the parsed JSON body (null when empty). */
export async function apiJson(gw: TestGateway, path: string, init?: Parameters<TestGateway['api']>[1]): Promise<{ status: number; body: any }> {
  const res = await gw.api(path, init);
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}
