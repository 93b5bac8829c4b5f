import { Socket } from 'node:net';

/** Where the next read goes (a fixed buffer, or asked before every read), and what to do with the `n` bytes it got; false stops reading. */
export interface OnRead {
  buffer: Buffer | (() => Buffer);
  callback: (n: number, buf: Buffer) => boolean;
}

/**
 * Re-wrap a socket a server accepted paused (`pauseOnConnect`) so that it
 * reads with `onread`: the kernel copies into the caller's buffer and the
 * callback gets the bytes, with no Readable stream machinery per read (no
 * chunk allocated, no 'data' event). Node offers `onread` only to sockets it
 * constructs, so the accepted socket's handle moves to a new Socket; the old
 * one, now handle-less, is destroyed to release the server's count. The new
 * socket is returned paused: attach listeners, then resume() it.
 * Undefined when there is no handle to move (read the accepted socket as a stream).
 */
export function onreadSocket(accepted: Socket, onread: OnRead, opts: { allowHalfOpen?: boolean } = {}): Socket | undefined {
  const holder = accepted as unknown as { _handle?: object | null };
  const handle = holder._handle;
  if (!handle) return undefined;
  holder._handle = null;
  const socket = new Socket({ handle, onread, allowHalfOpen: opts.allowHalfOpen } as ConstructorParameters<typeof Socket>[0]);
  accepted.destroy();
  return socket;
}
