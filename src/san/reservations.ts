import { Status } from '../protocols/san/constants';
import { SanStatusError } from './san-status';

interface Holder {
  hostId: string;
  hostName: string;
  sessionId: number;
}

/**
 * Write reservations (RESERVE/RELEASE): while a host holds one on a volume,
 * writes from other hosts are refused with RESERVED. The holder is a host,
 * so a client's several sessions all keep writing; the reservation ends with
 * RELEASE from that host or when the session that took it ends.
 */
export class Reservations {
  private readonly byVolume = new Map<string, Holder>();

  reserve(volumeId: string, volumeName: string, holder: Holder): void {
    const current = this.byVolume.get(volumeId);
    if (current && current.hostId !== holder.hostId) {
      throw new SanStatusError(Status.RESERVED, `volume '${volumeName}' is reserved by host '${current.hostName}'`);
    }
    this.byVolume.set(volumeId, holder);
  }

  release(volumeId: string, hostId: string): void {
    if (this.byVolume.get(volumeId)?.hostId === hostId) this.byVolume.delete(volumeId);
  }

  /** RESERVED unless the volume is free or reserved by this host. */
  checkWrite(volumeId: string, volumeName: string, hostId: string): void {
    const current = this.byVolume.get(volumeId);
    if (current && current.hostId !== hostId) {
      throw new SanStatusError(Status.RESERVED, `volume '${volumeName}' is reserved by host '${current.hostName}'`);
    }
  }

  /** A session ended: the reservations it took end too. */
  releaseSession(sessionId: number): void {
    for (const [volumeId, h] of this.byVolume) if (h.sessionId === sessionId) this.byVolume.delete(volumeId);
  }
}
