import type { AssignmentInfo, HostInfo, HostSecurity, VolumeInfo } from '../storage/domain';
import type { StorageEvents, StorageEventMap } from '../storage/events';
import { parseHostKey } from '../storage/host-key';

export interface SanHost {
  id: string;
  name: string;
  /** The registered Ed25519 public key, 32 raw bytes. */
  key: Buffer;
  /** integrity: its sessions may send data in clear, authenticated (HostInfo.security). */
  security: HostSecurity;
}

export interface SanAssignment {
  volumeId: string;
  access: 'rw' | 'ro';
  sharing: 'exclusive' | 'shared';
}

export interface SanVolume {
  id: string;
  name: string;
  serial: string;
  /** The host that writes it, when it is a replica (REPLICA_COMMIT is only for that host). */
  replicaHostId: string | null;
}

/**
 * What the SAN data path needs from the catalog, in memory: hosts and their
 * keys, assignments per host, volume names and serials. Loaded once, then
 * kept current by the storage manager's change events, so a login or an I/O
 * never queries the catalog. Revocations leave a reason behind, so the next
 * call on a revoked volume is told why.
 */
export class SanView {
  private readonly hostsById = new Map<string, SanHost>();
  private readonly hostsByName = new Map<string, SanHost>();
  private readonly assignments = new Map<string, Map<string, SanAssignment>>();
  private readonly volumes = new Map<string, SanVolume>();
  /** `${hostId}/${volumeId}` or `${hostId}` → why it was revoked. */
  private readonly revoked = new Map<string, string>();
  private readonly handlers: { [K in keyof StorageEventMap]?: (...args: StorageEventMap[K]) => void } = {
    'host.created': (h) => this.putHost(h),
    'host.updated': (h) => this.putHost(h),
    'host.deleted': (h) => this.removeHost(h.id, `host '${h.name}' was removed`),
    'assignment.created': (a) => this.putAssignment(a),
    'assignment.updated': (a) => this.putAssignment(a),
    'assignment.deleted': (a) => this.removeAssignment(a),
    'volume.created': (v) => this.putVolume(v),
    'volume.updated': (v) => this.putVolume(v),
    'volume.deleted': (v) => {
      this.volumes.delete(v.id);
      for (const [hostId, map] of this.assignments) {
        if (map.delete(v.id)) this.revoked.set(`${hostId}/${v.id}`, `volume '${v.name}' was deleted`);
      }
    },
  };

  constructor(hosts: HostInfo[], volumes: VolumeInfo[]) {
    for (const v of volumes) this.putVolume(v);
    for (const h of hosts) {
      this.putHost(h);
      for (const a of h.assignments) this.putAssignment(a);
    }
  }

  /** Follow the storage manager's changes until detach(). */
  attach(events: StorageEvents): void {
    for (const [name, fn] of Object.entries(this.handlers)) events.on(name as keyof StorageEventMap, fn as never);
  }

  detach(events: StorageEvents): void {
    for (const [name, fn] of Object.entries(this.handlers)) events.off(name as keyof StorageEventMap, fn as never);
  }

  hostByName(name: string): SanHost | undefined {
    return this.hostsByName.get(name);
  }

  hostById(id: string): SanHost | undefined {
    return this.hostsById.get(id);
  }

  /** Why the host was removed, if it was. */
  hostRevocation(hostId: string): string | undefined {
    return this.revoked.get(hostId);
  }

  assignment(hostId: string, volumeId: string): SanAssignment | undefined {
    return this.assignments.get(hostId)?.get(volumeId);
  }

  /** Why an assignment this host had is gone, if it was revoked. */
  assignmentRevocation(hostId: string, volumeId: string): string | undefined {
    return this.revoked.get(`${hostId}/${volumeId}`);
  }

  assignedTo(hostId: string): SanAssignment[] {
    return [...(this.assignments.get(hostId)?.values() ?? [])];
  }

  volume(id: string): SanVolume | undefined {
    return this.volumes.get(id);
  }

  private putHost(h: HostInfo): void {
    const old = this.hostsById.get(h.id);
    if (old) this.hostsByName.delete(old.name);
    const host = { id: h.id, name: h.name, key: parseHostKey(h.publicKey).raw, security: h.security };
    this.hostsById.set(h.id, host);
    this.hostsByName.set(h.name, host);
    this.revoked.delete(h.id);
  }

  private removeHost(id: string, reason: string): void {
    const old = this.hostsById.get(id);
    if (old) this.hostsByName.delete(old.name);
    this.hostsById.delete(id);
    this.assignments.delete(id);
    this.revoked.set(id, reason);
  }

  private putAssignment(a: AssignmentInfo): void {
    let map = this.assignments.get(a.hostId);
    if (!map) this.assignments.set(a.hostId, (map = new Map()));
    map.set(a.volumeId, { volumeId: a.volumeId, access: a.access, sharing: a.sharing });
    this.revoked.delete(`${a.hostId}/${a.volumeId}`);
  }

  private removeAssignment(a: AssignmentInfo): void {
    this.assignments.get(a.hostId)?.delete(a.volumeId);
    this.revoked.set(`${a.hostId}/${a.volumeId}`, `the assignment of volume '${a.volumeName}' to host '${a.hostName}' was revoked`);
  }

  private putVolume(v: VolumeInfo): void {
    this.volumes.set(v.id, { id: v.id, name: v.name, serial: v.serial, replicaHostId: v.replica?.hostId ?? null });
  }
}
