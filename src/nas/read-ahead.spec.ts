import { afterEach, describe, expect, it } from 'vitest';
import type { NodeId } from './fs';
import { errCode, pattern } from './fs/testing/fs-expect';
import { ALICE, BOB, makeFs, type Fixture } from './fs/testing/fs-fixture';
import { BufferPool } from '../common/buffer-pool';
import { ReadAhead } from './read-ahead';

const K64 = 64 * 1024;
const fixtures: Fixture[] = [];
afterEach(async () => {
  for (const fx of fixtures.splice(0)) await fx.cleanup();
});

async function setup(size = 8 * K64): Promise<{ fx: Fixture; node: NodeId; data: Buffer; ra: ReadAhead; reads: () => number }> {
  const fx = await makeFs({ storeSize: 16 * 1024 * 1024 });
  fixtures.push(fx);
  const node = (await fx.fs.create(ALICE, fx.fs.root, 'f', { mode: 'guarded', attrs: { mode: 0o600 } })).node;
  const data = pattern(size, 3);
  await fx.fs.write(ALICE, node, 0, data, 'file_sync');
  // Count the filesystem reads that move data.
  let n = 0;
  const read = fx.fs.read.bind(fx.fs);
  fx.fs.read = (cred, id, offset, count, into) => {
    if (count > 0) n++;
    return read(cred, id, offset, count, into);
  };
  return { fx, node, data, ra: new ReadAhead(new BufferPool(K64, 4)), reads: () => n };
}

const settle = () => new Promise((r) => setTimeout(r, 10));

describe('ReadAhead', () => {
  it('answers the next READ of a front-to-back reader from the read started ahead, with the right bytes and eof', async () => {
    const { fx, node, data, ra, reads } = await setup(3 * K64 + 100);
    const got: Buffer[] = [];
    for (let off = 0, eof = false; !eof; ) {
      const { result, buffer } = await ra.read(fx.fs, 1, ALICE, node, off, K64);
      got.push(Buffer.from(result.data));
      expect(buffer).not.toBeNull();
      ra.pool.give(buffer!);
      off += result.data.length;
      eof = result.eof;
      await settle();
    }
    expect(Buffer.concat(got).equals(data)).toBe(true);
    // READ 1 reads, READs 2..4 were read ahead; nothing is read past the end.
    expect(ra.hits).toBe(3);
    expect(reads()).toBe(4);
    expect(ra.pool.made).toBeLessThanOrEqual(2);
  });

  it('never serves bytes a write changed after the read ahead began', async () => {
    const { fx, node, ra } = await setup();
    ra.pool.give((await ra.read(fx.fs, 1, ALICE, node, 0, K64)).buffer!);
    // The read of [64K, 128K) is under way; now the file changes there.
    const fresh = Buffer.alloc(100, 0x77);
    await fx.fs.write(ALICE, node, K64 + 10, fresh, 'unstable');
    const { result } = await ra.read(fx.fs, 1, ALICE, node, K64, K64);
    expect(result.data.subarray(10, 110).equals(fresh)).toBe(true);
    expect(ra.hits).toBe(0);
  });

  it('takes size and eof from the file as it is when answering (a truncate after the read ahead)', async () => {
    const { fx, node, data, ra } = await setup();
    ra.pool.give((await ra.read(fx.fs, 1, ALICE, node, 0, K64)).buffer!);
    await settle();
    await fx.fs.setattr(ALICE, node, { size: K64 + 5 });
    const { result } = await ra.read(fx.fs, 1, ALICE, node, K64, K64);
    expect(result.data.equals(data.subarray(K64, K64 + 5))).toBe(true);
    expect(result.eof).toBe(true);
    expect(result.attr.size).toBe(K64 + 5);
  });

  it("checks the caller's permission again: read-ahead started for the owner is not handed to someone else", async () => {
    const { fx, node, ra } = await setup();
    ra.pool.give((await ra.read(fx.fs, 1, ALICE, node, 0, K64)).buffer!);
    await settle();
    expect(await errCode(ra.read(fx.fs, 1, BOB, node, K64, K64))).toBe('ACCES');
    expect(ra.pool.idle).toBe(2);
  });

  it('reads nothing ahead while several READs of the file run at once, or after a jump', async () => {
    const { fx, node, ra, reads } = await setup();
    const both = await Promise.all([ra.read(fx.fs, 1, ALICE, node, 0, K64), ra.read(fx.fs, 1, ALICE, node, K64, K64)]);
    for (const b of both) ra.pool.give(b.buffer!);
    await settle();
    expect(reads()).toBe(2);
    ra.pool.give((await ra.read(fx.fs, 1, ALICE, node, 5 * K64, K64)).buffer!);
    await settle();
    expect(reads()).toBe(3);
  });

  it('sends small READs straight to the filesystem, without pooled buffers', async () => {
    const { fx, node, data, ra } = await setup();
    const { result, buffer } = await ra.read(fx.fs, 1, ALICE, node, 10, 4096);
    expect(buffer).toBeNull();
    expect(result.data.equals(data.subarray(10, 4106))).toBe(true);
    expect(ra.pool.made).toBe(0);
  });

  it('gives the buffer back when the file is gone (STALE)', async () => {
    const { fx, node, ra } = await setup();
    ra.pool.give((await ra.read(fx.fs, 1, ALICE, node, 0, K64)).buffer!);
    await settle();
    await fx.fs.remove(ALICE, fx.fs.root, 'f');
    expect(await errCode(ra.read(fx.fs, 1, ALICE, node, K64, K64))).toBe('STALE');
    expect(ra.pool.idle).toBe(2);
  });

  it('keeps state for at most maxFiles files, giving back what the others read ahead', async () => {
    const fx = await makeFs({ storeSize: 16 * 1024 * 1024 });
    fixtures.push(fx);
    const ra = new ReadAhead(new BufferPool(K64, 8), { maxFiles: 2 });
    const nodes: NodeId[] = [];
    for (const name of ['a', 'b', 'c']) {
      const n = (await fx.fs.create(ALICE, fx.fs.root, name, { mode: 'guarded', attrs: { mode: 0o600 } })).node;
      await fx.fs.write(ALICE, n, 0, pattern(4 * K64, 1), 'unstable');
      nodes.push(n);
    }
    for (const n of nodes) ra.pool.give((await ra.read(fx.fs, 1, ALICE, n, 0, K64)).buffer!);
    await settle();
    // Three files read ahead, two kept: every buffer is idle but the two read-aheads kept.
    expect(ra.pool.idle).toBe(ra.pool.made - 2);
  });
});
