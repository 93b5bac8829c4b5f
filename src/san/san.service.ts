import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { ListenerRegistry } from '../common/listeners';
import { STRATA_CONFIG, type StrataConfig } from '../config/config';
import { AuditService } from '../storage/audit.service';
import { StorageEvents } from '../storage/events';
import { HostService } from '../storage/host.service';
import { StorageRuntime } from '../storage/runtime';
import { VolumeService } from '../storage/volume.service';
import { SanServer } from './san-server';
import type { SanStats } from './san-stats';
import { SanView } from './san-view';
import { systemClock } from './transport/clock';
import { UdpDatagramSocket, type Peer } from './transport/datagram-socket';

const LISTENER = 'san';

/**
 * The SAN target's listener: binds the UDP socket, builds the in-memory view
 * of hosts and assignments and keeps it current from storage events, and
 * runs a SanServer on it; closed at shutdown. A failure to bind is reported
 * to readiness, not fatal to the other front ends.
 */
@Injectable()
export class SanService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('SAN');
  private socket: UdpDatagramSocket | null = null;
  private server: SanServer | null = null;
  private view: SanView | null = null;

  constructor(
    @Inject(STRATA_CONFIG) private readonly config: StrataConfig,
    private readonly hosts: HostService,
    private readonly volumes: VolumeService,
    private readonly runtime: StorageRuntime,
    private readonly events: StorageEvents,
    private readonly audit: AuditService,
    private readonly listeners: ListenerRegistry,
  ) {}

  /** Where the target listens, once it does (tests bind port 0). */
  address(): Peer | null {
    return this.socket?.local() ?? null;
  }

  /** Live counters for metrics; null while not listening. */
  stats(): (SanStats & { sessions: number; sendErrors: number }) | null {
    if (!this.server || !this.socket) return null;
    return { ...this.server.stats, sessions: this.server.sessionCount, sendErrors: this.socket.counters.sendErrors };
  }

  async onApplicationBootstrap(): Promise<void> {
    const c = this.config.san;
    if (!c.enabled) {
      this.log.log('SAN target disabled (san.enabled is false)');
      return;
    }
    try {
      this.socket = await UdpDatagramSocket.bind(c.host, c.port);
    } catch (e) {
      const reason = `cannot listen on udp ${c.host}:${c.port}: ${(e as Error).message}`;
      this.listeners.failed(LISTENER, reason);
      this.log.error(`SAN target ${reason}`);
      return;
    }
    this.view = new SanView(await this.hosts.list(), await this.volumes.list());
    this.view.attach(this.events);
    const buffers = this.socket.bufferSizes();
    this.server = new SanServer({
      socket: this.socket,
      clock: systemClock,
      view: this.view,
      disk: (id) => this.runtime.disk(id),
      audit: (a) => this.recordLogin(a),
      fault: (err, what) => this.log.error(`${what}: ${(err as Error)?.stack ?? String(err)}`),
      datagramSize: c.datagramSize,
      slots: c.slots,
      maxTransfer: c.maxTransfer,
      security: c.security,
      idleTimeoutMs: c.idleTimeoutSeconds * 1000,
      authFailureDelayMs: c.authFailureDelayMs,
      receiveBuffer: buffers.recv,
    });
    const a = this.socket.local();
    const where = a.address.includes(':') ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
    this.listeners.listening(LISTENER, `udp ${where}`, `SBP v1, security ${c.security}`);
    this.log.log(`SAN target listening on udp ${where} (SBP v1, security ${c.security}, datagrams up to ${c.datagramSize} bytes, receive buffer ${buffers.recv} bytes)`);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.server?.close();
    this.view?.detach(this.events);
    await this.socket?.close();
    if (this.socket) this.listeners.closed(LISTENER);
    this.server = null;
    this.socket = null;
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
