import type { DirentRow } from './meta-db';

export interface Dentry {
  name: string;
  ino: number;
  cookie: number;
  dead?: boolean;
}

/** First cookie of a real entry: 0 starts a listing, 1 and 2 are '.' and '..'. */
export const FIRST_COOKIE = 3;

/**
 * A directory's entries in memory: by name for lookup, and in cookie order
 * for listings. Cookies only grow (the directory hands out the next one), so
 * appending keeps the order sorted; removed entries are compacted lazily.
 */
export class Directory {
  private readonly byName = new Map<string, Dentry>();
  private order: Dentry[] = [];
  private dead = 0;

  constructor(rows: Iterable<DirentRow> = []) {
    for (const row of rows) {
      const e: Dentry = { name: row.name, ino: row.ino, cookie: row.cookie };
      this.byName.set(e.name, e);
      this.order.push(e);
    }
    this.order.sort((a, b) => a.cookie - b.cookie);
  }

  get count(): number {
    return this.byName.size;
  }

  get(name: string): Dentry | undefined {
    return this.byName.get(name);
  }

  /** `cookie` must be above every cookie handed out before (the directory's next_cookie). */
  add(name: string, ino: number, cookie: number): Dentry {
    const last = this.order[this.order.length - 1];
    if (last && last.cookie >= cookie) throw new Error(`cookie ${cookie} not above ${last.cookie}`);
    const e: Dentry = { name, ino, cookie };
    this.byName.set(name, e);
    this.order.push(e);
    return e;
  }

  remove(name: string): Dentry | undefined {
    const e = this.byName.get(name);
    if (!e) return undefined;
    this.byName.delete(name);
    e.dead = true;
    this.dead++;
    if (this.dead > 32 && this.dead * 2 > this.order.length) {
      this.order = this.order.filter((x) => !x.dead);
      this.dead = 0;
    }
    return e;
  }

  /** Live entries with a cookie above `cookie`, in cookie order. */
  *after(cookie: number): Generator<Dentry> {
    const order = this.order;
    let lo = 0;
    let hi = order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (order[mid].cookie <= cookie) lo = mid + 1;
      else hi = mid;
    }
    // A compaction during iteration replaces `order`; the old array stays valid for this walk.
    for (let i = lo; i < order.length; i++) if (!order[i].dead) yield order[i];
  }

  entries(): IterableIterator<Dentry> {
    return this.byName.values();
  }
}
