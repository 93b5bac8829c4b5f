import { DeviceGone, DeviceIOError } from '../common/errors';
import type { BlockDevice } from '../devices/block-device';
import type { Extent, MemberHealth, MemberState } from './layout';

/** Only a device failure takes a member out of service; any other error is a bug and propagates as is. */
export function isDeviceFailure(err: unknown): err is DeviceIOError | DeviceGone {
  return err instanceof DeviceIOError || err instanceof DeviceGone;
}

/** One extent of a layout and its health. */
export class Member {
  readonly device: BlockDevice;
  readonly base: number;
  state: MemberState = 'online';
  errors = 0;
  lastError?: string;
  /** Reads in flight, so mirror reads go to the least busy member. */
  inflight = 0;
  /** True when another member holds the same bytes (raid1, raid10): then a failure takes it out of service. */
  redundant = false;

  constructor(
    readonly extent: Extent,
    private readonly onFailed?: (reason: string) => void,
  ) {
    this.device = extent.device;
    this.base = extent.offset;
  }

  get online(): boolean {
    return this.state === 'online';
  }

  fail(err: DeviceIOError | DeviceGone): void {
    const wasOnline = this.state === 'online';
    this.state = 'failed';
    this.errors++;
    this.lastError = err.message;
    if (wasOnline && this.redundant) this.onFailed?.(err.message);
  }

  /** A lone member (concat, raid0) that answers again is healthy again: there is no other copy to prefer. */
  recovered(): void {
    if (!this.redundant) this.state = 'online';
  }

  /** Resolves with the error instead of rejecting, so a mirror write can wait for every member. */
  async tryWrite(offset: number, data: Buffer): Promise<unknown> {
    try {
      await this.device.write(this.base + offset, data);
      return undefined;
    } catch (err) {
      if (isDeviceFailure(err)) this.fail(err);
      return err;
    }
  }

  async tryDiscard(offset: number, length: number): Promise<unknown> {
    try {
      await this.device.discard(this.base + offset, length);
      return undefined;
    } catch (err) {
      if (isDeviceFailure(err)) this.fail(err);
      return err;
    }
  }

  health(): MemberHealth {
    const { deviceId, offset, length } = this.extent;
    const health: MemberHealth = { deviceId, offset, length, state: this.state, errors: this.errors };
    if (this.lastError !== undefined) health.lastError = this.lastError;
    return health;
  }
}
