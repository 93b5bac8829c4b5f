import { DeviceGone } from '../common/errors';
import type { BlockDevice, DeviceKind } from './block-device';

/**
 * Stands in for a catalogued device that could not be opened at boot, so its
 * pools still come up (degraded, or failed) and report why.
 */
export class MissingDevice implements BlockDevice {
  readonly sectorSize = 512;

  constructor(
    readonly kind: DeviceKind,
    readonly label: string,
    readonly size: number,
    readonly reason: string,
  ) {}

  private gone(): Promise<never> {
    return Promise.reject(new DeviceGone(this.label, this.reason));
  }

  read(): Promise<void> {
    return this.gone();
  }
  write(): Promise<void> {
    return this.gone();
  }
  flush(): Promise<void> {
    return this.gone();
  }
  discard(): Promise<void> {
    return this.gone();
  }
  async close(): Promise<void> {}
}
