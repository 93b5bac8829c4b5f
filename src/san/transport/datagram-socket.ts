import { createSocket, type Socket } from 'node:dgram';
import type { Touch } from '../../common/busy-poll';

export interface Peer {
  address: string;
  port: number;
}

/**
 * The seam between the protocol and the network: node:dgram in production,
 * test/utils/lossy-link.ts (drops, duplicates, reorders, corrupts) in tests.
 */
export interface DatagramSocket {
  /**
   * One datagram, given whole or as pieces sent together (one sendmsg with an
   * iovec: no copy to join them). The caller may change the pieces once send
   * returns unless queuedSends() counts this datagram: a socket that keeps a
   * piece by reference past its return must count it there (or copy it).
   */
  send(buf: Buffer | readonly Buffer[], port: number, address: string): void;
  /** Datagrams accepted by send() whose pieces the socket still refers to (queued, not yet handed to the kernel). */
  queuedSends(): number;
  onMessage(cb: (buf: Buffer, from: Peer) => void): void;
  local(): Peer;
  close(): Promise<void>;
  /** The kernel buffer sizes actually granted, where there is a kernel socket. */
  bufferSizes?(): { recv: number; send: number };
}

/** A datagram given as pieces, in one buffer (for wrappers that look into or damage what they pass on). */
export function whole(buf: Buffer | readonly Buffer[]): Buffer {
  return Buffer.isBuffer(buf) ? buf : Buffer.concat(buf);
}

/** The kernel caps a request at net.core.rmem_max (4 MiB on these machines): ask for that. */
export const SOCKET_BUFFER = 4 * 2 ** 20;

/**
 * How many datagrams of `datagramSize` bytes a receive buffer of `granted`
 * bytes holds, as the kernel reports its size (twice what was asked). Linux
 * charges each datagram its buffer's true size, measured on loopback as
 * 2,304 bytes for 1,452, 16.6 KB for 9,000 and 66 KB for 65,000: about
 * twice a small datagram and 1 KB over a large one. A quarter stays spare
 * for ACKs, other sessions' bursts and what the estimate misses.
 */
export function datagramsThatFit(granted: number, datagramSize: number): number {
  const trueSize = datagramSize <= 16_384 ? 2 * datagramSize : datagramSize + 4096;
  return Math.floor((granted * 3) / 4 / trueSize);
}

export interface SocketCounters {
  sendErrors: number;
}

/** A UDP socket with large kernel buffers; a send that fails (ENOBUFS) is counted and left to retransmission. */
export class UdpDatagramSocket implements DatagramSocket {
  readonly counters: SocketCounters = { sendErrors: 0 };
  private readonly onSent = (err: Error | null) => {
    if (err) this.counters.sendErrors++;
  };

  private constructor(
    private readonly socket: Socket,
    /** Touched at every send: the answer to what went out is picked up without a wake-up (common/busy-poll). */
    private readonly busyPoll?: Touch,
  ) {}

  static bind(host: string, port: number, opts: { bufferSize?: number; busyPoll?: Touch } = {}): Promise<UdpDatagramSocket> {
    const bufferSize = opts.bufferSize ?? SOCKET_BUFFER;
    const socket = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4', recvBufferSize: bufferSize, sendBufferSize: bufferSize });
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, host, () => {
        socket.off('error', reject);
        // Errors after bind (ICMP unreachable surfaces as ECONNREFUSED on some paths) are not fatal to a datagram server.
        socket.on('error', () => undefined);
        resolve(new UdpDatagramSocket(socket, opts.busyPoll));
      });
    });
  }

  send(buf: Buffer | readonly Buffer[], port: number, address: string): void {
    try {
      this.socket.send(buf as Buffer | Buffer[], port, address, this.onSent);
      this.busyPoll?.touch();
    } catch {
      // Closed under a late reply (a listener taken away): a lost datagram, not a crash.
      this.counters.sendErrors++;
    }
  }

  /** libuv's queue: a send the kernel could not take at once (EAGAIN) waits there, pieces by reference. */
  queuedSends(): number {
    try {
      return this.socket.getSendQueueCount();
    } catch {
      return 0;
    }
  }

  onMessage(cb: (buf: Buffer, from: Peer) => void): void {
    this.socket.on('message', (buf, rinfo) => cb(buf, { address: rinfo.address, port: rinfo.port }));
  }

  local(): Peer {
    const a = this.socket.address();
    return { address: a.address, port: a.port };
  }

  /** The buffer sizes the kernel actually granted. */
  bufferSizes(): { recv: number; send: number } {
    return { recv: this.socket.getRecvBufferSize(), send: this.socket.getSendBufferSize() };
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}
