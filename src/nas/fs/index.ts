export * from './fs-types';
export { FsError, type FsErrorCode } from './fs-error';
export {
  FileSystem,
  ROOT_INO,
  MAX_FILE_SIZE,
  MAX_READ,
  MAX_LINKS,
  MAX_NAME_BYTES,
  MAX_SYMLINK_BYTES,
  type CreateResult,
  type FsStats,
  type LookupResult,
  type Quiesced,
  type ReadResult,
  type RenameResult,
  type WriteResult,
} from './file-system';
export type { FsckOptions, FsckProblem, FsckProblemKind, FsckReport } from './fsck';
