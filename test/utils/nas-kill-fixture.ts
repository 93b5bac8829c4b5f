import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ShareFsckReport } from '../../src/nas/share-fsck';
import { OPEN_RULE } from './nas-fixture';
import { Nfs3Client } from './nfs3-client';
import { freePort, login, ROOT, spawnGateway, type GatewayProcess } from './process-gateway';

const run = promisify(execFile);

/**
 * A gateway process with one share open to everyone, for kill -9 tests:
 * NFS clients on it, kill -9 and restart on the same data directory, and
 * the share's fsck as an admin runs it (the CLI). `cleanup` closes the
 * clients, stops the gateway and removes the directory.
 */
export class NasKillFixture {
  private gw!: GatewayProcess;
  private token = '';
  private readonly clients: Nfs3Client[] = [];
  private readonly env: Record<string, string>;

  private constructor(
    readonly dir: string,
    readonly ports: { nfs: number; mount: number },
    password: string,
  ) {
    this.env = { STRATA_ADMIN_PASSWORD: password, STRATA_DEFAULT_DEVICE_SIZE: '512M', STRATA_NFS_PORT: String(ports.nfs), STRATA_MOUNT_PORT: String(ports.mount) };
  }

  /** A fresh data directory and gateway; the share is created on the default pool. */
  static async start(password: string, share: { name: string; size: string }): Promise<NasKillFixture> {
    const fx = new NasKillFixture(mkdtempSync(join(tmpdir(), `strata-${share.name}-`)), { nfs: await freePort(), mount: await freePort() }, password);
    await fx.restart(password);
    const created = await fetch(`${fx.gw.url}/api/v1/shares`, {
      method: 'POST',
      headers: { authorization: `Bearer ${fx.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: share.name, pool: 'default', size: share.size, rules: [OPEN_RULE] }),
    });
    if (created.status !== 201) throw new Error(`share create: ${created.status} ${await created.text()}`);
    return fx;
  }

  async connect(): Promise<Nfs3Client> {
    const c = await Nfs3Client.connect(this.ports.nfs, { timeoutMs: 20_000 });
    this.clients.push(c);
    return c;
  }

  /** kill -9; resolves with the exit code (null: killed by the signal). */
  kill(): Promise<number | null> {
    return this.gw.kill('SIGKILL');
  }

  /** Start the gateway (again) on the same data directory and log in. */
  async restart(password = this.env.STRATA_ADMIN_PASSWORD): Promise<void> {
    this.gw = await spawnGateway(this.dir, this.env);
    this.token = await login(this.gw.url, password);
  }

  /** `strata share fsck <share>`: its text, and its report from `--json`. */
  async fsck(share: string): Promise<{ text: string; report: ShareFsckReport }> {
    const env = { ...process.env, STRATA_URL: this.gw.url, STRATA_TOKEN: this.token, STRATA_CLI_CONFIG: join(this.dir, 'cli.json') };
    const cli = join(ROOT, 'bin/strata.js');
    const text = (await run(process.execPath, [cli, 'share', 'fsck', share], { env })).stdout;
    const json = (await run(process.execPath, [cli, '--json', 'share', 'fsck', share], { env })).stdout;
    return { text, report: JSON.parse(json) as ShareFsckReport };
  }

  async cleanup(): Promise<void> {
    for (const c of this.clients) c.rpc.destroy();
    await this.gw?.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
