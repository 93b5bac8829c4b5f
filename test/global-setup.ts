import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Every temporary file and directory a spec makes goes under one directory
 * for the run (TMPDIR, which os.tmpdir() and the processes specs start both
 * read), and the run removes it at the end: specs and the gateways they start
 * no longer leave their data dirs, keys and sockets in /tmp.
 *
 * The name stays short: Unix socket paths must fit in 107 bytes. Its mode is
 * /tmp's (1777): specs run programs as other users (nobody), which must reach
 * what is made under it.
 * A directory that still has something mounted under it (a spec that failed
 * between mount and unmount) is left in place, with its path printed, so the
 * removal never walks into a mounted filesystem.
 */
export default function setup(): () => void {
  const root = mkdtempSync(join(tmpdir(), 'st-'));
  chmodSync(root, 0o1777);
  const before = process.env.TMPDIR;
  process.env.TMPDIR = root;
  return () => {
    if (before === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = before;
    const mounted = mountsUnder(root);
    if (mounted.length > 0) {
      console.warn(`test temp dir ${root} kept: still mounted under it: ${mounted.join(', ')}`);
      return;
    }
    rmSync(root, { recursive: true, force: true });
  };
}

function mountsUnder(root: string): string[] {
  let table: string;
  try {
    table = readFileSync('/proc/self/mounts', 'utf8');
  } catch {
    return [];
  }
  return table
    .split('\n')
    .map((line) => line.split(' ')[1] ?? '')
    .map((point) => point.replace(/\\040/g, ' '))
    .filter((point) => point === root || point.startsWith(`${root}/`));
}
