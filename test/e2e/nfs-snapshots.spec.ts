import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NasService } from '../../src/nas/nas.service';
import { startTestGateway, type TestGateway } from '../utils/gateway';
import { createShare, nasPorts } from '../utils/nas-fixture';
import { Nfs3Client } from '../utils/nfs3-client';
import { admin } from '../utils/san-fixture';
import { has } from '../utils/tools';

const run = promisify(execFile);
const MiB = 2 ** 20;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const missing = ['nfs-ls', 'nfs-cp', 'nfs-cat'].filter((t) => !has(t));
if (missing.length) console.warn(`skipping share snapshot tests with libnfs tools: ${missing.join(', ')} not installed (Debian libnfs-utils)`);

/** The names `nfs-ls` prints (its last column). */
function names(stdout: string): string[] {
  return stdout
    .split('\n')
    .map((l) => /^[-dlrwxstST]{10}\s+\d+\s+\d+\s+\d+\s+\d+\s+(.+)$/.exec(l.trim())?.[1])
    .filter((n): n is string => !!n)
    .sort();
}

/**
 * A real NFS client (libnfs's tools) reads a share's files as they were
 * from `/.snapshots/<name>/` after they were overwritten, removed and
 * renamed, lists the snapshots, and cannot write there.
 */
describe.skipIf(missing.length > 0)('share snapshots with libnfs tools (nfs-ls, nfs-cat, nfs-cp)', () => {
  let gw: TestGateway;
  let c: Nfs3Client;
  let url: (path: string) => string;
  const dir = mkdtempSync(join(tmpdir(), 'strata-nfssnap-'));

  beforeAll(async () => {
    gw = await startTestGateway({ STRATA_DEFAULT_DEVICE_SIZE: '512M' });
    await createShare(gw, 'photos', {}, '256M');
    const a = gw.app.get(NasService).addresses();
    url = (path: string) => `nfs://127.0.0.1/photos${path}?version=3&nfsport=${a.nfs!.port}&mountport=${a.mount!.port}&uid=0&gid=0`;
    c = await Nfs3Client.connect(nasPorts(gw).nfs);
  });
  afterAll(async () => {
    await c?.close();
    await gw?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads the old contents from /.snapshots/<name>/ after the files changed', async () => {
    const before = randomBytes(3 * MiB + 123);
    writeFileSync(join(dir, 'a.bin'), before);
    writeFileSync(join(dir, 'b.txt'), 'bee\n');
    await run('nfs-cp', [join(dir, 'a.bin'), url('/a.bin')]);
    await run('nfs-cp', [join(dir, 'b.txt'), url('/b.txt')]);
    await admin(gw, 'POST', 'volumes/photos/snapshots', { name: 'before' });

    // The live share changes: a.bin rewritten with other bytes, b.txt renamed, then a.bin's old name reused.
    const after = randomBytes(MiB);
    writeFileSync(join(dir, 'a2.bin'), after);
    const root = await c.mount('/photos');
    await c.remove(root, 'a.bin');
    await run('nfs-cp', [join(dir, 'a2.bin'), url('/a.bin')]);
    await c.ok(14, { from: { dir: root, name: 'b.txt' }, to: { dir: root, name: 'renamed.txt' } });

    const cat = async (path: string) => (await run('nfs-cat', [url(path)], { encoding: 'buffer', maxBuffer: 64 * MiB })).stdout as Buffer;
    expect(sha(await cat('/.snapshots/before/a.bin'))).toBe(sha(before));
    expect((await cat('/.snapshots/before/b.txt')).toString()).toBe('bee\n');
    expect(sha(await cat('/a.bin'))).toBe(sha(after));

    expect(names((await run('nfs-ls', [url('/.snapshots/before/')])).stdout)).toEqual(['a.bin', 'b.txt']);
    expect(names((await run('nfs-ls', [url('/.snapshots/')])).stdout)).toEqual(['before']);
    // Hidden from the share's own listing, so a copy of the share does not copy every snapshot.
    expect(names((await run('nfs-ls', [url('/')])).stdout)).toEqual(['a.bin', 'renamed.txt']);
  });

  it('refuses writes under /.snapshots/ (the tool fails, the snapshot is unchanged)', async () => {
    writeFileSync(join(dir, 'new.txt'), 'new\n');
    await expect(run('nfs-cp', [join(dir, 'new.txt'), url('/.snapshots/before/new.txt')])).rejects.toThrow();
    await expect(run('nfs-cp', [join(dir, 'new.txt'), url('/.snapshots/before/b.txt')])).rejects.toThrow();
    expect(names((await run('nfs-ls', [url('/.snapshots/before/')])).stdout)).toEqual(['a.bin', 'b.txt']);
    expect((await run('nfs-cat', [url('/.snapshots/before/b.txt')])).stdout).toBe('bee\n');
  });
});
