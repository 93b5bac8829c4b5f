import { describe, expect, it } from 'vitest';
import { Prng } from '../common/prng';
import { FileSystem } from './fs';
import type { BlockStore, NodeId, StableHow } from './fs';
import { CrashStore } from './fs/testing/crash-store';
import { makeFs, ROOT } from './fs/testing/fs-fixture';
import { WriteBehindStore } from './write-behind-store';

/** An in-memory store whose writes complete only when the test lets them, recording the order things happen. */
class GatedStore implements BlockStore {
  readonly size: number;
  readonly pageSize = 4096;
  readonly bytes: Buffer;
  readonly log: string[] = [];
  /** Writes waiting for release(), oldest first. */
  readonly held: Array<{ offset: number; data: Buffer; go: (err?: Error) => void }> = [];
  hold = true;
  failNext = 0;
  flushes = 0;

  constructor(size = 1 << 20) {
    this.size = size;
    this.bytes = Buffer.alloc(size);
  }

  write(offset: number, data: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      const go = (err?: Error) => {
        if (err) {
          this.log.push(`fail ${offset}`);
          return reject(err);
        }
        data.copy(this.bytes, offset);
        this.log.push(`write ${offset}+${data.length}`);
        resolve();
      };
      if (this.failNext > 0) {
        this.failNext--;
        queueMicrotask(() => go(new Error('injected write failure')));
      } else if (this.hold) {
        this.held.push({ offset, data, go });
      } else {
        queueMicrotask(() => go());
      }
    });
  }

  /** Complete the oldest held write (or the one at `offset`). */
  release(offset?: number, err?: Error): void {
    const i = offset === undefined ? 0 : this.held.findIndex((h) => h.offset === offset);
    if (i < 0) throw new Error(`no held write at ${offset}`);
    const [h] = this.held.splice(i, 1);
    h.go(err);
  }

  async readInto(offset: number, target: Buffer): Promise<void> {
    this.log.push(`read ${offset}+${target.length}`);
    this.bytes.copy(target, 0, offset, offset + target.length);
  }

  async flush(): Promise<void> {
    this.flushes++;
    this.log.push('flush');
  }

  async discard(offset: number, length: number): Promise<void> {
    this.log.push(`discard ${offset}+${length}`);
    this.bytes.fill(0, offset, offset + length);
  }
}

const turns = async (n = 5) => {
  for (let i = 0; i < n; i++) await new Promise(setImmediate);
};
const fill = (n: number, v: number) => Buffer.alloc(n, v);

/** Settles to 'pending', 'ok' or the error message after a few turns. */
async function state(p: Promise<unknown>): Promise<string> {
  let s = 'pending';
  p.then(
    () => (s = 'ok'),
    (e: Error) => (s = e.message),
  );
  await turns();
  return s;
}

describe('WriteBehindStore', () => {
  it('accepts a write before it lands; a read of its range waits for it and sees the bytes', async () => {
    const inner = new GatedStore();
    const wb = new WriteBehindStore(inner);
    await wb.write(4096, fill(4096, 7));
    expect(inner.held).toHaveLength(1);
    expect(wb.backlog).toBe(4096);
    const target = Buffer.alloc(100);
    const read = wb.readInto(4096 + 50, target);
    expect(await state(read)).toBe('pending');
    // A read elsewhere does not wait.
    await wb.readInto(0, Buffer.alloc(10));
    inner.release();
    await read;
    expect(target).toEqual(fill(100, 7));
    expect(inner.log).toEqual(['read 0+10', 'write 4096+4096', 'read 4146+100']);
    expect(wb.backlog).toBe(0);
  });

  it('lands overlapping writes in the order they were accepted, whatever order the store would complete them in', async () => {
    const inner = new GatedStore();
    const wb = new WriteBehindStore(inner);
    await wb.write(0, fill(8192, 1));
    await wb.write(4096, fill(8192, 2));
    await wb.write(65536, fill(10, 3));
    // The second waits for the first; the third, apart from both, is already issued.
    expect(inner.held.map((h) => h.offset)).toEqual([0, 65536]);
    inner.release(65536);
    inner.release(0);
    await turns();
    expect(inner.held.map((h) => h.offset)).toEqual([4096]);
    inner.release();
    await wb.flush();
    expect(inner.bytes.subarray(0, 4096)).toEqual(fill(4096, 1));
    expect(inner.bytes.subarray(4096, 12288)).toEqual(fill(8192, 2));
  });

  it('flush resolves only after every accepted write has landed, then flushes the store', async () => {
    const inner = new GatedStore();
    const wb = new WriteBehindStore(inner);
    await wb.write(0, fill(10, 1));
    await wb.write(100, fill(10, 2));
    const flushed = wb.flush();
    expect(await state(flushed)).toBe('pending');
    inner.release();
    expect(await state(flushed)).toBe('pending');
    inner.release();
    await flushed;
    expect(inner.log).toEqual(['write 0+10', 'write 100+10', 'flush']);
  });

  it.each([
    ['maxBytes', { maxBytes: 8192 }, 4096],
    ['maxWrites', { maxWrites: 2 }, 1],
  ])('holds at most %s: a write beyond it waits until an earlier one lands', async (_what, opts, size) => {
    const inner = new GatedStore();
    const wb = new WriteBehindStore(inner, opts);
    await wb.write(0, fill(size, 1));
    await wb.write(size, fill(size, 2));
    const third = wb.write(2 * size, fill(size, 3));
    expect(await state(third)).toBe('pending');
    inner.release();
    expect(await state(third)).toBe('ok');
    expect(wb.backlog).toBe(2 * size);
  });

  it('sends FUA writes and writes larger than the backlog straight through, after the writes they overlap', async () => {
    const inner = new GatedStore();
    const wb = new WriteBehindStore(inner, { maxBytes: 4096 });
    await wb.write(0, fill(100, 1));
    const fua = wb.write(50, fill(100, 2), { fua: true });
    expect(await state(fua)).toBe('pending');
    expect(inner.held).toHaveLength(1);
    inner.release();
    await turns();
    inner.release();
    await fua;
    expect(inner.bytes[0]).toBe(1);
    expect(inner.bytes[50]).toBe(2);
    const big = wb.write(8192, fill(8192, 3));
    expect(await state(big)).toBe('pending');
    inner.release();
    await big;
    expect(wb.backlog).toBe(0);
  });

  it('keeps a failed write and retries it, in order, before anything else: flushes fail until it lands', async () => {
    const inner = new GatedStore();
    const wb = new WriteBehindStore(inner);
    await wb.write(0, fill(4096, 1));
    await wb.write(2048, fill(4096, 2)); // overlaps it: must not land before it
    await wb.write(65536, fill(10, 3)); // independent
    inner.release(65536);
    inner.release(0, new Error('injected write failure')); // fails in the background
    await turns();
    expect(inner.log).toEqual(['write 65536+10', 'fail 0']);
    inner.hold = false;
    expect(wb.backlog).toBe(8192);
    inner.failNext = 1;
    await expect(wb.flush()).rejects.toThrow('injected write failure');
    expect(inner.flushes).toBe(0);
    // The store works again: the next flush retries both in acceptance order.
    await wb.flush();
    expect(inner.log.slice(2)).toEqual(['fail 0', 'write 0+4096', 'write 2048+4096', 'flush']);
    expect(inner.held).toEqual([]);
    expect(inner.bytes.subarray(0, 2048)).toEqual(fill(2048, 1));
    expect(inner.bytes.subarray(2048, 6144)).toEqual(fill(4096, 2));
    expect(wb.backlog).toBe(0);
  });

  it('while a write is failing, reads and new writes first retry it, and fail if it fails again', async () => {
    const inner = new GatedStore();
    inner.hold = false;
    const wb = new WriteBehindStore(inner);
    inner.failNext = 1;
    await wb.write(0, fill(10, 1));
    await turns();
    inner.failNext = 1;
    await expect(wb.readInto(0, Buffer.alloc(10))).rejects.toThrow('injected write failure');
    inner.failNext = 1;
    await expect(wb.write(5, fill(10, 2))).rejects.toThrow('injected write failure');
    // A write made while failing goes straight through, after the retry.
    await wb.write(5, fill(10, 2));
    const got = Buffer.alloc(15);
    await wb.readInto(0, got);
    expect(got).toEqual(Buffer.concat([fill(5, 1), fill(10, 2)]));
    expect(inner.log.filter((l) => l.startsWith('write'))).toEqual(['write 0+10', 'write 5+10']);
  });

  it('discards after the writes they overlap', async () => {
    const inner = new GatedStore();
    const wb = new WriteBehindStore(inner);
    await wb.write(0, fill(4096, 9));
    const d = wb.discard(0, 8192);
    expect(await state(d)).toBe('pending');
    inner.release();
    await d;
    expect(inner.log).toEqual(['write 0+4096', 'discard 0+8192']);
    expect(inner.bytes.subarray(0, 4096)).toEqual(Buffer.alloc(4096));
  });

  it('stop drops writes not yet started, lets started ones settle, and refuses new I/O', async () => {
    const inner = new GatedStore();
    const wb = new WriteBehindStore(inner);
    await wb.write(0, fill(10, 1));
    await wb.write(5, fill(10, 2)); // waits for the first: never started
    const stopped = wb.stop();
    expect(await state(stopped)).toBe('pending');
    inner.release();
    await stopped;
    expect(inner.log).toEqual(['write 0+10']);
    await expect(wb.write(0, fill(1, 1))).rejects.toThrow('store is closed');
    await expect(wb.readInto(0, Buffer.alloc(1))).rejects.toThrow('store is closed');
  });

  it('keeps its own copy: the caller may reuse its buffer as soon as write() returns', async () => {
    const inner = new GatedStore();
    const wb = new WriteBehindStore(inner);
    for (const size of [100, 200_000]) {
      const mine = fill(size, 5);
      await wb.write(0, mine);
      mine.fill(6);
      inner.release();
      await wb.flush();
      expect(inner.bytes.subarray(0, size)).toEqual(fill(size, 5));
    }
  });

  it('copies large writes into chunks it reuses, never more than the backlog holds', async () => {
    const inner = new GatedStore(1 << 24);
    inner.hold = false;
    const wb = new WriteBehindStore(inner, { maxBytes: 4 * 65536, chunkSize: 65536 });
    const seen = new Set<ArrayBufferLike>();
    const write = inner.write.bind(inner);
    inner.write = (offset, data) => {
      seen.add(data.buffer);
      return write(offset, data);
    };
    for (let i = 0; i < 64; i++) await wb.write(i * 65536, fill(65536, i));
    await wb.flush();
    expect(seen.size).toBeLessThanOrEqual(4);
    for (let i = 0; i < 64; i++) expect(inner.bytes[i * 65536 + 100]).toBe(i);
  });

  it('hands at most maxInFlight writes to the store; contiguous writes waiting meanwhile land as one', async () => {
    const inner = new GatedStore(1 << 24);
    const wb = new WriteBehindStore(inner, { maxInFlight: 1, chunkSize: 1 << 20 });
    const piece = (i: number) => fill(65536, i + 1);
    for (let i = 0; i < 6; i++) await wb.write(i * 65536, piece(i));
    // The first went at once; the next five joined into one waiting write.
    expect(inner.held.map((h) => [h.offset, h.data.length])).toEqual([[0, 65536]]);
    inner.release();
    await turns();
    expect(inner.held.map((h) => [h.offset, h.data.length])).toEqual([[65536, 5 * 65536]]);
    // A write that does not continue it, or overlaps pending bytes, is a write of its own.
    await wb.write(10 * 65536, piece(10));
    await wb.write(65536, piece(20));
    inner.release();
    await turns();
    expect(inner.held.map((h) => [h.offset, h.data.length])).toEqual([[10 * 65536, 65536]]);
    inner.release();
    await turns();
    inner.release();
    await wb.flush();
    for (let i = 2; i < 6; i++) expect(inner.bytes[i * 65536]).toBe(i + 1);
    expect(inner.bytes[65536]).toBe(21);
    expect(inner.bytes[10 * 65536]).toBe(11);
  });

  it('joins no more than a chunk holds', async () => {
    const inner = new GatedStore(1 << 24);
    const wb = new WriteBehindStore(inner, { maxInFlight: 1, chunkSize: 131072 });
    for (let i = 0; i < 5; i++) await wb.write(i * 65536, fill(65536, i + 1));
    const sizes: number[] = [];
    while (inner.held.length > 0) {
      sizes.push(inner.held[0].data.length);
      inner.release();
      await turns();
    }
    expect(sizes).toEqual([65536, 131072, 131072]);
    await wb.flush();
  });

  it('passes size and page size through', () => {
    const wb = new WriteBehindStore(new GatedStore(1 << 16));
    expect(wb.size).toBe(1 << 16);
    expect(wb.pageSize).toBe(4096);
  });
});

/**
 * The filesystem engine over a write-behind store over a store that can lose
 * power: after a crash at a random point, every write the engine reported
 * durable (FILE_SYNC, or before a COMMIT) reads back, no byte is stale or
 * another file's, and fsck finds nothing.
 */
describe('WriteBehindStore under the filesystem engine, with power losses', () => {
  for (const seed of [11, 12, 13]) {
    it(`keeps every durable write and exposes no stale bytes (seed ${seed})`, async () => {
      const prng = new Prng(seed);
      let crash = new CrashStore(8 * 1024 * 1024, 64 * 1024);
      crash.jitter = () => prng.int(0, 3);
      const fx = await makeFs({ store: new WriteBehindStore(crash, { maxBytes: 256 * 1024 }) });
      try {
        const names = ['a', 'b', 'c'];
        const nodes = new Map<string, NodeId>();
        /** Per file: bytes known durable, and bytes that may also show (unstable writes since). */
        const durable = new Map<string, Buffer>();
        const maybe = new Map<string, Buffer[]>();
        for (let round = 0; round < 12; round++) {
          const fs = fx.fs;
          for (const n of names) {
            if (nodes.has(n)) continue;
            nodes.set(n, (await fs.create(ROOT, fs.root, n, { mode: 'guarded', attrs: { mode: 0o644 } })).node);
            durable.set(n, Buffer.alloc(0));
            maybe.set(n, []);
          }
          const current = new Map([...durable].map(([k, v]) => [k, Buffer.from(v)]));
          for (let i = prng.int(5, 30); i > 0; i--) {
            const n = names[prng.int(0, names.length)];
            const cur = current.get(n)!;
            const offset = prng.int(0, cur.length + 5000);
            const data = Buffer.alloc(prng.int(1, 70_000), prng.int(1, 255));
            const stable: StableHow = prng.next() < 0.7 ? 'unstable' : 'file_sync';
            await fs.write(ROOT, nodes.get(n)!, offset, data, stable);
            const next = Buffer.alloc(Math.max(cur.length, offset + data.length));
            cur.copy(next);
            data.copy(next, offset);
            current.set(n, next);
            if (stable === 'unstable') maybe.get(n)!.push(next);
            if (stable === 'file_sync' || prng.next() < 0.2) {
              if (stable === 'unstable') await fs.commit(nodes.get(n)!);
              // A durable point covers every file: the engine commits all of it.
              for (const [k, v] of current) {
                durable.set(k, Buffer.from(v));
                maybe.set(k, []);
              }
            }
          }
          fs.abort();
          crash = crash.crash(prng);
          crash.jitter = () => prng.int(0, 3);
          expect(FileSystem.fsck(fx.metaPath).problems).toEqual([]);
          fx.store = new WriteBehindStore(crash, { maxBytes: 256 * 1024 });
          fx.fs = await FileSystem.open(fx.metaPath, fx.store, { commitIntervalMs: 0 });
          for (const n of names) {
            const want = durable.get(n)!;
            const attr = fx.fs.getattr(nodes.get(n)!);
            const got = (await fx.fs.read(ROOT, nodes.get(n)!, 0, attr.size)).data;
            // Each byte is the durable one, or one some later unstable write put there, or (past the durable size) zero.
            const later = maybe.get(n)!;
            for (let i = 0; i < got.length; i++) {
              if (i < want.length && got[i] === want[i]) continue;
              if (later.some((b) => i < b.length && b[i] === got[i])) continue;
              if (i >= want.length && got[i] === 0) continue;
              throw new Error(`seed ${seed} round ${round}: ${n} byte ${i} is ${got[i]}, durable ${want[i]}`);
            }
            expect(attr.size).toBeGreaterThanOrEqual(want.length);
            durable.set(n, got);
            maybe.set(n, []);
          }
          expect((await fx.fs.fsck()).problems).toEqual([]);
        }
      } finally {
        await fx.cleanup();
      }
    }, 60_000);
  }
});
