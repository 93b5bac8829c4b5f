import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Prng } from '../../common/prng';
import { decodeManifest, encodeManifest, imageDigestOf, ManifestError, zeroDigest, type BackupManifest } from './backup-manifest';

const sha = (b: Buffer) => createHash('sha256').update(b).digest();

/** Two 8 KiB pages: the first all 0x61 ('a'), the second zeros; written by hand, not by the encoder. */
const PAGE_A = sha(Buffer.alloc(8192, 0x61));
const PAGE_0 = sha(Buffer.alloc(8192));
const DIGESTS = Buffer.concat([PAGE_A, PAGE_0]);
const IMAGE = createHash('sha256').update(DIGESTS).digest('hex');
const REFERENCE = `{
 "format": "strata-backup",
 "version": 1,
 "id": "b1",
 "source": {
  "type": "volume",
  "id": "v-1",
  "name": "db",
  "snapshot": "backup-b1"
 },
 "kind": "full",
 "parent": null,
 "size": 16384,
 "pageSize": 8192,
 "createdAt": "2025-01-31T14:03:59.000Z",
 "runs": [
  {
   "offset": 0,
   "length": 8192,
   "kind": "data"
  },
  {
   "offset": 8192,
   "length": 8192,
   "kind": "zero"
  }
 ],
 "pageDigests": "${DIGESTS.toString('base64')}",
 "imageDigest": "${IMAGE}"
}
`;

const reference: BackupManifest = {
  id: 'b1',
  source: { type: 'volume', id: 'v-1', name: 'db', snapshot: 'backup-b1' },
  kind: 'full',
  parent: null,
  size: 16384,
  pageSize: 8192,
  createdAt: '2025-01-31T14:03:59.000Z',
  runs: [
    { offset: 0, length: 8192, kind: 'data' },
    { offset: 8192, length: 8192, kind: 'zero' },
  ],
  pageDigests: DIGESTS,
  imageDigest: IMAGE,
};

/** A share's full backup: the same image, plus its metadata database copy; written by hand. */
const META_SHA = sha(Buffer.from('SQLite format 3\0')).toString('hex');
const SHARE_REFERENCE = `{
 "format": "strata-backup",
 "version": 1,
 "id": "b9",
 "source": {
  "type": "share",
  "id": "s-1",
  "name": "home",
  "snapshot": "backup-b9"
 },
 "metadata": {
  "file": "b9.meta.sqlite",
  "size": 16,
  "sha256": "${META_SHA}"
 },
 "kind": "full",
 "parent": null,
 "size": 16384,
 "pageSize": 8192,
 "createdAt": "2025-01-31T14:03:59.000Z",
 "runs": [
  {
   "offset": 0,
   "length": 16384,
   "kind": "data"
  }
 ],
 "pageDigests": "${DIGESTS.toString('base64')}",
 "imageDigest": "${IMAGE}"
}
`;

const shareReference: BackupManifest = {
  id: 'b9',
  source: { type: 'share', id: 's-1', name: 'home', snapshot: 'backup-b9' },
  metadata: { file: 'b9.meta.sqlite', size: 16, sha256: META_SHA },
  kind: 'full',
  parent: null,
  size: 16384,
  pageSize: 8192,
  createdAt: '2025-01-31T14:03:59.000Z',
  runs: [{ offset: 0, length: 16384, kind: 'data' }],
  pageDigests: DIGESTS,
  imageDigest: IMAGE,
};

function incremental(overrides: Partial<BackupManifest> = {}): BackupManifest {
  const size = 5 * 4096 + 4096;
  const digests = Buffer.concat(Array.from({ length: 6 }, (_, i) => sha(Buffer.from([i]))));
  return {
    id: 'b2',
    source: { type: 'volume', id: 'v-1', name: 'db', snapshot: 'backup-b2' },
    kind: 'incremental',
    parent: 'b1',
    size,
    pageSize: 4096,
    createdAt: '2025-02-01T00:00:00.000Z',
    runs: [
      { offset: 4096, length: 8192, kind: 'data' },
      { offset: 5 * 4096, length: 4096, kind: 'zero' },
    ],
    pageDigests: digests,
    imageDigest: imageDigestOf(digests),
    ...overrides,
  };
}

/** Decode text, expecting the codec's own error with this message. */
function rejects(text: string, message: string | RegExp): void {
  let thrown: unknown;
  try {
    decodeManifest(Buffer.from(text));
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(ManifestError);
  if (typeof message === 'string') expect((thrown as Error).message).toBe(message);
  else expect((thrown as Error).message).toMatch(message);
}

function edit(change: (doc: Record<string, any>) => void, from = REFERENCE): string {
  const doc = JSON.parse(from) as Record<string, any>;
  change(doc);
  return JSON.stringify(doc);
}

describe('backup manifest codec', () => {
  it('encodes the reference manifest to the hand-written bytes and decodes them back', () => {
    expect(encodeManifest(reference).toString('utf8')).toBe(REFERENCE);
    expect(decodeManifest(Buffer.from(REFERENCE))).toEqual(reference);
  });

  it("encodes a share's manifest, with its metadata file, to the hand-written bytes and back", () => {
    expect(encodeManifest(shareReference).toString('utf8')).toBe(SHARE_REFERENCE);
    expect(decodeManifest(Buffer.from(SHARE_REFERENCE))).toEqual(shareReference);
    const inc = incremental({ source: { type: 'share', id: 's-1', name: 'home', snapshot: 'backup-b2' }, metadata: { file: 'b2.meta.sqlite', size: 0, sha256: META_SHA } });
    expect(decodeManifest(encodeManifest(inc))).toEqual(inc);
  });

  it('round-trips an incremental, and the digest helpers match plain SHA-256', () => {
    const m = incremental();
    expect(decodeManifest(encodeManifest(m))).toEqual(m);
    expect(zeroDigest(8192)).toEqual(PAGE_0);
    expect(imageDigestOf(DIGESTS)).toBe(IMAGE);
  });

  it('refuses the manifest cut at every position with its own error', () => {
    const bytes = Buffer.from(REFERENCE);
    // The whole document minus its final newline is still the document.
    for (let cut = 0; cut < bytes.length - 1; cut++) {
      expect(() => decodeManifest(bytes.subarray(0, cut)), `cut at ${cut}`).toThrow(ManifestError);
    }
    const share = Buffer.from(SHARE_REFERENCE);
    for (let cut = 0; cut < share.length - 1; cut++) {
      expect(() => decodeManifest(share.subarray(0, cut)), `share manifest cut at ${cut}`).toThrow(ManifestError);
    }
  });

  it('says precisely what is wrong', () => {
    rejects('{', /^backup manifest: not JSON \(.*position 1.*\)$/);
    rejects('[]', 'backup manifest: the document is not an object');
    rejects(edit((d) => (d.format = 'qcow2')), 'backup manifest: format is "qcow2", not "strata-backup"');
    rejects(edit((d) => (d.version = 2)), 'backup manifest: version 2 is not supported (this gateway reads version 1)');
    rejects(edit((d) => delete d.id), 'backup manifest: id is not a non-empty string');
    rejects(edit((d) => (d.source.type = 'disk')), 'backup manifest: source.type is "disk", not "volume" or "share"');
    rejects(edit((d) => (d.source.type = 'share')), 'backup manifest: a share backup needs metadata');
    rejects(edit((d) => (d.source.type = 'volume'), SHARE_REFERENCE), 'backup manifest: metadata belongs to a share backup only');
    rejects(edit((d) => (d.metadata = 'meta.sqlite'), SHARE_REFERENCE), 'backup manifest: metadata is not an object');
    rejects(edit((d) => (d.metadata.file = '../etc/passwd'), SHARE_REFERENCE), 'backup manifest: metadata.file "../etc/passwd" is not a plain file name');
    rejects(edit((d) => (d.metadata.file = '..'), SHARE_REFERENCE), 'backup manifest: metadata.file ".." is not a plain file name');
    rejects(edit((d) => delete d.metadata.file, SHARE_REFERENCE), 'backup manifest: metadata.file is not a non-empty string');
    rejects(edit((d) => (d.metadata.size = -1), SHARE_REFERENCE), 'backup manifest: metadata.size is not a whole number >= 0');
    rejects(edit((d) => (d.metadata.sha256 = META_SHA.toUpperCase()), SHARE_REFERENCE), 'backup manifest: metadata.sha256 is not 64 lower-case hex digits');
    rejects(edit((d) => (d.kind = 'differential')), 'backup manifest: kind is "differential", not "full" or "incremental"');
    rejects(edit((d) => (d.parent = 'b0')), 'backup manifest: a full backup has no parent');
    rejects(edit((d) => (d.kind = 'incremental')), 'backup manifest: an incremental backup needs a parent');
    rejects(edit((d) => (d.size = 0)), 'backup manifest: size must be positive, got 0');
    rejects(edit((d) => (d.size = 1.5)), 'backup manifest: size is not a whole number >= 0');
    rejects(edit((d) => (d.pageSize = 3000)), 'backup manifest: pageSize 3000 is not a power of two from 4096 to 16777216');
    rejects(edit((d) => (d.runs = {})), 'backup manifest: runs is not an array');
    rejects(edit((d) => (d.runs[1].kind = 'hole')), 'backup manifest: runs[1].kind is "hole", not "data" or "zero"');
    rejects(edit((d) => (d.runs[1].offset = 4096)), 'backup manifest: runs[1] starts at 4096, not on a page boundary');
    rejects(edit((d) => d.runs.reverse()), 'backup manifest: a full backup leaves [0, 8192) out');
    rejects(edit((d) => d.runs.pop()), 'backup manifest: a full backup leaves [8192, 16384) out');
    rejects(edit((d) => (d.runs[1].length = 16384)), 'backup manifest: runs[1] ends at 24576, past the image\'s 16384 bytes');
    rejects(edit((d) => (d.runs[0].length = 4096)), 'backup manifest: runs[0] ends at 4096, inside a page');
    rejects(edit((d) => (d.runs[0].length = 0)), 'backup manifest: runs[0] has length 0');
    rejects(edit((d) => (d.pageDigests = 'not base64!')), 'backup manifest: pageDigests is not base64');
    rejects(edit((d) => (d.pageDigests = PAGE_A.toString('base64'))), 'backup manifest: pageDigests holds 32 bytes, 2 pages need 64');
    rejects(edit((d) => (d.imageDigest = 'AB')), 'backup manifest: imageDigest is not 64 lower-case hex digits');
    rejects(edit((d) => (d.imageDigest = '0'.repeat(64))), 'backup manifest: imageDigest does not match pageDigests');
    const inc = JSON.parse(encodeManifest(incremental()).toString()) as Record<string, any>;
    inc.runs[1].offset = 8192;
    rejects(JSON.stringify(inc), 'backup manifest: runs[1] starts at 8192, before the end of the run before it (12288)');
  });

  it('never throws anything but ManifestError on random or mutated bytes', () => {
    const rng = new Prng(42);
    const goods = [encodeManifest(incremental()), Buffer.from(SHARE_REFERENCE)];
    for (let i = 0; i < 4000; i++) {
      let input: Buffer;
      if (i % 3 === 0) input = rng.bytes(rng.int(0, 200));
      else {
        input = Buffer.from(goods[i % 2]);
        for (let k = rng.int(1, 4); k > 0; k--) input[rng.int(0, input.length - 1)] = rng.int(0, 255);
      }
      try {
        decodeManifest(input);
      } catch (e) {
        expect(e).toBeInstanceOf(ManifestError);
      }
    }
  });
});
