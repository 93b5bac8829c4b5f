import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SanService } from '../../src/san/san.service';
import { startTestGateway, type TestGateway } from '../utils/gateway';
import { admin } from '../utils/san-fixture';
import { buildClientIfStale, has, StrataClientCli, until } from '../utils/strata-client';

const run = promisify(execFile);
const MiB = 2 ** 20;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

const NBD_TOOLS = ['nbdinfo', 'nbdcopy', 'fio', 'qemu-img'];
const missingTools = NBD_TOOLS.filter((t) => !has(t));
if (missingTools.length) console.warn(`strata-client NBD tests skipped: ${missingTools.join(', ')} not installed (apt-get install libnbd-bin fio qemu-utils)`);

/** Why the filesystem test cannot run here, or undefined when it can. */
function fuseBlocker(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root (mount and losetup need it)';
  if (!existsSync('/dev/fuse')) return 'no /dev/fuse';
  const tools = ['nbdfuse', 'mkfs.ext4', 'e2fsck', 'losetup', 'mount', 'umount'].filter((t) => !has(t));
  if (tools.length) return `${tools.join(', ')} not installed (apt-get install libnbd-bin e2fsprogs util-linux mount)`;
  return undefined;
}
const fuseSkip = fuseBlocker();
if (fuseSkip) console.warn(`strata-client filesystem test (nbdfuse → mkfs.ext4 → loop mount) skipped: ${fuseSkip}`);

/**
 * An NBD client that stays connected: the fixed newstyle handshake by hand
 * (greeting, client flags, NBD_OPT_EXPORT_NAME), then nothing.
 */
async function nbdConnection(hostPort: string, name: string): Promise<Socket> {
  const [host, port] = hostPort.split(':');
  const s = connect(Number(port), host);
  await new Promise<void>((res, rej) => s.once('connect', res).once('error', rej));
  const option = Buffer.alloc(16 + name.length);
  option.write('IHAVEOPT', 0, 'latin1');
  option.writeUInt32BE(1, 8); // NBD_OPT_EXPORT_NAME
  option.writeUInt32BE(name.length, 12);
  option.write(name, 16);
  const flags = Buffer.alloc(4);
  flags.writeUInt32BE(3); // FIXED_NEWSTYLE | NO_ZEROES
  s.write(Buffer.concat([flags, option]));
  return s;
}

/** fio's JSON report (it may print warnings before it). */
function fioJob(stdout: string): { error: number; read: { io_bytes: number }; write: { io_bytes: number } } {
  return JSON.parse(stdout.slice(stdout.indexOf('{'))).jobs[0];
}

describe('strata-client against a real gateway', () => {
  let gw: TestGateway;
  let svc: SanService;
  /** The gateway's two SAN addresses: two paths. */
  let paths: string[];
  let dir: string;
  let cli: StrataClientCli;
  let pub: string;

  beforeAll(async () => {
    buildClientIfStale();
    // Short: unix socket paths must fit in 108 bytes.
    dir = mkdtempSync('/tmp/sc-e2e-');
    cli = new StrataClientCli(join(dir, 'home'));
    gw = await startTestGateway({ STRATA_SAN_ADDRESSES: '127.0.0.1:0', STRATA_DEFAULT_DEVICE_SIZE: '512M', STRATA_SAN_AUTH_DELAY_MS: '20' });
    svc = gw.app.get(SanService);
    paths = svc.addresses().map((a) => `127.0.0.1:${a.port}`);
    await admin(gw, 'POST', 'volumes', { name: 'data', pool: 'default', size: '64M' });
    await admin(gw, 'POST', 'volumes', { name: 'ro', pool: 'default', size: '8M' });
    await admin(gw, 'POST', 'volumes', { name: 'other', pool: 'default', size: '8M' });
    await admin(gw, 'POST', 'volumes', { name: 'fs', pool: 'default', size: '128M' });
  });

  afterAll(async () => {
    await cli?.cleanup();
    await gw?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('keygen makes an owner-only key; every step before a working login says what is missing', async () => {
    let r = await cli.run(['discover']);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/no host key in .*home: run strata-client keygen/);

    r = await cli.run(['keygen', '--host', 'e2e']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/strata host add e2e --key "ssh-ed25519 AAAA[A-Za-z0-9+/=]+ e2e"/);
    expect(statSync(join(cli.home, 'host.key')).mode & 0o777).toBe(0o600);
    expect(statSync(cli.home).mode & 0o777).toBe(0o700);
    pub = readFileSync(join(cli.home, 'host.pub'), 'utf8').trim();
    expect(pub).toMatch(/^ssh-ed25519 \S+ e2e$/);

    r = await cli.run(['keygen']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('a host key already exists');

    r = await cli.run(['discover']);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('run strata-client login');

    // The key is not registered yet: the gateway refuses, and the message says how to register it.
    r = await cli.run(['login', paths[0]]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`gateway ${paths[0]} refused the login of host 'e2e'`);
    expect(r.stderr).toContain(`strata host add e2e --key "${pub}"`);

    // Nothing listens there: the address and what was tried.
    const silent = createSocket('udp4');
    await new Promise<void>((res) => silent.bind(0, '127.0.0.1', res));
    const nobody = `127.0.0.1:${silent.address().port}`;
    try {
      r = await cli.run(['login', nobody, '--timeout', '1']);
    } finally {
      silent.close();
    }
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(new RegExp(`SAN gateway ${nobody.replace(/\./g, '\\.')} did not answer the login \\(HELLO\\) within \\d+\\.\\d s, sent \\d+ times`));
    expect(existsSync(join(cli.home, 'client.json')) && JSON.parse(readFileSync(join(cli.home, 'client.json'), 'utf8')).gateways).toEqual([]);

    r = await cli.run(['login', 'bad:address:here']);
    expect(r.code).toBe(2);
  });

  it('logs in to both SAN addresses and remembers them; logout forgets', async () => {
    await admin(gw, 'POST', 'hosts', { name: 'e2e', publicKey: pub });
    await admin(gw, 'POST', 'assignments', { host: 'e2e', volume: 'data' });
    await admin(gw, 'POST', 'assignments', { host: 'e2e', volume: 'ro', access: 'ro' });
    await admin(gw, 'POST', 'assignments', { host: 'e2e', volume: 'fs' });

    let r = await cli.run(['login', paths[0]]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Logged in to ${paths[0]} as host 'e2e': 3 volumes assigned`);
    r = await cli.run(['login', paths[1]]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(cli.home, 'client.json'), 'utf8')).gateways).toEqual(paths);
    r = await cli.run(['logout', paths[1]]);
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(join(cli.home, 'client.json'), 'utf8')).gateways).toEqual([paths[0]]);
    r = await cli.run(['logout', paths[1]]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`not logged in to ${paths[1]}`);
    expect((await cli.run(['login', ...paths])).code).toBe(0);

    // Integrity-only is asked for only when the gateway allows it for this host, and then remembered.
    r = await cli.run(['login', paths[0], '--security', 'integrity']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`host 'e2e' must encrypt`);
    // A policy refusal, not an unknown key: no advice to register the key again.
    expect(r.stderr).not.toContain('strata host add');
    expect(JSON.parse(readFileSync(join(cli.home, 'client.json'), 'utf8')).security).toBeUndefined();
    await admin(gw, 'PATCH', 'hosts/e2e', { security: 'integrity' });
    r = await cli.run(['login', ...paths, '--security', 'integrity']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(cli.home, 'client.json'), 'utf8')).security).toBe('integrity');
    // So the attach cases below (nbdinfo, nbdcopy, fio's verify, ext4 through nbdfuse) run integrity-only sessions; the
    // SAN specs cover encrypted ones with the same checks.

    // A private key others can read is refused, with the fix.
    chmodSync(join(cli.home, 'host.key'), 0o644);
    r = await cli.run(['discover']);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/host\.key is readable by others \(mode 0644\): chmod 600/);
    chmodSync(join(cli.home, 'host.key'), 0o600);
  });

  it('discover lists the volumes assigned to this host with size, access and sharing', async () => {
    const r = await cli.run(['--json', 'discover']);
    expect(r.code, r.stderr).toBe(0);
    const vols = JSON.parse(r.stdout) as Array<{ name: string; size: number; readOnly: boolean; shared: boolean }>;
    expect(vols.map((v) => [v.name, v.size, v.readOnly, v.shared]).sort()).toEqual([
      ['data', 64 * MiB, false, false],
      ['fs', 128 * MiB, false, false],
      ['ro', 8 * MiB, true, false],
    ]);
    const human = await cli.run(['discover']);
    expect(human.stdout).toMatch(/^VOLUME\s+SIZE\s+ACCESS\s+SHARING/);
    expect(human.stdout).toMatch(/\nro\s+8 MiB\s+ro\s+exclusive/);
  });

  it('refuses with a clear error: unassigned volume, read-only volume for writing, a socket in use, a non-loopback --listen, a second attach', async () => {
    let r = await cli.run(['attach', 'other']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("volume 'other' is not assigned to host 'e2e'");
    expect(r.stderr).toContain('(NOT_ASSIGNED)');

    r = await cli.run(['attach', 'ro']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("volume 'ro' is assigned read-only to host 'e2e': attach it with --read-only (READ_ONLY)");

    // Something serves on that socket already.
    const busy = join(dir, 'busy.sock');
    const server = createServer(() => undefined);
    await new Promise<void>((res) => server.listen(busy, res));
    try {
      r = await cli.run(['attach', 'data', '--socket', busy]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`socket ${busy} is in use by another process`);
      expect(r.stderr).toContain('SOCKET_IN_USE');
      r = await cli.run(['attach', 'data', '--background', '--socket', busy]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('SOCKET_IN_USE');
    } finally {
      await new Promise<void>((res) => server.close(() => res()));
    }
    const tcp = createServer();
    await new Promise<void>((res) => tcp.listen(0, '127.0.0.1', res));
    const port = (tcp.address() as { port: number }).port;
    try {
      r = await cli.run(['attach', 'data', '--listen', `127.0.0.1:${port}`]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`cannot listen on 127.0.0.1:${port}: the address is in use`);
    } finally {
      await new Promise<void>((res) => tcp.close(() => res()));
    }

    r = await cli.run(['attach', 'data', '--listen', '0.0.0.0:10809']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('loopback only');
    r = await cli.run(['attach', 'data', '--listen', '127.0.0.1:1', '--socket', busy]);
    expect(r.code).toBe(2);
    r = await cli.run(['attach', 'data', '--busy-poll', '20000']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--busy-poll must be from 0 to 10000 microseconds');

    await cli.attach('data');
    r = await cli.run(['attach', 'data']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/volume 'data' is already attached \(pid \d+, nbd\+unix:\/\/\/data\?socket=.*\): strata-client detach data first/);
    expect((await cli.detach('data')).code).toBe(0);
    r = await cli.detach('data');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("volume 'data' is not attached");
  });

  describe.skipIf(missingTools.length > 0)('NBD clients through strata-client attach', () => {
    it('nbdinfo, nbdcopy (byte-identical), fio verify and qemu-img on the unix socket; status shows both paths', async () => {
      const s = await cli.attach('data', ['--sessions', '2']);
      expect(s.uri).toBe(`nbd+unix:///data?socket=${join(cli.home, 'run', 'data.nbd')}`);
      try {
        const info = JSON.parse((await run('nbdinfo', ['--json', s.uri])).stdout).exports[0];
        expect(info['export-size']).toBe(64 * MiB);
        expect(info).toMatchObject({ is_read_only: false, can_flush: true, can_fua: true, can_trim: true, can_zero: true, can_multi_conn: true, block_size_preferred: 4096 });

        const image = join(dir, 'in.img');
        const back = join(dir, 'out.img');
        const data = randomBytes(64 * MiB);
        writeFileSync(image, data);
        await run('nbdcopy', [image, s.uri]);
        await run('nbdcopy', [s.uri, back]);
        expect(sha(readFileSync(back))).toBe(sha(data));

        const { stdout } = await run(
          'fio',
          ['--name=verify', '--ioengine=nbd', `--uri=${s.uri}`, '--rw=randwrite', '--bs=4k', '--iodepth=16', '--size=16M', '--verify=crc32c', '--do_verify=1', '--verify_state_save=0', '--output-format=json'],
          { maxBuffer: 16 * MiB },
        );
        const job = fioJob(stdout);
        expect(job.error).toBe(0);
        expect(job.write.io_bytes).toBe(16 * MiB);
        expect(job.read.io_bytes).toBe(16 * MiB);

        expect(JSON.parse((await run('qemu-img', ['info', '--output=json', s.uri])).stdout)['virtual-size']).toBe(64 * MiB);
        const qcow = join(dir, 'copy.qcow2');
        await run('qemu-img', ['convert', '-O', 'qcow2', s.uri, qcow]);
        const raw = join(dir, 'copy.raw');
        await run('qemu-img', ['convert', '-O', 'raw', qcow, raw]);
        // fio rewrote the first 16 MiB; the rest is still the image.
        expect(sha(readFileSync(raw).subarray(16 * MiB))).toBe(sha(data.subarray(16 * MiB)));

        const st = await cli.status('data');
        expect(st.paths).toEqual([
          { gateway: paths[0], sessions: 2, up: 2 },
          { gateway: paths[1], sessions: 2, up: 2 },
        ]);
        expect(st.sessions).toHaveLength(4);
        for (const x of st.sessions) {
          expect(x.ops).toBeGreaterThan(0);
          expect(x.srtt).toBeGreaterThan(0);
          expect(x.retransmits).toBeGreaterThanOrEqual(0);
        }
        expect(st.io.bytesWritten).toBeGreaterThanOrEqual(80 * MiB);
        expect(st.nbd.errors).toBe(0);
        const human = await cli.run(['status']);
        expect(human.stdout).toMatch(/Paths:\s+127\.0\.0\.1:\d+ 2\/2 up, 127\.0\.0\.1:\d+ 2\/2 up/);
        // Logged in with --security integrity above.
        expect(human.stdout).toMatch(/Security:\s+integrity: data in clear, every datagram authenticated/);
        expect(human.stdout).toMatch(/GATEWAY\s+LOCAL\s+STATE\s+RTT\s+RTO\s+RETRANSMITS/);
      } finally {
        expect((await cli.detach('data')).code).toBe(0);
      }
      expect((await cli.run(['status'])).stdout.trim()).toBe('No volumes attached.');
    });

    it('serves a read-only volume read-only, and a writable one on loopback TCP', async () => {
      const ro = await cli.attach('ro', ['--read-only']);
      // Without busy polling: the same service, the loop sleeping between datagrams.
      const tcp = await cli.attach('data', ['--listen', '127.0.0.1:0', '--busy-poll', '0']);
      try {
        const info = JSON.parse((await run('nbdinfo', ['--json', ro.uri])).stdout).exports[0];
        expect(info).toMatchObject({ 'export-size': 8 * MiB, is_read_only: true });
        const small = join(dir, 'small.img');
        writeFileSync(small, randomBytes(MiB));
        await expect(run('nbdcopy', [small, ro.uri])).rejects.toThrow();

        expect(tcp.uri).toMatch(/^nbd:\/\/127\.0\.0\.1:\d+\/data$/);
        const t = JSON.parse((await run('nbdinfo', ['--json', tcp.uri])).stdout).exports[0];
        expect(t).toMatchObject({ 'export-size': 64 * MiB, is_read_only: false });
        // A client connected: detach refuses unless forced.
        const held = await nbdConnection(tcp.listen!, 'data');
        try {
          await until('the NBD connection', async () => (await cli.status('data')).nbd.connections === 1);
          const r = await cli.detach('data');
          expect(r.code).toBe(1);
          expect(r.stderr).toContain("1 NBD client is still connected to volume 'data'");
          expect((await cli.detach('data', true)).code).toBe(0);
        } finally {
          held.destroy();
        }
      } finally {
        await cli.detach('ro');
        await cli.detach('data', true);
      }
    });

    it('multipath: one of the two gateway listeners dies mid-workload; fio verify passes, and the path is used again once back', async () => {
      const s = await cli.attach('data', ['--sessions', '1', '--io-timeout', '60']);
      let fio: ChildProcess | undefined;
      try {
        let out = '';
        fio = spawn(
          'fio',
          // Writes capped at 8 MB/s: the write phase lasts a few seconds whatever the machine, so the path dies in the middle of it.
          ['--name=mp', '--ioengine=nbd', `--uri=${s.uri}`, '--rw=randwrite', '--bs=8k', '--iodepth=16', '--size=48M', '--rate=,8m', '--verify=crc32c', '--do_verify=1', '--verify_state_save=0', '--output-format=json'],
          { stdio: ['ignore', 'pipe', 'pipe'] },
        );
        fio.stdout!.on('data', (d: Buffer) => (out += d.toString()));
        fio.stderr!.on('data', (d: Buffer) => (out += d.toString()));
        const finished = new Promise<number | null>((res) => fio!.once('exit', (code) => res(code)));

        await until('writes under way', async () => (await cli.status('data')).io.bytesWritten > 4 * MiB);
        await svc.closeListener(paths[1]);
        const down = await until('path 2 down', async () => {
          const st = await cli.status('data');
          return st.paths[1].up === 0 ? st : undefined;
        });
        expect(down.paths[0].up).toBe(1);
        expect(down.sessions[1].lastError).toBeTruthy();
        const moved = (st: typeof down) => st.io.bytesWritten + st.io.bytesRead;
        const whileDown = moved(down);
        await until('I/O going on over path 1', async () => moved(await cli.status('data')) > whileDown + MiB);

        await svc.openListener(paths[1]);
        const back = await until('path 2 back', async () => {
          const st = await cli.status('data');
          return st.paths[1].up === 1 ? st : undefined;
        });
        expect(back.sessions[1].logins).toBeGreaterThanOrEqual(2);

        expect(await finished).toBe(0);
        const job = fioJob(out);
        expect(job.error).toBe(0);
        expect(job.write.io_bytes).toBe(48 * MiB);
        expect(job.read.io_bytes).toBe(48 * MiB);

        // Path 2 carries I/O again.
        const before = (await cli.status('data')).sessions[1].ops;
        await run('nbdcopy', [s.uri, join(dir, 'after.img')]);
        expect((await cli.status('data')).sessions[1].ops).toBeGreaterThan(before);
        expect((await cli.status('data')).nbd.errors).toBe(0);
        // The background process logged both changes (its log file is written asynchronously: wait for the lines).
        const logged = (line: string) => until(`log line "${line}"`, () => readFileSync(join(cli.home, 'run', 'data.log'), 'utf8').includes(line));
        await logged(`path ${paths[1]} (local port ${back.sessions[1].localPort}) is down: `);
        await logged(`path ${paths[1]} (local port ${back.sessions[1].localPort}) is up again`);
      } finally {
        fio?.kill('SIGKILL');
        await cli.detach('data', true);
      }
    }, 120_000);
  });

  describe.skipIf(fuseSkip !== undefined || missingTools.length > 0)('a filesystem through nbdfuse and a loop device', () => {
    const fuse = () => join(dir, 'fuse');
    const mnt = () => join(dir, 'mnt');

    /** nbdfuse on the attach's socket, ready once it wrote its pid file. */
    async function nbdfuse(uri: string): Promise<ChildProcess> {
      mkdirSync(fuse(), { recursive: true });
      const pidfile = join(dir, 'nbdfuse.pid');
      rmSync(pidfile, { force: true });
      const child = spawn('nbdfuse', ['-P', pidfile, fuse(), uri], { stdio: 'ignore' });
      await until('nbdfuse ready', () => existsSync(pidfile) && readFileSync(pidfile, 'utf8').trim() !== '');
      return child;
    }

    async function unfuse(child: ChildProcess): Promise<void> {
      const exited = new Promise((res) => child.once('exit', res));
      await run('umount', [fuse()]);
      await exited;
    }

    // The gateway runs in this process: file I/O on the mount goes through child processes (cp, sha256sum),
    // since a synchronous call here would block the very event loop that has to serve it.
    it('mkfs.ext4, mount, write files; detach; attach again: files intact, e2fsck clean', async () => {
      mkdirSync(mnt(), { recursive: true });
      const src = join(dir, 'files');
      mkdirSync(join(src, 'dir'), { recursive: true });
      const files = new Map<string, Buffer>([
        ['a.bin', randomBytes(5 * MiB)],
        ['b.txt', Buffer.from('strata-client e2e\n')],
        ['dir/c.bin', randomBytes(300 * 1024 + 17)],
      ]);
      for (const [name, data] of files) writeFileSync(join(src, name), data);
      const sums = async () => {
        const { stdout } = await run('sha256sum', [...files.keys()], { cwd: mnt() });
        return Object.fromEntries(stdout.trim().split('\n').map((l) => l.split(/\s+\*?/).reverse()));
      };
      const expected = Object.fromEntries([...files].map(([name, data]) => [name, sha(data)]));
      let s = await cli.attach('fs');
      let fuser = await nbdfuse(s.uri);
      let loop = '';
      try {
        await run('mkfs.ext4', ['-F', '-q', join(fuse(), 'nbd')]);
        loop = (await run('losetup', ['-f', '--show', '--direct-io=on', join(fuse(), 'nbd')])).stdout.trim();
        await run('mount', [loop, mnt()]);
        await run('cp', ['-r', `${src}/.`, mnt()]);
        expect(await sums()).toEqual(expected);
        await run('umount', [mnt()]);
        await run('losetup', ['-d', loop]);
        loop = '';
        await unfuse(fuser);
        await until('nbdfuse gone', async () => (await cli.status('fs')).nbd.connections === 0);
        expect((await cli.detach('fs')).code).toBe(0);

        s = await cli.attach('fs');
        fuser = await nbdfuse(s.uri);
        loop = (await run('losetup', ['-f', '--show', '--direct-io=on', join(fuse(), 'nbd')])).stdout.trim();
        await run('mount', ['-o', 'ro', loop, mnt()]);
        expect(await sums()).toEqual(expected);
        await run('umount', [mnt()]);
        const fsck = await run('e2fsck', ['-fn', loop]);
        expect(fsck.stdout).toMatch(/files .* blocks/);
      } finally {
        await run('umount', [mnt()]).catch(() => undefined);
        if (loop) await run('losetup', ['-d', loop]).catch(() => undefined);
        await unfuse(fuser).catch(() => fuser.kill('SIGKILL'));
        await cli.detach('fs', true);
      }
    }, 120_000);
  });
});
