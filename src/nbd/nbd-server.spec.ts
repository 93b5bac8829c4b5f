import { connect, type Socket } from 'node:net';
import { Duplex, PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { Touch } from '../common/busy-poll';
import { Prng } from '../common/prng';
import { ByteQueue } from './byte-queue';
import { NbdServer, type NbdExport } from './nbd-server';

/*
 * The transmission phase byte for byte, with the client side written by hand
 * from the NBD protocol document (doc/proto.md), not from our codec:
 *   request: u32 0x25609513 | u16 flags | u16 type | u64 handle | u64 offset | u32 length | data
 *   simple reply: u32 0x67446698 | u32 error | u64 handle | data
 *   NBD_OPT_EXPORT_NAME (1) reply with NBD_FLAG_C_NO_ZEROES: u64 size | u16 flags
 */
const NBD_CMD_READ = 0;
const NBD_CMD_WRITE = 1;
const MiB = 2 ** 20;

/** An export in memory; each call resolves after `delay` (a function of the call number). */
class RamExport implements NbdExport {
  readonly name = 'ram';
  readonly readOnly = false;
  readonly data: Buffer;
  calls = 0;

  constructor(
    readonly size: number,
    private readonly delay: (n: number) => number = () => 0,
  ) {
    this.data = Buffer.alloc(size);
  }

  private wait(): Promise<void> {
    const ms = this.delay(this.calls++);
    return ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve();
  }

  async readInto(offset: number, target: Buffer): Promise<void> {
    await this.wait();
    this.data.copy(target, 0, offset, offset + target.length);
  }

  async write(offset: number, data: Buffer): Promise<void> {
    await this.wait();
    data.copy(this.data, offset);
  }

  async flush(): Promise<void> {}
  async discard(offset: number, length: number): Promise<void> {
    this.data.fill(0, offset, offset + length);
  }
  async writeZeroes(offset: number, length: number): Promise<void> {
    this.data.fill(0, offset, offset + length);
  }
}

function request(type: number, handle: number, offset: number, length: number, data?: Buffer): Buffer {
  const b = Buffer.alloc(28);
  b.writeUInt32BE(0x25609513, 0);
  b.writeUInt16BE(0, 4);
  b.writeUInt16BE(type, 6);
  b.writeBigUInt64BE(BigInt(handle), 8);
  b.writeBigUInt64BE(BigInt(offset), 16);
  b.writeUInt32BE(length, 24);
  return data ? Buffer.concat([b, data]) : b;
}

/** Client flags (fixed newstyle, no zeroes), then NBD_OPT_EXPORT_NAME for `name`. */
function handshake(name: string): Buffer {
  const n = Buffer.from(name);
  const b = Buffer.alloc(4 + 16 + n.length);
  b.writeUInt32BE(0b11, 0);
  b.writeBigUInt64BE(0x49484156454f5054n, 4); // IHAVEOPT
  b.writeUInt32BE(1, 12);
  b.writeUInt32BE(n.length, 16);
  n.copy(b, 20);
  return b;
}

/** Everything the server sends, as one growing buffer, with a wait for `n` bytes. */
class Received {
  buf = Buffer.alloc(0);
  private waiter: (() => void) | null = null;
  constructor(stream: NodeJS.ReadableStream) {
    stream.on('data', (c: Buffer) => {
      this.buf = Buffer.concat([this.buf, c]);
      this.waiter?.();
    });
  }
  async take(n: number): Promise<Buffer> {
    while (this.buf.length < n) await new Promise<void>((r) => (this.waiter = r));
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }
}

/** Skip the greeting (18 bytes) and the EXPORT_NAME reply (10 bytes with NO_ZEROES). */
async function negotiated(rx: Received): Promise<void> {
  const greeting = await rx.take(18);
  expect(greeting.readBigUInt64BE(0)).toBe(0x4e42444d41474943n);
  await rx.take(10);
}

/** Reply header → [error, handle]. */
async function reply(rx: Received): Promise<[number, number]> {
  const h = await rx.take(16);
  expect(h.readUInt32BE(0)).toBe(0x67446698);
  return [h.readUInt32BE(4), Number(h.readBigUInt64BE(8))];
}

describe('NbdServer transmission', () => {
  const servers: NbdServer[] = [];
  const sockets: Socket[] = [];
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    for (const s of servers.splice(0)) await s.close();
  });

  async function serve(exp: RamExport, busyPoll?: Touch): Promise<{ socket: Socket; rx: Received }> {
    const server = new NbdServer({ list: () => [exp.name], get: (n) => (n === exp.name ? exp : undefined) }, busyPoll);
    servers.push(server);
    const { port } = await server.listen(0, '127.0.0.1');
    const socket = connect(port, '127.0.0.1');
    sockets.push(socket);
    const rx = new Received(socket);
    socket.write(handshake(exp.name));
    await negotiated(rx);
    return { socket, rx };
  }

  it('touches its BusyPoll once per batch of replies sent', async () => {
    let touches = 0;
    const { socket, rx } = await serve(new RamExport(MiB), { touch: () => void touches++ });
    for (let i = 0; i < 3; i++) {
      socket.write(request(NBD_CMD_READ, i, i * 4096, 4096));
      expect(await reply(rx)).toEqual([0, i]);
      await rx.take(4096);
    }
    // Replies one at a time: a batch each.
    expect(touches).toBe(3);
  });

  it('pipelined 1 MiB writes finishing out of order each land intact (pooled payload buffers are reused only after their write)', async () => {
    const prng = new Prng(11);
    // Later writes finish first, so a payload buffer reused too early would show up as foreign bytes.
    const exp = new RamExport(24 * MiB, (n) => (n < 12 ? 12 - n : 0));
    const { socket, rx } = await serve(exp);
    const images = Array.from({ length: 24 }, () => prng.bytes(MiB));
    // Two rounds: the second reuses the buffers the first gave back.
    for (const round of [0, 1]) {
      const order = round === 0 ? images.keys() : [...images.keys()].reverse();
      for (const i of order) socket.write(request(NBD_CMD_WRITE, 1000 * round + i, i * MiB, MiB, round === 0 ? Buffer.alloc(MiB, 0xee) : images[i]));
      const handles = new Set<number>();
      for (let k = 0; k < images.length; k++) {
        const [error, handle] = await reply(rx);
        expect(error).toBe(0);
        handles.add(handle);
      }
      expect(handles.size).toBe(images.length);
    }
    images.forEach((img, i) => expect(exp.data.subarray(i * MiB, (i + 1) * MiB).equals(img)).toBe(true));
    // And what is read back over the wire (pooled READ buffers) is the same.
    for (let i = 0; i < images.length; i++) socket.write(request(NBD_CMD_READ, i, i * MiB, MiB));
    for (let k = 0; k < images.length; k++) {
      const [error, handle] = await reply(rx);
      expect(error).toBe(0);
      expect((await rx.take(MiB)).equals(images[handle])).toBe(true);
    }
  });

  it('a failed 1 MiB write is answered EIO and the connection keeps serving', async () => {
    const exp = new RamExport(4 * MiB);
    exp.write = async (offset) => {
      if (offset === 0) throw new Error('device failed');
    };
    const { socket, rx } = await serve(exp);
    socket.write(request(NBD_CMD_WRITE, 1, 0, MiB, Buffer.alloc(MiB, 1)));
    expect(await reply(rx)).toEqual([5, 1]);
    socket.write(request(NBD_CMD_WRITE, 2, MiB, MiB, Buffer.alloc(MiB, 2)));
    expect(await reply(rx)).toEqual([0, 2]);
  });

  it('replies that finish in the same turn of the event loop go out in one write to the socket', async () => {
    const exp = new RamExport(MiB);
    exp.data.fill(7);
    const server = new NbdServer({ list: () => ['ram'], get: () => exp });
    const batches: number[] = [];
    const input = new PassThrough();
    const rx = new PassThrough();
    // The server's side of a connection: what it writes is counted per write call, then passed on.
    const side = new Duplex({
      read() {},
      writev(chunks, cb) {
        batches.push(chunks.length);
        for (const c of chunks) rx.write(c.chunk);
        cb();
      },
      write(chunk, _enc, cb) {
        batches.push(1);
        rx.write(chunk);
        cb();
      },
    });
    input.on('data', (c: Buffer) => side.push(c));
    const received = new Received(rx);
    const served = server.handle(side);
    input.write(handshake('ram'));
    await negotiated(received);
    batches.length = 0;
    // 32 READs in one chunk, answered at once by the export: 32 headers + 32 payloads in one batch.
    input.write(Buffer.concat(Array.from({ length: 32 }, (_, i) => request(NBD_CMD_READ, i, i * 4096, 4096))));
    for (let k = 0; k < 32; k++) {
      const [error] = await reply(received);
      expect(error).toBe(0);
      expect((await received.take(4096)).equals(Buffer.alloc(4096, 7))).toBe(true);
    }
    expect(batches).toEqual([64]);
    side.push(null);
    await served;
  });
});

describe('ByteQueue', () => {
  it('readInto fills a caller buffer across any split of the input, between plain reads', async () => {
    const prng = new Prng(3);
    const bytes = prng.bytes(300);
    for (let cut = 1; cut < bytes.length; cut += 7) {
      const stream = new PassThrough();
      const q = new ByteQueue(stream);
      const body = Buffer.alloc(250);
      // One reader at a time, as the server reads: header, payload into its own buffer, next header.
      const consumer = (async () => [await q.read(10), await q.readInto(body), await q.read(40)] as const)();
      stream.write(bytes.subarray(0, cut));
      await new Promise((r) => setImmediate(r));
      stream.write(bytes.subarray(cut));
      const [head, filled, tail] = await consumer;
      expect(head!.equals(bytes.subarray(0, 10))).toBe(true);
      expect(filled).toBe(true);
      expect(body.equals(bytes.subarray(10, 260))).toBe(true);
      expect(tail!.equals(bytes.subarray(260))).toBe(true);
    }
  });

  it('readInto resolves false when the stream ends first', async () => {
    const stream = new PassThrough();
    const q = new ByteQueue(stream);
    stream.end(Buffer.alloc(5));
    expect(await q.readInto(Buffer.alloc(6))).toBe(false);
  });
});
