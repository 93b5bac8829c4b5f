/**
 * Exactly-once execution for one session (docs/san-protocol.md, section 6),
 * the NFSv4.1 slot table: each call names a slot and that slot's sequence
 * number; the last reply per slot is kept so a retransmission is answered,
 * never executed again, and an older sequence is refused.
 */
export type Admission =
  /** Execute it; then call complete(). */
  | { kind: 'new' }
  /** A retransmission: resend `reply`; null while the call still executes (its reply will follow). */
  | { kind: 'replay'; reply: Buffer | null }
  /** A retransmission whose (re-readable) reply was dropped for memory: answer BUSY; the client reissues. */
  | { kind: 'evicted' }
  | { kind: 'misordered'; expected: number }
  | { kind: 'bad-slot'; slots: number };

interface Slot {
  seq: number;
  executing: boolean;
  reply: Buffer | null;
  evictable: boolean;
  evicted: boolean;
}

const next = (seq: number) => (seq + 1) >>> 0;

export class SlotTable {
  private readonly slots: Slot[];
  private cachedBytes = 0;

  constructor(
    readonly size: number,
    /** Bound on the bytes of cached replies; only evictable (READ) replies are ever dropped. */
    private readonly maxCachedBytes: number,
    /** A cached reply the table no longer holds (the slot moved on, or it was evicted). */
    private readonly dropped: (reply: Buffer) => void = () => undefined,
  ) {
    this.slots = Array.from({ length: size }, () => ({ seq: 0, executing: false, reply: null, evictable: false, evicted: false }));
  }

  get bytes(): number {
    return this.cachedBytes;
  }

  admit(slotId: number, seq: number): Admission {
    const slot = this.slots[slotId];
    if (slot === undefined) return { kind: 'bad-slot', slots: this.size };
    if (seq === slot.seq && seq !== 0) {
      if (slot.executing) return { kind: 'replay', reply: null };
      return slot.evicted ? { kind: 'evicted' } : { kind: 'replay', reply: slot.reply };
    }
    // A new call on a slot whose previous call has not finished would race it: refuse.
    if (seq !== next(slot.seq) || slot.executing) return { kind: 'misordered', expected: slot.executing ? slot.seq : next(slot.seq) };
    // Using the slot again means the client has the previous reply.
    this.drop(slot);
    slot.seq = seq;
    slot.executing = true;
    return { kind: 'new' };
  }

  /** The cached reply of call `seq` on the slot, if that is the slot's last call and it finished; changes nothing. */
  cached(slotId: number, seq: number): Buffer | null {
    const slot = this.slots[slotId];
    if (!slot || slot.seq !== seq || seq === 0 || slot.executing) return null;
    return slot.reply;
  }

  complete(slotId: number, seq: number, reply: Buffer, evictable = false): void {
    const slot = this.slots[slotId];
    if (!slot || slot.seq !== seq || !slot.executing) throw new Error(`slot ${slotId}: no call ${seq} executing`);
    slot.executing = false;
    slot.reply = reply;
    slot.evictable = evictable;
    slot.evicted = false;
    this.cachedBytes += reply.length;
    if (this.cachedBytes > this.maxCachedBytes) this.evict();
  }

  /**
   * The client has the reply of call `seq` on the slot (all of it was
   * acknowledged): a re-readable one need not stay cached. A late duplicate
   * of the call is then answered as for an evicted reply.
   */
  delivered(slotId: number, seq: number): void {
    const slot = this.slots[slotId];
    if (!slot || slot.seq !== seq || slot.executing || !slot.evictable || !slot.reply) return;
    this.drop(slot);
    slot.evicted = true;
  }

  private drop(slot: Slot): void {
    const reply = slot.reply;
    slot.reply = null;
    slot.evicted = false;
    if (reply) {
      this.cachedBytes -= reply.length;
      this.dropped(reply);
    }
  }

  /** Largest evictable replies first, until under the bound. */
  private evict(): void {
    const candidates = this.slots.filter((s) => s.reply && s.evictable).sort((a, b) => b.reply!.length - a.reply!.length);
    for (const s of candidates) {
      if (this.cachedBytes <= this.maxCachedBytes) break;
      this.drop(s);
      s.evicted = true;
    }
  }
}
