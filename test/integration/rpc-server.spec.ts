import { connect } from 'node:net';
import { Duplex, PassThrough } from 'node:stream';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Prng } from '../../src/common/prng';
import { AcceptStat, AuthFlavor, AuthStat, RejectStat } from '../../src/protocols/oncrpc/constants';
import { type Credential, encodeAuthSys, encodeCallHeader } from '../../src/protocols/oncrpc/message';
import { XdrWriter } from '../../src/protocols/xdr/xdr';
import { RpcClient, RpcReplyError, RpcUdpClient } from '../../src/nas/rpc/rpc-client';
import { NULL_PROCEDURE, type RpcProgram } from '../../src/nas/rpc/rpc-program';
import { RpcServer } from '../../src/nas/rpc/rpc-server';
import { MemoryLog, TEST_PROG, TestProc, TestService } from '../utils/rpc-fixture';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const SYS: Credential = { flavor: AuthFlavor.AUTH_SYS, sys: { stamp: 1, machinename: 'ws1', uid: 1000, gid: 1000, gids: [1000, 27] } };
const NFS_PROG = 100003;
/** A stand-in for NFS with only version 3, accepting AUTH_SYS alone. */
const nfsLike: RpcProgram = {
  prog: NFS_PROG,
  name: 'NFS',
  versions: { 3: { 0: NULL_PROCEDURE, 1: { name: 'GETATTR', decode: () => undefined, handle: () => 1, encode: (w, v: number) => void w.uint32(v), idempotent: true } } },
  authFlavors: [AuthFlavor.AUTH_SYS],
};
const str = (s: string) => (w: XdrWriter) => void w.string(s);
const u32 = (n: number) => (w: XdrWriter) => void w.uint32(n);

async function started(opts: ConstructorParameters<typeof RpcServer>[1] = {}) {
  const service = new TestService();
  const log = new MemoryLog();
  const server = new RpcServer([service.program(), nfsLike], { log, ...opts });
  const { port } = await server.listen(0, '127.0.0.1');
  return { service, log, server, port };
}

describe('RPC server over TCP: dispatch semantics', () => {
  let s: Awaited<ReturnType<typeof started>>;
  let c: RpcClient;
  beforeAll(async () => {
    s = await started();
    c = await RpcClient.connect({ host: '127.0.0.1', port: s.port });
  });
  afterAll(async () => {
    await c.close();
    await s.server.close();
  });

  it('SUCCESS: runs the procedure and returns its results (reply bytes as the RFC lays them out)', async () => {
    const reply = await c.call(TEST_PROG, 1, TestProc.ECHO, str('hi'), { xid: 0x0a0b0c0d });
    expect(reply.record.toString('hex')).toBe(hex('0a0b0c0d 00000001 00000000 00000000 00000000 00000000 00000002 68690000').toString('hex'));
    expect(await c.callOk(TEST_PROG, 1, TestProc.ECHO, str('hello'), (r) => r.string())).toBe('hello');
  });

  it('PROG_UNAVAIL for a program not served', async () => {
    const reply = await c.call(100099, 1, 0, undefined, { xid: 1 });
    expect(reply.status).toEqual({ accept_stat: AcceptStat.PROG_UNAVAIL });
    expect(reply.record).toEqual(hex('00000001 00000001 00000000 00000000 00000000 00000001'));
  });

  it('PROG_MISMATCH with the served range: an NFSv4 call gets 3..3', async () => {
    const reply = await c.call(NFS_PROG, 4, 0, undefined, { xid: 2, cred: SYS });
    expect(reply.status).toEqual({ accept_stat: AcceptStat.PROG_MISMATCH, mismatch_info: { low: 3, high: 3 } });
    expect(reply.record).toEqual(hex('00000002 00000001 00000000 00000000 00000000 00000002 00000003 00000003'));
    expect((await c.call(TEST_PROG, 7, 0)).status).toEqual({ accept_stat: AcceptStat.PROG_MISMATCH, mismatch_info: { low: 1, high: 2 } });
    expect((await c.call(TEST_PROG, 0, 0)).status).toEqual({ accept_stat: AcceptStat.PROG_MISMATCH, mismatch_info: { low: 1, high: 2 } });
  });

  it('PROC_UNAVAIL for a procedure the version lacks', async () => {
    const reply = await c.call(TEST_PROG, 2, TestProc.ECHO, str('x'), { xid: 3 });
    expect(reply.record).toEqual(hex('00000003 00000001 00000000 00000000 00000000 00000003'));
    expect((await c.call(TEST_PROG, 1, 99)).status).toEqual({ accept_stat: AcceptStat.PROC_UNAVAIL });
  });

  it('GARBAGE_ARGS for undecodable arguments and for trailing bytes', async () => {
    const tooLong = await c.call(TEST_PROG, 1, TestProc.ECHO, str('x'.repeat(65)), { xid: 4 });
    expect(tooLong.record).toEqual(hex('00000004 00000001 00000000 00000000 00000000 00000004'));
    const trailing = await c.call(TEST_PROG, 1, TestProc.ECHO, (w) => w.string('ok').uint32(7));
    expect(trailing.status).toEqual({ accept_stat: AcceptStat.GARBAGE_ARGS });
    const truncated = await c.call(TEST_PROG, 1, TestProc.COUNT);
    expect(truncated.status).toEqual({ accept_stat: AcceptStat.GARBAGE_ARGS });
    expect(s.service.runs.COUNT ?? 0).toBe(0);
  });

  it('SYSTEM_ERR when a handler throws, logged with the peer, and the server keeps serving', async () => {
    const reply = await c.call(TEST_PROG, 1, TestProc.FAIL, undefined, { xid: 5 });
    expect(reply.record).toEqual(hex('00000005 00000001 00000000 00000000 00000000 00000005'));
    expect(s.log.lines.some((l) => /^error TESTv1\.FAIL xid 5 from 127\.0\.0\.1:\d+ failed: the disk caught fire$/.test(l))).toBe(true);
    expect(await c.callOk(TEST_PROG, 1, TestProc.ECHO, str('still here'), (r) => r.string())).toBe('still here');
    expect(s.server.stats.errors).toBe(1);
  });

  it('RPC_MISMATCH 2..2 for rpcvers other than 2', async () => {
    const call = hex('00000006 00000000 00000003 20000099 00000001 00000000 00000000 00000000 00000000 00000000');
    const pending = c.awaitReply(6);
    c.sendRecord(call);
    const reply = await pending;
    expect(reply.record).toEqual(hex('00000006 00000001 00000001 00000000 00000002 00000002'));
    expect(reply.status).toEqual({ reject_stat: RejectStat.RPC_MISMATCH, mismatch_info: { low: 2, high: 2 } });
  });

  it('AUTH_ERROR AUTH_BADCRED for a malformed AUTH_SYS credential (17 groups)', async () => {
    const body = encodeAuthSys({ stamp: 0, machinename: 'm', uid: 0, gid: 0, gids: new Array(17).fill(5) });
    const w = new XdrWriter().uint32(7).uint32(0).uint32(2).uint32(TEST_PROG).uint32(1).uint32(0).uint32(AuthFlavor.AUTH_SYS).varOpaque(body).uint32(0).uint32(0);
    const pending = c.awaitReply(7);
    c.sendRecord(w.toBuffer());
    expect((await pending).record).toEqual(hex('00000007 00000001 00000001 00000001 00000001'));
  });

  it('AUTH_ERROR AUTH_TOOWEAK for a flavor the program does not accept, except for NULL', async () => {
    const weak = await c.call(NFS_PROG, 3, 1, undefined, { xid: 8 });
    expect(weak.record).toEqual(hex('00000008 00000001 00000001 00000001 00000005'));
    // NULL needs no credentials; the version and procedure checks still come first.
    expect((await c.call(NFS_PROG, 3, 0)).status).toEqual({ accept_stat: AcceptStat.SUCCESS });
    expect(await c.callOk(NFS_PROG, 3, 1, undefined, (r) => r.uint32(), { cred: SYS })).toBe(1);
    expect((await c.call(NFS_PROG, 3, 2)).status).toEqual({ accept_stat: AcceptStat.PROC_UNAVAIL });
  });

  it('AUTH_ERROR AUTH_BADCRED for a flavor the server cannot verify (RPCSEC_GSS), even for NULL', async () => {
    const gss: Credential = { flavor: AuthFlavor.RPCSEC_GSS, body: hex('00000001 00000001') };
    expect((await c.call(NFS_PROG, 3, 0, undefined, { cred: gss })).status).toEqual({ reject_stat: RejectStat.AUTH_ERROR, auth_stat: AuthStat.AUTH_BADCRED });
  });

  it('a handler can deny (AUTH_TOOWEAK) or drop the reply', async () => {
    expect((await c.call(TEST_PROG, 1, TestProc.DENY)).status).toEqual({ reject_stat: RejectStat.AUTH_ERROR, auth_stat: AuthStat.AUTH_TOOWEAK });
    await expect(c.call(TEST_PROG, 1, TestProc.DROP, undefined, { timeoutMs: 300 })).rejects.toThrow(/no reply to xid/);
    expect(s.server.stats.dropped).toBe(1);
  });

  it('callOk reports a non-SUCCESS status as RpcReplyError in the RFC words', async () => {
    await expect(c.callOk(NFS_PROG, 4, 0, undefined, () => 0)).rejects.toThrow(RpcReplyError);
    await expect(c.callOk(NFS_PROG, 4, 0, undefined, () => 0)).rejects.toThrow(/PROG_MISMATCH 3\.\.3/);
  });

  it('passes the parsed credential, addresses and connection id to the handler', async () => {
    const seen: unknown[] = [];
    const probe: RpcProgram = {
      prog: 0x20000100,
      name: 'PROBE',
      versions: { 1: { 1: { name: 'WHO', decode: () => undefined, handle: (_a: unknown, ctx) => void seen.push(ctx), encode: () => undefined, idempotent: true } } },
    };
    s.server.addProgram(probe);
    await c.callOk(0x20000100, 1, 1, undefined, () => undefined, { cred: SYS, xid: 77 });
    expect(seen[0]).toMatchObject({
      xid: 77,
      prog: 0x20000100,
      vers: 1,
      proc: 1,
      procName: 'WHO',
      cred: SYS,
      transport: 'tcp',
      remoteAddress: '127.0.0.1',
      localAddress: '127.0.0.1',
      localPort: s.port,
    });
    expect((seen[0] as { connectionId: number }).connectionId).toBeGreaterThan(0);
  });

  it('counts calls by procedure name', () => {
    expect(s.server.stats.byProc['TESTv1.ECHO']).toBeGreaterThanOrEqual(3);
    expect(s.server.stats.progUnavail).toBe(1);
    expect(s.server.stats.garbage).toBeGreaterThanOrEqual(3);
  });
});

describe('RPC server: many outstanding calls per connection', () => {
  let s: Awaited<ReturnType<typeof started>>;
  afterEach(async () => {
    await s.server.close();
  });

  it('answers pipelined calls in completion order, matched by xid', async () => {
    s = await started();
    const c = await RpcClient.connect({ host: '127.0.0.1', port: s.port });
    const order: number[] = [];
    const ids = [1, 2, 3, 4, 5, 6, 7, 8];
    const calls = ids.map((id) => c.callOk(TEST_PROG, 1, TestProc.WAIT, u32(id), (r) => r.uint32()).then((v) => (order.push(v), v)));
    while (s.service.running < ids.length) await new Promise((r) => setImmediate(r));
    for (const id of [5, 2, 8, 1, 7, 3, 6, 4]) {
      s.service.release(id);
      // Wait for this reply before releasing the next, so the completion order is the release order.
      while (!order.includes(id)) await new Promise((r) => setImmediate(r));
    }
    expect(await Promise.all(calls)).toEqual(ids);
    expect(order).toEqual([5, 2, 8, 1, 7, 3, 6, 4]);
    await c.close();
  });

  it('bounds calls in flight per connection and pauses reading beyond it', async () => {
    s = await started({ maxInflight: 4 });
    const c = await RpcClient.connect({ host: '127.0.0.1', port: s.port });
    const calls = Array.from({ length: 20 }, (_, i) => c.callOk(TEST_PROG, 1, TestProc.WAIT, u32(100 + i), (r) => r.uint32()));
    while (s.service.running < 4) await new Promise((r) => setImmediate(r));
    // Give the server every chance to start more than it may.
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(s.service.running).toBe(4);
    for (let i = 0; i < 20; i++) s.service.release(100 + i);
    expect(await Promise.all(calls)).toEqual(Array.from({ length: 20 }, (_, i) => 100 + i));
    expect(s.service.maxRunning).toBe(4);
    await c.close();
  });

  it('stops reading calls while the client does not read its replies, and catches up when it does', async () => {
    s = await started();
    const c = await RpcClient.connect({ host: '127.0.0.1', port: s.port }, { maxRecord: 2 ** 20 });
    c.stream.pause();
    const n = 150;
    const size = 256 * 1024;
    const calls = Array.from({ length: n }, () => c.callOk(TEST_PROG, 1, TestProc.BLOB, u32(size), (r) => r.varOpaque().length));
    // Wait until the server has stopped starting calls (its socket buffer is full and reading paused).
    let last = -1;
    while (last !== s.service.runs.BLOB) {
      last = s.service.runs.BLOB ?? 0;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(s.service.runs.BLOB).toBeLessThan(n);
    c.stream.resume();
    expect(await Promise.all(calls)).toEqual(new Array(n).fill(size));
    expect(s.service.runs.BLOB).toBe(n);
    await c.close();
  });

  it('serves many connections at once', async () => {
    s = await started();
    const clients = await Promise.all(Array.from({ length: 20 }, () => RpcClient.connect({ host: '127.0.0.1', port: s.port })));
    const results = await Promise.all(clients.flatMap((c, i) => Array.from({ length: 10 }, (_, j) => c.callOk(TEST_PROG, 1, TestProc.ECHO, str(`${i}.${j}`), (r) => r.string()))));
    expect(results).toEqual(clients.flatMap((_, i) => Array.from({ length: 10 }, (_, j) => `${i}.${j}`)));
    expect(s.server.stats.activeConnections).toBe(20);
    await Promise.all(clients.map((c) => c.close()));
    expect(s.server.stats.connections).toBe(20);
  });

  it('answers the calls sent before the client shut down its side', async () => {
    s = await started();
    const c = await RpcClient.connect({ host: '127.0.0.1', port: s.port });
    const calls = [1, 2, 3].map((i) => c.callOk(TEST_PROG, 1, TestProc.ECHO, str(`x${i}`), (r) => r.string()));
    c.stream.end();
    expect(await Promise.all(calls)).toEqual(['x1', 'x2', 'x3']);
    await c.closed;
  });
});

describe('RPC server: record marking on the wire', () => {
  let s: Awaited<ReturnType<typeof started>>;
  beforeEach(async () => {
    s = await started({ maxRecord: 4096 });
  });
  afterEach(async () => {
    await s.server.close();
  });

  it('reassembles a call sent as many fragments, split across writes at odd places', async () => {
    const c = await RpcClient.connect({ host: '127.0.0.1', port: s.port });
    const w = encodeCallHeader(new XdrWriter(), { xid: 42, prog: TEST_PROG, vers: 1, proc: TestProc.ECHO, cred: SYS }).string('fragmented call');
    const pending = c.awaitReply(42);
    c.sendRecord(w.toBuffer(), 3);
    const reply = await pending;
    expect(reply.body.string()).toBe('fragmented call');
    // And the same one byte per write.
    const p2 = c.awaitReply(43);
    const frag = Buffer.concat(
      (await import('../../src/protocols/oncrpc/record')).frameRecord([encodeCallHeader(new XdrWriter(), { xid: 43, prog: TEST_PROG, vers: 1, proc: TestProc.ECHO }).string('bytewise').toBuffer()], 5),
    );
    for (const b of frag) c.writeRaw(Buffer.from([b]));
    expect((await p2).body.string()).toBe('bytewise');
    await c.close();
  });

  it('closes a connection whose record exceeds the limit, logs the peer, and keeps serving others', async () => {
    const good = await RpcClient.connect({ host: '127.0.0.1', port: s.port });
    const bad = await RpcClient.connect({ host: '127.0.0.1', port: s.port });
    const badPort = (bad.stream as import('node:net').Socket).localPort;
    bad.writeRaw(hex('80001001'));
    await bad.closed;
    expect(s.server.stats.recordErrors).toBe(1);
    expect(s.log.lines).toContain(`warn closing RPC connection from 127.0.0.1:${badPort}: record of at least 4097 bytes (fragment 1 of 4097 bytes) exceeds the limit of 4096 bytes`);
    expect(await good.callOk(TEST_PROG, 1, TestProc.ECHO, str('fine'), (r) => r.string())).toBe('fine');
    // A record of exactly the limit is served.
    const w = encodeCallHeader(new XdrWriter(), { xid: 9, prog: TEST_PROG, vers: 1, proc: TestProc.ECHO });
    const pad = 4096 - w.length - 4;
    const exact = good.awaitReply(9);
    good.sendRecord(w.uint32(pad).fixedOpaque(Buffer.alloc(pad)).toBuffer());
    expect((await exact).status).toEqual({ accept_stat: AcceptStat.GARBAGE_ARGS });
    await good.close();
  });

  it('survives random records and raw garbage, then answers a good client', async () => {
    const prng = new Prng(2024);
    const good = encodeCallHeader(new XdrWriter(), { xid: 1, prog: TEST_PROG, vers: 1, proc: TestProc.COUNT, cred: SYS }).uint32(1).toBuffer();
    for (let round = 0; round < 40; round++) {
      const c = await RpcClient.connect({ host: '127.0.0.1', port: s.port });
      for (let i = 0; i < 25; i++) {
        const kind = prng.int(0, 3);
        if (kind === 0) c.sendRecord(prng.bytes(prng.int(0, 200)), prng.int(1, 64));
        else if (kind === 1) {
          const m = Buffer.from(good);
          for (let k = prng.int(1, 5); k > 0; k--) m[prng.int(0, m.length)] = prng.int(0, 256);
          c.sendRecord(m);
        } else c.writeRaw(prng.bytes(prng.int(1, 40)));
        if (c.stream.destroyed) break;
      }
      c.destroy();
      await c.closed;
    }
    const c = await RpcClient.connect({ host: '127.0.0.1', port: s.port });
    expect(await c.callOk(TEST_PROG, 1, TestProc.ECHO, str('alive'), (r) => r.string())).toBe('alive');
    await c.close();
    expect(s.server.stats.garbage + s.server.stats.recordErrors).toBeGreaterThan(0);
  });
});

describe('RPC server: duplicate request cache', () => {
  let s: Awaited<ReturnType<typeof started>>;
  let c: RpcClient;
  beforeEach(async () => {
    s = await started({ drc: { maxEntries: 3 } });
    c = await RpcClient.connect({ host: '127.0.0.1', port: s.port });
  });
  afterEach(async () => {
    await c.close();
    await s.server.close();
  });

  it('answers a retransmitted non-idempotent call from the cache: it runs once', async () => {
    const first = await c.call(TEST_PROG, 1, TestProc.COUNT, u32(5), { xid: 500, cred: SYS });
    const again = await c.call(TEST_PROG, 1, TestProc.COUNT, u32(5), { xid: 500, cred: SYS });
    expect(again.record).toEqual(first.record);
    expect(first.body.uint32()).toBe(5);
    expect(s.service.runs.COUNT).toBe(1);
    expect(s.server.stats.drcHits).toBe(1);
  });

  it('also after the client reconnects (from another port)', async () => {
    await c.call(TEST_PROG, 1, TestProc.COUNT, u32(5), { xid: 501 });
    const c2 = await RpcClient.connect({ host: '127.0.0.1', port: s.port });
    expect(await c2.callOk(TEST_PROG, 1, TestProc.COUNT, u32(5), (r) => r.uint32(), { xid: 501 })).toBe(5);
    await c2.close();
    expect(s.service.runs.COUNT).toBe(1);
  });

  it('runs idempotent calls again, and calls with the same xid but other arguments', async () => {
    await c.call(TEST_PROG, 1, TestProc.ECHO, str('a'), { xid: 502 });
    await c.call(TEST_PROG, 1, TestProc.ECHO, str('a'), { xid: 502 });
    expect(s.service.runs.ECHO).toBe(2);
    await c.call(TEST_PROG, 1, TestProc.COUNT, u32(1), { xid: 503 });
    expect(await c.callOk(TEST_PROG, 1, TestProc.COUNT, u32(2), (r) => r.uint32(), { xid: 503 })).toBe(3);
    expect(s.service.runs.COUNT).toBe(2);
  });

  it('drops a retransmission of a call still in progress (never runs it twice)', async () => {
    const call = encodeCallHeader(new XdrWriter(), { xid: 600, prog: TEST_PROG, vers: 1, proc: TestProc.WAITCOUNT }).uint32(7).toBuffer();
    const reply = c.awaitReply(600);
    c.sendRecord(call);
    while (s.service.running < 1) await new Promise((r) => setImmediate(r));
    c.sendRecord(call);
    while (s.server.stats.drcInProgressDrops < 1) await new Promise((r) => setImmediate(r));
    s.service.release(0);
    expect((await reply).body.uint32()).toBe(7);
    // A later call's reply proves the duplicate got none.
    await c.callOk(TEST_PROG, 1, TestProc.NULL, undefined, () => undefined);
    expect(c.unmatched).toBe(0);
    expect(s.service.runs.WAITCOUNT).toBe(1);
    // Once complete, a retransmission gets the cached reply.
    expect(await c.callOk(TEST_PROG, 1, TestProc.WAITCOUNT, u32(7), (r) => r.uint32(), { xid: 600 })).toBe(7);
    expect(s.service.runs.WAITCOUNT).toBe(1);
  });

  it('keeps at most maxEntries replies, least recently used evicted first', async () => {
    for (const xid of [701, 702, 703]) await c.call(TEST_PROG, 1, TestProc.COUNT, u32(1), { xid });
    await c.call(TEST_PROG, 1, TestProc.COUNT, u32(1), { xid: 701 }); // hit: 701 becomes the youngest
    await c.call(TEST_PROG, 1, TestProc.COUNT, u32(1), { xid: 704 }); // evicts 702
    expect(s.service.runs.COUNT).toBe(4);
    await c.call(TEST_PROG, 1, TestProc.COUNT, u32(1), { xid: 701 });
    expect(s.service.runs.COUNT).toBe(4);
    await c.call(TEST_PROG, 1, TestProc.COUNT, u32(1), { xid: 702 });
    expect(s.service.runs.COUNT).toBe(5);
  });

  it('forgets a call whose handler dropped the reply, so a retransmission runs', async () => {
    await expect(c.call(TEST_PROG, 1, TestProc.DROP, undefined, { xid: 800, timeoutMs: 200 })).rejects.toThrow();
    await expect(c.call(TEST_PROG, 1, TestProc.DROP, undefined, { xid: 800, timeoutMs: 200 })).rejects.toThrow();
    expect(s.server.stats.dropped).toBe(2);
  });
});

describe('RPC server: other transports', () => {
  it('serves an injected duplex stream (handle(stream))', async () => {
    const service = new TestService();
    const server = new RpcServer([service.program()], { log: new MemoryLog() });
    const toServer = new PassThrough();
    const toClient = new PassThrough();
    const serverSide = Duplex.from({ readable: toServer, writable: toClient });
    const clientSide = Duplex.from({ readable: toClient, writable: toServer });
    const served = server.handle(serverSide, { remoteAddress: '10.0.0.9', remotePort: 812 });
    const c = new RpcClient(clientSide);
    expect(await c.callOk(TEST_PROG, 1, TestProc.ECHO, str('piped'), (r) => r.string())).toBe('piped');
    serverSide.destroy();
    await served;
    await server.close();
  });

  it('writes a large result by reference in one writev (no copy of the payload)', async () => {
    const service = new TestService();
    const server = new RpcServer([service.program()], { log: new MemoryLog() });
    const toServer = new PassThrough();
    const toClient = new PassThrough();
    const batches: Buffer[][] = [];
    // A duplex of our own, so the server's writev reaches us as the server made it.
    const serverSide = new Duplex({
      read() {},
      writev(chunks, cb) {
        batches.push(chunks.map((c) => c.chunk as Buffer));
        for (const c of chunks) toClient.write(c.chunk);
        cb();
      },
      write(chunk: Buffer, _enc, cb) {
        batches.push([chunk]);
        toClient.write(chunk, cb);
      },
    });
    toServer.on('data', (d) => serverSide.push(d));
    toServer.on('end', () => serverSide.push(null));
    const served = server.handle(serverSide, { remoteAddress: '10.0.0.9', remotePort: 812 });
    const c = new RpcClient(Duplex.from({ readable: toClient, writable: toServer }));
    expect(await c.callOk(TEST_PROG, 1, TestProc.BLOB, u32(100_000), (r) => r.varOpaque().length)).toBe(100_000);
    const batch = batches.find((b) => b.includes(service.lastBlob!));
    expect(batch).toBeDefined();
    // Fragment header, RPC header and length, the payload itself.
    expect(batch!.reduce((n, b) => n + b.length, 0)).toBe(4 + 24 + 4 + 100_000);
    serverSide.destroy();
    await served;
    await server.close();
  });

  it('serves UDP datagrams, and the DRC answers a retransmission', async () => {
    const service = new TestService();
    const server = new RpcServer([service.program()], { log: new MemoryLog() });
    const { port } = await server.listenUdp(0, '127.0.0.1');
    const c = await RpcUdpClient.open('127.0.0.1', port);
    expect(await c.callOk(TEST_PROG, 1, TestProc.ECHO, str('datagram'), (r) => r.string())).toBe('datagram');
    expect(await c.callOk(TEST_PROG, 1, TestProc.COUNT, u32(3), (r) => r.uint32(), { xid: 9000 })).toBe(3);
    expect(await c.callOk(TEST_PROG, 1, TestProc.COUNT, u32(3), (r) => r.uint32(), { xid: 9000 })).toBe(3);
    expect(service.runs.COUNT).toBe(1);
    expect((await c.call(TEST_PROG, 9, 0)).status).toEqual({ accept_stat: AcceptStat.PROG_MISMATCH, mismatch_info: { low: 1, high: 2 } });
    c.sendRaw(hex('0000'));
    expect(await c.callOk(TEST_PROG, 1, TestProc.ECHO, str('after garbage'), (r) => r.string())).toBe('after garbage');
    await c.close();
    await server.close();
  });

  it('serves a local stream socket', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'rpc-'));
    try {
      const service = new TestService();
      const seen: string[] = [];
      const server = new RpcServer([service.program()], { log: new MemoryLog() });
      server.addProgram({
        prog: 0x20000101,
        name: 'WHO',
        versions: { 1: { 1: { name: 'T', decode: () => undefined, handle: (_a: unknown, ctx) => void seen.push(ctx.transport), encode: () => undefined, idempotent: true } } },
      });
      await server.listenLocal(join(dir, 'rpc.sock'));
      const c = await RpcClient.connect({ path: join(dir, 'rpc.sock') });
      await c.callOk(0x20000101, 1, 1, undefined, () => undefined);
      expect(seen).toEqual(['local']);
      await c.close();
      await server.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('close() lets calls in flight answer, then closes connections', async () => {
    const s = await started();
    const c = await RpcClient.connect({ host: '127.0.0.1', port: s.port });
    const call = c.callOk(TEST_PROG, 1, TestProc.WAIT, u32(1), (r) => r.uint32());
    while (s.service.running < 1) await new Promise((r) => setImmediate(r));
    const closing = s.server.close();
    s.service.release(1);
    expect(await call).toBe(1);
    await closing;
    await c.closed;
    await expect(new Promise((res, rej) => connect(s.port, '127.0.0.1').once('connect', res).once('error', rej))).rejects.toThrow(/ECONNREFUSED/);
  });
});
