/**
 * A session's own LUN numbers (docs/san-protocol.md, section 3): handed out
 * by DISCOVER, stable for the session's life, never reused for another
 * volume, so a LUN that lost its assignment keeps failing rather than
 * silently reaching a different volume.
 */
export class LunTable {
  private readonly byLun = new Map<number, string>();
  private readonly byVolume = new Map<string, number>();
  private next = 0;

  lunFor(volumeId: string): number {
    let lun = this.byVolume.get(volumeId);
    if (lun === undefined) {
      lun = this.next++;
      this.byVolume.set(volumeId, lun);
      this.byLun.set(lun, volumeId);
    }
    return lun;
  }

  volumeOf(lun: number): string | undefined {
    return this.byLun.get(lun);
  }
}
