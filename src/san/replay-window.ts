/**
 * Anti-replay for sealed datagrams (docs/san-protocol.md, section 7): the
 * highest packet number seen and a bitmap of the WINDOW numbers below it, as
 * IPsec ESP does. Check after authentication, so a forged number cannot move
 * the window.
 */
export const REPLAY_WINDOW = 1024;

export class ReplayWindow {
  private highest = 0n;
  /** Bit i set: packet (highest - i) was seen. */
  private readonly seen = new Uint32Array(REPLAY_WINDOW / 32);

  /** True, and recorded, when `n` is new; false for a replay or a number left of the window. */
  accept(n: bigint): boolean {
    if (n <= 0n) return false;
    if (n > this.highest) {
      this.shift(n - this.highest);
      this.highest = n;
      this.set(0);
      return true;
    }
    const back = this.highest - n;
    if (back >= BigInt(REPLAY_WINDOW)) return false;
    const i = Number(back);
    if (this.get(i)) return false;
    this.set(i);
    return true;
  }

  private get(i: number): boolean {
    return (this.seen[i >>> 5] & (1 << (i & 31))) !== 0;
  }

  private set(i: number): void {
    this.seen[i >>> 5] |= 1 << (i & 31);
  }

  /** Slide the bitmap by `by` positions (older numbers move to higher bits), a word at a time. */
  private shift(by: bigint): void {
    const words = this.seen;
    if (by >= BigInt(REPLAY_WINDOW)) {
      words.fill(0);
      return;
    }
    const n = Number(by);
    const w = n >>> 5;
    const b = n & 31;
    for (let i = words.length - 1; i >= 0; i--) {
      const hi = i - w >= 0 ? words[i - w] : 0;
      const lo = b !== 0 && i - w - 1 >= 0 ? words[i - w - 1] : 0;
      words[i] = b === 0 ? hi : ((hi << b) | (lo >>> (32 - b))) >>> 0;
    }
  }
}
