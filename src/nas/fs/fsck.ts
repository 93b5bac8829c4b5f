import type Database from 'better-sqlite3';
import { BlockAllocator } from './block-allocator';
import { FIRST_COOKIE } from './directory';
import { FileType } from './fs-types';

export interface FsckOptions {
  /** Fix what is cheap to fix (unmounted only): dangling entries, link counts, block counts, bad extents, parents, cookies, stale orphan rows. */
  repair?: boolean;
}

export type FsckProblemKind =
  | 'root' // no root directory
  | 'bad-inode' // impossible type/mode, symlink without target, directory without parent
  | 'extent-orphaned' // extent of an inode that does not exist
  | 'extent-not-file' // extent of something other than a regular file
  | 'extent-overlap' // two extents of one file cover the same file block
  | 'block-out-of-range' // extent outside the store
  | 'duplicate-block' // a store block owned twice
  | 'blocks-past-eof' // blocks past the end of file
  | 'used-mismatch' // the inode's block count differs from its extents
  | 'inline-data' // a file's inline data alongside blocks, or past its size
  | 'free-map' // the mounted free map differs from the complement of all extents
  | 'dangling-entry' // a directory entry naming a missing inode
  | 'entry-in-non-directory' // an entry whose directory is missing or not a directory
  | 'bad-name'
  | 'cookie' // duplicate cookie or one not below the directory's next cookie
  | 'nlink' // link count differs from the entries (and subdirectories' '..')
  | 'directory-links' // a directory named by other than exactly one entry
  | 'bad-parent' // a directory's '..' is not the directory holding it
  | 'unreachable' // linked but not reachable from the root
  | 'orphan'; // link count 0 and neither on the orphan list nor held; or a stale orphan row

export interface FsckProblem {
  kind: FsckProblemKind;
  ino?: number;
  detail: string;
  repaired: boolean;
}

export interface FsckReport {
  clean: boolean;
  problems: FsckProblem[];
  /** Removed files still on the orphan list: reclaimed at the next mount (not a problem). */
  pendingOrphans: number[];
  inodes: number;
  directories: number;
  files: number;
  usedBlocks: number;
  totalBlocks: number;
}

export interface CheckContext {
  blockSize: number;
  totalBlocks: number;
  mounted: boolean;
  /** Mounted: removed files still held open. */
  held?: Set<number>;
  /** Mounted: the live free map, compared with the one the extents imply. */
  allocator?: BlockAllocator;
  repair: boolean;
}

interface InodeInfo {
  ino: number;
  type: number;
  mode: number;
  nlink: number;
  size: number;
  blocks: number;
  parent: number | null;
  next_cookie: number | null;
  hasTarget: number;
  /** Bytes in the target column: a symlink's target, a regular file's inline data. */
  targetBytes: number | null;
}

interface ExtentRow {
  ino: number;
  fblock: number;
  dblock: number;
  count: number;
}

const ROOT = 1;

/**
 * Cross-check the metadata database against itself and against block
 * allocation. Everything is read in a few table scans; repairs (if asked)
 * run in one transaction afterwards.
 */
export function checkFileSystem(db: Database.Database, ctx: CheckContext): FsckReport {
  const problems: FsckProblem[] = [];
  const fixes: Array<() => void> = [];
  const report = (kind: FsckProblemKind, detail: string, ino?: number, fix?: () => void): void => {
    problems.push({ kind, ino, detail, repaired: ctx.repair && fix !== undefined });
    if (ctx.repair && fix) fixes.push(fix);
  };
  const stmt = {
    deleteExtent: db.prepare('DELETE FROM extents WHERE ino = ? AND fblock = ?'),
    trimExtent: db.prepare('UPDATE extents SET count = ? WHERE ino = ? AND fblock = ?'),
    deleteDirent: db.prepare('DELETE FROM dirents WHERE dir = ? AND name = ?'),
    setNlink: db.prepare('UPDATE inodes SET nlink = ? WHERE ino = ?'),
    setParent: db.prepare('UPDATE inodes SET parent = ? WHERE ino = ?'),
    setCookie: db.prepare('UPDATE dirents SET cookie = ? WHERE dir = ? AND name = ?'),
    setNextCookie: db.prepare('UPDATE inodes SET next_cookie = ? WHERE ino = ?'),
    putOrphan: db.prepare('INSERT OR IGNORE INTO orphans (ino) VALUES (?)'),
    deleteOrphan: db.prepare('DELETE FROM orphans WHERE ino = ?'),
    recountBlocks: db.prepare('UPDATE inodes SET blocks = (SELECT COALESCE(SUM(count), 0) FROM extents e WHERE e.ino = inodes.ino) WHERE ino = ?'),
  };

  // Inodes.
  const inodes = new Map<number, InodeInfo>();
  for (const row of db
    .prepare('SELECT ino, type, mode, nlink, size, blocks, parent, next_cookie, target IS NOT NULL AS hasTarget, length(target) AS targetBytes FROM inodes')
    .iterate() as Iterable<InodeInfo>) {
    inodes.set(row.ino, row);
    if (row.type < FileType.REG || row.type > FileType.FIFO || row.mode < 0 || row.mode > 0o7777) {
      report('bad-inode', `type ${row.type} mode ${row.mode.toString(8)}`, row.ino);
    } else if (row.type === FileType.LNK && !row.hasTarget) {
      report('bad-inode', 'symbolic link without a target', row.ino);
    } else if (row.type === FileType.DIR && (row.parent === null || row.next_cookie === null)) {
      report('bad-inode', 'directory without parent or cookie counter', row.ino);
    }
  }
  const root = inodes.get(ROOT);
  if (!root || root.type !== FileType.DIR) report('root', 'no root directory');

  // Extents, by file: ownership, overlap inside a file, range, blocks past EOF, block counts.
  const bs = ctx.blockSize;
  const sums = new Map<number, number>();
  const fresh = new BlockAllocator(ctx.totalBlocks);
  let prev: ExtentRow | undefined;
  const valid: ExtentRow[] = [];
  for (const e of db.prepare('SELECT ino, fblock, dblock, count FROM extents ORDER BY ino, fblock').iterate() as Iterable<ExtentRow>) {
    const owner = inodes.get(e.ino);
    const drop = () => stmt.deleteExtent.run(e.ino, e.fblock);
    const where = `file blocks [${e.fblock}, ${e.fblock + e.count}) on store blocks [${e.dblock}, ${e.dblock + e.count})`;
    if (!owner) report('extent-orphaned', `${where} of a missing inode`, e.ino, drop);
    else if (owner.type !== FileType.REG) report('extent-not-file', `${where} of a non-file`, e.ino, drop);
    else if (e.count <= 0 || e.dblock < 0 || e.dblock + e.count > ctx.totalBlocks) report('block-out-of-range', where, e.ino, drop);
    else if (prev && prev.ino === e.ino && prev.fblock + prev.count > e.fblock) report('extent-overlap', where, e.ino, drop);
    else {
      const eofBlocks = Math.ceil(owner.size / bs);
      if (e.fblock + e.count > eofBlocks) {
        const keep = eofBlocks - e.fblock;
        report('blocks-past-eof', `${where} past size ${owner.size}`, e.ino, keep > 0 ? () => stmt.trimExtent.run(keep, e.ino, e.fblock) : drop);
      }
      valid.push(e);
      prev = e;
    }
  }
  // Store blocks owned twice: sort by store block and look for overlaps.
  valid.sort((a, b) => a.dblock - b.dblock);
  let reach: ExtentRow | undefined;
  for (const e of valid) {
    if (reach && e.dblock < reach.dblock + reach.count) {
      report(
        'duplicate-block',
        `store blocks from ${e.dblock} owned by inode ${reach.ino} and inode ${e.ino}`,
        e.ino,
        () => stmt.deleteExtent.run(e.ino, e.fblock),
      );
      if (e.dblock + e.count > reach.dblock + reach.count) reach = e;
      continue;
    }
    fresh.markUsed(e.dblock, e.count);
    sums.set(e.ino, (sums.get(e.ino) ?? 0) + e.count);
    reach = e;
  }
  for (const node of inodes.values()) {
    if (node.type === FileType.REG && node.targetBytes !== null) {
      // Inline data: the whole file is in the row, so it has no blocks and no more bytes than its size.
      const held = sums.get(node.ino) ?? 0;
      if (held > 0 || node.blocks > 0) report('inline-data', `${node.targetBytes} bytes of inline data and ${Math.max(held, node.blocks)} blocks`, node.ino);
      else if (node.targetBytes > node.size) report('inline-data', `${node.targetBytes} bytes of inline data past size ${node.size}`, node.ino);
    }
    if (node.type !== FileType.REG && node.blocks === 0) continue;
    const sum = sums.get(node.ino) ?? 0;
    if (node.blocks !== sum) report('used-mismatch', `block count ${node.blocks}, extents hold ${sum}`, node.ino, () => stmt.recountBlocks.run(node.ino));
  }
  if (ctx.allocator) {
    const at = ctx.allocator.firstMismatch(fresh);
    if (at >= 0) {
      report('free-map', `block ${at} is ${ctx.allocator.isUsed(at) ? 'used' : 'free'} in memory but ${fresh.isUsed(at) ? 'used' : 'free'} by the extents`);
    }
  }

  // Directory entries: targets, names, cookies, references.
  const refs = new Map<number, number>();
  const subdirs = new Map<number, number>();
  const holder = new Map<number, number>();
  const children = new Map<number, number[]>();
  const cookieTop = new Map<number, number>();
  const seenCookies = new Set<string>();
  const recookie: Array<{ dir: number; name: string }> = [];
  for (const d of db.prepare('SELECT dir, name, ino, cookie FROM dirents ORDER BY dir, cookie').iterate() as Iterable<{
    dir: number;
    name: string;
    ino: number;
    cookie: number;
  }>) {
    const dir = inodes.get(d.dir);
    const target = inodes.get(d.ino);
    const drop = () => stmt.deleteDirent.run(d.dir, d.name);
    if (!dir || dir.type !== FileType.DIR) {
      report('entry-in-non-directory', `entry '${d.name}' in ${dir ? 'a non-directory' : 'a missing directory'} ${d.dir}`, d.ino, drop);
      continue;
    }
    if (!target) {
      report('dangling-entry', `entry '${d.name}' in directory ${d.dir} names missing inode ${d.ino}`, d.ino, drop);
      continue;
    }
    if (d.name.length === 0 || d.name === '.' || d.name === '..' || d.name.includes('/') || Buffer.byteLength(d.name) > 255) {
      report('bad-name', `entry '${d.name}' in directory ${d.dir}`, d.ino, drop);
      continue;
    }
    const key = `${d.dir}/${d.cookie}`;
    if (seenCookies.has(key) || d.cookie < FIRST_COOKIE || d.cookie >= (dir.next_cookie ?? 0)) {
      report('cookie', `entry '${d.name}' in directory ${d.dir} has cookie ${d.cookie}`, d.ino);
      recookie.push({ dir: d.dir, name: d.name });
    }
    seenCookies.add(key);
    cookieTop.set(d.dir, Math.max(cookieTop.get(d.dir) ?? 0, d.cookie));
    refs.set(d.ino, (refs.get(d.ino) ?? 0) + 1);
    if (target.type === FileType.DIR) {
      subdirs.set(d.dir, (subdirs.get(d.dir) ?? 0) + 1);
      holder.set(d.ino, d.dir);
      let list = children.get(d.dir);
      if (!list) children.set(d.dir, (list = []));
      list.push(d.ino);
    }
  }
  if (recookie.length > 0 && ctx.repair) {
    fixes.push(() => {
      for (const { dir, name } of recookie) {
        const top = Math.max(cookieTop.get(dir) ?? 0, inodes.get(dir)?.next_cookie ?? FIRST_COOKIE, FIRST_COOKIE - 1) + 1;
        cookieTop.set(dir, top);
        stmt.setCookie.run(top, dir, name);
        stmt.setNextCookie.run(top + 1, dir);
      }
    });
    for (const p of problems) if (p.kind === 'cookie') p.repaired = true;
  }

  // Link counts, parents, orphans.
  const orphanRows = new Set((db.prepare('SELECT ino FROM orphans').all() as Array<{ ino: number }>).map((r) => r.ino));
  const pendingOrphans: number[] = [];
  let directories = 0;
  let files = 0;
  for (const node of inodes.values()) {
    const n = refs.get(node.ino) ?? 0;
    if (node.type === FileType.DIR) {
      directories++;
      const want = 2 + (subdirs.get(node.ino) ?? 0);
      const entries = node.ino === ROOT ? 0 : 1;
      if (n !== entries) report('directory-links', `directory named by ${n} entries`, node.ino);
      if ((node.ino === ROOT || n > 0) && node.nlink !== want) {
        report('nlink', `link count ${node.nlink}, expected ${want}`, node.ino, () => stmt.setNlink.run(want, node.ino));
      }
      const parent = node.ino === ROOT ? ROOT : holder.get(node.ino);
      if (parent !== undefined && node.parent !== parent) {
        report('bad-parent', `'..' is ${node.parent}, held by ${parent}`, node.ino, () => stmt.setParent.run(parent, node.ino));
      }
    } else {
      if (node.type === FileType.REG) files++;
      if (node.nlink !== n && !(n === 0 && node.nlink === 0)) {
        report('nlink', `link count ${node.nlink}, ${n} entries name it`, node.ino, () => {
          stmt.setNlink.run(n, node.ino);
          if (n === 0) stmt.putOrphan.run(node.ino);
        });
      }
    }
    if (n === 0 && node.ino !== ROOT && node.nlink === 0) {
      if (ctx.mounted) {
        if (!ctx.held?.has(node.ino)) report('orphan', 'removed but neither held open nor reclaimed', node.ino);
      } else if (orphanRows.has(node.ino)) {
        pendingOrphans.push(node.ino);
      } else {
        report('orphan', 'link count 0 but not on the orphan list', node.ino, () => stmt.putOrphan.run(node.ino));
      }
    }
  }
  for (const ino of orphanRows) {
    const node = inodes.get(ino);
    if (!node) report('orphan', 'orphan row of a missing inode', ino, () => stmt.deleteOrphan.run(ino));
    else if ((refs.get(ino) ?? 0) > 0) report('orphan', 'on the orphan list but still linked', ino, () => stmt.deleteOrphan.run(ino));
  }

  // Reachability from the root.
  const reached = new Set<number>([ROOT]);
  const queue = [ROOT];
  while (queue.length > 0) {
    const dir = queue.pop()!;
    for (const child of children.get(dir) ?? []) {
      if (!reached.has(child)) {
        reached.add(child);
        queue.push(child);
      }
    }
  }
  for (const node of inodes.values()) {
    if (node.type === FileType.DIR && node.ino !== ROOT && (refs.get(node.ino) ?? 0) > 0 && !reached.has(node.ino)) {
      report('unreachable', 'directory not reachable from the root (a detached cycle)', node.ino);
    }
  }

  if (fixes.length > 0) {
    db.transaction(() => {
      for (const fix of fixes) fix();
      // Extent repairs change block counts: recount every file they touched.
      for (const p of problems) if (p.ino !== undefined && p.repaired && isExtentKind(p.kind)) stmt.recountBlocks.run(p.ino);
    })();
  }

  return {
    clean: problems.length === 0,
    problems,
    pendingOrphans,
    inodes: inodes.size,
    directories,
    files,
    usedBlocks: fresh.used,
    totalBlocks: ctx.totalBlocks,
  };
}

function isExtentKind(kind: FsckProblemKind): boolean {
  return kind === 'extent-overlap' || kind === 'block-out-of-range' || kind === 'duplicate-block' || kind === 'blocks-past-eof';
}
