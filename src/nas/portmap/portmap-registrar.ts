import { existsSync } from 'node:fs';
import { Logger } from '@nestjs/common';
import { AcceptStat } from '../../protocols/oncrpc/constants';
import { encodeMapping, encodeRpcb, type Rpcb, toUniversalAddress } from '../../protocols/portmap/codec';
import { IPPROTO_TCP, IPPROTO_UDP, PMAP_PORT, PMAP_PROG, PMAP_VERS, PmapProc, RPCBIND_SOCKET, RPCBVERS, RPCBVERS4, RpcbProc } from '../../protocols/portmap/constants';
import { RpcClient, RpcReplyError } from '../rpc/rpc-client';
import type { RpcLog } from '../rpc/rpc-dispatcher';
import { RpcServer } from '../rpc/rpc-server';
import { portmapProgram } from './portmap-program';
import { PortmapRegistry } from './portmap-registry';

/** A program version we serve, to be found through the port mapper. */
export interface PortmapService {
  prog: number;
  vers: number;
  /** The netid: tcp and udp over IPv4, tcp6 and udp6 over IPv6 (libnfs asks rpcbind v3 GETADDR over IPv6). */
  protocol: 'tcp' | 'udp' | 'tcp6' | 'udp6';
  port: number;
}

/** The service's universal address on the wildcard host of its family. */
const wildcardAddress = (s: PortmapService): string => toUniversalAddress(s.protocol.endsWith('6') ? '::' : '0.0.0.0', s.port);

export interface PortmapRegistrarOptions {
  /** The port mapper's port: ours binds it, or the system's is found there (default 111). */
  port?: number;
  /** Address our own port mapper listens on (default 0.0.0.0). */
  host?: string;
  /** Serve UDP as well when the port mapper is ours (default true): rpcinfo -u and some mount helpers use it. */
  udp?: boolean;
  /** rpcbind's local socket, tried first for registration (default /run/rpcbind.sock; null: never). */
  systemSocket?: string | null;
  /** Where the system's port mapper answers on TCP when there is no local socket (default 127.0.0.1). */
  systemHost?: string;
  timeoutMs?: number;
  log?: RpcLog;
}

/**
 * 'own': we serve the port mapper; 'system': our programs are registered with
 * the machine's rpcbind; 'none': neither worked (clients need explicit ports).
 */
export type PortmapMode = 'own' | 'system' | 'none';

const SELF_VERSIONS = [PMAP_VERS, RPCBVERS, RPCBVERS4];
/** r_owner of our registrations (rpcbind replaces it with the uid it sees on its local socket). */
const OWNER = String(process.getuid?.() ?? 'unknown');

function nestLog(): RpcLog {
  const l = new Logger('Portmap');
  return { debug: (m) => l.debug(m), warn: (m) => l.warn(m), error: (m) => l.error(m) };
}

/** Registration client: rpcbind v4 first, the v2 port mapper when that is all there is. */
class SystemPortmapper {
  private v2 = false;

  constructor(
    private readonly client: RpcClient,
    private readonly owner: string,
  ) {}

  private async call(v4proc: RpcbProc, v2proc: PmapProc, b: Rpcb, prot: number, port: number): Promise<boolean> {
    if (!this.v2) {
      try {
        return await this.client.callOk(PMAP_PROG, RPCBVERS4, v4proc, (w) => encodeRpcb(w, b), (r) => r.bool());
      } catch (e) {
        const mismatch = e instanceof RpcReplyError && 'accept_stat' in e.status && e.status.accept_stat === AcceptStat.PROG_MISMATCH;
        if (!mismatch) throw e;
        this.v2 = true;
      }
    }
    return this.client.callOk(PMAP_PROG, PMAP_VERS, v2proc, (w) => encodeMapping(w, { prog: b.r_prog, vers: b.r_vers, prot, port }), (r) => r.bool());
  }

  set(s: PortmapService): Promise<boolean> {
    const b: Rpcb = { r_prog: s.prog, r_vers: s.vers, r_netid: s.protocol, r_addr: wildcardAddress(s), r_owner: this.owner };
    // Version 2 knows IPv4 TCP and UDP only (protocol 0 is refused as unknown).
    const prot = s.protocol === 'tcp' ? IPPROTO_TCP : s.protocol === 'udp' ? IPPROTO_UDP : 0;
    return this.call(RpcbProc.RPCBPROC_SET, PmapProc.PMAPPROC_SET, b, prot, s.port);
  }

  /** Every netid of each (prog, vers): clears what a previous run left behind, and ours on shutdown. */
  async unset(services: readonly PortmapService[]): Promise<void> {
    for (const key of new Set(services.map((s) => `${s.prog}/${s.vers}`))) {
      const [prog, vers] = key.split('/').map(Number);
      const b: Rpcb = { r_prog: prog, r_vers: vers, r_netid: '', r_addr: '', r_owner: this.owner };
      await this.call(RpcbProc.RPCBPROC_UNSET, PmapProc.PMAPPROC_UNSET, b, 0, 0);
    }
  }
}

/**
 * Makes our programs findable through port 111: when the port is free it
 * serves its own port mapper (v2 and rpcbind v3/v4, TCP and UDP) with our
 * programs in it; otherwise it registers them with the system's rpcbind
 * (its local socket, else TCP on the port) and unregisters them on close.
 */
export class PortmapRegistrar {
  /** Our own table (used when the port mapper is ours). */
  readonly registry = new PortmapRegistry();
  private server: RpcServer | null = null;
  private registered: PortmapService[] = [];
  private _mode: PortmapMode = 'none';
  private readonly log: RpcLog;

  constructor(private readonly opts: PortmapRegistrarOptions = {}) {
    this.log = opts.log ?? nestLog();
  }

  get mode(): PortmapMode {
    return this._mode;
  }

  async start(services: readonly PortmapService[]): Promise<PortmapMode> {
    const port = this.opts.port ?? PMAP_PORT;
    const host = this.opts.host ?? '0.0.0.0';
    const server = new RpcServer([portmapProgram(this.registry)], { log: this.log });
    try {
      await server.listen(port, host);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EADDRINUSE' && code !== 'EACCES') throw e;
      await server.close();
      this.log.debug(`port mapper port ${port} is ${code === 'EACCES' ? 'not ours to bind' : 'taken'}: registering with the system's`);
      this._mode = (await this.registerWithSystem(services)) ? 'system' : 'none';
      return this._mode;
    }
    this.server = server;
    let udp = false;
    if (this.opts.udp ?? true) {
      try {
        await server.listenUdp(port, host);
        udp = true;
      } catch (e) {
        this.log.warn(`port mapper serves TCP only: UDP port ${port} failed (${(e as Error).message})`);
      }
    }
    for (const v of SELF_VERSIONS) {
      this.registry.set({ r_prog: PMAP_PROG, r_vers: v, r_netid: 'tcp', r_addr: toUniversalAddress('0.0.0.0', port), r_owner: 'superuser' });
      if (udp) this.registry.set({ r_prog: PMAP_PROG, r_vers: v, r_netid: 'udp', r_addr: toUniversalAddress('0.0.0.0', port), r_owner: 'superuser' });
    }
    for (const s of services) {
      this.registry.set({ r_prog: s.prog, r_vers: s.vers, r_netid: s.protocol, r_addr: wildcardAddress(s), r_owner: 'superuser' });
    }
    this._mode = 'own';
    return this._mode;
  }

  private async connectSystem(): Promise<{ client: RpcClient; where: string } | null> {
    const timeoutMs = this.opts.timeoutMs ?? 5000;
    const socket = this.opts.systemSocket === undefined ? RPCBIND_SOCKET : this.opts.systemSocket;
    if (socket && existsSync(socket)) {
      try {
        return { client: await RpcClient.connect({ path: socket }, { timeoutMs }), where: socket };
      } catch (e) {
        this.log.debug(`rpcbind socket ${socket}: ${(e as Error).message}`);
      }
    }
    const host = this.opts.systemHost ?? '127.0.0.1';
    const port = this.opts.port ?? PMAP_PORT;
    try {
      return { client: await RpcClient.connect({ host, port }, { timeoutMs }), where: `${host}:${port}` };
    } catch (e) {
      this.log.warn(`no port mapper to register with at ${host}:${port}: ${(e as Error).message}`);
      return null;
    }
  }

  private async registerWithSystem(services: readonly PortmapService[]): Promise<boolean> {
    const conn = await this.connectSystem();
    if (!conn) return false;
    const pm = new SystemPortmapper(conn.client, OWNER);
    try {
      await pm.unset(services);
      for (const s of services) {
        if (await pm.set(s)) this.registered.push(s);
        else this.log.warn(`the port mapper at ${conn.where} refused to register program ${s.prog} version ${s.vers} ${s.protocol} port ${s.port}`);
      }
    } catch (e) {
      this.log.warn(`registering with the port mapper at ${conn.where} failed: ${(e as Error).message}`);
    } finally {
      await conn.client.close();
    }
    return this.registered.length > 0;
  }

  /** Stop our port mapper, or take our registrations back from the system's. */
  async close(): Promise<void> {
    if (this.server) {
      await this.server.close();
      this.server = null;
    }
    if (this.registered.length > 0) {
      const conn = await this.connectSystem();
      if (conn) {
        const pm = new SystemPortmapper(conn.client, OWNER);
        try {
          await pm.unset(this.registered);
        } catch (e) {
          this.log.warn(`unregistering from the port mapper at ${conn.where} failed: ${(e as Error).message}`);
        } finally {
          await conn.client.close();
        }
      }
      this.registered = [];
    }
    this._mode = 'none';
  }
}
