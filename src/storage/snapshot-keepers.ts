import { Injectable } from '@nestjs/common';
import { Conflict } from '../common/errors';

/** A snapshot as a keeper sees it. */
export interface KeptSnapshot {
  id: string;
  name: string;
  originId: string | null;
}

/**
 * Says why a snapshot must stay (a backup or replication still needs it), or
 * null. `originDeleted`: its volume is being deleted with it, so a snapshot
 * kept only as the base of the volume's next copy is no longer needed.
 */
export type SnapshotKeeper = (snapshot: KeptSnapshot, ctx: { originDeleted: boolean }) => Promise<string | null>;

/**
 * Services that take snapshots for their own use register a keeper here; a
 * person's snapshot or volume delete asks every keeper first and is refused
 * with a Conflict naming the reason.
 */
@Injectable()
export class SnapshotKeepers {
  private readonly keepers: SnapshotKeeper[] = [];

  register(keeper: SnapshotKeeper): void {
    this.keepers.push(keeper);
  }

  async assertDeletable(snapshot: KeptSnapshot, ctx: { originDeleted: boolean } = { originDeleted: false }): Promise<void> {
    for (const keeper of this.keepers) {
      const why = await keeper(snapshot, ctx);
      if (why) throw new Conflict('SNAPSHOT_NEEDED', `snapshot '${snapshot.name}' cannot be deleted: ${why}`, { snapshot: snapshot.name });
    }
  }
}
