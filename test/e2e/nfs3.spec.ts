import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NasService } from '../../src/nas/nas.service';
import { startTestGateway, type TestGateway } from '../utils/gateway';
import { nasPorts } from '../utils/nas-fixture';
import { buildNfsOps, NfsOps, nfsOpsMissing, nfsUrl, parseNfsLs as listing, removeNfsOps } from '../utils/nfs-ops';
import { admin } from '../utils/san-fixture';
import { has } from '../utils/tools';

const run = promisify(execFile);
const MiB = 2 ** 20;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const missing = ['nfs-ls', 'nfs-cp', 'nfs-cat'].filter((t) => !has(t));
if (missing.length) console.warn(`skipping NFSv3 tests with libnfs tools: ${missing.join(', ')} not installed (Debian libnfs-utils)`);
const noC = nfsOpsMissing();
if (!missing.length && noC) console.warn(`NFSv3 with libnfs tools: the directory tree, delete and rename cases need the C client: ${noC}`);

/** Run a tool that must fail; its output, to check it names the reason. */
async function fails(cmd: string, args: string[]): Promise<string> {
  try {
    const r = await run(cmd, args);
    throw new Error(`${cmd} ${args.join(' ')} succeeded: ${r.stdout}`);
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    if (typeof err.code !== 'number') throw e;
    return `${err.stdout ?? ''}${err.stderr ?? ''}`;
  }
}

describe.skipIf(missing.length > 0)('NFSv3 with libnfs tools (nfs-ls, nfs-cp, nfs-cat)', () => {
  let gw: TestGateway;
  let url: (path: string) => string;
  const dir = mkdtempSync(join(tmpdir(), 'strata-nfs3-'));

  beforeAll(async () => {
    gw = await startTestGateway({ STRATA_DEFAULT_DEVICE_SIZE: '512M' });
    await admin(gw, 'POST', 'shares', { name: 'projects', pool: 'default', size: '256M', rules: [{ clients: ['127.0.0.0/8'], access: 'rw', squash: 'no_root_squash', requirePrivilegedPort: false }] });
    const a = gw.app.get(NasService).addresses();
    // As root whoever runs the tests (the share's root directory is root's, mode 0755).
    url = (path: string) => `nfs://127.0.0.1/projects${path}?version=3&nfsport=${a.nfs!.port}&mountport=${a.mount!.port}&uid=0&gid=0`;
  });

  afterAll(async () => {
    await ops?.close();
    await gw?.close();
    rmSync(dir, { recursive: true, force: true });
    removeNfsOps();
  });

  let ops: NfsOps | undefined;
  /** The C client on the share, for what the tools cannot do (mkdir, unlink, rename). */
  const c = async (): Promise<NfsOps> => {
    if (!ops) {
      buildNfsOps();
      ops = await NfsOps.start(nfsUrl(nasPorts(gw), 'projects'));
      if (!ops.mount.ok) throw new Error(`mount failed: ${ops.mount.line}`);
    }
    return ops;
  };

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

  it.skipIf(noC !== null)('copies files into a directory tree (nfs-cp mounts the subdirectory), lists it with nfs-ls -R and reads it back', async () => {
    const ops = await c();
    for (const d of ['/tree', '/tree/a', '/tree/a/b', '/tree/a/b/c', '/tree/empty']) await ops.ok('mkdir', d, '755');
    const files = new Map<string, Buffer>([
      ['/tree/top.bin', randomBytes(3000)],
      ['/tree/a/one.bin', randomBytes(1)],
      ['/tree/a/b/two.bin', randomBytes(300 * 1024 + 7)],
      ['/tree/a/b/c/three.bin', randomBytes(2 * MiB)],
      ['/tree/a/b/c/empty.bin', Buffer.alloc(0)],
    ]);
    for (const [path, data] of files) {
      const local = join(dir, path.replaceAll('/', '_'));
      writeFileSync(local, data);
      await run('nfs-cp', [local, url(path)]);
    }
    const { stdout } = await run('nfs-ls', ['-R', url('/tree')]);
    const seen = listing(stdout);
    expect([...seen.keys()].sort()).toEqual(['a', 'a/b', 'a/b/c', 'a/b/c/empty.bin', 'a/b/c/three.bin', 'a/b/two.bin', 'a/one.bin', 'empty', 'top.bin']);
    for (const [path, data] of files) expect(seen.get(path.slice('/tree/'.length))).toEqual({ mode: '-rw-rw----', size: data.length });
    expect(seen.get('a/b')?.mode).toBe('drwxr-xr-x');
    for (const [path, data] of files) {
      const down = join(dir, `down${path.replaceAll('/', '_')}`);
      await run('nfs-cp', [url(path), down]);
      expect(sha(readFileSync(down))).toBe(sha(data));
    }
    expect((await run('nfs-cat', [url('/tree/a/one.bin')], { encoding: 'buffer' })).stdout).toEqual(files.get('/tree/a/one.bin'));
    // A server-side copy: nfs-cp from one NFS URL to another.
    await run('nfs-cp', [url('/tree/a/b/two.bin'), url('/tree/empty/copy.bin')]);
    expect(sha((await run('nfs-cat', [url('/tree/empty/copy.bin')], { encoding: 'buffer', maxBuffer: 4 * MiB })).stdout)).toBe(sha(files.get('/tree/a/b/two.bin')!));
  });

  it.skipIf(noC !== null)('overwrite: nfs-cp creates GUARDED and leaves an existing file intact; after a delete it writes the new one', async () => {
    const ops = await c();
    writeFileSync(join(dir, 'v1.txt'), 'version one, the longer text\n');
    writeFileSync(join(dir, 'v2.txt'), 'version two\n');
    await run('nfs-cp', [join(dir, 'v1.txt'), url('/doc.txt')]);
    const out = await fails('nfs-cp', [join(dir, 'v2.txt'), url('/doc.txt')]);
    expect(out).toMatch(/NFS3ERR_EXIST/);
    expect((await run('nfs-cat', [url('/doc.txt')])).stdout).toBe('version one, the longer text\n');
    // The C client overwrites in place (O_TRUNC), as an application would.
    await ops.put('/doc.txt', 'version two\n');
    expect((await run('nfs-cat', [url('/doc.txt')])).stdout).toBe('version two\n');
    await ops.ok('unlink', '/doc.txt');
    await run('nfs-cp', [join(dir, 'v1.txt'), url('/doc.txt')]);
    expect((await run('nfs-cat', [url('/doc.txt')])).stdout).toBe('version one, the longer text\n');
  });

  it.skipIf(noC !== null)('delete and rename show in nfs-ls and nfs-cat', async () => {
    const ops = await c();
    writeFileSync(join(dir, 'r.txt'), 'renamed contents\n');
    await run('nfs-cp', [join(dir, 'r.txt'), url('/before.txt')]);
    await ops.ok('mkdir', '/moved');
    await ops.ok('rename', '/before.txt', '/moved/after.txt');
    expect(listing((await run('nfs-ls', [url('/')])).stdout).has('before.txt')).toBe(false);
    expect(listing((await run('nfs-ls', [url('/moved')])).stdout).get('after.txt')?.size).toBe(17);
    expect((await run('nfs-cat', [url('/moved/after.txt')])).stdout).toBe('renamed contents\n');
    expect(await fails('nfs-cat', [url('/before.txt')])).toMatch(/NFS3ERR_NOENT|No such file/);

    await ops.ok('unlink', '/moved/after.txt');
    expect(listing((await run('nfs-ls', [url('/moved')])).stdout).size).toBe(0);
    expect(await fails('nfs-cat', [url('/moved/after.txt')])).toMatch(/NFS3ERR_NOENT|No such file/);
    await ops.ok('rmdir', '/moved');
    expect(await fails('nfs-ls', [url('/moved')])).toMatch(/MNT3ERR_NOENT|NFS3ERR_NOENT|No such file/);
  });
});
