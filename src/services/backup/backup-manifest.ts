import { createHash } from 'node:crypto';

/*
 * The manifest of one backup: a JSON document beside its image (directory
 * targets) and in the catalog (every target). Format, version 1:
 *
 *   {
 *     "format": "strata-backup",          constant
 *     "version": 1,
 *     "id": "<backup id>",
 *     "source": { "type": "volume", "id": "<volume id>", "name": "<volume>", "snapshot": "<snapshot name>" },
 *                                          or "type": "share" with the share's id and name
 *     "metadata": { "file": "<name>", "size": <bytes>, "sha256": "<hex>" },
 *                                          a share's only (and required there): its metadata
 *                                          database copy, the file's name and SHA-256
 *     "kind": "full" | "incremental",
 *     "parent": null | "<backup id>",     null exactly for a full backup
 *     "size": <bytes of the image>,       the volume's size at the snapshot
 *     "pageSize": <bytes>,                power of two, 4 KiB .. 16 MiB
 *     "createdAt": "<ISO-8601>",
 *     "runs": [ { "offset": o, "length": l, "kind": "data" | "zero" }, ... ],
 *                                          what this backup carries, ascending, page aligned,
 *                                          a full backup's runs cover [0, size)
 *     "pageDigests": "<base64>",          SHA-256 of every page of the whole image, 32 bytes each
 *                                          (the last page may be short: the digest of its bytes)
 *     "imageDigest": "<hex>"              SHA-256 of pageDigests' bytes
 *   }
 *
 * The page digests let an incremental carry the digests of the pages it does
 * not copy from its parent (the snapshots shared those pages), so no backup
 * has to read pages it does not store, and a mismatch names its page.
 */

export const MANIFEST_FORMAT = 'strata-backup';
export const MANIFEST_VERSION = 1;
export const DIGEST_BYTES = 32;
const MIN_PAGE = 4096;
const MAX_PAGE = 16 * 2 ** 20;

export type BackupKind = 'full' | 'incremental';

export interface BackupRun {
  offset: number;
  length: number;
  kind: 'data' | 'zero';
}

export interface BackupSource {
  /** A block volume, or a share: its volume's image plus its metadata database (`metadata`). */
  type: 'volume' | 'share';
  /** The volume's id, or the share's. */
  id: string;
  name: string;
  snapshot: string;
}

/** A share backup's copy of the share's metadata database (SQLite), as of the snapshot. */
export interface BackupMetadataFile {
  /** The file's name (beside the image on a directory target). */
  file: string;
  size: number;
  /** Hex SHA-256 of the whole file. */
  sha256: string;
}

export interface BackupManifest {
  id: string;
  source: BackupSource;
  /** Present exactly when source.type is 'share'. */
  metadata?: BackupMetadataFile;
  kind: BackupKind;
  parent: string | null;
  size: number;
  pageSize: number;
  createdAt: string;
  runs: BackupRun[];
  /** 32 bytes per page, in page order. */
  pageDigests: Buffer;
  /** Hex SHA-256 of pageDigests. */
  imageDigest: string;
}

/** A manifest that is not one, precisely said; the only error the codec throws. */
export class ManifestError extends Error {
  constructor(message: string) {
    super(`backup manifest: ${message}`);
    this.name = 'ManifestError';
  }
}

export const pageCount = (size: number, pageSize: number): number => Math.ceil(size / pageSize);

/** SHA-256 of the page digests: what the catalog keeps as the image's digest. */
export function imageDigestOf(pageDigests: Buffer): string {
  return createHash('sha256').update(pageDigests).digest('hex');
}

const zeroDigests = new Map<number, Buffer>();
/** SHA-256 of `length` zero bytes (cached: zero pages are common). */
export function zeroDigest(length: number): Buffer {
  let d = zeroDigests.get(length);
  if (!d) {
    d = createHash('sha256').update(Buffer.alloc(length)).digest();
    if (zeroDigests.size < 64) zeroDigests.set(length, d);
  }
  return d;
}

export function encodeManifest(m: BackupManifest): Buffer {
  // Key order fixed here, so equal manifests are equal bytes (the catalog copy is compared byte for byte).
  const doc = {
    format: MANIFEST_FORMAT,
    version: MANIFEST_VERSION,
    id: m.id,
    source: { type: m.source.type, id: m.source.id, name: m.source.name, snapshot: m.source.snapshot },
    // Only a share's manifest has the key: a volume's stays byte for byte what it was.
    ...(m.metadata ? { metadata: { file: m.metadata.file, size: m.metadata.size, sha256: m.metadata.sha256 } } : {}),
    kind: m.kind,
    parent: m.parent,
    size: m.size,
    pageSize: m.pageSize,
    createdAt: m.createdAt,
    runs: m.runs.map((r) => ({ offset: r.offset, length: r.length, kind: r.kind })),
    pageDigests: m.pageDigests.toString('base64'),
    imageDigest: m.imageDigest,
  };
  return Buffer.from(`${JSON.stringify(doc, null, 1)}\n`, 'utf8');
}

export function decodeManifest(bytes: Buffer): BackupManifest {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new ManifestError(`not JSON (${(e as Error).message})`);
  }
  const o = obj(doc, 'the document');
  if (o.format !== MANIFEST_FORMAT) throw new ManifestError(`format is ${show(o.format)}, not "${MANIFEST_FORMAT}"`);
  if (o.version !== MANIFEST_VERSION) throw new ManifestError(`version ${show(o.version)} is not supported (this gateway reads version ${MANIFEST_VERSION})`);
  const id = str(o.id, 'id');
  const s = obj(o.source, 'source');
  if (s.type !== 'volume' && s.type !== 'share') throw new ManifestError(`source.type is ${show(s.type)}, not "volume" or "share"`);
  const source: BackupSource = { type: s.type, id: str(s.id, 'source.id'), name: str(s.name, 'source.name'), snapshot: str(s.snapshot, 'source.snapshot') };
  let metadata: BackupMetadataFile | undefined;
  if (o.metadata !== undefined) {
    if (source.type !== 'share') throw new ManifestError('metadata belongs to a share backup only');
    const md = obj(o.metadata, 'metadata');
    const file = str(md.file, 'metadata.file');
    if (file.includes('/') || file === '.' || file === '..') throw new ManifestError(`metadata.file ${show(file)} is not a plain file name`);
    const sha256 = str(md.sha256, 'metadata.sha256');
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new ManifestError('metadata.sha256 is not 64 lower-case hex digits');
    metadata = { file, size: int(md.size, 'metadata.size'), sha256 };
  } else if (source.type === 'share') throw new ManifestError('a share backup needs metadata');
  if (o.kind !== 'full' && o.kind !== 'incremental') throw new ManifestError(`kind is ${show(o.kind)}, not "full" or "incremental"`);
  const kind = o.kind;
  const parent = o.parent === null ? null : str(o.parent, 'parent');
  if ((kind === 'full') !== (parent === null)) throw new ManifestError(kind === 'full' ? 'a full backup has no parent' : 'an incremental backup needs a parent');
  const size = int(o.size, 'size');
  if (size <= 0) throw new ManifestError(`size must be positive, got ${size}`);
  const pageSize = int(o.pageSize, 'pageSize');
  if (pageSize < MIN_PAGE || pageSize > MAX_PAGE || (pageSize & (pageSize - 1)) !== 0) {
    throw new ManifestError(`pageSize ${pageSize} is not a power of two from ${MIN_PAGE} to ${MAX_PAGE}`);
  }
  const createdAt = str(o.createdAt, 'createdAt');
  if (!Array.isArray(o.runs)) throw new ManifestError('runs is not an array');
  const runs = o.runs.map((r, i) => run(r, i));
  checkRuns(runs, size, pageSize, kind);
  const digestText = str(o.pageDigests, 'pageDigests');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(digestText) || digestText.length % 4 !== 0) throw new ManifestError('pageDigests is not base64');
  const pageDigests = Buffer.from(digestText, 'base64');
  const pages = pageCount(size, pageSize);
  if (pageDigests.length !== pages * DIGEST_BYTES) {
    throw new ManifestError(`pageDigests holds ${pageDigests.length} bytes, ${pages} pages need ${pages * DIGEST_BYTES}`);
  }
  const imageDigest = str(o.imageDigest, 'imageDigest');
  if (!/^[0-9a-f]{64}$/.test(imageDigest)) throw new ManifestError('imageDigest is not 64 lower-case hex digits');
  if (imageDigestOf(pageDigests) !== imageDigest) throw new ManifestError('imageDigest does not match pageDigests');
  return { id, source, ...(metadata ? { metadata } : {}), kind, parent, size, pageSize, createdAt, runs, pageDigests, imageDigest };
}

/** Ascending, disjoint, page aligned, inside the image; a full backup's runs leave no gap. */
export function checkRuns(runs: readonly BackupRun[], size: number, pageSize: number, kind: BackupKind): void {
  let end = 0;
  runs.forEach((r, i) => {
    if (r.offset % pageSize !== 0) throw new ManifestError(`runs[${i}] starts at ${r.offset}, not on a page boundary`);
    if (r.offset < end) throw new ManifestError(`runs[${i}] starts at ${r.offset}, before the end of the run before it (${end})`);
    if (kind === 'full' && r.offset !== end) throw new ManifestError(`a full backup leaves [${end}, ${r.offset}) out`);
    if (r.length <= 0) throw new ManifestError(`runs[${i}] has length ${r.length}`);
    const runEnd = r.offset + r.length;
    if (runEnd > size) throw new ManifestError(`runs[${i}] ends at ${runEnd}, past the image's ${size} bytes`);
    if (runEnd % pageSize !== 0 && runEnd !== size) throw new ManifestError(`runs[${i}] ends at ${runEnd}, inside a page`);
    end = runEnd;
  });
  if (kind === 'full' && end !== size) throw new ManifestError(`a full backup leaves [${end}, ${size}) out`);
}

function run(r: unknown, i: number): BackupRun {
  const o = obj(r, `runs[${i}]`);
  if (o.kind !== 'data' && o.kind !== 'zero') throw new ManifestError(`runs[${i}].kind is ${show(o.kind)}, not "data" or "zero"`);
  return { offset: int(o.offset, `runs[${i}].offset`), length: int(o.length, `runs[${i}].length`), kind: o.kind };
}

function obj(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ManifestError(`${what} is not an object`);
  return v as Record<string, unknown>;
}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string' || v === '') throw new ManifestError(`${what} is not a non-empty string`);
  return v;
}

function int(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new ManifestError(`${what} is not a whole number >= 0`);
  return v;
}

function show(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? 'missing' : s.length > 40 ? `${s.slice(0, 40)}…` : s;
}
