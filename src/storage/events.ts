import { EventEmitter } from 'node:events';
import type { AssignmentInfo, HostInfo, ShareExport, ShareInfo, VolumeInfo } from './domain';

/**
 * Change events from the storage manager. Data-path modules (SAN, NAS) keep
 * their in-memory views current from these instead of asking the catalog.
 */
export interface StorageEventMap {
  'volume.created': [VolumeInfo];
  'volume.updated': [VolumeInfo];
  'volume.deleted': [{ id: string; name: string }];
  'host.created': [HostInfo];
  'host.updated': [HostInfo];
  'host.deleted': [{ id: string; name: string }];
  'assignment.created': [AssignmentInfo];
  'assignment.updated': [AssignmentInfo];
  'assignment.deleted': [AssignmentInfo];
  /** Share events carry the file-handle key: in-process only, never forwarded to a client. */
  'share.created': [ShareExport];
  /** Renamed or grown. */
  'share.updated': [ShareExport];
  /** Its export rules were added, changed, removed, reordered or replaced; `share.rules` holds the new list. */
  'share.rules.changed': [ShareExport];
  /** A snapshot of it was taken or deleted; `snapshots` holds the new list. */
  'share.snapshots.changed': [ShareExport];
  /** About to go: from now on nobody may use it; its volume is destroyed next. */
  'share.deleting': [ShareInfo];
  'share.deleted': [{ id: string; name: string; exportId: number; volumeId: string }];
}

export class StorageEvents extends EventEmitter<StorageEventMap> {}
