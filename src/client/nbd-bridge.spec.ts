import { describe, expect, it } from 'vitest';
import { Prng } from '../common/prng';
import { NbdErrno } from '../protocols/nbd/constants';
import { nbdErrno } from '../nbd/nbd-server';
import { Status } from '../protocols/san/constants';
import { VolumeExport, type BlockVolume } from './nbd-bridge';
import { SanError } from './san-error';

const BS = 4096;

/**
 * A volume in memory that, like the SAN, takes only whole blocks, and
 * answers after a random short delay so that requests overlap in time.
 */
class BlockRam implements BlockVolume {
  readonly data: Buffer;
  readonly calls: Array<{ op: string; offset: number; length: number; fua?: boolean }> = [];
  readonly description: { blockSize: number; readOnly: boolean };
  private readonly prng = new Prng(7);

  constructor(
    readonly name: string,
    readonly size: number,
    readOnly = false,
  ) {
    this.data = Buffer.alloc(size);
    this.description = { blockSize: BS, readOnly };
  }

  private async io(op: string, offset: number, length: number, fua?: boolean): Promise<void> {
    if (offset % BS || length % BS || offset + length > this.size) throw new SanError(Status.OUT_OF_RANGE, `${op} [${offset}, +${length}) not block aligned`);
    this.calls.push({ op, offset, length, ...(fua === undefined ? {} : { fua }) });
    await new Promise((r) => setTimeout(r, this.prng.int(0, 3)));
  }

  async read(offset: number, length: number): Promise<Buffer> {
    await this.io('read', offset, length);
    return Buffer.from(this.data.subarray(offset, offset + length));
  }

  async readInto(offset: number, buf: Buffer): Promise<void> {
    await this.io('read', offset, buf.length);
    this.data.copy(buf, 0, offset, offset + buf.length);
  }

  async write(offset: number, data: Buffer, opts: { fua?: boolean } = {}): Promise<void> {
    await this.io('write', offset, data.length, Boolean(opts.fua));
    data.copy(this.data, offset);
  }

  async flush(): Promise<void> {
    this.calls.push({ op: 'flush', offset: 0, length: 0 });
  }

  async unmap(offset: number, length: number): Promise<void> {
    await this.io('unmap', offset, length);
    this.data.fill(0, offset, offset + length);
  }

  async writeZeroes(offset: number, length: number, opts: { fua?: boolean } = {}): Promise<void> {
    await this.io('zero', offset, length, Boolean(opts.fua));
    this.data.fill(0, offset, offset + length);
  }
}

describe('VolumeExport (the SAN↔NBD bridge)', () => {
  it('answers size and read-only from what DISCOVER said, and serves a writable volume read-only when asked', () => {
    const rw = new VolumeExport(new BlockRam('a', 64 * BS));
    expect({ name: rw.name, size: rw.size, readOnly: rw.readOnly, blockSize: rw.blockSize }).toEqual({ name: 'a', size: 64 * BS, readOnly: false, blockSize: BS });
    expect(new VolumeExport(new BlockRam('b', BS, true)).readOnly).toBe(true);
    expect(new VolumeExport(new BlockRam('c', BS), { readOnly: true }).readOnly).toBe(true);
    expect(new VolumeExport(new BlockRam('c', BS), { name: '' }).name).toBe('');
  });

  it('passes aligned I/O straight through, FUA included', async () => {
    const ram = new BlockRam('v', 16 * BS);
    const exp = new VolumeExport(ram);
    const data = Buffer.alloc(2 * BS, 7);
    await exp.write(BS, data, { fua: true });
    expect(ram.calls).toEqual([{ op: 'write', offset: BS, length: 2 * BS, fua: true }]);
    expect((await exp.read(BS, 2 * BS)).equals(data)).toBe(true);
    const into = Buffer.alloc(BS);
    await exp.readInto(2 * BS, into);
    expect(into.equals(Buffer.alloc(BS, 7))).toBe(true);
    expect(exp.counters).toMatchObject({ reads: 2, writes: 1, bytesRead: 3 * BS, bytesWritten: 2 * BS, partialWrites: 0 });
  });

  it('serves any byte range: thousands of unaligned, overlapping-in-time reads, writes and zeroes match a plain buffer', async () => {
    const size = 32 * BS;
    const ram = new BlockRam('v', size);
    const exp = new VolumeExport(ram);
    const model = Buffer.alloc(size);
    const prng = new Prng(42);
    for (let round = 0; round < 60; round++) {
      // Each round: requests in flight at once on disjoint byte ranges (sharing blocks at their edges), as an NBD client may send.
      const cuts = Array.from({ length: 9 }, () => prng.int(0, size + 1)).sort((a, b) => a - b);
      const jobs: Array<Promise<unknown>> = [];
      for (let i = 0; i + 1 < cuts.length; i++) {
        const [offset, end] = [cuts[i], cuts[i + 1]];
        const what = prng.int(0, 3);
        if (what === 0) {
          const data = prng.bytes(end - offset);
          data.copy(model, offset);
          jobs.push(exp.write(offset, data));
        } else if (what === 1) {
          model.fill(0, offset, end);
          jobs.push(exp.writeZeroes(offset, end - offset));
        } else {
          const expected = Buffer.from(model.subarray(offset, end));
          jobs.push(exp.read(offset, end - offset).then((got) => expect(got.equals(expected), `read [${offset}, ${end})`).toBe(true)));
        }
      }
      await Promise.all(jobs);
      expect(ram.data.equals(model), `round ${round}`).toBe(true);
    }
    expect(exp.counters.partialWrites).toBeGreaterThan(50);
    expect(exp.counters.errors).toBe(0);
  });

  it('a request inside one block, across two, and on block edges', async () => {
    const ram = new BlockRam('v', 4 * BS);
    const exp = new VolumeExport(ram);
    const model = Buffer.alloc(4 * BS);
    const put = async (offset: number, length: number, byte: number) => {
      model.fill(byte, offset, offset + length);
      await exp.write(offset, Buffer.alloc(length, byte));
    };
    await put(100, 100, 1);
    await put(0, 200, 2);
    await put(BS - 10, 20, 3);
    await put(BS + 50, BS - 50, 4);
    await put(2 * BS - 1, BS + 2, 5);
    await put(4 * BS - 1, 1, 6);
    expect(ram.data.equals(model)).toBe(true);
    expect((await exp.read(BS - 10, 20)).equals(Buffer.alloc(20, 3))).toBe(true);
    expect((await exp.read(0, 0)).length).toBe(0);
    // Every call that reached the volume was whole blocks.
    expect(ram.calls.every((c) => c.offset % BS === 0 && c.length % BS === 0)).toBe(true);
  });

  it('TRIM unmaps only the whole blocks inside it', async () => {
    const ram = new BlockRam('v', 8 * BS);
    ram.data.fill(9);
    const exp = new VolumeExport(ram);
    await exp.discard(100, 3 * BS);
    expect(ram.calls).toEqual([{ op: 'unmap', offset: BS, length: 2 * BS }]);
    await exp.discard(10, 100);
    expect(ram.calls).toHaveLength(1);
    expect(ram.data[50]).toBe(9);
    expect(ram.data[BS]).toBe(0);
  });

  it('WRITE_ZEROES zeroes whole blocks on the volume and patches the ends, with FUA', async () => {
    const ram = new BlockRam('v', 8 * BS);
    ram.data.fill(9);
    const exp = new VolumeExport(ram);
    await exp.writeZeroes(BS - 1, 2 * BS + 2, { fua: true });
    expect(ram.calls.filter((c) => c.op === 'zero')).toEqual([{ op: 'zero', offset: BS, length: 2 * BS, fua: true }]);
    expect(ram.calls.filter((c) => c.op === 'write').every((c) => c.fua)).toBe(true);
    expect(ram.data[BS - 2]).toBe(9);
    expect(ram.data.subarray(BS - 1, 3 * BS + 1).equals(Buffer.alloc(2 * BS + 2))).toBe(true);
    expect(ram.data[3 * BS + 1]).toBe(9);
  });

  it('counts failures and maps SAN statuses to NBD errnos in one place', async () => {
    const exp = new VolumeExport(new BlockRam('v', 4 * BS));
    const e = await exp.read(4 * BS, 1).then(
      () => null,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(SanError);
    expect(exp.counters.errors).toBe(1);
    expect(nbdErrno(e)).toBe(NbdErrno.EINVAL);
    expect(nbdErrno(new SanError(Status.READ_ONLY, 'ro'))).toBe(NbdErrno.EPERM);
    expect(nbdErrno(new SanError(Status.RESERVED, 'held'))).toBe(NbdErrno.EPERM);
    expect(nbdErrno(new SanError(Status.NO_SPACE, 'full'))).toBe(NbdErrno.ENOSPC);
    expect(nbdErrno(new SanError(Status.IO_ERROR, 'bad disk'))).toBe(NbdErrno.EIO);
    expect(nbdErrno(new Error('anything else'))).toBe(NbdErrno.EIO);
  });
});
