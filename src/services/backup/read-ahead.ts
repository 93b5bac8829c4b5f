/** A piece of an image: where, how long, and whether it is read (data) or not (zeros). */
export interface Piece {
  offset: number;
  length: number;
  /** False: nothing to read (a zero run). */
  read: boolean;
}

/** Cut runs into pieces of at most `chunk` bytes (zero runs stay whole), from `from` on. */
export function* pieces(runs: Iterable<{ offset: number; length: number; read: boolean }>, from: number, chunk: number): Generator<Piece> {
  for (const r of runs) {
    const end = r.offset + r.length;
    if (end <= from) continue;
    for (let at = Math.max(r.offset, from); at < end; ) {
      const length = r.read ? Math.min(chunk, end - at) : end - at;
      yield { offset: at, length, read: r.read };
      at += length;
    }
  }
}

/**
 * Read piece k+1 while piece k is handled (hashed, written): the source and
 * the target work at the same time. Two buffers of `chunk` bytes; a piece's
 * buffer is reused only after its handler finished.
 */
export async function readAhead(
  all: Iterable<Piece>,
  chunk: number,
  read: (offset: number, into: Buffer) => Promise<void>,
  handle: (piece: Piece, data: Buffer | null) => Promise<void>,
): Promise<void> {
  const bufs = [Buffer.allocUnsafe(chunk), Buffer.allocUnsafe(chunk)];
  let turn = 0;
  const start = (p: Piece) => {
    const data = p.read ? bufs[(turn ^= 1)].subarray(0, p.length) : null;
    const done = data ? read(p.offset, data) : Promise.resolve();
    // Handled here too: if the handler of the piece before throws, this read may fail unseen.
    done.catch(() => undefined);
    return { p, data, done };
  };
  const it = all[Symbol.iterator]();
  let step = it.next();
  let current = step.done ? null : start(step.value);
  while (current) {
    await current.done;
    step = it.next();
    const ahead = step.done ? null : start(step.value);
    await handle(current.p, current.data);
    current = ahead;
  }
}
