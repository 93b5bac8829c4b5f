import { closeSync, openSync, writeSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { conversationIsn, pcapGlobalHeader, pcapRecord, TcpConversation, type Endpoint } from './pcap';

/**
 * A TCP proxy on loopback that writes every byte it forwards, both ways, to a pcap file, so tshark can
 * judge what a server puts on the wire. One recorder, one file; `forward` adds a listener per upstream
 * port (NFS and MOUNT), each connection its own TCP stream in the file, in the order the proxy saw things.
 *
 * The packets show the client's real address and port and the proxy's listening port as the server's: a
 * spec decodes them with `tshark -d tcp.port==<listening port>,rpc`.
 */
export class PcapRecorder {
  private readonly servers: Server[] = [];
  private readonly sockets = new Set<Socket>();
  /** Connections seen so far: each gets its own initial sequence numbers. */
  private conversations = 0;
  private readonly started = process.hrtime.bigint();
  private readonly epochMicros = Date.now() * 1000;
  private fd: number | undefined;

  private constructor(readonly file: string) {
    this.fd = openSync(file, 'w');
    writeSync(this.fd, pcapGlobalHeader());
  }

  static create(file: string): PcapRecorder {
    return new PcapRecorder(file);
  }

  /** Listen on 127.0.0.1 and forward each connection to `target`; resolves with the listening port. */
  async forward(target: { port: number; host?: string }): Promise<number> {
    const server = createServer((client) => this.relay(client, server, target));
    this.servers.push(server);
    await new Promise<void>((res, rej) => {
      server.once('error', rej);
      server.listen(0, '127.0.0.1', () => res());
    });
    return (server.address() as { port: number }).port;
  }

  private relay(client: Socket, server: Server, target: { port: number; host?: string }): void {
    const listening = (server.address() as { port: number }).port;
    const from: Endpoint = { ip: client.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1', port: client.remotePort ?? 0 };
    const tcp = new TcpConversation(from, { ip: '127.0.0.1', port: listening }, conversationIsn(this.conversations++));
    this.append(tcp.open());
    const upstream = connect({ port: target.port, host: target.host ?? '127.0.0.1' });
    this.sockets.add(client).add(upstream);
    // Bytes are written to the file before they are passed on, so a reply never precedes its call.
    client.on('data', (b) => {
      this.append(tcp.data('client', b));
      upstream.write(b);
    });
    upstream.on('data', (b) => {
      this.append(tcp.data('server', b));
      client.write(b);
    });
    let ended = { client: false, server: false };
    const end = (side: 'client' | 'server', other: Socket) => () => {
      if (ended[side]) return;
      ended = { ...ended, [side]: true };
      this.append(tcp.fin(side));
      other.end();
    };
    client.on('end', end('client', upstream));
    upstream.on('end', end('server', client));
    const gone = (s: Socket, other: Socket) => () => {
      this.sockets.delete(s);
      other.destroy();
    };
    client.on('close', gone(client, upstream));
    upstream.on('close', gone(upstream, client));
    client.on('error', () => undefined);
    upstream.on('error', () => undefined);
  }

  private append(packets: Buffer[]): void {
    if (this.fd === undefined) return;
    const micros = this.epochMicros + Number((process.hrtime.bigint() - this.started) / 1000n);
    for (const p of packets) writeSync(this.fd, pcapRecord(micros, p));
  }

  /** Stop listening, cut the connections still open, and close the file. */
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await Promise.all(this.servers.map((s) => new Promise<void>((res) => s.close(() => res()))));
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
