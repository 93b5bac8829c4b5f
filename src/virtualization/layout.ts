import { InvalidArgument } from '../common/errors';
import type { BlockDevice } from '../devices/block-device';
import { ConcatLayout } from './concat-layout';
import { Member } from './member';
import { MirrorSet } from './mirror-set';
import { StripeLayout, stripedSize } from './stripe-layout';

export type LayoutKind = 'concat' | 'raid0' | 'raid1' | 'raid10';

/** A region of a physical device given to a pool. */
export interface Extent {
  deviceId: string;
  device: BlockDevice;
  offset: number;
  length: number;
}

export type MemberState = 'online' | 'failed';

export interface MemberHealth {
  deviceId: string;
  offset: number;
  length: number;
  state: MemberState;
  errors: number;
  lastError?: string;
}

export interface LayoutHealth {
  state: 'online' | 'degraded' | 'failed';
  members: MemberHealth[];
}

/** A pool's address space laid over its extents. */
export interface Layout {
  readonly kind: LayoutKind;
  /** Usable bytes. */
  readonly size: number;
  read(offset: number, target: Buffer): Promise<void>;
  write(offset: number, data: Buffer): Promise<void>;
  /** Flush every online member device once. */
  flush(): Promise<void>;
  discard(offset: number, length: number): Promise<void>;
  health(): LayoutHealth;
  /** Marking a member online again trusts its bytes: a failed mirror member is stale until resynced. */
  setMemberState(index: number, state: MemberState): void;
}

export const DEFAULT_STRIPE_UNIT = 64 * 1024;
const MIN_STRIPE_UNIT = 512;

export function validateLayout(kind: LayoutKind, memberCount: number): void {
  const n = memberCount;
  switch (kind) {
    case 'concat':
      if (n >= 1) return;
      throw new InvalidArgument(`concat needs at least 1 member, got ${n}`, 'members');
    case 'raid0':
    case 'raid1':
      if (n >= 2) return;
      throw new InvalidArgument(`${kind} needs at least 2 members, got ${n}`, 'members');
    case 'raid10':
      if (n >= 4 && n % 2 === 0) return;
      throw new InvalidArgument(`raid10 needs an even number of members, at least 4, got ${n}`, 'members');
    default:
      throw new InvalidArgument(`unknown layout '${String(kind)}'`, 'layout');
  }
}

export function usableSize(kind: LayoutKind, memberLengths: number[], stripeUnit = DEFAULT_STRIPE_UNIT): number {
  validateLayout(kind, memberLengths.length);
  validateStripeUnit(stripeUnit);
  const shortest = Math.min(...memberLengths);
  switch (kind) {
    case 'concat':
      return memberLengths.reduce((sum, n) => sum + n, 0);
    case 'raid1':
      return shortest;
    case 'raid0':
      return stripedSize(shortest, memberLengths.length, stripeUnit);
    case 'raid10':
      return stripedSize(shortest, memberLengths.length / 2, stripeUnit);
  }
}

export function createLayout(
  kind: LayoutKind,
  members: Extent[],
  opts: {
    stripeUnit?: number;
    label?: string;
    /**
     * Called, synchronously, when a member holding a redundant copy is taken
     * out of service, before the I/O that found the failure completes: the
     * storage manager records it durably so a stale copy never serves reads
     * after a restart. A throw fails that I/O.
     */
    onMemberFailed?: (index: number, reason: string) => void;
  } = {},
): Layout {
  validateLayout(kind, members.length);
  const unit = opts.stripeUnit ?? DEFAULT_STRIPE_UNIT;
  validateStripeUnit(unit);
  validateExtents(members);
  const label = opts.label ?? `${kind} layout`;
  const onFailed = opts.onMemberFailed;
  const all = members.map((e, i) => new Member(e, onFailed && ((reason: string) => onFailed(i, reason))));
  const single = () => all.map((m) => new MirrorSet([m], label));
  switch (kind) {
    case 'concat':
      return new ConcatLayout(kind, label, all, single());
    case 'raid1':
      return new ConcatLayout(kind, label, all, [new MirrorSet(all, label)]);
    case 'raid0':
      return new StripeLayout(kind, label, all, single(), unit);
    case 'raid10': {
      const pairs: MirrorSet[] = [];
      for (let i = 0; i < all.length; i += 2) pairs.push(new MirrorSet([all[i], all[i + 1]], label));
      return new StripeLayout(kind, label, all, pairs, unit);
    }
  }
}

function validateStripeUnit(unit: number): void {
  if (Number.isSafeInteger(unit) && unit >= MIN_STRIPE_UNIT && (unit & (unit - 1)) === 0) return;
  throw new InvalidArgument(`stripe unit must be a power of two of at least ${MIN_STRIPE_UNIT} bytes, got ${unit}`, 'stripeUnit');
}

/** Extents must lie inside their device and never share bytes, or members would overwrite each other. */
function validateExtents(extents: Extent[]): void {
  extents.forEach((e, i) => {
    const { offset, length } = e;
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length <= 0) {
      throw new InvalidArgument(`extent ${i} on '${e.deviceId}' has invalid range [${offset}, +${length})`, 'members');
    }
    if (offset + length > e.device.size) {
      throw new InvalidArgument(
        `extent ${i} [${offset}, ${offset + length}) exceeds device '${e.deviceId}' of ${e.device.size} bytes`,
        'members',
      );
    }
    for (let j = 0; j < i; j++) {
      const o = extents[j];
      if ((o.device === e.device || o.deviceId === e.deviceId) && o.offset < offset + length && offset < o.offset + o.length) {
        throw new InvalidArgument(`extents ${j} and ${i} overlap on device '${e.deviceId}'`, 'members');
      }
    }
  });
}
