import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Prng } from '../common/prng';
import { BadFileHandle, decodeFileHandle, encodeFileHandle, FH_SIZE } from './file-handle';

const KEY = Buffer.alloc(32, 7);
const keyOf = (id: number) => (id === 3 ? KEY : undefined);

describe('NFS file handles', () => {
  it('lays out the fields as documented, with an HMAC-SHA256 over the first 24 bytes', () => {
    const fh = encodeFileHandle({ exportId: 3, snapshotId: 0, ino: 0x1_0000_0002, generation: 9 }, KEY);
    const body = Buffer.from('01000000' + '00000003' + '00000000' + '0000000100000002' + '00000009', 'hex');
    const expected = Buffer.concat([body, createHmac('sha256', KEY).update(body).digest().subarray(0, 16)]);
    expect(fh.length).toBe(FH_SIZE);
    expect(FH_SIZE % 4).toBe(0);
    expect(fh).toEqual(expected);
  });

  it('carries a snapshot number in bytes 8..11 (0xffffffff: /.snapshots itself), covered by the MAC', () => {
    for (const [snapshotId, hex] of [
      [7, '00000007'],
      [0xffffffff, 'ffffffff'],
    ] as const) {
      const fh = encodeFileHandle({ exportId: 3, snapshotId, ino: 5, generation: 2 }, KEY);
      const body = Buffer.from('01000000' + '00000003' + hex + '0000000000000005' + '00000002', 'hex');
      expect(fh).toEqual(Buffer.concat([body, createHmac('sha256', KEY).update(body).digest().subarray(0, 16)]));
      expect(decodeFileHandle(fh, keyOf)).toEqual({ exportId: 3, snapshotId, ino: 5, generation: 2 });
      // Moving a handle into another snapshot (or out to the live share) is a forgery.
      const moved = Buffer.from(fh);
      moved.writeUInt32BE(snapshotId === 7 ? 0 : 7, 8);
      expect(() => decodeFileHandle(moved, keyOf)).toThrow(expect.objectContaining({ problem: 'forged' }));
    }
  });

  it('round-trips and is the same for the same object every time (stable across restarts)', () => {
    const prng = new Prng(5);
    for (let i = 0; i < 200; i++) {
      const h = { exportId: 3, snapshotId: prng.int(0, 5), ino: prng.int(1, 2 ** 40), generation: prng.int(0, 2 ** 31) };
      const a = encodeFileHandle(h, KEY);
      expect(a).toEqual(encodeFileHandle(h, KEY));
      expect(decodeFileHandle(a, keyOf)).toEqual(h);
    }
  });

  it('refuses a handle whose inode or generation was edited (forged)', () => {
    const fh = encodeFileHandle({ exportId: 3, snapshotId: 0, ino: 42, generation: 1 }, KEY);
    for (const at of [8, 12, 19, 20, 23, 24, 39]) {
      const bad = Buffer.from(fh);
      bad[at] ^= 1;
      expect(() => decodeFileHandle(bad, keyOf), `byte ${at}`).toThrow(expect.objectContaining({ problem: 'forged' }));
    }
  });

  it('says unknown-export for a handle of an export that is gone, malformed for anything not ours', () => {
    const other = encodeFileHandle({ exportId: 4, snapshotId: 0, ino: 42, generation: 1 }, KEY);
    expect(() => decodeFileHandle(other, keyOf)).toThrow(expect.objectContaining({ problem: 'unknown-export' }));
    const fh = encodeFileHandle({ exportId: 3, snapshotId: 0, ino: 42, generation: 1 }, KEY);
    for (const bad of [Buffer.alloc(0), fh.subarray(0, 39), Buffer.concat([fh, Buffer.alloc(4)]), Buffer.from([2, ...fh.subarray(1)]), Buffer.from([1, 1, ...fh.subarray(2)])]) {
      expect(() => decodeFileHandle(bad, keyOf)).toThrow(expect.objectContaining({ problem: 'malformed' }));
    }
  });

  it('random bytes only ever fail with BadFileHandle', () => {
    const prng = new Prng(8);
    for (let i = 0; i < 5000; i++) {
      const b = prng.bytes(i % 3 === 0 ? FH_SIZE : prng.int(0, 80));
      if (i % 2 === 0 && b.length === FH_SIZE) (b[0] = 1), (b[1] = 0), b.writeUInt16BE(0, 2), b.writeUInt32BE(3, 4);
      expect(() => decodeFileHandle(b, keyOf)).toThrow(BadFileHandle);
    }
  });
});
