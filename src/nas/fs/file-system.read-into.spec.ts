import { afterEach, describe, expect, it } from 'vitest';
import { errCode, pattern } from './testing/fs-expect';
import { makeFs, ROOT, type Fixture } from './testing/fs-fixture';

const fixtures: Fixture[] = [];
afterEach(async () => {
  for (const fx of fixtures.splice(0)) await fx.cleanup();
});

describe('read into a caller-provided buffer', () => {
  it('reads into the buffer and returns a view of it, holes as zeros, up to the end of file', async () => {
    const fx = await makeFs({ storeSize: 8 * 1024 * 1024 });
    fixtures.push(fx);
    const { fs } = fx;
    const f = (await fs.create(ROOT, fs.root, 'f', { mode: 'guarded', attrs: { mode: 0o644 } })).node;
    const data = pattern(10_000, 7);
    await fs.write(ROOT, f, 20_000, data, 'unstable');
    const into = Buffer.alloc(65536, 0xee);
    const r = await fs.read(ROOT, f, 16_384, 65536, into);
    expect(r.data.buffer).toBe(into.buffer);
    expect(r.data.byteOffset).toBe(into.byteOffset);
    expect(r.data.length).toBe(30_000 - 16_384);
    expect(r.data.subarray(0, 3616).every((b) => b === 0)).toBe(true);
    expect(r.data.subarray(3616).equals(data)).toBe(true);
    expect(r.eof).toBe(true);
    // Past the data the buffer is left alone.
    expect(into[r.data.length]).toBe(0xee);
    // The same as a read without a buffer.
    const plain = await fs.read(ROOT, f, 16_384, 65536);
    expect(plain.data.equals(r.data)).toBe(true);
  });

  it('refuses a buffer smaller than the count', async () => {
    const fx = await makeFs({ storeSize: 8 * 1024 * 1024 });
    fixtures.push(fx);
    const f = (await fx.fs.create(ROOT, fx.fs.root, 'f', { mode: 'guarded', attrs: { mode: 0o644 } })).node;
    expect(await errCode(fx.fs.read(ROOT, f, 0, 4097, Buffer.alloc(4096)))).toBe('INVAL');
  });
});
