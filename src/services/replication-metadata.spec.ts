import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Prng } from '../common/prng';
import { METADATA_BLOCK, planMetadata, sendMetadata } from './replication-metadata';

const B = METADATA_BLOCK;

describe('the metadata half of a share replication cycle', () => {
  const dir = mkdtempSync(join(tmpdir(), 'strata-replmeta-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let n = 0;
  const file = (bytes: Buffer) => {
    const p = join(dir, `f${n++}`);
    writeFileSync(p, bytes);
    return p;
  };
  const base = new Prng(1).bytes(40 * B + 100);

  it('sends everything without a base, in chunks of whole blocks, with the SHA-256 of the file', async () => {
    const plan = await planMetadata(file(base), null, 16 * B + 5);
    expect(plan.length).toBe(base.length);
    expect(plan.sha256.equals(createHash('sha256').update(base).digest())).toBe(true);
    expect(plan.ranges).toEqual([
      { offset: 0, length: 16 * B },
      { offset: 16 * B, length: 16 * B },
      { offset: 32 * B, length: 8 * B + 100 },
    ]);
    expect(plan.bytes).toBe(base.length);
  });

  it('sends only the blocks that differ from the base, adjacent ones merged; nothing when equal', async () => {
    const basePath = file(base);
    expect((await planMetadata(file(base), basePath, 1 << 20)).ranges).toEqual([]);
    const next = Buffer.from(base);
    next[3 * B + 7] ^= 1;
    next[10 * B] ^= 1;
    next[11 * B + B - 1] ^= 1;
    const plan = await planMetadata(file(next), basePath, 1 << 20);
    expect(plan.ranges).toEqual([
      { offset: 3 * B, length: B },
      { offset: 10 * B, length: 2 * B },
    ]);
    expect(plan.bytes).toBe(3 * B);
  });

  it('a grown file sends its new tail; a shrunk one sends nothing past its end (the commit cuts it there)', async () => {
    const basePath = file(base);
    const grown = Buffer.concat([base, new Prng(2).bytes(2 * B)]);
    const g = await planMetadata(file(grown), basePath, 1 << 20);
    // The base's last, partial block differs in length: it goes, with the two new ones.
    expect(g.ranges).toEqual([{ offset: 40 * B, length: 2 * B + 100 }]);
    const shrunk = base.subarray(0, 20 * B);
    const s = await planMetadata(file(shrunk), basePath, 1 << 20);
    expect(s.ranges).toEqual([]);
    expect(s.length).toBe(20 * B);
  });

  it('a base that cannot be read is treated as none: everything goes', async () => {
    const plan = await planMetadata(file(base), join(dir, 'missing'), 1 << 20);
    expect(plan.bytes).toBe(base.length);
  });

  it('sending the plan onto a copy of the base and cutting it to the length gives the file, whatever the order the calls land in', async () => {
    const next = Buffer.concat([base.subarray(0, 30 * B), new Prng(3).bytes(5 * B + 17)]);
    next[2 * B] ^= 0xff;
    const path = file(next);
    const plan = await planMetadata(path, file(base), 2 * B);
    const target = Buffer.from(base);
    const calls: Array<{ offset: number; data: Buffer }> = [];
    const admitted: number[] = [];
    const done = await sendMetadata(
      path,
      plan,
      async (offset, data) => {
        await new Promise((r) => setTimeout(r, (offset / B) % 3));
        calls.push({ offset, data });
      },
      { depth: 3, stopping: () => false, admit: async (bytes) => void admitted.push(bytes), sent: () => undefined },
    );
    expect(done).toBe(true);
    expect(admitted.reduce((a, b) => a + b, 0)).toBe(plan.bytes);
    let out = Buffer.concat([target, Buffer.alloc(Math.max(0, next.length - target.length))]);
    for (const c of calls.reverse()) c.data.copy(out, c.offset);
    out = out.subarray(0, plan.length);
    expect(out.equals(next)).toBe(true);
    expect(readFileSync(path).equals(next)).toBe(true);
  });

  it('stops between calls when the job stops, and says so', async () => {
    const path = file(base);
    const plan = await planMetadata(path, null, B);
    let sent = 0;
    const done = await sendMetadata(path, plan, async () => void sent++, { depth: 1, stopping: () => sent >= 2, admit: async () => undefined, sent: () => undefined });
    expect(done).toBe(false);
    expect(sent).toBe(2);
  });
});
