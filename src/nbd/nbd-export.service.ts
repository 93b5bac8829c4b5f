import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { BusyPoll } from '../common/busy-poll';
import { ListenerRegistry } from '../common/listeners';
import { STRATA_CONFIG, type StrataConfig } from '../config/config';
import type { VolumeInfo } from '../storage/domain';
import { StorageEvents } from '../storage/events';
import { StorageRuntime } from '../storage/runtime';
import { VolumeService } from '../storage/volume.service';
import { NbdServer, type NbdExport, type NbdExports } from './nbd-server';

const LISTENER = 'nbd';

/**
 * The gateway's own NBD export (loopback only): volumes marked `nbdExport`
 * are served under their names, so VMs on this host (qemu) and standard
 * tools can use them. Which volumes are exported is kept in memory from the
 * storage manager's events; a negotiation never asks the catalog.
 */
@Injectable()
export class NbdExportService implements NbdExports, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('NbdExport');
  /** Exported volume name → volume id. */
  private readonly exported = new Map<string, string>();
  readonly server: NbdServer;
  private address: { host: string; port: number } | null = null;

  constructor(
    @Inject(STRATA_CONFIG) private readonly config: StrataConfig,
    private readonly volumes: VolumeService,
    private readonly runtime: StorageRuntime,
    private readonly events: StorageEvents,
    private readonly listeners: ListenerRegistry,
  ) {
    this.server = new NbdServer(this, new BusyPoll(config.nbd.busyPollMicros));
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.nbd.enabled) return;
    for (const v of await this.volumes.list()) if (v.nbdExport) this.exported.set(v.name, v.id);
    this.events.on('volume.created', this.onVolume);
    this.events.on('volume.updated', this.onVolume);
    this.events.on('volume.deleted', this.onDeleted);
    try {
      this.address = await this.server.listen(this.config.nbd.port, this.config.nbd.host);
      const where = `${this.address.host}:${this.address.port}`;
      this.listeners.listening(LISTENER, where);
      this.log.log(`NBD export listening on nbd://${where}/<volume> (loopback only)`);
    } catch (e) {
      this.listeners.failed(LISTENER, (e as Error).message);
      this.log.error(`NBD export could not listen on ${this.config.nbd.host}:${this.config.nbd.port}: ${(e as Error).message}`);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.events.off('volume.created', this.onVolume);
    this.events.off('volume.updated', this.onVolume);
    this.events.off('volume.deleted', this.onDeleted);
    await this.server.close();
    this.listeners.closed(LISTENER);
  }

  /** Bound address, once listening (tests use port 0). */
  boundAddress(): { host: string; port: number } | null {
    return this.address;
  }

  list(): string[] {
    return [...this.exported.keys()];
  }

  get(name: string): NbdExport | undefined {
    const id = this.exported.get(name);
    const disk = id ? this.runtime.disk(id) : undefined;
    if (!disk) return undefined;
    return {
      name,
      size: disk.size,
      readOnly: false,
      readInto: (o, b) => disk.readInto(o, b),
      write: (o, d, opts) => disk.write(o, d, opts),
      flush: () => disk.flush(),
      discard: (o, l) => disk.discard(o, l),
      writeZeroes: (o, l, opts) => disk.writeZeroes(o, l, opts),
    };
  }

  private readonly onVolume = (v: VolumeInfo): void => {
    // A rename or an un-export withdraws the old name and cuts its clients.
    for (const [name, id] of this.exported) {
      if (id === v.id && (name !== v.name || !v.nbdExport)) {
        this.exported.delete(name);
        this.server.disconnect(name);
      }
    }
    if (v.nbdExport) this.exported.set(v.name, v.id);
  };

  private readonly onDeleted = (v: { id: string; name: string }): void => {
    if (this.exported.get(v.name) === v.id) {
      this.exported.delete(v.name);
      this.server.disconnect(v.name);
    }
  };
}
