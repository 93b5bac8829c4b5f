import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NasService } from '../../src/nas/nas.service';
import { startTestGateway, type TestGateway } from '../utils/gateway';
import { admin } from '../utils/san-fixture';
import { has } from '../utils/tools';

const run = promisify(execFile);
const MiB = 2 ** 20;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const missing = ['nfs-ls', 'nfs-cp', 'nfs-cat'].filter((t) => !has(t));
if (missing.length) console.warn(`skipping NFSv3 tests with libnfs tools: ${missing.join(', ')} not installed (Debian libnfs-utils)`);

describe.skipIf(missing.length > 0)('NFSv3 with libnfs tools (nfs-ls, nfs-cp, nfs-cat)', () => {
  let gw: TestGateway;
  let url: (path: string) => string;
  const dir = mkdtempSync(join(tmpdir(), 'strata-nfs3-'));

  beforeAll(async () => {
    gw = await startTestGateway({ STRATA_DEFAULT_DEVICE_SIZE: '512M' });
    await admin(gw, 'POST', 'shares', { name: 'projects', pool: 'default', size: '256M', rules: [{ clients: ['127.0.0.0/8'], access: 'rw', squash: 'no_root_squash', requirePrivilegedPort: false }] });
    const a = gw.app.get(NasService).addresses();
    url = (path: string) => `nfs://127.0.0.1/projects${path}?version=3&nfsport=${a.nfs!.port}&mountport=${a.mount!.port}`;
  });

  afterAll(async () => {
    await gw?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('copies a 64 MiB random file up and down byte-identical, and lists it', async () => {
    const data = randomBytes(64 * MiB);
    writeFileSync(join(dir, 'up.bin'), data);
    await run('nfs-cp', [join(dir, 'up.bin'), url('/big.bin')]);
    await run('nfs-cp', [url('/big.bin'), join(dir, 'down.bin')]);
    expect(sha(readFileSync(join(dir, 'down.bin')))).toBe(sha(data));
    const { stdout } = await run('nfs-ls', [url('/')]);
    expect(stdout).toMatch(/big\.bin/);
    expect(stdout).toMatch(String(64 * MiB));
  });

  it('reads a small file with nfs-cat', async () => {
    writeFileSync(join(dir, 'hello.txt'), 'hello, strata\n');
    await run('nfs-cp', [join(dir, 'hello.txt'), url('/hello.txt')]);
    const { stdout } = await run('nfs-cat', [url('/hello.txt')]);
    expect(stdout).toBe('hello, strata\n');
  });
});
