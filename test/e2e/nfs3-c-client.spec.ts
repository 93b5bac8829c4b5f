import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../utils/gateway';
import { createShare, nasPorts, setRule } from '../utils/nas-fixture';
import { buildNfsOps, NfsOps, nfsOpsMissing, nfsUrl, removeNfsOps } from '../utils/nfs-ops';

const missing = nfsOpsMissing();
if (missing) console.warn(`skipping the NFSv3 tests with the C client on libnfs: ${missing}`);
const isRoot = process.getuid?.() === 0;
if (!missing && !isRoot) console.warn('NFSv3 C client: not root, so the cases that run the client as another user or need a privileged source port are skipped');

/**
 * test/c/nfs3-ops.c, a small program on libnfs's sync API, drives the
 * gateway's NFSv3 server through a real client: namespace operations, data,
 * attributes, and the export rules' permission cases.
 */
describe.skipIf(missing !== null)('NFSv3 through a C program on libnfs', () => {
  let gw: TestGateway;
  let ports: { nfs: number; mount: number };
  const running: NfsOps[] = [];
  const url = (share: string, params: Record<string, string | number> = {}) => nfsUrl(ports, share, '', params);
  /** A client mounted on a share; closed after the test file. */
  const open = async (share: string, params: Record<string, string | number> = {}, as?: { uid: number; gid: number }) => {
    const ops = await NfsOps.start(url(share, params), { as });
    running.push(ops);
    return ops;
  };
  const mounted = async (share: string, params: Record<string, string | number> = {}, as?: { uid: number; gid: number }) => {
    const ops = await open(share, params, as);
    if (!ops.mount.ok) throw new Error(`mount of ${share} failed: ${ops.mount.line}`);
    return ops;
  };

  beforeAll(async () => {
    buildNfsOps();
    gw = await startTestGateway({ STRATA_DEFAULT_DEVICE_SIZE: '512M' });
    ports = nasPorts(gw);
    await createShare(gw, 'work');
  });

  afterAll(async () => {
    await Promise.all(running.map((o) => o.close()));
    await gw?.close();
    removeNfsOps();
  });

  it('creates, writes, stats, lists, renames, links, symlinks and removes', async () => {
    const c = await mounted('work');
    await c.ok('mkdir', '/d', '755');
    expect(await c.stat('/d')).toMatchObject({ type: 'dir', mode: 0o755, uid: 0, gid: 0, nlink: 2 });

    await c.put('/d/a', 'first contents', '640');
    const a = await c.stat('/d/a');
    expect(a).toMatchObject({ type: 'reg', mode: 0o640, size: 14, nlink: 1 });
    expect((await c.cat('/d/a')).toString()).toBe('first contents');

    // Writes at offsets through an open file, with a hole before the second one.
    await c.ok('open', 1, '/d/a', 'rdwr');
    expect(await c.ok('write', 1, 0, Buffer.from('FIRST').toString('hex'))).toEqual(['5']);
    expect(await c.ok('fill', 1, 100_000, 5000, 0x41)).toEqual(['5000']);
    await c.ok('fsync', 1);
    expect((await c.stat('/d/a')).size).toBe(105_000);
    const [n, hex] = await c.ok('read', 1, 0, 20);
    expect(n).toBe('20');
    expect(Buffer.from(hex, 'hex')).toEqual(Buffer.concat([Buffer.from('FIRST contents'), Buffer.alloc(6)]));
    const [, tail] = await c.ok('read', 1, 99_998, 10);
    expect(Buffer.from(tail, 'hex')).toEqual(Buffer.from([0, 0, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41]));
    await c.ok('close', 1);

    // Directory listing: every name once, nothing else.
    for (const name of ['b', 'c with space', 'ünïcødé']) await c.put(`/d/${name}`, name);
    expect(await c.ls('/d')).toEqual(['a', 'b', 'c with space', 'ünïcødé'].sort());
    expect((await c.stat('/d')).nlink).toBe(2);

    // Rename within a directory keeps the inode; over an existing name replaces it.
    await c.ok('rename', '/d/a', '/d/renamed');
    expect(await c.fails('stat', '/d/a')).toBe('ENOENT');
    expect((await c.stat('/d/renamed')).ino).toBe(a.ino);
    await c.ok('rename', '/d/b', '/d/renamed');
    expect((await c.cat('/d/renamed')).toString()).toBe('b');
    expect(await c.ls('/d')).toEqual(['c with space', 'renamed', 'ünïcødé'].sort());

    // Across directories, a directory too ('..' follows, link counts follow).
    await c.ok('mkdir', '/e');
    await c.ok('mkdir', '/d/sub');
    expect((await c.stat('/d')).nlink).toBe(3);
    await c.ok('rename', '/d/sub', '/e/sub');
    expect((await c.stat('/d')).nlink).toBe(2);
    expect((await c.stat('/e')).nlink).toBe(3);
    await c.put('/e/sub/deep', 'deep');
    expect((await c.cat('/e/sub/../sub/deep')).toString()).toBe('deep');
    await c.ok('rename', '/d/renamed', '/e/sub/moved');
    expect((await c.cat('/e/sub/moved')).toString()).toBe('b');

    // Hard links share the inode and the data; removing one name keeps the other.
    await c.ok('link', '/e/sub/moved', '/d/hard');
    const moved = await c.stat('/e/sub/moved');
    expect(moved.nlink).toBe(2);
    expect((await c.stat('/d/hard')).ino).toBe(moved.ino);
    await c.ok('unlink', '/e/sub/moved');
    expect(await c.stat('/d/hard')).toMatchObject({ ino: moved.ino, nlink: 1, size: 1 });
    // No hard links to directories (knfsd answers NFS3ERR_ISDIR too).
    expect(await c.fails('link', '/d', '/d/dirlink')).toBe('EISDIR');

    // Symlinks: readlink gives the target as written, stat follows it, lstat does not.
    await c.ok('symlink', '../d/hard', '/e/sym');
    expect(await c.ok('readlink', '/e/sym')).toEqual(['../d/hard']);
    expect(await c.stat('/e/sym', 'lstat')).toMatchObject({ type: 'lnk', size: 9 });
    expect((await c.stat('/e/sym')).ino).toBe(moved.ino);
    await c.ok('symlink', '/nowhere', '/e/dangling');
    expect(await c.fails('stat', '/e/dangling')).toBe('ENOENT');

    // Errors a POSIX client expects.
    expect(await c.fails('mkdir', '/d')).toBe('EEXIST');
    expect(await c.fails('unlink', '/d/missing')).toBe('ENOENT');
    expect(await c.fails('rmdir', '/d')).toBe('ENOTEMPTY');
    expect(await c.fails('rmdir', '/d/hard')).toBe('ENOTDIR');
    // libnfs's creat() is an UNCHECKED CREATE: an existing file is opened as it is (RFC 1813 3.3.8).
    await c.ok('creat', '/d/hard', '600');
    expect(await c.stat('/d/hard')).toMatchObject({ ino: moved.ino, mode: 0o644, size: 1 });
    expect(await c.fails('rename', '/e', '/e/sub/inside')).toBe('EINVAL');

    // Remove everything: the share is empty again.
    for (const p of ['/d/hard', '/d/c with space', '/d/ünïcødé', '/e/sym', '/e/dangling', '/e/sub/deep']) await c.ok('unlink', p);
    for (const p of ['/e/sub', '/e', '/d']) await c.ok('rmdir', p);
    expect(await c.ls('/')).toEqual([]);
  });

  it('overwrites with O_TRUNC, truncates and extends, and changes mode and owner', async () => {
    const c = await mounted('work');
    await c.put('/over', 'a much longer first version');
    await c.put('/over', 'short');
    expect((await c.cat('/over')).toString()).toBe('short');
    await c.ok('truncate', '/over', 2);
    expect((await c.cat('/over')).toString()).toBe('sh');
    await c.ok('truncate', '/over', 8);
    expect(await c.cat('/over')).toEqual(Buffer.concat([Buffer.from('sh'), Buffer.alloc(6)]));
    await c.ok('chmod', '/over', '600');
    await c.ok('chown', '/over', 1000, 1001);
    expect(await c.stat('/over')).toMatchObject({ mode: 0o600, uid: 1000, gid: 1001, size: 8 });
    const fs = await c.ok('statvfs', '/');
    expect(fs.find((w) => w.startsWith('blocks='))).toBeDefined();
    await c.ok('unlink', '/over');
  });

  it('checks mode bits with the caller’s uid and gid (non-root users)', async () => {
    const root = await mounted('work');
    await root.ok('mkdir', '/private', '700');
    await root.ok('mkdir', '/shared', '1777');
    await root.put('/private/secret', 'root only', '600');
    await root.put('/readable', 'everyone may read', '644');
    await root.ok('mkdir', '/team', '770');
    await root.ok('chown', '/team', 0, 2000);

    const alice = await mounted('work', { uid: 1000, gid: 1000 });
    expect(await alice.fails('ls', '/private')).toBe('EACCES');
    expect(await alice.fails('cat', '/private/secret')).toBe('EACCES');
    expect(await alice.fails('put', '/private/mine', '644', '00')).toBe('EACCES');
    expect((await alice.cat('/readable')).toString()).toBe('everyone may read');
    expect(await alice.fails('open', 1, '/readable', 'wronly')).toBe('EACCES');
    expect(await alice.fails('chmod', '/readable', '666')).toBe('EPERM');
    expect(await alice.fails('unlink', '/readable')).toBe('EACCES');
    expect(await alice.fails('mkdir', '/team/a')).toBe('EACCES');
    await alice.put('/shared/alice', 'hers');
    expect(await alice.stat('/shared/alice')).toMatchObject({ uid: 1000, gid: 1000 });

    // The same context switching user: bob in group 2000 may use /team; the sticky /shared keeps alice's file from him.
    const bob = await mounted('work', { uid: 1001, gid: 2000 });
    await bob.ok('mkdir', '/team/b');
    expect(await bob.stat('/team/b')).toMatchObject({ uid: 1001, gid: 2000 });
    expect(await bob.fails('unlink', '/shared/alice')).toBe('EPERM');
    await bob.ok('uid', 1000);
    await bob.ok('gid', 1000);
    await bob.ok('unlink', '/shared/alice');
  });

  it('root_squash: root acts as 65534 and cannot write into a root-owned 0755 directory; others keep their uid', async () => {
    await createShare(gw, 'squashed');
    const admin = await mounted('squashed');
    await admin.ok('mkdir', '/pub', '777');
    await admin.put('/pub/roots', 'made before squashing', '644');
    await setRule(gw, 'squashed', { squash: 'root_squash' });

    const c = await mounted('squashed');
    await c.put('/pub/made-by-root', 'x');
    expect(await c.stat('/pub/made-by-root')).toMatchObject({ uid: 65534, gid: 65534 });
    expect(await c.fails('mkdir', '/top')).toBe('EACCES');
    expect(await c.fails('put', '/top-file', '644', '00')).toBe('EACCES');
    expect(await c.fails('chmod', '/pub/roots', '600')).toBe('EPERM');
    expect(await c.fails('open', 1, '/pub/roots', 'wronly')).toBe('EACCES');
    expect(await c.stat('/')).toMatchObject({ uid: 0, mode: 0o755 });
    await c.ok('uid', 1000);
    await c.ok('gid', 1000);
    await c.put('/pub/made-by-1000', 'y');
    expect(await c.stat('/pub/made-by-1000')).toMatchObject({ uid: 1000, gid: 1000 });
  });

  it('all_squash: everyone acts as the anonymous uid and gid of the rule', async () => {
    await createShare(gw, 'anon');
    const admin = await mounted('anon');
    await admin.ok('mkdir', '/pub', '777');
    await setRule(gw, 'anon', { squash: 'all_squash', anonUid: 4321, anonGid: 4322 });

    const root = await mounted('anon');
    await root.put('/pub/r', 'r');
    expect(await root.stat('/pub/r')).toMatchObject({ uid: 4321, gid: 4322 });
    const user = await mounted('anon', { uid: 1000, gid: 1000 });
    await user.put('/pub/u', 'u');
    expect(await user.stat('/pub/u')).toMatchObject({ uid: 4321, gid: 4322 });
    // Both act as the same user: one may remove the other's file, neither may chown.
    await user.ok('unlink', '/pub/r');
    expect(await user.fails('chown', '/pub/u', 1000, 1000)).toBe('EPERM');
  });

  it('a read-only export serves reads and answers every change with EROFS', async () => {
    await createShare(gw, 'archive');
    const admin = await mounted('archive');
    await admin.ok('mkdir', '/docs');
    await admin.put('/docs/report', 'quarterly figures');
    await setRule(gw, 'archive', { access: 'ro' });

    const c = await mounted('archive');
    expect((await c.cat('/docs/report')).toString()).toBe('quarterly figures');
    expect(await c.ls('/docs')).toEqual(['report']);
    expect(await c.fails('put', '/docs/new', '644', '00')).toBe('EROFS');
    expect(await c.fails('put', '/docs/report', '644', '00')).toBe('EROFS');
    expect(await c.fails('mkdir', '/more')).toBe('EROFS');
    expect(await c.fails('unlink', '/docs/report')).toBe('EROFS');
    expect(await c.fails('rmdir', '/docs')).toBe('EROFS');
    expect(await c.fails('rename', '/docs/report', '/docs/r2')).toBe('EROFS');
    expect(await c.fails('link', '/docs/report', '/docs/r3')).toBe('EROFS');
    expect(await c.fails('symlink', 'report', '/docs/s')).toBe('EROFS');
    expect(await c.fails('chmod', '/docs/report', '600')).toBe('EROFS');
    expect(await c.fails('truncate', '/docs/report', 0)).toBe('EROFS');
    // libnfs asks ACCESS before opening for writing: a read-only export grants no write access.
    expect(await c.fails('open', 1, '/docs/report', 'rdwr')).toBe('EACCES');
    expect((await c.cat('/docs/report')).toString()).toBe('quarterly figures');
  });

  it('refuses the mount to a client outside the rule’s networks, and calls once the rules exclude it', async () => {
    await createShare(gw, 'lab', { clients: ['10.20.0.0/16', 'fd00::/8'] });
    const outside = await open('lab');
    expect(outside.mount).toMatchObject({ ok: false, code: 'EACCES' });
    expect(outside.mount.line).toMatch(/MNT3ERR_ACCES/);

    // libnfs 4.0 reports this one with a wrong errno; the status it names is right.
    const nowhere = await open('no-such-share');
    expect(nowhere.mount.ok).toBe(false);
    expect(nowhere.mount.line).toMatch(/MNT3ERR_NOENT/);

    // A client that mounted while admitted loses access on its next call once the rules change.
    await setRule(gw, 'lab', { clients: ['127.0.0.1'] });
    const c = await mounted('lab');
    await c.put('/f', 'data');
    await setRule(gw, 'lab', { clients: ['10.20.0.0/16'] });
    expect(await c.fails('cat', '/f')).toBe('EACCES');
    expect(await c.fails('stat', '/')).toBe('EACCES');
  });

  it.skipIf(!isRoot)('privileged source port required: libnfs as root binds one and is admitted, as another user it is refused', async () => {
    await createShare(gw, 'secure', { requirePrivilegedPort: true });
    const root = await open('secure');
    expect(root.mount.ok).toBe(true);
    await root.put('/by-root', 'from a reserved port');
    expect((await root.cat('/by-root')).toString()).toBe('from a reserved port');

    const nobody = await open('secure', {}, { uid: 65534, gid: 65534 });
    expect(nobody.mount).toMatchObject({ ok: false, code: 'EACCES' });
    expect(nobody.mount.line).toMatch(/MNT3ERR_ACCES/);

    // The same unprivileged user is admitted where the rule does not ask for a reserved port.
    const insecure = await open('work', {}, { uid: 65534, gid: 65534 });
    expect(insecure.mount.ok).toBe(true);
    expect(await insecure.ls('/')).toEqual(expect.any(Array));
  });
});
