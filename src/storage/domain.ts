/**
 * The storage manager's domain objects: plain data handed to the REST API, the
 * CLI and the protocol front ends. Sizes are bytes, times ISO-8601 UTC.
 */
import type { DeviceKind } from '../devices/block-device';
import type { LayoutKind, MemberState } from '../virtualization/layout';
import type { Provisioning } from '../virtualization/logical-disk';

export type DeviceState = 'online' | 'failed' | 'missing';

export interface ExtentInfo {
  id: string;
  deviceId: string;
  deviceName: string;
  poolId: string;
  poolName: string;
  position: number;
  offset: number;
  length: number;
  state: MemberState;
  errors: number;
  lastError?: string;
}

export interface DeviceInfo {
  id: string;
  name: string;
  kind: DeviceKind;
  path: string | null;
  size: number;
  sectorSize: number;
  /** Bytes not yet given to any pool. */
  freeBytes: number;
  state: DeviceState;
  stateReason?: string;
  extents: ExtentInfo[];
  createdAt: string;
}

export type PoolState = 'online' | 'degraded' | 'failed';

export interface PoolInfo {
  id: string;
  name: string;
  layout: LayoutKind;
  pageSize: number;
  stripeUnit: number;
  /** Usable bytes (whole pages). */
  capacity: number;
  /** Bytes of pages given to volumes. */
  usedBytes: number;
  freeBytes: number;
  /** Sum of the sizes of its volumes: above capacity means thin overcommit. */
  provisionedBytes: number;
  volumeCount: number;
  state: PoolState;
  members: ExtentInfo[];
  createdAt: string;
}

export interface AssignmentInfo {
  id: string;
  hostId: string;
  hostName: string;
  volumeId: string;
  volumeName: string;
  access: 'rw' | 'ro';
  sharing: 'exclusive' | 'shared';
  createdAt: string;
}

export interface VolumeInfo {
  id: string;
  name: string;
  poolId: string;
  poolName: string;
  size: number;
  provisioning: Provisioning;
  pageSize: number;
  /** Bytes of pool pages backing it. */
  allocatedBytes: number;
  serial: string;
  state: 'online' | 'degraded' | 'failed';
  /** Served by the gateway's NBD export on loopback, under the volume's name. */
  nbdExport: boolean;
  assignments: AssignmentInfo[];
  createdAt: string;
}

export interface HostInfo {
  id: string;
  name: string;
  publicKey: string;
  keyFingerprint: string;
  description: string | null;
  assignments: AssignmentInfo[];
  createdAt: string;
}

export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  source: string | null;
  action: string;
  objectType: string | null;
  objectId: string | null;
  objectName: string | null;
  outcome: 'success' | 'failure';
  errorCode: string | null;
  detail: Record<string, unknown> | null;
}

/** Who did something, from where: recorded with every change. */
export interface Actor {
  name: string;
  source?: string;
}

export const SYSTEM_ACTOR: Actor = { name: 'system', source: 'gateway' };
