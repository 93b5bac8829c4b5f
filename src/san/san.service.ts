import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { ListenerRegistry } from '../common/listeners';
import { BusyPoll } from '../common/busy-poll';
import { STRATA_CONFIG, type StrataConfig } from '../config/config';
import { AuditService } from '../storage/audit.service';
import { StorageEvents } from '../storage/events';
import { HostService } from '../storage/host.service';
import { NotReplica, ReplicaMismatch, ReplicaService } from '../storage/replica.service';
import { StorageRuntime } from '../storage/runtime';
import { VolumeService } from '../storage/volume.service';
import { SanServer } from './san-server';
import type { SanStats } from './san-stats';
import { SanView, type SanHost } from './san-view';
import { SanStatusError } from './san-status';
import { Status } from '../protocols/san/constants';
import { DomainError, NoSpace } from '../common/errors';
import { systemClock } from './transport/clock';
import { UdpDatagramSocket, type Peer } from './transport/datagram-socket';

const LISTENER = 'san';

interface Listener {
  /** As configured (`host:port`); with port 0, the port it got. */
  address: string;
  socket: UdpDatagramSocket;
}

const show = (a: Peer) => (a.address.includes(':') ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`);

/** `host:port` or `[v6]:port` of san.addresses. */
function splitAddress(text: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  if (!m) throw new Error(`'${text}' is not host:port`);
  return { host: m[1], port: Number(m[2]) };
}

/**
 * The SAN target's listeners: binds the UDP socket of san.host:port and one
 * per san.addresses entry (paths for multipath clients), builds the in-memory
 * view of hosts and assignments and keeps it current from storage events,
 * and runs one SanServer over all of them; closed at shutdown. A failure to
 * bind is reported to readiness, not fatal to the other front ends.
 */
@Injectable()
export class SanService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('SAN');
  private listeners: Listener[] = [];
  private server: SanServer | null = null;
  private view: SanView | null = null;
  private readonly failures = new Map<string, string>();
  /** The window every listener's socket touches after each send. */
  private readonly busyPoll: BusyPoll;

  constructor(
    @Inject(STRATA_CONFIG) private readonly config: StrataConfig,
    private readonly hosts: HostService,
    private readonly volumes: VolumeService,
    private readonly runtime: StorageRuntime,
    private readonly events: StorageEvents,
    private readonly audit: AuditService,
    private readonly registry: ListenerRegistry,
    private readonly replicas: ReplicaService,
  ) {
    this.busyPoll = new BusyPoll(config.san.busyPollMicros);
  }

  /** Where the first listener listens, once it does (tests bind port 0). */
  address(): Peer | null {
    return this.listeners[0]?.socket.local() ?? null;
  }

  /** Every SAN address listening now. */
  addresses(): Peer[] {
    return this.listeners.map((l) => l.socket.local());
  }

  /** Live counters for metrics; null while not listening. */
  stats(): (SanStats & { sessions: number; sendErrors: number }) | null {
    if (!this.server || this.listeners.length === 0) return null;
    const sendErrors = this.listeners.reduce((n, l) => n + l.socket.counters.sendErrors, 0);
    return { ...this.server.stats, sessions: this.server.sessionCount, sendErrors };
  }

  async onApplicationBootstrap(): Promise<void> {
    const c = this.config.san;
    if (!c.enabled) {
      this.log.log('SAN target disabled (san.enabled is false)');
      return;
    }
    // Every role: snapshots are assigned read-only, share replicas to the gateway that writes them.
    this.view = new SanView(await this.hosts.list(), await this.volumes.list({ role: 'all' }));
    this.view.attach(this.events);
    for (const address of [show({ address: c.host, port: c.port }), ...c.addresses]) {
      try {
        await this.openListener(address);
      } catch (e) {
        this.failures.set(address, (e as Error).message);
        this.log.error(`SAN target cannot listen on udp ${address}: ${(e as Error).message}`);
      }
    }
    this.report();
    if (this.listeners.length === 0) this.view.detach(this.events);
  }

  /**
   * Listen on one more SAN address (boot does it for every configured one).
   * Also brings back a listener closed with closeListener().
   */
  async openListener(address: string): Promise<Peer> {
    const { host, port } = splitAddress(address);
    if (!this.view) throw new Error('the SAN target is not running');
    const socket = await UdpDatagramSocket.bind(host, port, { busyPoll: this.busyPoll });
    const c = this.config.san;
    if (!this.server) {
      this.server = new SanServer({
        socket,
        clock: systemClock,
        view: this.view,
        disk: (id) => this.runtime.disk(id),
        audit: (a) => this.recordLogin(a),
        fault: (err, what) => this.log.error(`${what}: ${(err as Error)?.stack ?? String(err)}`),
        replicas: {
          commit: (host, volumeId, cycle, metadata) => this.replicaCall(() => this.replicas.commit(volumeId, host.id, host.name, cycle, metadata)),
          metadata: (host, volumeId, cycle, base, offset, data) => this.replicaCall(() => this.replicas.stageMetadata(volumeId, host.id, host.name, { cycle, base, offset, data })),
        },
        datagramSize: c.datagramSize,
        slots: c.slots,
        maxTransfer: c.maxTransfer,
        security: c.security,
        idleTimeoutMs: c.idleTimeoutSeconds * 1000,
        authFailureDelayMs: c.authFailureDelayMs,
        receiveBuffer: socket.bufferSizes().recv,
      });
    } else {
      this.server.addSocket(socket);
    }
    this.listeners.push({ address, socket });
    this.failures.delete(address);
    const where = show(socket.local());
    this.log.log(
      `SAN target listening on udp ${where} (SBP v1, security ${c.security}, datagrams up to ${c.datagramSize} bytes, receive buffer ${socket.bufferSizes().recv} bytes)`,
    );
    this.report();
    return socket.local();
  }

  /**
   * Stop listening on one SAN address (`host:port` as it listens now): its
   * sessions end and multipath clients carry on over the other addresses.
   * Tests use it to take a path away; openListener() brings it back.
   */
  async closeListener(address: string): Promise<void> {
    const l = this.listeners.find((x) => show(x.socket.local()) === address || x.address === address);
    if (!l) throw new Error(`no SAN listener on ${address}`);
    const ended = this.server?.removeSocket(l.socket) ?? 0;
    this.listeners = this.listeners.filter((x) => x !== l);
    await l.socket.close();
    this.log.warn(`SAN listener on udp ${address} closed (${ended} session${ended === 1 ? '' : 's'} ended)`);
    this.report();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.server?.close();
    this.view?.detach(this.events);
    await Promise.all(this.listeners.map((l) => l.socket.close()));
    if (this.listeners.length > 0) this.registry.closed(LISTENER);
    this.server = null;
    this.listeners = [];
  }

  /** Readiness: `san` lists every address listening; a configured address that could not bind is named as `san <address>`. */
  private report(): void {
    const c = this.config.san;
    for (const [address, error] of this.failures) this.registry.failed(`${LISTENER} ${address}`, error);
    for (const l of this.listeners) this.registry.closed(`${LISTENER} ${l.address}`);
    if (this.listeners.length === 0) {
      this.registry.failed(LISTENER, this.failures.size ? `cannot listen on udp ${[...this.failures.keys()].join(', ')}` : 'no SAN listener');
      return;
    }
    const where = this.listeners.map((l) => `udp ${show(l.socket.local())}`).join(', ');
    this.registry.listening(LISTENER, where, `SBP v1, security ${c.security}`);
  }

  /** REPLICA_COMMIT and REPLICA_META into the storage manager; their refusals become SAN statuses (san-status.ts maps the rest). */
  private async replicaCall(fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (e) {
      if (e instanceof NotReplica) throw new SanStatusError(Status.NOT_REPLICA, e.message);
      if (e instanceof ReplicaMismatch) throw new SanStatusError(Status.REPLICA_MISMATCH, e.message);
      if (e instanceof DomainError && !(e instanceof NoSpace)) throw new SanStatusError(Status.IO_ERROR, `the replica's consistent point could not be recorded: ${e.message}`);
      throw e;
    }
  }

  private recordLogin(a: { host: string; hostId: string | null; address: string; ok: boolean; reason?: string }): void {
    if (!a.ok) this.log.warn(`SAN login refused for host '${a.host}' from ${a.address}: ${a.reason}`);
    this.audit
      .record({ name: a.host, source: `san:${a.address}` }, 'san.login', { type: 'host', id: a.hostId, name: a.host }, a.ok ? 'success' : 'failure', {
        ...(a.ok ? {} : { errorCode: 'AUTH_FAILED' }),
        detail: { address: a.address, ...(a.reason ? { reason: a.reason } : {}) },
      })
      .catch((e: Error) => this.log.error(`audit of a SAN login failed: ${e.message}`));
  }
}
