/**
 * Counts a logical disk's I/O in flight by epoch, so a released pool page is
 * handed back only after every I/O that might still address it has finished:
 * otherwise a late write could land on the page's next owner.
 */
export class InflightTracker {
  private current = new Epoch();
  private drained: Promise<void> = Promise.resolve();

  /** Call before looking up the page map; pair with leave() on the returned epoch. */
  enter(): Epoch {
    const epoch = this.current;
    epoch.count++;
    return epoch;
  }

  /** Resolves once every I/O that entered before this call has left. */
  drain(): Promise<void> {
    const old = this.current;
    this.current = new Epoch();
    old.close();
    this.drained = Promise.all([this.drained, old.idle]).then(noop);
    return this.drained;
  }
}

export class Epoch {
  count = 0;
  readonly idle: Promise<void>;
  private open = true;
  private wake: () => void = noop;

  constructor() {
    this.idle = new Promise<void>((resolve) => (this.wake = resolve));
  }

  leave(): void {
    if (--this.count === 0 && !this.open) this.wake();
  }

  close(): void {
    this.open = false;
    if (this.count === 0) this.wake();
  }
}

function noop(): void {}
