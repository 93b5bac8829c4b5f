import { randomBytes, randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NasService } from '../../src/nas/nas.service';
import { createmode3, entry3Size, ftype3, NFS3_PROCEDURE, readdir3ResokFixedSize, NFS_PROGRAM, NFS_V3, nfsstat3, stable_how, type Nfs3Args, type Nfs3Proc, type nfs_fh3 } from '../../src/protocols/nfs3';
import { AcceptStat, AuthFlavor } from '../../src/protocols/oncrpc/constants';
import { encodeCallHeader } from '../../src/protocols/oncrpc/message';
import { encodeFragmentHeader } from '../../src/protocols/oncrpc/record';
import { XdrWriter } from '../../src/protocols/xdr/xdr';
import { RpcClient } from '../../src/nas/rpc/rpc-client';
import { startTestGateway, type TestGateway } from '../utils/gateway';
import { createShare, nasPorts } from '../utils/nas-fixture';
import { admin } from '../utils/san-fixture';
import { authSys, Nfs3Client } from '../utils/nfs3-client';

const NAME_MAX = 255;

/** The call message (header and arguments) of an NFSv3 procedure, unframed. */
function callBytes(xid: number, proc: number, args: Buffer): Buffer[] {
  const w = encodeCallHeader(new XdrWriter(), { xid, prog: NFS_PROGRAM, vers: NFS_V3, proc, cred: authSys() });
  return [...w.toBuffers(), args];
}

function argsBytes<P extends Nfs3Proc>(proc: P, args: Nfs3Args<P>): Buffer {
  const w = new XdrWriter();
  NFS3_PROCEDURE[proc].encodeArgs(w, args);
  return Buffer.concat(w.toBuffers());
}

/**
 * NFSv3 at the protocol level against a live in-process gateway, through our
 * own RPC client: malformed input, limits, cookies, stability and
 * verifiers, exclusive create, guards, and handles across shares.
 */
describe('NFSv3 protocol against a live gateway', () => {
  let gw: TestGateway;
  let ports: { nfs: number; mount: number };
  let c: Nfs3Client;
  let root: nfs_fh3;

  beforeAll(async () => {
    gw = await startTestGateway({ STRATA_DEFAULT_DEVICE_SIZE: '512M' });
    ports = nasPorts(gw);
    await createShare(gw, 'alpha');
    await createShare(gw, 'beta');
    await createShare(gw, 'fuzz');
    c = await Nfs3Client.connect(ports.nfs);
    root = await c.mount('/alpha');
  });

  afterAll(async () => {
    await c?.close();
    await gw?.close();
  });

  it('answers GARBAGE_ARGS to truncated, padded and random arguments of every procedure, and keeps serving everyone', async () => {
    const fz = await Nfs3Client.connect(ports.nfs);
    const froot = await fz.mount('/fuzz');
    // Names no single mutated byte of the samples' one-letter names can reach, so fuzzed REMOVEs and RENAMEs leave them be.
    const file = await fz.create(froot, 'fuzz-target');
    await fz.write(file, 0, Buffer.from('fuzz target'));
    const link = (await fz.ok(10, { where: { dir: froot, name: 'fuzz-link' }, symlink: { symlink_attributes: {}, symlink_data: 'fuzz-target' } })).obj!;
    const where = { dir: froot, name: 'n' };
    const samples: { [P in Nfs3Proc]?: Nfs3Args<P> } = {
      1: { object: file },
      2: { object: file, new_attributes: { mode: 0o644 }, guard: { seconds: 1, nseconds: 2 } },
      3: { what: { dir: froot, name: 'fuzz-target' } },
      4: { object: froot, access: 0x3f },
      5: { symlink: link },
      6: { file, offset: 0, count: 100 },
      7: { file, offset: 3, count: 4, stable: stable_how.FILE_SYNC, data: Buffer.from('abcd') },
      8: { where, how: { mode: createmode3.GUARDED, obj_attributes: { mode: 0o600, uid: 5 } } },
      9: { where, attributes: { mode: 0o700 } },
      10: { where, symlink: { symlink_attributes: { mode: 0o777 }, symlink_data: 'target' } },
      11: { where, what: { type: ftype3.NF3FIFO, pipe_attributes: { mode: 0o600 } } },
      12: { object: where },
      13: { object: where },
      14: { from: where, to: { dir: froot, name: 'm' } },
      15: { file, link: where },
      16: { dir: froot, cookie: 0n, cookieverf: 0n, count: 4096 },
      17: { dir: froot, cookie: 0n, cookieverf: 0n, dircount: 1024, maxcount: 8192 },
      18: { fsroot: froot },
      19: { fsroot: froot },
      20: { object: froot },
      21: { file, offset: 0, count: 0 },
    };

    // Another client keeps calling throughout; every one of its calls must succeed.
    const other = await Nfs3Client.connect(ports.nfs);
    const otherRoot = await other.mount('/alpha');
    let stop = false;
    let otherCalls = 0;
    const background = (async () => {
      while (!stop) {
        await other.getattr(otherRoot);
        otherCalls++;
      }
    })();

    const stats = gw.app.get(NasService).stats()!;
    const before = { garbage: stats.garbage, errors: stats.errors };
    let garbage = 0;
    const send = async (proc: number, args: Buffer) => {
      const xid = fz.rpc.nextXid();
      const reply = await fz.rpc.exchange(xid, callBytes(xid, proc, args));
      expect('accept_stat' in reply.status).toBe(true);
      const accept = (reply.status as { accept_stat: AcceptStat }).accept_stat;
      expect([AcceptStat.SUCCESS, AcceptStat.GARBAGE_ARGS]).toContain(accept);
      if (accept === AcceptStat.GARBAGE_ARGS) garbage++;
      else {
        // A well-formed call: its result decodes completely, and no handler failed.
        const res = NFS3_PROCEDURE[proc as Nfs3Proc].decodeRes(reply.body) as { status: nfsstat3 };
        reply.body.done('results');
        expect(res.status).not.toBe(nfsstat3.NFS3ERR_SERVERFAULT);
      }
      return accept;
    };

    let sent = 0;
    for (const [p, args] of Object.entries(samples)) {
      const proc = Number(p) as Nfs3Proc;
      const valid = argsBytes(proc, args as never);
      // Every strict prefix is missing something the decoder needs; trailing bytes are refused too.
      const cuts = new Set([0, 1, 3, 4, valid.length - 4, valid.length - 1, ...Array.from({ length: 6 }, () => randomInt(valid.length))]);
      for (const cut of cuts) {
        if (cut < 0 || cut >= valid.length) continue;
        expect(await send(proc, valid.subarray(0, cut))).toBe(AcceptStat.GARBAGE_ARGS);
        sent++;
      }
      expect(await send(proc, Buffer.concat([valid, Buffer.alloc(4)]))).toBe(AcceptStat.GARBAGE_ARGS);
      // Random bytes and mutated valid arguments: either refused or answered with a status, never a crash.
      for (let i = 0; i < 12; i++) {
        await send(proc, randomBytes(randomInt(0, 160)));
        const mutated = Buffer.from(valid);
        for (let k = 0; k < 3; k++) mutated[randomInt(mutated.length)] = randomInt(256);
        await send(proc, mutated);
        sent += 2;
      }
    }
    expect(sent).toBeGreaterThan(21 * 30);
    expect(stats.garbage - before.garbage).toBe(garbage);
    expect(stats.errors - before.errors).toBe(0);

    // The fuzzed connection still works, so does the other one.
    expect((await fz.getattr(file)).type).toBe(ftype3.NF3REG);
    stop = true;
    await background;
    expect(otherCalls).toBeGreaterThan(0);
    await other.close();
    await fz.close();
  });

  it('survives malformed records: short, unreadable, oversized; only the offending connection is closed', async () => {
    const stats = gw.app.get(NasService).stats()!;
    const bad = await RpcClient.connect({ host: '127.0.0.1', port: ports.nfs }, { timeoutMs: 5000 });
    // A record too short for a call header is dropped without a reply; the connection stays usable.
    bad.sendRecord(Buffer.from([1, 2, 3]));
    const nul = await bad.call(NFS_PROGRAM, NFS_V3, 0);
    expect(nul.status).toEqual({ accept_stat: AcceptStat.SUCCESS });
    // A call for a version not served gets PROG_MISMATCH with the range (3..4: NFSv3 and NFSv4.1); an unknown procedure PROC_UNAVAIL.
    expect((await bad.call(NFS_PROGRAM, 2, 0)).status).toEqual({ accept_stat: AcceptStat.PROG_MISMATCH, mismatch_info: { low: 3, high: 4 } });
    expect((await bad.call(NFS_PROGRAM, NFS_V3, 22)).status).toEqual({ accept_stat: AcceptStat.PROC_UNAVAIL });
    // A multi-fragment record is one call.
    const xid = bad.nextXid();
    const w = encodeCallHeader(new XdrWriter(), { xid, prog: NFS_PROGRAM, vers: NFS_V3, proc: 1, cred: authSys() });
    NFS3_PROCEDURE[1].encodeArgs(w, { object: root });
    const reply = bad.awaitReply(xid);
    bad.sendRecord(Buffer.concat(w.toBuffers()), 8);
    const attr = NFS3_PROCEDURE[1].decodeRes((await reply).body);
    expect(attr.status).toBe(nfsstat3.NFS3_OK);
    // A fragment header announcing more than the server accepts closes this connection only.
    const errors = stats.recordErrors;
    bad.writeRaw(encodeFragmentHeader(0x7fffffff));
    await bad.closed;
    expect(stats.recordErrors).toBe(errors + 1);
    expect((await c.getattr(root)).type).toBe(ftype3.NF3DIR);
  });

  it('names longer than 255 bytes get NFS3ERR_NAMETOOLONG; 255 bytes are fine', async () => {
    const long = 'x'.repeat(NAME_MAX + 1);
    const fits = 'y'.repeat(NAME_MAX);
    const attrs = { mode: 0o644 };
    expect(await c.status(8, { where: { dir: root, name: long }, how: { mode: createmode3.UNCHECKED, obj_attributes: attrs } })).toBe('NFS3ERR_NAMETOOLONG');
    expect(await c.status(3, { what: { dir: root, name: long } })).toBe('NFS3ERR_NAMETOOLONG');
    expect(await c.status(9, { where: { dir: root, name: long }, attributes: attrs })).toBe('NFS3ERR_NAMETOOLONG');
    // Multi-byte characters count in bytes: 128 two-byte characters are 256 bytes.
    expect(await c.status(3, { what: { dir: root, name: 'é'.repeat(128) } })).toBe('NFS3ERR_NAMETOOLONG');
    const fh = await c.create(root, fits);
    expect((await c.lookup(root, fits)).fh).toEqual(fh);
    await c.remove(root, fits);
  });

  it('READDIR and READDIRPLUS answer NFS3ERR_TOOSMALL when not even one entry fits', async () => {
    const dir = await c.mkdir(root, 'small');
    await c.create(dir, 'entry');
    // The reply's fixed part (directory attributes, verifier, end of list, eof) plus one entry is the least that works.
    const fixed = readdir3ResokFixedSize(await c.getattr(dir));
    const one = fixed + entry3Size('entry');
    expect(await c.status(16, { dir, cookie: 0n, cookieverf: 0n, count: fixed })).toBe('NFS3ERR_TOOSMALL');
    expect(await c.status(16, { dir, cookie: 0n, cookieverf: 0n, count: fixed + entry3Size('.') - 1 })).toBe('NFS3ERR_TOOSMALL');
    expect(await c.status(17, { dir, cookie: 0n, cookieverf: 0n, dircount: 64, maxcount: fixed + 40 })).toBe('NFS3ERR_TOOSMALL');
    // One entry at a time still works: the listing advances by cookie.
    expect((await c.ok(16, { dir, cookie: 0n, cookieverf: 0n, count: one })).reply.entries).toHaveLength(1);
    expect((await c.readdirNames(dir, 0n, 0n, one)).sort()).toEqual(['.', '..', 'entry']);
  });

  it('READDIRPLUS resumes by cookie across 2,000 files: every name exactly once, with its attributes and handle', async () => {
    const dir = await c.mkdir(root, 'many');
    const N = 2000;
    const names = Array.from({ length: N }, (_, i) => `file-${i.toString().padStart(4, '0')}-${'n'.repeat(i % 40)}`);
    for (let i = 0; i < N; i += 50) await Promise.all(names.slice(i, i + 50).map((n) => c.create(dir, n, { mode: 0o640 })));

    const { entries, calls } = await c.readdirplusAll(dir, 4096, 1024);
    expect(calls).toBeGreaterThan(20);
    const listed = entries.map((e) => e.name).filter((n) => n !== '.' && n !== '..');
    expect(listed.length).toBe(N);
    expect(new Set(listed).size).toBe(N);
    expect([...listed].sort()).toEqual([...names].sort());
    expect(new Set(entries.map((e) => e.cookie)).size).toBe(entries.length);
    const byName = new Map(entries.map((e) => [e.name, e]));
    for (const name of [names[0], names[7], names[1234], names[N - 1]]) {
      const e = byName.get(name)!;
      expect(e.name_attributes).toMatchObject({ type: ftype3.NF3REG, mode: 0o640, fileid: e.fileid });
      expect((await c.getattr(e.name_handle!)).fileid).toBe(e.fileid);
    }

    // READDIR (names only) with a different page size sees the same set.
    const plain = await c.readdirNames(dir, 0n, 0n, 2000);
    expect(plain.filter((n) => n !== '.' && n !== '..').sort()).toEqual([...names].sort());

    // Removing entries while listing: the cookies of the others stay valid.
    const first = await c.ok(17, { dir, cookie: 0n, cookieverf: 0n, dircount: 1024, maxcount: 4096 });
    const last = first.reply.entries[first.reply.entries.length - 1];
    for (const e of first.reply.entries.slice(2, 6)) await c.remove(dir, e.name);
    const rest = await c.readdirNames(dir, last.cookie, first.cookieverf);
    const after = [...first.reply.entries.map((e) => e.name), ...rest].filter((n) => n !== '.' && n !== '..');
    expect(new Set(after).size).toBe(after.length);
    expect(after.length).toBe(N);
  });

  it('WRITE UNSTABLE then COMMIT: same verifier while the server keeps the data; FILE_SYNC is reported as such', async () => {
    const fh = await c.create(root, 'stable');
    const w1 = await c.write(fh, 0, Buffer.from('unstable bytes'), stable_how.UNSTABLE);
    expect(w1.count).toBe(14);
    expect([stable_how.UNSTABLE, stable_how.DATA_SYNC, stable_how.FILE_SYNC]).toContain(w1.committed);
    const w2 = await c.write(fh, 14, Buffer.from(' and more'), stable_how.UNSTABLE);
    expect(w2.verf).toBe(w1.verf);
    const commit = await c.commit(fh);
    expect(commit.verf).toBe(w1.verf);
    const sync = await c.write(fh, 0, Buffer.from('U'), stable_how.FILE_SYNC);
    expect(sync.committed).toBe(stable_how.FILE_SYNC);
    expect(sync.verf).toBe(w1.verf);
    const ds = await c.write(fh, 1, Buffer.from('N'), stable_how.DATA_SYNC);
    expect([stable_how.DATA_SYNC, stable_how.FILE_SYNC]).toContain(ds.committed);
    expect((await c.readAll(fh)).toString()).toBe('UNstable bytes and more');
    // The verifier is per server instance, the same for every file.
    const other = await c.create(root, 'stable-2');
    expect((await c.write(other, 0, Buffer.from('x'), stable_how.UNSTABLE)).verf).toBe(w1.verf);
  });

  it('CREATE EXCLUSIVE: a retransmission with the same verifier succeeds with the same handle, another verifier gets EXIST', async () => {
    const args = (verf: bigint): Nfs3Args<8> => ({ where: { dir: root, name: 'exclusive' }, how: { mode: createmode3.EXCLUSIVE, verf } });
    const first = await c.ok(8, args(0x1122334455667788n));
    // A retransmission the duplicate request cache does not catch (new xid): the stored verifier answers it.
    const again = await c.ok(8, args(0x1122334455667788n));
    expect(again.obj).toEqual(first.obj);
    expect(await c.status(8, args(0x99n))).toBe('NFS3ERR_EXIST');
    // A literal retransmission (same xid) is answered from the duplicate request cache, byte for byte.
    const xid = c.rpc.nextXid();
    const a = await c.rpc.call(NFS_PROGRAM, NFS_V3, 8, (w) => NFS3_PROCEDURE[8].encodeArgs(w, args(0x5n)), { xid, cred: c.cred });
    const b = await c.rpc.call(NFS_PROGRAM, NFS_V3, 8, (w) => NFS3_PROCEDURE[8].encodeArgs(w, args(0x5n)), { xid, cred: c.cred });
    expect(b.record).toEqual(a.record);
    expect(NFS3_PROCEDURE[8].decodeRes(a.body).status).toBe(nfsstat3.NFS3ERR_EXIST);
    // The client then sets the attributes; the file is an ordinary file afterwards.
    await c.ok(2, { object: first.obj!, new_attributes: { mode: 0o600 } });
    expect((await c.getattr(first.obj!)).mode).toBe(0o600);
    expect(await c.status(8, { where: { dir: root, name: 'exclusive' }, how: { mode: createmode3.GUARDED, obj_attributes: {} } })).toBe('NFS3ERR_EXIST');
  });

  it('SETATTR with a guard: NFS3ERR_NOT_SYNC when the ctime differs, applied when it matches', async () => {
    const fh = await c.create(root, 'guarded', { mode: 0o644 });
    const attr = await c.getattr(fh);
    const wrong = { seconds: attr.ctime.seconds, nseconds: (attr.ctime.nseconds + 1) % 1e9 };
    const refused = await c.call(2, { object: fh, new_attributes: { mode: 0o600 }, guard: wrong });
    expect(refused.status).toBe(nfsstat3.NFS3ERR_NOT_SYNC);
    expect((await c.getattr(fh)).mode).toBe(0o644);
    await c.ok(2, { object: fh, new_attributes: { mode: 0o600 }, guard: attr.ctime });
    expect((await c.getattr(fh)).mode).toBe(0o600);
    // The change moved the ctime: the old guard no longer matches.
    expect(await c.status(2, { object: fh, new_attributes: { mode: 0o640 }, guard: attr.ctime })).toBe('NFS3ERR_NOT_SYNC');
  });

  it('RENAME and LINK across shares answer NFS3ERR_XDEV and change nothing', async () => {
    const betaRoot = await c.mount('/beta');
    const fh = await c.create(root, 'stay-here');
    expect(await c.status(14, { from: { dir: root, name: 'stay-here' }, to: { dir: betaRoot, name: 'moved' } })).toBe('NFS3ERR_XDEV');
    expect(await c.status(15, { file: fh, link: { dir: betaRoot, name: 'linked' } })).toBe('NFS3ERR_XDEV');
    expect((await c.lookup(root, 'stay-here')).fh).toEqual(fh);
    expect(await c.status(3, { what: { dir: betaRoot, name: 'moved' } })).toBe('NFS3ERR_NOENT');
    expect(await c.status(3, { what: { dir: betaRoot, name: 'linked' } })).toBe('NFS3ERR_NOENT');
  });

  it.skipIf(process.getuid?.() !== 0)('a rule requiring a privileged port: calls from a port below 1024 pass, others get MNT3ERR_ACCES and NFS3ERR_ACCES', async () => {
    await createShare(gw, 'secure', { requirePrivilegedPort: true });
    // Bind a reserved source port (we are root); another test or client may hold one, so try a few.
    let privileged: Nfs3Client | undefined;
    for (let port = 1023; !privileged && port > 900; port--) {
      try {
        privileged = await Nfs3Client.connect(ports.nfs, { localPort: port });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
      }
    }
    const sroot = await privileged!.mount('/secure');
    const fh = await privileged!.create(sroot, 'reserved');
    expect((await privileged!.getattr(fh)).size).toBe(0);
    await privileged!.close();
    // The same handles from an ordinary port: refused, MOUNT too.
    expect((await c.mnt('/secure')).fhs_status).toBe(13);
    expect(await c.status(1, { object: fh })).toBe('NFS3ERR_ACCES');
    expect(await c.status(3, { what: { dir: sroot, name: 'reserved' } })).toBe('NFS3ERR_ACCES');
  });

  it('a full share answers NFS3ERR_NOSPC, stays consistent, and gets its space back when the file goes', async () => {
    await createShare(gw, 'tiny', {}, '4M');
    const troot = await c.mount('/tiny');
    const fh = await c.create(troot, 'filler');
    const MiB = 2 ** 20;
    const statuses: string[] = [];
    for (let i = 0; i < 6; i++) statuses.push(await c.status(7, { file: fh, offset: i * MiB, count: MiB, stable: stable_how.FILE_SYNC, data: Buffer.alloc(MiB, i + 1) }));
    expect(statuses).toEqual(['NFS3_OK', 'NFS3_OK', 'NFS3_OK', 'NFS3_OK', 'NFS3ERR_NOSPC', 'NFS3ERR_NOSPC']);
    expect((await c.ok(18, { fsroot: troot })).fbytes).toBe(0);
    // What was acknowledged is intact; nothing of the refused writes shows.
    const data = await c.readAll(fh);
    expect(data.length).toBe(4 * MiB);
    for (let i = 0; i < 4; i++) expect(data.subarray(i * MiB, (i + 1) * MiB).every((b) => b === i + 1)).toBe(true);
    expect(await (await gw.api('shares/tiny/fsck', { method: 'POST' })).json()).toMatchObject({ clean: true });
    await c.remove(troot, 'filler');
    // Freed pages are discarded on the volume before the space shows as free again.
    let free = 0;
    for (let i = 0; i < 200 && free < 4 * MiB; i++) {
      free = (await c.ok(18, { fsroot: troot })).fbytes;
      if (free < 4 * MiB) await new Promise((r) => setTimeout(r, 10));
    }
    expect(free).toBe(4 * MiB);
    const again = await c.create(troot, 'again');
    expect((await c.write(again, 0, Buffer.alloc(MiB, 9))).count).toBe(MiB);
  });

  it('renaming a share changes its MOUNT path; handles and their data stay valid', async () => {
    await createShare(gw, 'before-name');
    const oldRoot = await c.mount('/before-name');
    const fh = await c.create(oldRoot, 'kept');
    await c.write(fh, 0, Buffer.from('survives the rename'));
    await admin(gw, 'PATCH', 'shares/before-name', { name: 'after-name' });
    expect((await c.mnt('/before-name')).fhs_status).toBe(2);
    expect(await c.mount('/after-name')).toEqual(oldRoot);
    expect((await c.readAll(fh)).toString()).toBe('survives the rename');
  });

  it('AUTH_NONE callers act as the anonymous user', async () => {
    const dir = await c.mkdir(root, 'open-dir', 0o777);
    const anon = await Nfs3Client.connect(ports.nfs, { cred: { flavor: AuthFlavor.AUTH_NONE } });
    const fh = await anon.create(dir, 'anon-file');
    expect(await anon.getattr(fh)).toMatchObject({ uid: 65534, gid: 65534 });
    await anon.close();
  });
});
