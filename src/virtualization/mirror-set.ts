import { PoolFailed } from '../common/errors';
import { isDeviceFailure, type Member } from './member';

export type IoOp = 'read' | 'write';

/**
 * Members holding the same bytes: one member for concat/raid0, a pair for
 * raid10, all of them for raid1. Reads go to one online member and fail over;
 * writes go to every online member and succeed if at least one took them.
 */
export class MirrorSet {
  /** Usable bytes: the shortest member bounds the copy. */
  readonly length: number;
  private cursor = 0;

  constructor(
    readonly members: readonly Member[],
    private readonly label: string,
  ) {
    this.length = Math.min(...members.map((m) => m.extent.length));
    if (members.length > 1) for (const m of members) m.redundant = true;
  }

  hasOnline(): boolean {
    for (const m of this.members) if (m.online) return true;
    return false;
  }

  io(op: IoOp, offset: number, buf: Buffer): Promise<void> {
    return op === 'read' ? this.read(offset, buf) : this.write(offset, buf);
  }

  read(offset: number, target: Buffer): Promise<void> {
    // One member (concat, raid0): no choice to make, so no async frame either;
    // and no other copy, so it is always tried, failed or not.
    if (this.members.length === 1) return this.lone(this.members[0].device.read(this.members[0].base + offset, target));
    return this.readAny(offset, target);
  }

  private async readAny(offset: number, target: Buffer): Promise<void> {
    for (;;) {
      const member = this.pickReader();
      if (member === undefined) throw this.unavailable();
      member.inflight++;
      try {
        await member.device.read(member.base + offset, target);
        return;
      } catch (err) {
        if (!isDeviceFailure(err)) throw err;
        // From now on the member may miss writes, so it never serves reads again.
        member.fail(err);
        if (!this.hasOnline()) throw err;
      } finally {
        member.inflight--;
      }
    }
  }

  write(offset: number, data: Buffer): Promise<void> {
    if (this.members.length === 1) return this.lone(this.members[0].device.write(this.members[0].base + offset, data));
    return this.toAll(offset, data, data.length);
  }

  discard(offset: number, length: number): Promise<void> {
    if (this.members.length === 1) return this.lone(this.members[0].device.discard(this.members[0].base + offset, length));
    return this.toAll(offset, undefined, length);
  }

  /** The outcome of an I/O on a lone member is its health. */
  private lone(io: Promise<void>): Promise<void> {
    const m = this.members[0];
    return io.then(
      () => m.recovered(),
      (err: unknown) => {
        if (isDeviceFailure(err)) m.fail(err);
        throw err;
      },
    );
  }

  private async toAll(offset: number, data: Buffer | undefined, length: number): Promise<void> {
    const attempts: Promise<unknown>[] = [];
    for (const m of this.members) {
      if (m.online) attempts.push(data ? m.tryWrite(offset, data) : m.tryDiscard(offset, length));
    }
    if (attempts.length === 0) throw this.unavailable();
    const outcomes = await Promise.all(attempts);
    let landed = false;
    let failure: unknown;
    for (const err of outcomes) {
      if (err === undefined) landed = true;
      else if (!isDeviceFailure(err)) throw err;
      else failure ??= err;
    }
    if (!landed) throw failure;
  }

  /** Least outstanding reads among online members; the rotating start spreads ties. */
  private pickReader(): Member | undefined {
    const members = this.members;
    const n = members.length;
    if (n === 1) return members[0].online ? members[0] : undefined;
    const start = this.cursor;
    this.cursor = start + 1 === n ? 0 : start + 1;
    let best: Member | undefined;
    for (let i = 0; i < n; i++) {
      const m = members[(start + i) % n];
      if (m.online && (best === undefined || m.inflight < best.inflight)) best = m;
    }
    return best;
  }

  private unavailable(): PoolFailed {
    const ids = this.members.map((m) => `${m.extent.deviceId}@${m.extent.offset}`).join(', ');
    return new PoolFailed(this.label, `no online member left among ${ids}`);
  }
}
