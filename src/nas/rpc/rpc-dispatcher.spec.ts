import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LATENCY_BUCKETS_SECONDS } from '../../common/latency-histogram';
import { encodeCallHeader } from '../../protocols/oncrpc/message';
import { XdrWriter } from '../../protocols/xdr/xdr';
import { DuplicateRequestCache } from './duplicate-request-cache';
import { type RpcLog, type RpcPeer, RpcDispatcher } from './rpc-dispatcher';
import type { RpcProgram } from './rpc-program';

const PROG = 0x20000078;
const quiet: RpcLog = { debug: () => undefined, warn: () => undefined, error: () => undefined };
const peer: RpcPeer = { transport: 'tcp', remoteAddress: '127.0.0.1', remotePort: 700, localAddress: '127.0.0.1', localPort: 2049, connectionId: 1 };

/** ECHO (idempotent) and BUMP (not: the duplicate request cache answers its retransmissions). */
const program: RpcProgram = {
  prog: PROG,
  name: 'T',
  versions: {
    1: {
      1: { name: 'ECHO', idempotent: true, decode: (r) => r.uint32(), handle: (n: number) => n, encode: (w, n: number) => void w.uint32(n) },
      2: { name: 'BUMP', idempotent: false, decode: (r) => r.uint32(), handle: (n: number) => n + 1, encode: (w, n: number) => void w.uint32(n) },
    },
  },
};

const call = (xid: number, proc: number, arg: number) => Buffer.concat(encodeCallHeader(new XdrWriter(), { xid, prog: PROG, vers: 1, proc }).uint32(arg).toBuffers());

describe('RpcDispatcher latency by procedure', () => {
  afterEach(() => vi.restoreAllMocks());

  it('times each call from its record to its reply, by procedure', async () => {
    const d = new RpcDispatcher([program], quiet, null);
    // The clock reads 1000 ms when the record arrives and 1012 ms when the reply is ready.
    vi.spyOn(performance, 'now').mockReturnValueOnce(1000).mockReturnValueOnce(1012);
    expect(await d.dispatch(call(1, 1, 7), peer)).not.toBeNull();
    const echo = d.stats.latency['Tv1.ECHO'];
    const expected = new Array(LATENCY_BUCKETS_SECONDS.length + 1).fill(0);
    expected[LATENCY_BUCKETS_SECONDS.indexOf(0.025)] = 1; // 12 ms: <= 25 ms
    expect(echo.snapshot()).toEqual({ buckets: expected, sumSeconds: expect.closeTo(0.012, 9) });
    expect(d.stats.latency['Tv1.BUMP'].count).toBe(0);
  });

  it('does not time replies the duplicate request cache answers, nor calls that never ran', async () => {
    const d = new RpcDispatcher([program], quiet, new DuplicateRequestCache());
    await d.dispatch(call(5, 2, 1), peer);
    await d.dispatch(call(5, 2, 1), peer); // retransmission: answered from the cache
    await d.dispatch(call(6, 9, 1), peer); // PROC_UNAVAIL: no procedure, so no histogram comes into being for it (the keys below)
    await d.dispatch(Buffer.concat(encodeCallHeader(new XdrWriter(), { xid: 7, prog: PROG, vers: 1, proc: 1 }).toBuffers()), peer); // GARBAGE_ARGS
    expect(d.stats.drcHits).toBe(1);
    expect(d.stats.latency['Tv1.BUMP'].count).toBe(1);
    expect(d.stats.latency['Tv1.ECHO'].count).toBe(0);
    expect(Object.keys(d.stats.latency).sort()).toEqual(['Tv1.BUMP', 'Tv1.ECHO']);
  });
});
