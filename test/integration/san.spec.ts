import { createHash, randomBytes, type KeyObject } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SanClient, SanError, GatewayUnreachable } from '../../src/client';
import { Prng } from '../../src/common/prng';
import { SanService } from '../../src/san/san.service';
import { UdpDatagramSocket, whole, type DatagramSocket } from '../../src/san/transport/datagram-socket';
import { StorageRuntime } from '../../src/storage/runtime';
import { startTestGateway, type TestGateway } from '../utils/gateway';
import { admin, hostKeyPair, sanAddress } from '../utils/san-fixture';

const MiB = 2 ** 20;

async function expectSanError(p: Promise<unknown>, code: string, message?: RegExp): Promise<SanError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e, `expected ${code}`).toBeInstanceOf(SanError);
  expect((e as SanError).code).toBe(code);
  if (message) expect((e as SanError).message).toMatch(message);
  return e as SanError;
}

describe('SAN target and client', () => {
  let gw: TestGateway;
  let address: string;
  let h1: { privateKey: KeyObject; publicPem: string };
  let h2: { privateKey: KeyObject; publicPem: string };
  const clients: SanClient[] = [];
  const connect = async (o: Partial<Parameters<typeof SanClient.connect>[0]> = {}) => {
    const c = await SanClient.connect({ gateways: [address], host: 'h1', key: h1.privateKey, connectTimeoutMs: 3000, ...o });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    gw = await startTestGateway({ STRATA_SAN_AUTH_DELAY_MS: '20' });
    address = sanAddress(gw);
    h1 = hostKeyPair();
    h2 = hostKeyPair();
    await admin(gw, 'POST', 'hosts', { name: 'h1', publicKey: h1.publicPem });
    await admin(gw, 'POST', 'hosts', { name: 'h2', publicKey: h2.publicPem });
    await admin(gw, 'POST', 'volumes', { name: 'data', pool: 'default', size: '16M' });
    await admin(gw, 'POST', 'volumes', { name: 'ro', pool: 'default', size: '4M' });
    await admin(gw, 'POST', 'volumes', { name: 'shared', pool: 'default', size: '4M' });
    await admin(gw, 'POST', 'volumes', { name: 'other', pool: 'default', size: '4M' });
    await admin(gw, 'POST', 'assignments', { host: 'h1', volume: 'data' });
    await admin(gw, 'POST', 'assignments', { host: 'h1', volume: 'ro', access: 'ro' });
    await admin(gw, 'POST', 'assignments', { host: 'h1', volume: 'shared', sharing: 'shared' });
    await admin(gw, 'POST', 'assignments', { host: 'h2', volume: 'shared', sharing: 'shared' });
    await admin(gw, 'POST', 'assignments', { host: 'h2', volume: 'other' });
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await gw?.close();
  });

  it('logs in, discovers only the host\'s volumes, identifies them, and moves data', async () => {
    const c = await connect();
    const vols = await c.discover();
    expect(vols.map((v) => v.name).sort()).toEqual(['data', 'ro', 'shared']);
    expect(vols.find((v) => v.name === 'ro')).toMatchObject({ readOnly: true, shared: false, size: 4 * MiB, blockSize: 4096 });
    expect(vols.find((v) => v.name === 'shared')).toMatchObject({ readOnly: false, shared: true });

    const v = await c.open('data');
    const info = (await gw.api('volumes/data').then((r) => r.json())) as { id: string; serial: string };
    const id = await v.identify();
    expect(id).toMatchObject({ vendor: 'STRATA', serial: info.serial, blockSize: 4096, capacity: 16 * MiB, flags: 0, maxTransfer: 8 * MiB });
    expect(id.wwn).toHaveLength(16);
    expect(id.wwn[0] >> 4).toBe(6);
    // The WWN is derived from the volume id: a second session sees the same.
    const again = await connect();
    expect((await (await again.open('data')).identify()).wwn.equals(id.wwn)).toBe(true);
    expect(await v.capacity()).toEqual({ capacity: 16 * MiB, blockSize: 4096 });

    const data = randomBytes(3 * MiB + 8192);
    await v.write(4096, data, { fua: true });
    await v.flush();
    expect((await v.read(4096, data.length)).equals(data)).toBe(true);
    expect((await v.read(0, 4096)).equals(Buffer.alloc(4096))).toBe(true);

    await v.writeZeroes(8192, 64 * 1024);
    const back = await v.read(4096, 128 * 1024);
    expect(back.subarray(4096, 4096 + 65536).equals(Buffer.alloc(65536))).toBe(true);
    expect(back.subarray(0, 4096).equals(data.subarray(0, 4096))).toBe(true);
    await v.unmap(MiB, MiB);
    expect((await v.read(MiB, MiB)).equals(Buffer.alloc(MiB))).toBe(true);

    const s = c.stats()[0];
    expect(s.ops).toBeGreaterThan(5);
    expect(s.srtt).toBeGreaterThan(0);
    expect(s.bytesSent).toBeGreaterThan(3 * MiB);
  });

  it('splits large I/O across several sessions and gateway addresses, in parallel', async () => {
    const c = await connect({ gateways: [address, address], sessionsPerGateway: 2, datagramSize: 9000 });
    expect(c.stats()).toHaveLength(4);
    expect(new Set(c.stats().map((s) => s.localPort)).size).toBe(4);
    const v = await c.open('data');
    const data = randomBytes(8 * MiB);
    await v.write(0, data);
    await v.flush();
    expect(createHash('sha256').update(await v.read(0, data.length)).digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
    // Every session carried a piece.
    for (const s of c.stats()) expect(s.ops).toBeGreaterThanOrEqual(3);
    expect(c.negotiated().datagramSize).toBe(9000);
  });


  it('shares credits among the active sessions: idle ones do not shrink a busy one\'s grant', async () => {
    // Default datagrams (1,452 bytes): even the smallest receive buffer a kernel grants holds dozens.
    const idle = await connect({ sessionsPerGateway: 6 });
    const busy = await connect({ sessionsPerGateway: 1 });
    const idleVolume = await idle.open('data');
    const busyVolume = await busy.open('data');
    // Quiet for longer than the gateway's 200 ms window: only the busy session is active.
    await new Promise((r) => setTimeout(r, 500));
    await busyVolume.read(0, 64 * 1024);
    const alone = busy.stats()[0].credits!;
    // Now the six others carry reads too (2 MiB is split across all of them) while the busy one goes on.
    let stop = false;
    const others = (async () => {
      while (!stop) await idleVolume.read(0, 2 * MiB);
    })();
    await idleVolume.read(0, 2 * MiB);
    for (let i = 0; i < 20; i++) await busyVolume.read(0, 64 * 1024);
    const shared = busy.stats()[0].credits!;
    stop = true;
    await others;
    expect(idle.stats().every((s) => s.ops > 0)).toBe(true);
    // Seven sessions active against one (sessions of earlier tests may add a keepalive now and then).
    expect(shared).toBeGreaterThanOrEqual(4);
    expect(alone).toBeGreaterThanOrEqual(3 * shared);
  });
  it('refuses writes to a read-only assignment, unassigned volumes, bad ranges', async () => {
    const c = await connect();
    const ro = await c.open('ro');
    expect((await ro.read(0, 4096)).length).toBe(4096);
    await expectSanError(ro.write(0, Buffer.alloc(4096)), 'READ_ONLY', /read-only/);
    await expectSanError(ro.writeZeroes(0, 4096), 'READ_ONLY');
    await expectSanError(c.open('other'), 'NOT_ASSIGNED', /'other' is not assigned to host 'h1' \(assigned: /);
    await expectSanError(c.open('nope'), 'NOT_ASSIGNED');
    const v = await c.open('data');
    await expectSanError(v.read(16 * MiB, 4096), 'OUT_OF_RANGE');
    await expectSanError(v.read(10, 4096), 'OUT_OF_RANGE');
  });

  it('refuses a wrong key and an unknown host alike, and audits both', async () => {
    const wrong = hostKeyPair();
    const e1 = await expectSanError(connect({ key: wrong.privateKey }), 'AUTH_FAILED', /refused the login of host 'h1'/);
    expect(e1.gateway).toBe(address);
    await expectSanError(connect({ host: 'ghost' }), 'AUTH_FAILED', /host 'ghost'/);
    const audit = (await gw.api('audit?action=san.login').then((r) => r.json())) as { items?: unknown[] } | unknown[];
    const rows = (Array.isArray(audit) ? audit : (audit.items ?? [])) as Array<{ outcome: string; objectName: string; detail: { address: string; reason?: string } }>;
    expect(rows.some((r) => r.outcome === 'failure' && r.objectName === 'ghost' && r.detail.reason === 'unknown host')).toBe(true);
    expect(rows.some((r) => r.outcome === 'failure' && r.objectName === 'h1' && /signature/.test(r.detail.reason ?? ''))).toBe(true);
    expect(rows.some((r) => r.outcome === 'success' && r.objectName === 'h1' && r.detail.address.startsWith('127.0.0.1:'))).toBe(true);
    expect(gw.app.get(SanService).stats()!.loginsRefused).toBeGreaterThanOrEqual(2);
  });

  it('integrity-only sessions: only for a host set to integrity, data in clear but authenticated, revoked when set back to encrypt', async () => {
    const h3 = hostKeyPair();
    const created = await admin(gw, 'POST', 'hosts', { name: 'h3', publicKey: h3.publicPem });
    expect(created.security).toBe('encrypt');
    await admin(gw, 'POST', 'volumes', { name: 'clear', pool: 'default', size: '4M' });
    await admin(gw, 'POST', 'assignments', { host: 'h3', volume: 'clear' });
    // What the client puts on the wire, to see whether the data travels in clear.
    const sent: Buffer[] = [];
    const tapped = async () => {
      const s = await UdpDatagramSocket.bind('127.0.0.1', 0);
      return Object.assign(Object.create(s) as DatagramSocket, { send: (b: Buffer | readonly Buffer[], port: number, host: string) => (sent.push(whole(b)), s.send(b, port, host)) });
    };
    const pattern = Buffer.alloc(64 * 1024, 'strata-in-clear:');
    const onWire = () => sent.some((d) => d.includes(pattern.subarray(0, 48)));

    // Encrypted by default: the data never shows.
    const enc = await connect({ host: 'h3', key: h3.privateKey, socket: tapped });
    await (await enc.open('clear')).write(0, pattern);
    expect(onWire()).toBe(false);

    // A host set to encrypt is told, after it proved who it is, why integrity-only is refused.
    const policy = await expectSanError(connect({ host: 'h3', key: h3.privateKey, security: 'integrity' }), 'AUTH_FAILED', /host 'h3' must encrypt.*--security integrity/);
    expect(policy.message).not.toMatch(/unknown there/);
    const refused = (await admin(gw, 'GET', 'audit?action=san.login')) as unknown;
    const rows = (Array.isArray(refused) ? refused : ((refused as { items?: unknown[] }).items ?? [])) as Array<{ outcome: string; objectName: string; detail: { reason?: string } }>;
    expect(rows.some((r) => r.outcome === 'failure' && r.objectName === 'h3' && /integrity only/.test(r.detail.reason ?? ''))).toBe(true);

    const updated = await admin(gw, 'PATCH', 'hosts/h3', { security: 'integrity' });
    expect(updated.security).toBe('integrity');
    sent.length = 0;
    const clear = await connect({ host: 'h3', key: h3.privateKey, security: 'integrity', socket: tapped });
    const v = await clear.open('clear');
    await v.write(65536, pattern);
    expect(onWire()).toBe(true);
    expect((await v.read(0, 128 * 1024)).equals(Buffer.concat([pattern, pattern]))).toBe(true);
    // The encrypted session of the same host still works: integrity is what the host may ask for, not what it must use.
    expect((await (await enc.open('clear')).read(65536, 4096)).equals(pattern.subarray(0, 4096))).toBe(true);

    // Set back to encrypt: the integrity-only session is REVOKED at its next call; the encrypted one carries on.
    await admin(gw, 'PATCH', 'hosts/h3', { security: 'encrypt' });
    await expectSanError(v.read(0, 4096), 'REVOKED', /host 'h3' was set to encrypt/);
    expect((await (await enc.open('clear')).read(0, 4096)).equals(pattern.subarray(0, 4096))).toBe(true);
    await expect(admin(gw, 'PATCH', 'hosts/h3', { security: 'plaintext' })).rejects.toThrow(/400.*security/);
  });

  it('names the gateway address that does not answer', async () => {
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
    const silent = `127.0.0.1:${s.address().port}`;
    try {
      const e = await SanClient.connect({ gateways: [silent], host: 'h1', key: h1.privateKey, connectTimeoutMs: 300 }).then(
        () => null,
        (err: unknown) => err,
      );
      expect(e).toBeInstanceOf(GatewayUnreachable);
      expect((e as Error).message).toContain(silent);
    } finally {
      s.close();
    }
  });

  it('a revoked assignment takes effect on the next call, with the reason', async () => {
    await admin(gw, 'POST', 'volumes', { name: 'brief', pool: 'default', size: '4M' });
    const a = await admin(gw, 'POST', 'assignments', { host: 'h1', volume: 'brief' });
    const c = await connect();
    const v = await c.open('brief');
    await v.write(0, Buffer.alloc(4096, 1));
    await admin(gw, 'DELETE', `assignments/${a.id as string}`);
    await expectSanError(v.read(0, 4096), 'REVOKED', /assignment of volume 'brief' to host 'h1' was revoked/);
    expect((await c.discover()).map((x) => x.name)).not.toContain('brief');
  });

  it('a write reservation keeps other hosts out until released or its session ends', async () => {
    const a = await connect();
    const b = await connect({ host: 'h2', key: h2.privateKey });
    const va = await a.open('shared');
    const vb = await b.open('shared');
    await va.reserve();
    await va.write(0, Buffer.alloc(4096, 7));
    await expectSanError(vb.write(0, Buffer.alloc(4096, 8)), 'RESERVED', /reserved by host 'h1'/);
    expect((await vb.read(0, 4096))[0]).toBe(7);
    await expectSanError(vb.reserve(), 'RESERVED');
    await va.release();
    await vb.write(0, Buffer.alloc(4096, 8));
    await vb.reserve();
    await expectSanError(va.write(0, Buffer.alloc(4096)), 'RESERVED');
    // The holder's session ends (LOGOUT): the reservation goes with it.
    await b.close();
    await va.write(0, Buffer.alloc(4096, 9));
  });

  it('executes a WRITE once when its reply is lost and the call is retransmitted', async () => {
    const c = await connect();
    const v = await c.open('data');
    const disk = gw.app.get(StorageRuntime).disk(((await gw.api('volumes/data').then((r) => r.json())) as { id: string }).id)!;
    const before = disk.stats().write.ops;
    const replayed = gw.app.get(SanService).stats()!.callsReplayed;
    // Drop the next reply from the gateway: the client times out and sends the WRITE again.
    dropNextReply(c);
    await v.write(12 * MiB, Buffer.alloc(4096, 0x42));
    expect(disk.stats().write.ops - before).toBe(1);
    expect(gw.app.get(SanService).stats()!.callsReplayed).toBeGreaterThan(replayed);
    expect((await v.read(12 * MiB, 4096))[0]).toBe(0x42);
  });

  it('drops or answers garbage, forgeries and replays, counts them, and other sessions never notice', async () => {
    const c = await connect();
    const v = await c.open('data');
    await v.write(0, Buffer.alloc(4096, 3));
    const svc = gw.app.get(SanService);
    const before = { ...svc.stats()! };
    const raw = createSocket('udp4');
    await new Promise<void>((r) => raw.bind(0, '127.0.0.1', r));
    const [host, port] = address.split(':');
    const answers: Buffer[] = [];
    raw.on('message', (m) => answers.push(m));
    const send = (b: Buffer) => new Promise<void>((r) => raw.send(b, Number(port), host, () => r()));
    try {
      const sessionId = c.stats()[0].sessionId;
      const header = (kind: number, version = 1, flags = 0, payload = Buffer.alloc(0), session = sessionId) => {
        const h = Buffer.alloc(40);
        h.writeUInt16BE(0x5342, 0);
        h[2] = version;
        h[3] = kind;
        h[4] = flags;
        h.writeUInt16BE(payload.length, 6);
        h.writeUInt32BE(session, 8);
        h.writeUInt32BE(77, 12);
        h.writeUInt16BE(1, 18);
        h.writeUInt32BE(Math.max(1, payload.length), 20);
        h.writeBigUInt64BE(9n, 24);
        const body = Buffer.concat([h, payload]);
        // A SEALED datagram's CRC covers its header only (the GCM tag covers the payload).
        body.writeUInt32BE(crc32((flags & 1) !== 0 ? body.subarray(0, 36) : Buffer.concat([body.subarray(0, 36), payload])), 36);
        return body;
      };
      const prng = new Prng(9);
      for (let i = 0; i < 200; i++) await send(prng.bytes(prng.int(0, 300)));
      await send(Buffer.from('SB'));
      const badCrc = header(1);
      badCrc[39] ^= 1;
      await send(badCrc);
      // Intact but a version we do not speak: answered with ERROR BAD_VERSION.
      await send(header(1, 9));
      // A sealed CALL with a made-up tag, from the session's own address and port: a forgery.
      const forged = Buffer.concat([header(1, 1, 1, Buffer.alloc(24, 1)), Buffer.alloc(16, 2)]);
      const own = (c as unknown as { sessions: Array<{ o: { socket: { send(b: Buffer, p: number, a: string): void } } }> }).sessions[0].o.socket;
      own.send(forged, Number(port), host);
      // The same from elsewhere is not even tried: wrong peer for that session.
      await send(forged);
      // A session that does not exist: NO_SESSION.
      await send(header(1, 1, 0, Buffer.alloc(8), 12345));
      await new Promise((r) => setTimeout(r, 100));
      const after = svc.stats()!;
      expect(after.malformed - before.malformed).toBeGreaterThanOrEqual(200);
      expect(after.badVersionOrKind - before.badVersionOrKind).toBe(1);
      expect(after.forged - before.forged).toBe(1);
      expect(after.unexpected - before.unexpected).toBe(1);
      expect(after.noSession - before.noSession).toBe(1);
      expect(after.serverFaults).toBe(0);
      const kinds = answers.map((a) => ({ kind: a[3], status: a[40] }));
      expect(kinds).toContainEqual({ kind: 6, status: 1 });
      expect(kinds).toContainEqual({ kind: 6, status: 6 });
      // The real session goes on as if nothing happened.
      expect((await v.read(0, 4096))[0]).toBe(3);
      expect(c.stats()[0].logins).toBe(1);
    } finally {
      raw.close();
    }
  });

  it('answers LOGOUT before the session ends', async () => {
    const c = await SanClient.connect({ gateways: [address], host: 'h1', key: h1.privateKey, connectTimeoutMs: 3000 });
    await c.open('data');
    const before = c.stats()[0].ops;
    await c.close();
    // The LOGOUT's reply arrived (a reply counts as an op); without it the client gives up after 500 ms.
    expect(c.stats()[0].ops).toBe(before + 1);
  });

  it('drops replayed datagrams of a session', async () => {
    const c = await connect();
    const v = await c.open('data');
    const copies: Buffer[] = [];
    const session = (c as unknown as { sessions: Array<{ o: { socket: DatagramSocket } }> }).sessions[0];
    const socket = session.o.socket;
    const send = socket.send.bind(socket);
    socket.send = (b, p, a) => {
      copies.push(Buffer.from(whole(b)));
      send(b, p, a);
    };
    await v.write(4096, Buffer.alloc(4096, 5));
    await v.write(4096, Buffer.alloc(4096, 6));
    const replayed = gw.app.get(SanService).stats()!.replayed;
    const [host, port] = address.split(':');
    for (const b of copies) send(b, Number(port), host);
    await new Promise((r) => setTimeout(r, 100));
    expect(gw.app.get(SanService).stats()!.replayed - replayed).toBe(copies.length);
    expect((await v.read(4096, 4096))[0]).toBe(6);
  });
});

describe('a gateway with san.security=encrypt', () => {
  let gw: TestGateway;
  afterAll(async () => gw?.close());

  it('refuses integrity-only logins of every host, whatever its own setting, and says so', async () => {
    gw = await startTestGateway({ STRATA_SAN_SECURITY: 'encrypt', STRATA_SAN_AUTH_DELAY_MS: '20' });
    const h = hostKeyPair();
    await admin(gw, 'POST', 'hosts', { name: 'trusted', publicKey: h.publicPem, security: 'integrity' });
    const o = { gateways: [sanAddress(gw)], host: 'trusted', key: h.privateKey, connectTimeoutMs: 3000 };
    await expectSanError(SanClient.connect({ ...o, security: 'integrity' }), 'AUTH_FAILED', /encrypts every session/);
    const c = await SanClient.connect(o);
    expect(c.stats()[0].up).toBe(true);
    await c.close();
  });
});

describe('SAN sessions that go quiet', () => {
  let gw: TestGateway;

  afterAll(async () => {
    await gw?.close();
  });

  it('are dropped after the idle timeout, their reservations released; the client logs in again by itself', async () => {
    gw = await startTestGateway({ STRATA_SAN_IDLE_TIMEOUT: '1' });
    const address = sanAddress(gw);
    const a = hostKeyPair();
    const b = hostKeyPair();
    await admin(gw, 'POST', 'hosts', { name: 'a', publicKey: a.publicPem });
    await admin(gw, 'POST', 'hosts', { name: 'b', publicKey: b.publicPem });
    await admin(gw, 'POST', 'volumes', { name: 'v', pool: 'default', size: '4M' });
    await admin(gw, 'POST', 'assignments', { host: 'a', volume: 'v', sharing: 'shared' });
    await admin(gw, 'POST', 'assignments', { host: 'b', volume: 'v', sharing: 'shared' });
    // No keepalive within the test: the session goes silent.
    const ca = await SanClient.connect({ gateways: [address], host: 'a', key: a.privateKey, keepaliveMs: 60_000 });
    const cb = await SanClient.connect({ gateways: [address], host: 'b', key: b.privateKey, keepaliveMs: 200 });
    try {
      const va = await ca.open('v');
      const vb = await cb.open('v');
      await va.reserve();
      await expectSanError(vb.write(0, Buffer.alloc(4096, 1)), 'RESERVED');
      const svc = gw.app.get(SanService);
      while (svc.stats()!.sessionsExpired === 0) await new Promise((r) => setTimeout(r, 100));
      // b kept its session alive with NOPs; a's went, and the reservation with it.
      await vb.write(0, Buffer.alloc(4096, 1));
      expect(cb.stats()[0].logins).toBe(1);
      // a's next call finds no session, logs in again and goes through.
      expect((await va.read(0, 4096))[0]).toBe(1);
      expect(ca.stats()[0].logins).toBe(2);
    } finally {
      await ca.close();
      await cb.close();
    }
  });
});

/** Reach into the client's first session socket and drop the next REPLY_SEG datagram it receives. */
function dropNextReply(c: SanClient): void {
  const session = (c as unknown as { sessions: Array<{ onDatagram(buf: Buffer, from: unknown): void }> }).sessions[0];
  const original = session.onDatagram.bind(session);
  let dropped = false;
  session.onDatagram = (buf: Buffer, from: unknown) => {
    if (!dropped && buf.length > 3 && buf[3] === 2) {
      dropped = true;
      return;
    }
    original(buf, from);
  };
}
