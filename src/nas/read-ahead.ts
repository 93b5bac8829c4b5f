import type { BufferPool } from '../common/buffer-pool';
import type { Credential, NodeId, ReadResult } from './fs';
import type { FsView } from './snapshots/share-view';

/** A read of the next range, started before the client asked for it. */
interface Ahead {
  offset: number;
  count: number;
  /** The file's change attribute when the read began: the data is served only if it still is. */
  change: number;
  buf: Buffer;
  result: Promise<ReadResult | null>;
}

interface FileState {
  /** Where the last READ of this file ended. */
  lastEnd: number;
  /** READs of this file running now. */
  running: number;
  ahead: Ahead | null;
}

export interface ReadOutcome {
  result: ReadResult;
  /** The pooled buffer `result.data` lies in: give it back once the reply is written. */
  buffer: Buffer | null;
}

export interface ReadAheadOptions {
  /** Files with state kept at most (each may hold one buffer). */
  maxFiles?: number;
  /** READs smaller than this go straight to the filesystem. */
  minCount?: number;
}

/**
 * Large READs into pooled buffers, with read-ahead for a client reading a
 * file front to back one call at a time (as libnfs's nfs-cat and cp do):
 * once a READ is answered, the next range is read while the reply travels
 * and the client asks for it, so that READ is answered from memory.
 *
 * Served read-ahead data is never stale: it is used only if the file's
 * change attribute (which every write, truncate and other change of the
 * file bumps once its data is in place) is the one it had before the read
 * began, and the caller's permission is checked again at that moment.
 * Several READs of one file at once (a client with its own read-ahead)
 * start none, so nothing is read twice.
 */
export class ReadAhead {
  private readonly files = new Map<string, FileState>();
  private readonly maxFiles: number;
  private readonly minCount: number;
  hits = 0;
  /** Replies that reference pooled buffers, with those buffers, until they are written (lend, giveBack). */
  private readonly lent = new WeakMap<object, Buffer[]>();

  constructor(
    readonly pool: BufferPool,
    opts: ReadAheadOptions = {},
  ) {
    this.maxFiles = opts.maxFiles ?? 8;
    this.minCount = opts.minCount ?? 64 * 1024;
  }

  /** A reply references these pooled buffers: they stay out of the pool until giveBack(reply). */
  lend(reply: object, buffers: Buffer[]): void {
    if (buffers.length > 0) this.lent.set(reply, buffers);
  }

  /** The reply was written or dropped: the buffers it referenced go back to the pool. */
  giveBack(reply: object): void {
    const buffers = this.lent.get(reply);
    if (!buffers) return;
    this.lent.delete(reply);
    for (const b of buffers) this.pool.give(b);
  }

  async read(fs: FsView, scope: number, cred: Credential, node: NodeId, offset: number, count: number): Promise<ReadOutcome> {
    if (count < this.minCount || count > this.pool.size) return { result: await fs.read(cred, node, offset, count), buffer: null };
    const key = `${scope}/${node.snap ?? 0}/${node.ino}/${node.gen}`;
    const state = this.state(key);
    const alone = state.running === 0;
    state.running++;
    let out: ReadOutcome | null = null;
    try {
      const a = state.ahead;
      state.ahead = null;
      if (a && a.offset === offset && a.count === count) out = await this.use(fs, cred, node, a);
      else if (a) this.drop(a);
      if (!out) {
        const buf = this.pool.take();
        try {
          out = { result: await fs.read(cred, node, offset, count, buf), buffer: buf };
        } catch (e) {
          this.pool.give(buf);
          throw e;
        }
      }
    } finally {
      state.running--;
    }
    const end = offset + out.result.data.length;
    // A reader starting at the front, or going on from where it stopped, and not overlapping other READs.
    const sequential = offset === 0 || state.lastEnd === offset;
    state.lastEnd = end;
    if (sequential && alone && state.running === 0 && !out.result.eof && out.result.data.length === count && !state.ahead) {
      state.ahead = this.start(fs, cred, node, end, count);
    }
    return out;
  }

  /** Read-ahead data for this caller, if the file has not changed since its read began; else null (buffer returned). */
  private async use(fs: FsView, cred: Credential, node: NodeId, a: Ahead): Promise<ReadOutcome | null> {
    const r = await a.result;
    let now: ReadResult;
    try {
      // A read of nothing: this caller's permission, and the attributes as they are now.
      now = await fs.read(cred, node, a.offset, 0);
    } catch (e) {
      this.pool.give(a.buf);
      throw e;
    }
    if (!r || now.attr.change !== a.change) {
      this.pool.give(a.buf);
      return null;
    }
    this.hits++;
    return { result: { data: r.data, eof: a.offset + r.data.length >= now.attr.size, attr: now.attr }, buffer: a.buf };
  }

  private start(fs: FsView, cred: Credential, node: NodeId, offset: number, count: number): Ahead | null {
    let change: number;
    try {
      change = fs.getattr(node).change;
    } catch {
      return null;
    }
    const buf = this.pool.take();
    const result = fs.read(cred, node, offset, count, buf).catch(() => null);
    return { offset, count, change, buf, result };
  }

  /** Unused read-ahead: its buffer goes back once its read is over. */
  private drop(a: Ahead): void {
    void a.result.then(() => this.pool.give(a.buf));
  }

  private state(key: string): FileState {
    let s = this.files.get(key);
    if (s) {
      // Most recently used last, so the oldest go first.
      this.files.delete(key);
      this.files.set(key, s);
      return s;
    }
    s = { lastEnd: -1, running: 0, ahead: null };
    this.files.set(key, s);
    for (const [k, old] of this.files) {
      if (this.files.size <= this.maxFiles) break;
      if (old.running > 0) continue;
      this.files.delete(k);
      if (old.ahead) this.drop(old.ahead);
    }
    return s;
  }
}
