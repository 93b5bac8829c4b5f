import type { KeyObject } from 'node:crypto';
import { BusyPoll, SAN_BUSY_POLL_MICROS } from '../common/busy-poll';
import { Status, DEFAULT_DATAGRAM_SIZE } from '../protocols/san/constants';
import { securityOf, type SecurityMode } from '../protocols/san/login';
import { loadHostKey } from '../san/session-keys';
import { systemClock, type Clock } from '../san/transport/clock';
import { UdpDatagramSocket, type DatagramSocket, type Peer } from '../san/transport/datagram-socket';
import { ClientSession, idKey, type SessionStats } from './client-session';
import { PathSet } from './path-set';
import { GatewayUnreachable, PathDown, SanError } from './san-error';
import { Volume, volumeFlags, type VolumeDescription } from './volume';

export interface SanClientOptions {
  /** Gateway SAN addresses, `host:port` (`[v6]:port`). */
  gateways: string[];
  /** The host name registered on the gateway (strata host add). */
  host: string;
  /** The host's Ed25519 private key: a KeyObject or PEM. */
  key: KeyObject | string;
  /** Sessions per gateway address, each on its own UDP port (default 1). */
  sessionsPerGateway?: number;
  /** Datagram size to ask for (default 1452; up to 65000 on loopback and jumbo frames). */
  datagramSize?: number;
  security?: SecurityMode;
  /** How long a login may go unanswered before that address counts as unreachable (default 5 s). */
  connectTimeoutMs?: number;
  /** How long a call waits for a path when every path is down (gateway restart, network) before it fails (default 60 s). */
  reconnectTimeoutMs?: number;
  keepaliveMs?: number;
  /**
   * Microseconds this process's event loop keeps polling after each datagram it sends, so the reply is
   * picked up without a wake-up (common/busy-poll): 4 KiB reads one at a time ran 2.4x faster with it on
   * both ends. Costs CPU only while calls are in flight or just done. Default 100; 0 turns it off; at most 10,000.
   */
  busyPollMicros?: number;
  /** Transport seam for tests: the socket each session uses (default: UDP on an ephemeral port). */
  socket?: (gateway: Peer) => Promise<DatagramSocket>;
  clock?: Clock;
}

export function parseGateway(text: string): Peer {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw new Error(`gateway address '${text}' is not host:port`);
  return { address: m[1], port: Number(m[2]) };
}

/**
 * strata-client's library: log in to one or more gateway addresses with the
 * host's key, discover the volumes assigned to the host, open them. Every
 * address is a path: connect() succeeds when at least one answers (the
 * others keep trying in the background), and I/O moves between paths as
 * they go down and come back.
 *
 *   const c = await SanClient.connect({ gateways: ['127.0.0.1:7700'], host: 'h1', key: pem });
 *   const v = await c.open('data');
 *   await v.write(0, buf); await v.flush(); const back = await v.read(0, 4096);
 */
export class SanClient {
  private volumes: VolumeDescription[] = [];

  private constructor(
    private readonly sessions: ClientSession[],
    private readonly paths: PathSet,
    readonly host: string,
    /** The window its sockets touch after each send (busyPollMicros): for others of the process that send for it. */
    readonly busyPoll: BusyPoll,
  ) {}

  static async connect(o: SanClientOptions): Promise<SanClient> {
    if (o.gateways.length === 0) throw new Error('at least one gateway address is needed');
    const key = typeof o.key === 'string' ? loadHostKey(o.key) : o.key;
    if (key.asymmetricKeyType !== 'ed25519') throw new Error(`host key must be Ed25519, not ${key.asymmetricKeyType}`);
    if (key.type !== 'private') throw new Error('the host key must be the private key');
    const peers = o.gateways.map(parseGateway);
    const per = o.sessionsPerGateway ?? 1;
    const clock = o.clock ?? systemClock;
    const sessions: ClientSession[] = [];
    const paths = new PathSet(sessions, clock, o.reconnectTimeoutMs ?? 60_000);
    const busyPoll = new BusyPoll(o.busyPollMicros ?? SAN_BUSY_POLL_MICROS);
    try {
      for (const gateway of peers) {
        for (let i = 0; i < per; i++) {
          const socket = o.socket ? await o.socket(gateway) : await UdpDatagramSocket.bind(gateway.address.includes(':') ? '::' : '0.0.0.0', 0, { busyPoll });
          sessions.push(
            new ClientSession({
              gateway,
              host: o.host,
              key,
              datagramSize: o.datagramSize ?? DEFAULT_DATAGRAM_SIZE,
              security: securityOf(o.security),
              socket,
              clock,
              connectTimeoutMs: o.connectTimeoutMs ?? 5000,
              keepaliveMs: o.keepaliveMs ?? 30_000,
              onStateChange: () => paths.changed(),
            }),
          );
        }
      }
      const results = await Promise.allSettled(sessions.map((s) => s.connect()));
      const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
      // A refusal (wrong key, unknown host, version) is the user's to fix: say it, whatever the other paths did.
      const refusal = failures.find((e) => !(e instanceof GatewayUnreachable || e instanceof PathDown));
      if (refusal) throw refusal;
      if (failures.length === sessions.length) {
        if (failures.length === 1) throw failures[0];
        const waited = o.connectTimeoutMs ?? 5000;
        throw new GatewayUnreachable(failures.map((e) => (e as GatewayUnreachable | PathDown).gateway), waited, 'the login (HELLO)');
      }
      // Some paths answered: the silent ones keep trying and join when they answer.
      results.forEach((r, i) => {
        if (r.status === 'rejected') sessions[i].retryInBackground((r.reason as Error).message);
      });
    } catch (e) {
      await Promise.allSettled(sessions.map((s) => s.close()));
      throw e;
    }
    const client = new SanClient(sessions, paths, o.host, busyPoll);
    client.volumes = client.describe();
    return client;
  }

  /** The volumes assigned to this host, asked afresh on every session that is up. */
  async discover(): Promise<VolumeDescription[]> {
    const up = this.sessions.filter((s) => s.up);
    if (up.length === 0) {
      const down = Math.max(...this.sessions.map((s) => s.stats().downForMs ?? 0));
      throw new GatewayUnreachable(this.sessions.map((s) => s.address), down, 'since every path went down');
    }
    const results = await Promise.allSettled(up.map((s) => s.discover()));
    const failed = results.find((r) => r.status === 'rejected');
    if (failed && results.every((r) => r.status === 'rejected')) throw failed.reason;
    this.volumes = this.describe();
    return this.volumes;
  }

  /** Open an assigned volume by name or by LUN (as the first session numbers it). */
  async open(volume: string | number): Promise<Volume> {
    let found = this.find(volume);
    if (!found) {
      await this.discover();
      found = this.find(volume);
    }
    if (!found) {
      const names = this.volumes.map((v) => `'${v.name}'`).join(', ') || 'none';
      throw new SanError(Status.NOT_ASSIGNED, `volume ${typeof volume === 'number' ? `lun ${volume}` : `'${volume}'`} is not assigned to host '${this.host}' (assigned: ${names})`);
    }
    // Only sessions whose DISCOVER lists the volume carry its I/O (PathSet.usable), whichever are up at the time.
    return new Volume(found, this.paths, this.host);
  }

  stats(): SessionStats[] {
    return this.sessions.map((s) => s.stats());
  }

  /** Datagram size and max transfer the gateways granted (the smallest over sessions that logged in). */
  negotiated(): { datagramSize: number; maxTransfer: number } {
    const logged = this.sessions.filter((s) => s.maxTransfer > 0);
    return { datagramSize: Math.min(...logged.map((s) => s.datagramSize)), maxTransfer: Math.min(...logged.map((s) => s.maxTransfer)) };
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.sessions.map((s) => s.close()));
  }

  private find(key: string | number): VolumeDescription | undefined {
    return this.volumes.find((v) => (typeof key === 'number' ? v.lun === key : v.name === key));
  }

  private describe(): VolumeDescription[] {
    const first = this.sessions.find((s) => s.up) ?? this.sessions[0];
    return first.volumes.map((v) => ({ id: idKey(v.id), name: v.name, lun: v.lun, size: v.size, blockSize: v.blockSize, ...volumeFlags(v.flags) }));
  }
}
