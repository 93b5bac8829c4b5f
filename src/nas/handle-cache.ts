import { decodeFileHandle, encodeFileHandle, FH_SIZE, type FileHandle } from './file-handle';

interface Known {
  /** The share key the handle was made or checked with: a new key (a recreated export id) makes it unknown. */
  key: Buffer;
  handle: FileHandle;
  bytes: Buffer;
}

/**
 * File handles made and checked recently. Every NFS call checks the MAC of
 * its handle and many answers carry new ones (LOOKUP, CREATE, READDIRPLUS);
 * an HMAC-SHA256 each is the largest share of a small call's CPU. A handle
 * seen before, byte for byte, under the same share key needs no second
 * HMAC: it was genuine then and is now. Anything else is checked in full,
 * so a forged handle is refused as before. Bounded, oldest first out.
 */
export class HandleCache {
  private readonly byBytes = new Map<string, Known>();
  private readonly byObject = new Map<string, Known>();

  constructor(private readonly limit = 8192) {}

  get size(): number {
    return this.byBytes.size;
  }

  decode(b: Buffer, keyOf: (exportId: number) => Buffer | undefined): FileHandle {
    if (b.length === FH_SIZE) {
      const known = this.byBytes.get(b.toString('latin1'));
      if (known && keyOf(known.handle.exportId) === known.key) return known.handle;
    }
    const handle = decodeFileHandle(b, keyOf);
    this.remember(keyOf(handle.exportId)!, handle, Buffer.from(b));
    return handle;
  }

  encode(h: FileHandle, key: Buffer): Buffer {
    const known = this.byObject.get(objectKey(h));
    if (known && known.key === key) return known.bytes;
    const bytes = encodeFileHandle(h, key);
    this.remember(key, h, bytes);
    return bytes;
  }

  private remember(key: Buffer, handle: FileHandle, bytes: Buffer): void {
    const known: Known = { key, handle, bytes };
    const text = bytes.toString('latin1');
    const obj = objectKey(handle);
    this.byBytes.delete(text);
    this.byObject.delete(obj);
    this.byBytes.set(text, known);
    this.byObject.set(obj, known);
    while (this.byBytes.size > this.limit) {
      const [oldText, old] = this.byBytes.entries().next().value as [string, Known];
      this.byBytes.delete(oldText);
      if (this.byObject.get(objectKey(old.handle)) === old) this.byObject.delete(objectKey(old.handle));
    }
  }
}

function objectKey(h: FileHandle): string {
  return `${h.exportId}/${h.snapshotId}/${h.ino}/${h.generation}`;
}
