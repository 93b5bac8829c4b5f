import { Prng } from '../../src/common/prng';
import { whole, type DatagramSocket, type Peer } from '../../src/san/transport/datagram-socket';

export interface LinkFaults {
  /** Probabilities per datagram, per direction. */
  drop?: number;
  duplicate?: number;
  reorder?: number;
  corrupt?: number;
  /** Every datagram is delayed by a uniform [min, max] ms (jitter); a reordered one by up to `reorderDelay` more. */
  delay?: { min: number; max: number };
  reorderDelay?: number;
  seed?: number;
}

export interface LinkCounters {
  passed: number;
  dropped: number;
  duplicated: number;
  reordered: number;
  corrupted: number;
}

/**
 * A DatagramSocket that wraps a real one and damages traffic both ways, as a
 * bad network would: drops, duplicates, reorders, corrupts (one flipped byte)
 * and delays datagrams at configurable, seeded rates.
 */
export class LossyLink implements DatagramSocket {
  readonly counters: LinkCounters = { passed: 0, dropped: 0, duplicated: 0, reordered: 0, corrupted: 0 };
  private readonly prng: Prng;
  private readonly pending = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(
    private readonly inner: DatagramSocket,
    private faults: LinkFaults,
  ) {
    this.prng = new Prng(faults.seed ?? 1);
  }

  /** Change the fault rates (e.g. heal the link). */
  set(faults: Omit<LinkFaults, 'seed'>): void {
    this.faults = { ...faults };
  }

  send(buf: Buffer | readonly Buffer[], port: number, address: string): void {
    this.through(whole(buf), (b) => this.inner.send(b, port, address));
  }

  /** Datagrams held back for a delay or reordering (incoming ones too: a bound, not an exact count), and the inner socket's. */
  queuedSends(): number {
    return this.pending.size + this.inner.queuedSends();
  }

  onMessage(cb: (buf: Buffer, from: Peer) => void): void {
    this.inner.onMessage((buf, from) => this.through(buf, (b) => cb(b, from)));
  }

  local(): Peer {
    return this.inner.local();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.pending) clearTimeout(t);
    this.pending.clear();
    await this.inner.close();
  }

  private through(buf: Buffer, deliver: (b: Buffer) => void): void {
    const f = this.faults;
    const p = this.prng;
    if (p.next() < (f.drop ?? 0)) {
      this.counters.dropped++;
      return;
    }
    let copies = 1;
    if (p.next() < (f.duplicate ?? 0)) {
      this.counters.duplicated++;
      copies = 2;
    }
    for (let c = 0; c < copies; c++) {
      let out = buf;
      if (p.next() < (f.corrupt ?? 0)) {
        this.counters.corrupted++;
        out = Buffer.from(buf);
        out[p.int(0, out.length)] ^= 1 << p.int(0, 8);
      }
      let wait = f.delay ? f.delay.min + p.next() * (f.delay.max - f.delay.min) : 0;
      if (p.next() < (f.reorder ?? 0)) {
        this.counters.reordered++;
        wait += 1 + p.next() * (f.reorderDelay ?? 5);
      }
      this.counters.passed++;
      if (wait <= 0 && c === 0) {
        deliver(out);
        continue;
      }
      const t = setTimeout(() => {
        this.pending.delete(t);
        if (!this.closed) deliver(out);
      }, wait);
      this.pending.add(t);
    }
  }
}
