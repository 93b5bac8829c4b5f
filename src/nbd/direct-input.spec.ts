import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Prng } from '../common/prng';
import { DirectInput, directSocket } from './direct-input';

/** A loopback connection whose accepted side reads through directSocket. */
async function pair(highWater?: number): Promise<{ client: Socket; input: DirectInput; server: Server; accepted: Socket }> {
  let got!: (v: { input: DirectInput; accepted: Socket }) => void;
  const ready = new Promise<{ input: DirectInput; accepted: Socket }>((r) => (got = r));
  const server = createServer({ pauseOnConnect: true }, (s) => {
    const d = directSocket(s, highWater)!;
    got({ input: d.input, accepted: d.socket });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const client = connect((server.address() as { port: number }).port, '127.0.0.1');
  return { client, server, ...(await ready) };
}

describe('DirectInput', () => {
  const cleanup: Array<() => void> = [];
  afterEach(() => {
    for (const c of cleanup.splice(0)) c();
  });

  it('frames and payloads arrive intact, split anywhere and all at once', async () => {
    const { client, input, server, accepted } = await pair();
    cleanup.push(() => (client.destroy(), accepted.destroy(), server.close()));
    const prng = new Prng(5);
    const frames = Array.from({ length: 16 }, () => ({ head: prng.bytes(28), body: prng.bytes(prng.int(1, 2 ** 20)) }));
    const all = Buffer.concat(frames.flatMap((f) => [f.head, f.body]));
    for (let at = 0; at < all.length; ) {
      const n = prng.int(1, 300_000);
      client.write(all.subarray(at, at + n));
      at += n;
    }
    for (const f of frames) {
      expect((await input.read(28))!.equals(f.head)).toBe(true);
      const body = Buffer.alloc(f.body.length);
      expect(await input.readInto(body)).toBe(true);
      expect(body.equals(f.body)).toBe(true);
    }
    expect(input.bytes.direct + input.bytes.copied).toBe(all.length);
  });

  it('a payload the reader is already waiting for goes straight into its buffer, past the first read', async () => {
    const { client, input, server, accepted } = await pair();
    cleanup.push(() => (client.destroy(), accepted.destroy(), server.close()));
    const body = new Prng(6).bytes(2 ** 20);
    client.write(Buffer.alloc(28, 1));
    await input.read(28);
    const target = Buffer.alloc(body.length);
    const filled = input.readInto(target);
    client.write(body);
    expect(await filled).toBe(true);
    expect(target.equals(body)).toBe(true);
    // Where the first read after the header lands was decided before the payload was asked for.
    expect(input.bytes.copied - 28).toBeLessThanOrEqual(64 * 1024);
    expect(input.bytes.direct).toBeGreaterThanOrEqual(body.length - 64 * 1024);
  });

  it('reading ahead only a header, frames that arrive together put their large payloads straight into the buffers', async () => {
    const { client, input, server, accepted } = await pair();
    cleanup.push(() => (client.destroy(), accepted.destroy(), server.close()));
    const prng = new Prng(7);
    const frames = Array.from({ length: 8 }, () => ({ head: prng.bytes(28), body: prng.bytes(2 ** 20) }));
    input.readAhead(28);
    // The socket's first read was set up when it was made: a lone frame uses it.
    client.write(Buffer.alloc(28, 1));
    await input.read(28);
    // Header and payload leave in one write each, as an NBD client sends a WRITE.
    for (const f of frames) client.write(Buffer.concat([f.head, f.body]));
    for (const f of frames) {
      expect((await input.read(28))!.equals(f.head)).toBe(true);
      const body = Buffer.alloc(f.body.length);
      expect(await input.readInto(body)).toBe(true);
      expect(body.equals(f.body)).toBe(true);
    }
    // Each frame: its header, and at most one header-sized read of payload before the reader asked for it.
    expect(input.bytes.copied - 28).toBeLessThanOrEqual(frames.length * 2 * 28);
    expect(input.bytes.direct + input.bytes.copied).toBe(28 + frames.length * (28 + 2 ** 20));
  });

  it('stops reading when more than highWater is queued and goes on once the reader catches up', async () => {
    const { client, input, server, accepted } = await pair(64 * 1024);
    cleanup.push(() => (client.destroy(), accepted.destroy(), server.close()));
    const data = new Prng(9).bytes(4 * 2 ** 20);
    client.write(data);
    await new Promise((r) => setTimeout(r, 50));
    // Reading stopped soon after highWater: the rest waits in the kernel.
    expect(accepted.bytesRead).toBeLessThan(data.length);
    const out: Buffer[] = [];
    for (let at = 0; at < data.length; at += 4096) out.push((await input.read(4096))!);
    expect(Buffer.concat(out).equals(data)).toBe(true);
  });

  it('a payload cut short by the end of the connection resolves false; reads after it null', async () => {
    const { client, input, server, accepted } = await pair();
    cleanup.push(() => (accepted.destroy(), server.close()));
    client.end(Buffer.alloc(1000, 1));
    expect(await input.readInto(Buffer.alloc(2000))).toBe(false);
    expect(await input.read(1)).toBeNull();
  });
});
