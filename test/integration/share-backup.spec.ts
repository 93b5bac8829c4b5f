import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Prng } from '../../src/common/prng';
import { startTestGateway, type TestGateway } from '../utils/gateway';
import { strata } from '../utils/in-process-cli';
import { finished, json } from '../utils/mirror-fixture';
import { createShare, fileHashes, nasPorts, OPEN_RULE } from '../utils/nas-fixture';
import { Nfs3Client } from '../utils/nfs3-client';

const text = (s: string) => Buffer.from(s);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * Backups of a share inside one gateway: files written over NFS, a full
 * backup, changes (overwrite, delete, new files), an incremental, each point
 * restored to a new share and read back over NFS as it was; the restored
 * shares pass fsck; a pool target too; a damaged metadata copy fails verify
 * and restore precisely; a device target refuses shares.
 */
describe('backup and restore of a share', () => {
  let gw: TestGateway;
  let c: Nfs3Client;
  const call = async (method: string, path: string, body?: unknown) => json(gw, path, { method, ...(body === undefined ? {} : { json: body }) });
  const backup = async (share: string, target: string, incremental = false) => {
    const started = await call('POST', 'backups', { volume: share, target, incremental });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    const job = await finished(gw, started.body.job.id);
    expect(job.state, job.error).toBe('succeeded');
    return (await call('GET', `backups/${started.body.backup.id}`)).body;
  };
  const restoreToShare = async (id: string, toShare: string) => {
    const r = await call('POST', `backups/${id}/restore`, { toShare, rules: [OPEN_RULE] });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return { started: r.body, job: await finished(gw, r.body.job.id) };
  };
  /** Every regular file under a share's root, path → SHA-256 of its contents. */
  const files = async (share: string) => fileHashes(c, await c.mount(`/${share}`));

  const big = new Prng(7).bytes(3 * 2 ** 20 + 123);
  let fullFiles: Record<string, string>;
  let incFiles: Record<string, string>;
  let full: any;
  let inc: any;

  beforeAll(async () => {
    gw = await startTestGateway({ STRATA_DEFAULT_DEVICE_SIZE: '256M' });
    expect((await call('POST', 'devices', { name: 'd2', kind: 'file', path: join(gw.dataDir, 'd2.img'), size: '128M' })).status).toBe(201);
    expect((await call('POST', 'pools', { name: 'vault', layout: 'concat', members: [{ device: 'd2' }] })).status).toBe(201);
    mkdirSync(join(gw.dataDir, 'backups-dir'));
    expect((await call('POST', 'backup-targets', { name: 'nightly', kind: 'directory', path: join(gw.dataDir, 'backups-dir') })).status).toBe(201);
    expect((await call('POST', 'backup-targets', { name: 'vault', kind: 'pool', pool: 'vault' })).status).toBe(201);
    expect((await call('POST', 'backup-targets', { name: 'usb', kind: 'device', path: join(gw.dataDir, 'usb.img') })).status).toBe(201);
    await createShare(gw, 'home');
    c = await Nfs3Client.connect(nasPorts(gw).nfs);
  });
  afterAll(async () => {
    await c?.close();
    await gw?.close();
  });

  it('backs a share up in full: image, manifest and its metadata database beside it', async () => {
    const root = await c.mount('/home');
    await c.write(await c.create(root, 'a.txt'), 0, text('first version of a'));
    await c.write(await c.create(root, 'b.txt'), 0, text('bee'));
    const sub = await c.mkdir(root, 'sub');
    await c.write(await c.create(sub, 'c.txt'), 0, text('sea'));
    const bigFh = await c.create(sub, 'big.bin');
    for (let at = 0; at < big.length; at += 65536) await c.write(bigFh, at, big.subarray(at, at + 65536));
    fullFiles = await files('home');
    expect(Object.keys(fullFiles).sort()).toEqual(['a.txt', 'b.txt', 'sub/big.bin', 'sub/c.txt']);

    full = await backup('home', 'nightly');
    expect(full).toMatchObject({ kind: 'full', state: 'complete', sourceType: 'share', volumeName: 'share:home', snapshotName: `backup-${full.id}` });
    const dir = join(gw.dataDir, 'backups-dir', 'share:home');
    expect(full.location).toBe(join(dir, `${full.id}.img`));
    expect(full.metadataLocation).toBe(join(dir, `${full.id}.meta.sqlite`));
    const manifest = JSON.parse(readFileSync(join(dir, `${full.id}.json`), 'utf8'));
    const meta = readFileSync(full.metadataLocation);
    expect(manifest.source).toMatchObject({ type: 'share', name: 'home', snapshot: `backup-${full.id}` });
    expect(manifest.metadata).toEqual({ file: `${full.id}.meta.sqlite`, size: meta.length, sha256: sha(meta) });
    // The share snapshot it was made from stays: the base of the next incremental.
    const snaps = (await call('GET', 'volumes/home/snapshots')).body;
    expect(snaps.map((s: { name: string }) => s.name)).toEqual([`backup-${full.id}`]);
  });

  it('backs up only the changed pages after overwrites, deletes and new files', async () => {
    const root = await c.mount('/home');
    const a = (await c.lookup(root, 'a.txt')).fh;
    await c.ok(2, { object: a, new_attributes: { size: 0 } });
    await c.write(a, 0, text('second'));
    await c.remove(root, 'b.txt');
    await c.write(await c.create(root, 'd.txt'), 0, text('new after the full backup'));
    incFiles = await files('home');
    inc = await backup('home', 'nightly', true);
    expect(inc).toMatchObject({ kind: 'incremental', parentId: full.id, state: 'complete', sourceType: 'share' });
    const manifest = JSON.parse(readFileSync(join(gw.dataDir, 'backups-dir', 'share:home', `${inc.id}.json`), 'utf8'));
    const carried = manifest.runs.filter((r: { kind: string }) => r.kind === 'data').reduce((n: number, r: { length: number }) => n + r.length, 0);
    // Far less than the 3 MiB file and the rest of the share: only what changed.
    expect(carried).toBeLessThan(full.size / 4);
    expect(manifest.metadata.sha256).toBe(sha(readFileSync(inc.metadataLocation)));
  });

  it('restores each point to a new share whose files read back over NFS as they were, and fsck is clean', async () => {
    for (const [b, name, want] of [
      [full, 'home-full', fullFiles],
      [inc, 'home-inc', incFiles],
    ] as const) {
      const { started, job } = await restoreToShare(b.id, name);
      expect(job.state, job.error).toBe('succeeded');
      expect(started.share).toMatchObject({ name, size: b.size, restoringFrom: b.id });
      const share = (await call('GET', `shares/${name}`)).body;
      expect(share.restoringFrom).toBeUndefined();
      expect(await files(name)).toEqual(want);
      const fsck = await call('POST', `shares/${name}/fsck`);
      expect(fsck.status).toBe(200);
      expect(fsck.body).toMatchObject({ clean: true, problems: [] });
    }
    const root = await c.mount('/home-full');
    expect((await c.readAll((await c.lookup(root, 'a.txt')).fh)).toString()).toBe('first version of a');
    expect((await c.readAll((await c.lookup(await c.mount('/home-inc'), 'a.txt')).fh)).toString()).toBe('second');
    // The original share is untouched by all this.
    expect(await files('home')).toEqual(incFiles);
  });

  it('does the same through the CLI: create by share name, restore with --to-share', async () => {
    const made = await strata(gw, ['backup', 'create', 'home', '--target', 'nightly', '--incremental', '--wait']);
    expect(made.code, made.stderr).toBe(0);
    const id = /Backup ([0-9a-f-]{36})/.exec(made.stdout)![1];
    const restored = await strata(gw, ['backup', 'restore', id, '--to-share', 'home-cli', '--wait']);
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toContain("Restoring into share 'home-cli' (served once the job is done).");
    // Restored without export rules: nobody may mount it until the admin adds one.
    expect((await call('GET', 'shares/home-cli')).body.rules).toEqual([]);
    await expect(c.mount('/home-cli')).rejects.toThrow();
    expect((await call('POST', 'shares/home-cli/rules', OPEN_RULE)).status).toBe(201);
    expect(await files('home-cli')).toEqual(incFiles);
  });

  it('backs a share up to a pool target, its metadata under the data dir, and restores it', async () => {
    const b = await backup('home', 'vault');
    expect(b.metadataLocation).toBe(join(gw.dataDir, 'backups', `${b.id}.meta.sqlite`));
    expect((await call('GET', 'volumes/share.home.backup')).status).toBe(200);
    const { job } = await restoreToShare(b.id, 'home-vault');
    expect(job.state, job.error).toBe('succeeded');
    expect(await files('home-vault')).toEqual(incFiles);
    const verify = await finished(gw, (await call('POST', `backups/${b.id}/verify`)).body.id);
    expect(verify.state, verify.error).toBe('succeeded');
    // Removing the backup removes its metadata file too.
    expect((await call('DELETE', `backups/${b.id}`)).status).toBe(204);
    expect(existsSync(b.metadataLocation)).toBe(false);
  });

  it('refuses what cannot work, with the reason', async () => {
    const dev = await call('POST', 'backups', { volume: 'home', target: 'usb' });
    expect(dev.status).toBe(400);
    expect(dev.body.message).toMatch(/target 'usb' is a device: .* back shares up to a directory or pool target/);
    const asVolume = await call('POST', `backups/${full.id}/restore`, { to: 'raw' });
    expect(asVolume.status).toBe(400);
    expect(asVolume.body.message).toBe(`backup ${full.id} is of share 'home': restore it to a new share with toShare (and no to or over)`);
    expect((await call('POST', `backups/${full.id}/restore`, { toShare: 'home' })).body.code).toBe('NAME_TAKEN');
  });

  it('fails verify and restore precisely when the metadata copy is damaged, and serves nothing', async () => {
    const good = await finished(gw, (await call('POST', `backups/${inc.id}/verify`)).body.id);
    expect(good.state, good.error).toBe('succeeded');
    const bytes = readFileSync(inc.metadataLocation);
    const damaged = Buffer.from(bytes);
    damaged[damaged.length >> 1] ^= 0x40;
    writeFileSync(inc.metadataLocation, damaged);
    const message = `backup ${inc.id}: metadata file ${inc.metadataLocation} does not match its SHA-256: the metadata copy is damaged`;
    const verify = await finished(gw, (await call('POST', `backups/${inc.id}/verify`)).body.id);
    expect(verify.state).toBe('failed');
    expect(verify.error).toBe(message);
    const { started, job } = await restoreToShare(inc.id, 'home-bad');
    expect(job.state).toBe('failed');
    expect(job.error).toBe(message);
    // Made, but not served, and closed to changes until it is deleted.
    expect((await call('GET', 'shares/home-bad')).body.restoringFrom).toBe(inc.id);
    await expect(c.mount('/home-bad')).rejects.toThrow();
    expect((await call('PATCH', 'shares/home-bad', { sync: false })).body.code).toBe('SHARE_RESTORING');
    expect((await call('DELETE', `shares/${started.share.id}`)).status).toBe(204);
    // Put back, it verifies again: the damage was the only fault.
    writeFileSync(inc.metadataLocation, bytes);
    const again = await finished(gw, (await call('POST', `backups/${inc.id}/verify`)).body.id);
    expect(again.state, again.error).toBe('succeeded');
  });
});
