import type { KeyObject } from 'node:crypto';
import { lstat, unlink } from 'node:fs/promises';
import { NbdServer } from '../nbd/nbd-server';
import type { ClientHome } from './client-home';
import type { SessionStats } from './client-session';
import { ControlServer, controlRequest, probe } from './control-socket';
import { VolumeExport, type BridgeCounters } from './nbd-bridge';
import { SanClient } from './san-client';
import type { Volume } from './volume';
import type { SecurityMode } from '../protocols/san/login';

export interface AttachOptions {
  home: ClientHome;
  volume: string;
  gateways: string[];
  host: string;
  key: KeyObject;
  /** Sessions per gateway address. */
  sessions: number;
  datagramSize: number;
  /** What the sessions ask for (ClientSettings.security); encrypt when absent. */
  security?: SecurityMode;
  /** Serve NBD on this unix socket... */
  socket?: string;
  /** ...or on this loopback TCP address. */
  listen?: { host: string; port: number };
  /** Serve read-only (required for a read-only assignment). */
  readOnly?: boolean;
  connectTimeoutMs?: number;
  /** How long I/O waits for a path when every path is down, before the NBD client gets EIO. */
  ioTimeoutMs?: number;
  /** SanClientOptions.busyPollMicros. */
  busyPollMicros?: number;
  /** Path changes and other events worth a line in the log. */
  log?(line: string): void;
}

export interface PathSummary {
  gateway: string;
  sessions: number;
  up: number;
}

/** What `strata-client status` shows of one attached volume. */
export interface AttachStatus {
  volume: string;
  size: number;
  blockSize: number;
  readOnly: boolean;
  shared: boolean;
  host: string;
  pid: number;
  startedAt: string;
  uptimeSeconds: number;
  uri: string;
  socket?: string;
  listen?: string;
  controlSocket: string;
  nbd: { connections: number; requests: number; errors: number };
  io: BridgeCounters;
  /** Over the last few seconds. */
  rate: { seconds: number; readBytesPerSec: number; writeBytesPerSec: number; opsPerSec: number };
  paths: PathSummary[];
  sessions: SessionStats[];
}

/** A failure of attach or detach the user can act on; `code` says which. */
export class AttachError extends Error {
  constructor(
    readonly code: 'ALREADY_ATTACHED' | 'SOCKET_IN_USE' | 'READ_ONLY' | 'CONNECTIONS_OPEN',
    message: string,
  ) {
    super(message);
    this.name = 'AttachError';
  }
}

/** Seconds of samples the rates are computed over. */
const RATE_WINDOW = 5;

interface Sample {
  at: number;
  bytesRead: number;
  bytesWritten: number;
  ops: number;
}

const hostPort = (host: string, port: number) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

/**
 * One attached volume: SAN sessions to every gateway address, the volume
 * served as an NBD export on a unix socket or loopback TCP, and a control
 * socket that answers status and detach. `done` resolves once detached.
 */
export class Attachment {
  readonly done: Promise<void>;
  private resolveDone!: () => void;
  private readonly startedAt = Date.now();
  private readonly samples: Sample[] = [];
  private sampler: NodeJS.Timeout | undefined;
  private lastUp: boolean[] = [];
  private detaching: Promise<void> | null = null;
  private control: ControlServer | null = null;
  uri = '';
  private listenAddress: string | undefined;

  private constructor(
    private readonly o: AttachOptions,
    private readonly client: SanClient,
    private readonly volume: Volume,
    readonly bridge: VolumeExport,
    private readonly server: NbdServer,
  ) {
    this.done = new Promise((r) => (this.resolveDone = r));
  }

  static async start(o: AttachOptions): Promise<Attachment> {
    o.home.ensureRunDir();
    const controlPath = o.home.controlSocket(o.volume);
    if (await probe(controlPath)) {
      const answer = await controlRequest(controlPath, { op: 'status' }, 3000).catch(() => null);
      const s = answer?.ok ? (answer.status as AttachStatus) : undefined;
      throw new AttachError('ALREADY_ATTACHED', `volume '${o.volume}' is already attached${s ? ` (pid ${s.pid}, ${s.uri})` : ''}: strata-client detach ${o.volume} first`);
    }
    const client = await SanClient.connect({
      gateways: o.gateways,
      host: o.host,
      key: o.key,
      sessionsPerGateway: o.sessions,
      datagramSize: o.datagramSize,
      security: o.security,
      connectTimeoutMs: o.connectTimeoutMs,
      busyPollMicros: o.busyPollMicros,
      reconnectTimeoutMs: o.ioTimeoutMs,
    });
    let server: NbdServer | undefined;
    let attachment: Attachment | undefined;
    try {
      const volume = await client.open(o.volume);
      if (volume.description.readOnly && !o.readOnly) {
        throw new AttachError('READ_ONLY', `volume '${o.volume}' is assigned read-only to host '${o.host}': attach it with --read-only`);
      }
      const bridge = new VolumeExport(volume, { readOnly: o.readOnly });
      // One export: its name, and the default name '' for clients that give none.
      server = new NbdServer({ list: () => [bridge.name], get: (n) => (n === bridge.name || n === '' ? bridge : undefined) }, client.busyPoll);
      attachment = new Attachment(o, client, volume, bridge, server);
      await attachment.listen();
      attachment.control = new ControlServer(controlPath, {
        status: () => attachment!.status(),
        detach: (force) => attachment!.detach(force),
        detached: () => void attachment!.finish(),
      });
      await attachment.control.listen();
      attachment.startSampling();
      return attachment;
    } catch (e) {
      await server?.close();
      await client.close();
      throw e;
    }
  }

  private async listen(): Promise<void> {
    const name = this.bridge.name;
    if (this.o.listen) {
      const { host, port } = this.o.listen;
      try {
        const bound = await this.server.listen(port, host);
        this.listenAddress = hostPort(bound.host, bound.port);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new AttachError('SOCKET_IN_USE', `cannot listen on ${hostPort(host, port)}: the address is in use by another process`);
        throw e;
      }
      this.uri = `nbd://${this.listenAddress}/${encodeURIComponent(name)}`;
      return;
    }
    const path = this.o.socket ?? this.o.home.nbdSocket(name);
    const st = await lstat(path).catch(() => null);
    if (st) {
      if (!st.isSocket()) throw new AttachError('SOCKET_IN_USE', `${path} exists and is not a socket: choose another --socket path`);
      if (await probe(path)) throw new AttachError('SOCKET_IN_USE', `socket ${path} is in use by another process (another attach, or an NBD server): choose another --socket, or detach that one`);
      // Left behind by a process that died: nobody answers on it.
      await unlink(path);
    }
    try {
      await this.server.listenPath(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new AttachError('SOCKET_IN_USE', `socket ${path} is in use by another process`);
      throw e;
    }
    this.uri = `nbd+unix:///${encodeURIComponent(name)}?socket=${path}`;
    this.o.socket = path;
  }

  status(): AttachStatus {
    this.logPathChanges();
    const d = this.volume.description;
    const sessions = this.client.stats();
    const paths = new Map<string, PathSummary>();
    for (const s of sessions) {
      const p = paths.get(s.gateway) ?? { gateway: s.gateway, sessions: 0, up: 0 };
      p.sessions++;
      if (s.up) p.up++;
      paths.set(s.gateway, p);
    }
    return {
      volume: d.name,
      size: d.size,
      blockSize: d.blockSize,
      readOnly: this.bridge.readOnly,
      shared: d.shared,
      host: this.o.host,
      pid: process.pid,
      startedAt: new Date(this.startedAt).toISOString(),
      uptimeSeconds: Math.floor((Date.now() - this.startedAt) / 1000),
      uri: this.uri,
      ...(this.o.socket && !this.o.listen ? { socket: this.o.socket } : {}),
      ...(this.listenAddress ? { listen: this.listenAddress } : {}),
      controlSocket: this.o.home.controlSocket(this.o.volume),
      nbd: { connections: this.server.connections()[this.bridge.name] ?? 0, requests: this.server.stats.requests, errors: this.server.stats.errors },
      io: { ...this.bridge.counters },
      rate: this.rate(),
      paths: [...paths.values()],
      sessions,
    };
  }

  /**
   * Stop serving and let go of the volume: NBD clients are cut (refused
   * while any is connected, unless forced), what was written is flushed,
   * the sessions log out.
   */
  detach(force = false): Promise<void> {
    if (this.detaching) return this.detaching;
    const open = this.server.connections()[this.bridge.name] ?? 0;
    if (open > 0 && !force) {
      return Promise.reject(
        new AttachError('CONNECTIONS_OPEN', `${open} NBD client${open === 1 ? ' is' : 's are'} still connected to volume '${this.bridge.name}' (nbdfuse, qemu, …): stop ${open === 1 ? 'it' : 'them'} first, or detach --force`),
      );
    }
    this.detaching = (async () => {
      if (this.sampler) clearInterval(this.sampler);
      await this.server.close();
      try {
        await this.volume.close();
      } finally {
        await this.client.close();
      }
    })();
    return this.detaching;
  }

  /** Detach (forced: a signal) and close the control socket. */
  async stop(): Promise<void> {
    try {
      await this.detach(true);
    } finally {
      await this.finish();
    }
  }

  private async finish(): Promise<void> {
    await this.control?.close();
    this.resolveDone();
  }

  private startSampling(): void {
    this.lastUp = this.client.stats().map((s) => s.up);
    this.sample();
    this.sampler = setInterval(() => this.sample(), 1000);
    this.sampler.unref();
  }

  /** Counters once a second for the rates, and a log line when a path goes down or comes back. */
  private sample(): void {
    const c = this.bridge.counters;
    this.samples.push({ at: Date.now(), bytesRead: c.bytesRead, bytesWritten: c.bytesWritten, ops: c.reads + c.writes + c.flushes + c.trims + c.zeroes });
    while (this.samples.length > RATE_WINDOW + 1) this.samples.shift();
    this.logPathChanges();
  }

  /** A log line for every path that went down or came back since the last look (sampling, and every status request). */
  private logPathChanges(): void {
    this.client.stats().forEach((s, i) => {
      if (s.up === this.lastUp[i]) return;
      if (this.lastUp[i] !== undefined) this.o.log?.(s.up ? `path ${s.gateway} (local port ${s.localPort}) is up again (login ${s.logins})` : `path ${s.gateway} (local port ${s.localPort}) is down: ${s.lastError ?? 'no answer'}`);
      this.lastUp[i] = s.up;
    });
  }

  private rate(): AttachStatus['rate'] {
    const first = this.samples[0];
    const c = this.bridge.counters;
    const now = { at: Date.now(), bytesRead: c.bytesRead, bytesWritten: c.bytesWritten, ops: c.reads + c.writes + c.flushes + c.trims + c.zeroes };
    const seconds = first ? (now.at - first.at) / 1000 : 0;
    if (!first || seconds <= 0) return { seconds: 0, readBytesPerSec: 0, writeBytesPerSec: 0, opsPerSec: 0 };
    return {
      seconds: Math.round(seconds * 10) / 10,
      readBytesPerSec: Math.round((now.bytesRead - first.bytesRead) / seconds),
      writeBytesPerSec: Math.round((now.bytesWritten - first.bytesWritten) / seconds),
      opsPerSec: Math.round((now.ops - first.ops) / seconds),
    };
  }
}
