import { type DeviceGone, type DeviceIOError, InvalidArgument } from '../common/errors';
import type { BlockDevice } from '../devices/block-device';
import type { Layout, LayoutHealth, LayoutKind, MemberState } from './layout';
import { isDeviceFailure, type Member } from './member';
import type { IoOp, MirrorSet } from './mirror-set';
import { rangeError } from './range';

/**
 * What every layout shares: request validation, health, flush and member
 * state. Subclasses only map addresses onto their mirror sets.
 */
export abstract class SetLayout implements Layout {
  abstract readonly size: number;

  constructor(
    readonly kind: LayoutKind,
    protected readonly label: string,
    protected readonly members: readonly Member[],
    protected readonly sets: readonly MirrorSet[],
  ) {}

  read(offset: number, target: Buffer): Promise<void> {
    const bad = rangeError(this.label, offset, target.length, this.size);
    if (bad) return Promise.reject(bad);
    return target.length === 0 ? Promise.resolve() : this.submit('read', offset, target);
  }

  write(offset: number, data: Buffer): Promise<void> {
    const bad = rangeError(this.label, offset, data.length, this.size);
    if (bad) return Promise.reject(bad);
    return data.length === 0 ? Promise.resolve() : this.submit('write', offset, data);
  }

  discard(offset: number, length: number): Promise<void> {
    const bad = rangeError(this.label, offset, length, this.size);
    if (bad) return Promise.reject(bad);
    return length === 0 ? Promise.resolve() : this.discardRange(offset, length);
  }

  /** Split a validated, non-empty request over the sets. */
  protected abstract submit(op: IoOp, offset: number, buf: Buffer): Promise<void>;
  protected abstract discardRange(offset: number, length: number): Promise<void>;

  async flush(): Promise<void> {
    const hadCopy = this.sets.map((s) => s.hasOnline());
    const devices: BlockDevice[] = [];
    for (const m of this.members) {
      if (m.online && !devices.includes(m.device)) devices.push(m.device);
    }
    const outcomes = await Promise.all(devices.map(tryFlush));
    const failed = new Map<BlockDevice, DeviceIOError | DeviceGone>();
    for (let i = 0; i < devices.length; i++) {
      const err = outcomes[i];
      if (err === undefined) continue;
      if (!isDeviceFailure(err)) throw err;
      failed.set(devices[i], err);
      // Writes acknowledged earlier may not be durable there: the copy is lost.
      for (const m of this.members) if (m.device === devices[i] && m.online) m.fail(err);
    }
    // Reject only if a set lost its last durable copy in this flush.
    for (let i = 0; i < this.sets.length; i++) {
      if (!hadCopy[i] || this.sets[i].hasOnline()) continue;
      const lost = this.sets[i].members.find((m) => failed.has(m.device));
      if (lost) throw failed.get(lost.device);
    }
  }

  health(): LayoutHealth {
    let state: LayoutHealth['state'] = 'online';
    for (const set of this.sets) {
      if (!set.hasOnline()) {
        state = 'failed';
        break;
      }
      if (set.members.some((m) => !m.online)) state = 'degraded';
    }
    return { state, members: this.members.map((m) => m.health()) };
  }

  setMemberState(index: number, state: MemberState): void {
    const member = this.members[index];
    if (!Number.isInteger(index) || member === undefined) {
      throw new InvalidArgument(`${this.label} has no member ${index}`, 'index');
    }
    if (state !== 'online' && state !== 'failed') {
      throw new InvalidArgument(`unknown member state '${String(state)}'`, 'state');
    }
    member.state = state;
  }
}

async function tryFlush(device: BlockDevice): Promise<unknown> {
  try {
    await device.flush();
    return undefined;
  } catch (err) {
    return err;
  }
}
