export {
  DEFAULT_STRIPE_UNIT,
  createLayout,
  usableSize,
  validateLayout,
  type Extent,
  type Layout,
  type LayoutHealth,
  type LayoutKind,
  type MemberHealth,
  type MemberState,
} from './layout';
export { PageAllocator } from './page-allocator';
export { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, MIN_PAGE_SIZE, Pool, validatePageSize } from './pool';
export {
  LogicalDisk,
  type PageMapEntry,
  type PageMapStore,
  type Provisioning,
} from './logical-disk';
export { checkAllocations } from './check-allocations';
export { changedRuns, runTotals, type ChangedRun } from './page-diff';
