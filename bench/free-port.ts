import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/*
 * Ports for gateways (and peers) that the benchmarks and the tests start as
 * processes. One implementation for both: test/utils/process-gateway.ts
 * re-exports it.
 */

/** The lowest port the kernel hands out to sockets bound to port 0 and to outgoing connections. */
function ephemeralLow(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32768;
  } catch {
    return 32768;
  }
}

function canBind(kind: 'tcp' | 'udp', port: number): Promise<boolean> {
  return new Promise((res) => {
    if (kind === 'udp') {
      const s = createSocket('udp4');
      s.once('error', () => s.close(() => res(false)));
      s.bind(port, '127.0.0.1', () => s.close(() => res(true)));
      return;
    }
    const s = createServer();
    s.once('error', () => res(false));
    s.listen(port, '127.0.0.1', () => s.close(() => res(true)));
  });
}

/**
 * A free port on 127.0.0.1 for a server process to bind, below the kernel's
 * ephemeral range: a port from that range can be taken, between this check
 * and the server's bind (or while a gateway is down for a restart on the
 * same ports), as the local port of any process's outgoing connection or
 * unbound UDP socket, and the server then fails with EADDRINUSE.
 */
export async function freePort(kind: 'tcp' | 'udp' = 'tcp'): Promise<number> {
  const low = Math.min(ephemeralLow(), 65536);
  for (let tries = 0; tries < 200; tries++) {
    const port = 10_000 + Math.floor(Math.random() * (low - 10_000));
    if (await canBind(kind, port)) return port;
  }
  throw new Error(`no free ${kind} port from 10000 to ${low - 1}`);
}
