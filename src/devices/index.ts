export type { BlockDevice, DeviceKind } from './block-device';
export { BlockDevDevice } from './block-dev-device';
export { FileDevice } from './file-device';
export { RamDevice } from './ram-device';
export { openDevice, type DeviceSpec } from './open-device';
