import Database from 'better-sqlite3';
import { PassThrough } from 'node:stream';
import { Client } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NasService } from '../../src/nas/nas.service';
import type { ShareFsckReport } from '../../src/nas/share-fsck';
import { ShellServer } from '../../src/shell/ssh-server';
import type { AuditEntry } from '../../src/storage/domain';
import { stable_how } from '../../src/protocols/nfs3';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from '../utils/gateway';
import { strata } from '../utils/in-process-cli';
import { createShare, nasPorts } from '../utils/nas-fixture';
import { Nfs3Client } from '../utils/nfs3-client';

/** One command through the SSH admin shell; its output and exit status. */
function shell(gw: TestGateway, command: string): Promise<{ code: number; stdout: string }> {
  const port = gw.app.get(ShellServer).address()!.port;
  return new Promise((resolve, reject) => {
    const client = new Client();
    client
      .on('ready', () =>
        client.exec(command, (err, stream) => {
          if (err) return reject(err);
          let stdout = '';
          stream.on('data', (d: Buffer) => (stdout += d));
          stream.stderr.on('data', (d: Buffer) => (stdout += d));
          // The exit status can overtake output still queued in the channel: answer once the channel closes.
          let code = -1;
          stream.on('exit', (c: number) => (code = c));
          stream.on('close', () => {
            client.end();
            resolve({ code, stdout });
          });
        }),
      )
      .on('error', reject)
      .connect({ host: '127.0.0.1', port, username: 'admin', password: ADMIN_PASSWORD, tryKeyboard: false, readyTimeout: 20_000 });
  });
}

/**
 * `strata share fsck`: the engine's consistency check on a mounted share,
 * through REST (audited), the CLI and the SSH shell; a non-zero exit status
 * when the metadata and the block allocation disagree.
 */
describe('share fsck through REST, the CLI and the SSH shell', () => {
  let gw: TestGateway;
  let c: Nfs3Client;
  let fileid = 0;

  beforeAll(async () => {
    gw = await startTestGateway({ STRATA_DEFAULT_DEVICE_SIZE: '256M' });
    await createShare(gw, 'books');
    await createShare(gw, 'broken');
    c = await Nfs3Client.connect(nasPorts(gw).nfs);
    for (const share of ['/books', '/broken']) {
      const root = await c.mount(share);
      const dir = await c.mkdir(root, 'chapters');
      for (let i = 0; i < 5; i++) {
        const fh = await c.create(dir, `ch${i}`);
        await c.write(fh, 0, Buffer.alloc(20_000 + i * 5000, i + 1), stable_how.FILE_SYNC);
        fileid = (await c.getattr(fh)).fileid;
      }
    }
  });

  afterAll(async () => {
    await c?.close();
    await gw?.close();
  });

  it('POST /shares/:share/fsck reports a clean filesystem with its totals, audited', async () => {
    const res = await gw.api('shares/books/fsck', { method: 'POST' });
    expect(res.status).toBe(200);
    const r = (await res.json()) as ShareFsckReport;
    expect(r).toMatchObject({ share: 'books', clean: true, problems: [], byKind: {}, directories: 2, files: 5 });
    expect(r.usedBlocks).toBeGreaterThanOrEqual(Math.ceil(150_000 / 4096));
    const audit = (await (await gw.api('audit?action=share.fsck&object=books')).json()) as AuditEntry[];
    expect(audit[0]).toMatchObject({ actor: 'admin', action: 'share.fsck', objectName: 'books', outcome: 'success', detail: { clean: true, problems: 0 } });
  });

  it('refuses an unknown share (404) and needs an admin token (401), auditing the failure', async () => {
    const missing = await gw.api('shares/nope/fsck', { method: 'POST' });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ code: 'SHARE_NOT_FOUND' });
    const anonymous = await gw.api('shares/books/fsck', { method: 'POST', headers: { authorization: 'Bearer not-a-token' } });
    expect(anonymous.status).toBe(401);
    const audit = (await (await gw.api('audit?action=share.fsck&object=nope')).json()) as AuditEntry[];
    expect(audit[0]).toMatchObject({ outcome: 'failure', errorCode: 'SHARE_NOT_FOUND' });
  });

  it('finds metadata that disagrees with the allocation, by kind; the CLI and the shell exit non-zero', async () => {
    // Damage the live metadata behind the engine's back: a wrong link count and a lost extent.
    const shareId = (await (await gw.api('shares/broken')).json()).id as string;
    const db = new Database(gw.app.get(NasService).filesystems.metaPath(shareId));
    try {
      db.prepare('UPDATE inodes SET nlink = 5 WHERE ino = ?').run(fileid);
      const victim = db.prepare('SELECT ino FROM extents WHERE ino <> ? LIMIT 1').get(fileid) as { ino: number };
      db.prepare('DELETE FROM extents WHERE ino = ?').run(victim.ino);
    } finally {
      db.close();
    }
    const res = await gw.api('shares/broken/fsck', { method: 'POST' });
    expect(res.status).toBe(200);
    const r = (await res.json()) as ShareFsckReport;
    expect(r.clean).toBe(false);
    expect(r.byKind).toMatchObject({ nlink: 1 });
    expect(Object.keys(r.byKind)).toEqual(expect.arrayContaining(['nlink', 'used-mismatch', 'free-map']));
    expect(r.problems.find((p) => p.kind === 'nlink')).toMatchObject({ ino: fileid, repaired: false });

    const bad = await strata(gw, ['share', 'fsck', 'broken']);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/^Share 'broken': \d+ problem\(s\): .*nlink 1/);
    expect(bad.stdout).toContain(`nlink (inode ${fileid})`);
    const good = await strata(gw, ['share', 'fsck', 'books']);
    expect(good).toMatchObject({ code: 0, stderr: '' });
    expect(good.stdout).toMatch(/^Share 'books': clean\. \d+ inodes \(2 directories, 5 files\)/);
    const asJson = await strata(gw, ['--json', 'share', 'fsck', 'books']);
    expect(JSON.parse(asJson.stdout)).toMatchObject({ share: 'books', clean: true });

    const viaShell = await shell(gw, 'share fsck broken');
    expect(viaShell.code).toBe(1);
    expect(viaShell.stdout).toContain("Share 'broken':");
    expect(await shell(gw, 'share fsck books')).toMatchObject({ code: 0, stdout: expect.stringContaining("Share 'books': clean.") });
    const audit = (await (await gw.api('audit?action=share.fsck&object=broken')).json()) as AuditEntry[];
    expect(audit.map((e) => [e.source?.split(':')[0], e.detail?.clean])).toEqual([
      ['ssh', false],
      ['rest', false],
      ['rest', false],
    ]);
  });
});
