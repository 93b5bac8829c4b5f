import * as fs from 'node:fs';
import { InvalidArgument } from '../common/errors';
import type { BlockDevice } from './block-device';
import { BlockDevDevice } from './block-dev-device';
import { errnoOf, openError } from './fd-io';
import { FileDevice } from './file-device';
import { RamDevice } from './ram-device';

export type DeviceSpec =
  /** `size` creates the file when it is missing, and must match when it exists. */
  | { kind: 'file'; path: string; size?: number }
  | { kind: 'block'; path: string }
  | { kind: 'ram'; name: string; size: number };

export async function openDevice(spec: DeviceSpec): Promise<BlockDevice> {
  switch (spec.kind) {
    case 'file':
      return openFile(spec.path, spec.size);
    case 'block':
      return BlockDevDevice.open(spec.path);
    case 'ram':
      return new RamDevice(spec.name, spec.size);
    default: {
      const kind: never = spec;
      throw new InvalidArgument(`unknown device kind '${(kind as { kind: unknown }).kind}'`, 'kind');
    }
  }
}

async function openFile(path: string, size: number | undefined): Promise<BlockDevice> {
  const exists = await fs.promises.lstat(path).then(
    () => true,
    (err: unknown) => {
      if (errnoOf(err) === 'ENOENT') return false;
      throw openError(path, err);
    },
  );
  if (!exists) {
    if (size === undefined) throw new InvalidArgument(`file '${path}' does not exist; give a size to create it`, 'size');
    return FileDevice.create(path, size);
  }
  const device = await FileDevice.open(path);
  if (size !== undefined && device.size !== size) {
    await device.close();
    throw new InvalidArgument(`file '${path}' is ${device.size} bytes, but a size of ${size} bytes was given`, 'size');
  }
  return device;
}
