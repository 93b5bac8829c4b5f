import { EventEmitter } from 'node:events';
import type { AssignmentInfo, HostInfo, VolumeInfo } from './domain';

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
}

export class StorageEvents extends EventEmitter<StorageEventMap> {}
