/** Random NFSv3 values for the codec specs: every procedure's arguments and both result arms. */

import { Prng } from '../../../common/prng';
import { NFSSTAT3_VALUES, createmode3, ftype3, nfsstat3, stable_how, time_how, type nfsstat3_error } from '../constants';
import type { diropargs3, fattr3, nfstime3, sattr3, set_time, wcc_data } from '../common.codec';
import type { createhow3, mknoddata3 } from '../directory.codec';
import type { entry3, entryplus3 } from '../readdir.codec';
import type { Nfs3Proc, Nfs3Signatures } from '../procedures';

export class Arbitrary {
  readonly prng: Prng;

  constructor(seed: number) {
    this.prng = new Prng(seed);
  }

  int(min: number, max: number): number {
    return this.prng.int(min, max);
  }
  u32(): number {
    return this.pick([0, 1, 0xffffffff, this.prng.int(0, 2 ** 32)]);
  }
  bool(): boolean {
    return this.prng.int(0, 2) === 1;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.prng.int(0, items.length)];
  }
  maybe<T>(make: () => T): T | undefined {
    return this.bool() ? make() : undefined;
  }
  /** A size3/offset3 within the exact range of a number. */
  u53(): number {
    return this.pick([0, 2 ** 53 - 1, this.prng.int(0, 2 ** 21) * 2 ** 32 + this.prng.int(0, 2 ** 32), this.prng.int(0, 1 << 20)]);
  }
  u64(): bigint {
    return this.pick([0n, 2n ** 64n - 1n, (BigInt(this.prng.int(0, 2 ** 32)) << 32n) | BigInt(this.prng.int(0, 2 ** 32))]);
  }
  bytes(max: number): Buffer {
    return this.prng.bytes(this.prng.int(0, max + 1));
  }
  fh(): Buffer {
    return this.bytes(64);
  }
  /** UTF-8 text of at most maxBytes bytes, mixing 1-, 2-, 3- and 4-byte characters. */
  text(maxBytes: number): string {
    const chars = ['a', 'Z', '0', '.', '-', '_', ' ', 'é', 'ß', 'Ж', '中', '€', '😀'];
    const target = this.prng.int(0, maxBytes + 1);
    let s = '';
    for (;;) {
      const c = this.pick(chars);
      if (Buffer.byteLength(s + c) > target) return s;
      s += c;
    }
  }
  name(): string {
    return this.text(this.pick([8, 32, 255]));
  }
  status(): nfsstat3_error {
    return this.pick([...NFSSTAT3_VALUES].filter((s) => s !== nfsstat3.NFS3_OK)) as nfsstat3_error;
  }
  time(): nfstime3 {
    return { seconds: this.u32(), nseconds: this.prng.int(0, 1e9) };
  }
  ftype(): ftype3 {
    return this.prng.int(1, 8) as ftype3;
  }
  fattr(): fattr3 {
    return {
      type: this.ftype(),
      mode: this.prng.int(0, 0o10000),
      nlink: this.u32(),
      uid: this.u32(),
      gid: this.u32(),
      size: this.u53(),
      used: this.u53(),
      rdev: { specdata1: this.u32(), specdata2: this.u32() },
      fsid: this.u64(),
      fileid: this.u53(),
      atime: this.time(),
      mtime: this.time(),
      ctime: this.time(),
    };
  }
  postOpAttr(): fattr3 | undefined {
    return this.maybe(() => this.fattr());
  }
  wcc(): wcc_data {
    return { before: this.maybe(() => ({ size: this.u53(), mtime: this.time(), ctime: this.time() })), after: this.postOpAttr() };
  }
  setTime(): set_time {
    return this.pick<set_time>([undefined, time_how.SET_TO_SERVER_TIME, this.time()]);
  }
  sattr(): sattr3 {
    return {
      mode: this.maybe(() => this.prng.int(0, 0o10000)),
      uid: this.maybe(() => this.u32()),
      gid: this.maybe(() => this.u32()),
      size: this.maybe(() => this.u53()),
      atime: this.setTime(),
      mtime: this.setTime(),
    };
  }
  dirop(): diropargs3 {
    return { dir: this.fh(), name: this.name() };
  }
  entry(): entry3 {
    return { fileid: this.u53(), name: this.name(), cookie: this.u64() };
  }
  entryplus(): entryplus3 {
    return { ...this.entry(), name_attributes: this.postOpAttr(), name_handle: this.maybe(() => this.fh()) };
  }
  list<T>(make: () => T, max: number): T[] {
    return Array.from({ length: this.prng.int(0, max + 1) }, make);
  }
  createhow(): createhow3 {
    const mode = this.prng.int(0, 3) as createmode3;
    return mode === createmode3.EXCLUSIVE ? { mode, verf: this.u64() } : { mode, obj_attributes: this.sattr() };
  }
  mknoddata(): mknoddata3 {
    const type = this.ftype();
    if (type === ftype3.NF3CHR || type === ftype3.NF3BLK) return { type, device: { dev_attributes: this.sattr(), spec: { specdata1: this.u32(), specdata2: this.u32() } } };
    if (type === ftype3.NF3SOCK || type === ftype3.NF3FIFO) return { type, pipe_attributes: this.sattr() };
    return { type };
  }
  created(): { obj: Buffer | undefined; obj_attributes: fattr3 | undefined; dir_wcc: wcc_data } {
    return { obj: this.maybe(() => this.fh()), obj_attributes: this.postOpAttr(), dir_wcc: this.wcc() };
  }
}

type Gen<T> = (a: Arbitrary) => T;
interface ProcGen<P extends Nfs3Proc> {
  args: Gen<Nfs3Signatures[P]['args']>;
  /** The NFS3_OK arm. */
  ok: Gen<Nfs3Signatures[P]['res']>;
  /** A failure arm with its resfail body filled in. */
  fail: Gen<Nfs3Signatures[P]['res']>;
}

const OK = nfsstat3.NFS3_OK;

/** One generator set per procedure number. */
export const GENERATORS: { [P in Nfs3Proc]: ProcGen<P> } = {
  0: { args: () => undefined, ok: () => undefined, fail: () => undefined },
  1: {
    args: (a) => ({ object: a.fh() }),
    ok: (a) => ({ status: OK, resok: { obj_attributes: a.fattr() } }),
    fail: (a) => ({ status: a.status(), resfail: undefined }),
  },
  2: {
    args: (a) => ({ object: a.fh(), new_attributes: a.sattr(), guard: a.maybe(() => a.time()) }),
    ok: (a) => ({ status: OK, resok: { obj_wcc: a.wcc() } }),
    fail: (a) => ({ status: a.status(), resfail: { obj_wcc: a.wcc() } }),
  },
  3: {
    args: (a) => ({ what: a.dirop() }),
    ok: (a) => ({ status: OK, resok: { object: a.fh(), obj_attributes: a.postOpAttr(), dir_attributes: a.postOpAttr() } }),
    fail: (a) => ({ status: a.status(), resfail: { dir_attributes: a.postOpAttr() } }),
  },
  4: {
    args: (a) => ({ object: a.fh(), access: a.int(0, 64) }),
    ok: (a) => ({ status: OK, resok: { obj_attributes: a.postOpAttr(), access: a.int(0, 64) } }),
    fail: (a) => ({ status: a.status(), resfail: { obj_attributes: a.postOpAttr() } }),
  },
  5: {
    args: (a) => ({ symlink: a.fh() }),
    ok: (a) => ({ status: OK, resok: { symlink_attributes: a.postOpAttr(), data: a.text(a.pick([16, 4096])) } }),
    fail: (a) => ({ status: a.status(), resfail: { symlink_attributes: a.postOpAttr() } }),
  },
  6: {
    args: (a) => ({ file: a.fh(), offset: a.u53(), count: a.u32() }),
    ok: (a) => {
      const data = a.bytes(a.pick([3, 600, 5000]));
      return { status: OK, resok: { file_attributes: a.postOpAttr(), count: data.length, eof: a.bool(), data } };
    },
    fail: (a) => ({ status: a.status(), resfail: { file_attributes: a.postOpAttr() } }),
  },
  7: {
    args: (a) => {
      const data = a.bytes(a.pick([3, 600, 5000]));
      return { file: a.fh(), offset: a.u53(), count: data.length, stable: a.int(0, 3) as stable_how, data };
    },
    ok: (a) => ({ status: OK, resok: { file_wcc: a.wcc(), count: a.u32(), committed: a.int(0, 3) as stable_how, verf: a.u64() } }),
    fail: (a) => ({ status: a.status(), resfail: { file_wcc: a.wcc() } }),
  },
  8: {
    args: (a) => ({ where: a.dirop(), how: a.createhow() }),
    ok: (a) => ({ status: OK, resok: a.created() }),
    fail: (a) => ({ status: a.status(), resfail: { dir_wcc: a.wcc() } }),
  },
  9: {
    args: (a) => ({ where: a.dirop(), attributes: a.sattr() }),
    ok: (a) => ({ status: OK, resok: a.created() }),
    fail: (a) => ({ status: a.status(), resfail: { dir_wcc: a.wcc() } }),
  },
  10: {
    args: (a) => ({ where: a.dirop(), symlink: { symlink_attributes: a.sattr(), symlink_data: a.text(a.pick([16, 4096])) } }),
    ok: (a) => ({ status: OK, resok: a.created() }),
    fail: (a) => ({ status: a.status(), resfail: { dir_wcc: a.wcc() } }),
  },
  11: {
    args: (a) => ({ where: a.dirop(), what: a.mknoddata() }),
    ok: (a) => ({ status: OK, resok: a.created() }),
    fail: (a) => ({ status: a.status(), resfail: { dir_wcc: a.wcc() } }),
  },
  12: {
    args: (a) => ({ object: a.dirop() }),
    ok: (a) => ({ status: OK, resok: { dir_wcc: a.wcc() } }),
    fail: (a) => ({ status: a.status(), resfail: { dir_wcc: a.wcc() } }),
  },
  13: {
    args: (a) => ({ object: a.dirop() }),
    ok: (a) => ({ status: OK, resok: { dir_wcc: a.wcc() } }),
    fail: (a) => ({ status: a.status(), resfail: { dir_wcc: a.wcc() } }),
  },
  14: {
    args: (a) => ({ from: a.dirop(), to: a.dirop() }),
    ok: (a) => ({ status: OK, resok: { fromdir_wcc: a.wcc(), todir_wcc: a.wcc() } }),
    fail: (a) => ({ status: a.status(), resfail: { fromdir_wcc: a.wcc(), todir_wcc: a.wcc() } }),
  },
  15: {
    args: (a) => ({ file: a.fh(), link: a.dirop() }),
    ok: (a) => ({ status: OK, resok: { file_attributes: a.postOpAttr(), linkdir_wcc: a.wcc() } }),
    fail: (a) => ({ status: a.status(), resfail: { file_attributes: a.postOpAttr(), linkdir_wcc: a.wcc() } }),
  },
  16: {
    args: (a) => ({ dir: a.fh(), cookie: a.u64(), cookieverf: a.u64(), count: a.u32() }),
    ok: (a) => ({
      status: OK,
      resok: { dir_attributes: a.postOpAttr(), cookieverf: a.u64(), reply: { entries: a.list(() => a.entry(), 12), eof: a.bool() } },
    }),
    fail: (a) => ({ status: a.status(), resfail: { dir_attributes: a.postOpAttr() } }),
  },
  17: {
    args: (a) => ({ dir: a.fh(), cookie: a.u64(), cookieverf: a.u64(), dircount: a.u32(), maxcount: a.u32() }),
    ok: (a) => ({
      status: OK,
      resok: { dir_attributes: a.postOpAttr(), cookieverf: a.u64(), reply: { entries: a.list(() => a.entryplus(), 12), eof: a.bool() } },
    }),
    fail: (a) => ({ status: a.status(), resfail: { dir_attributes: a.postOpAttr() } }),
  },
  18: {
    args: (a) => ({ fsroot: a.fh() }),
    ok: (a) => ({
      status: OK,
      resok: { obj_attributes: a.postOpAttr(), tbytes: a.u53(), fbytes: a.u53(), abytes: a.u53(), tfiles: a.u53(), ffiles: a.u53(), afiles: a.u53(), invarsec: a.u32() },
    }),
    fail: (a) => ({ status: a.status(), resfail: { obj_attributes: a.postOpAttr() } }),
  },
  19: {
    args: (a) => ({ fsroot: a.fh() }),
    ok: (a) => ({
      status: OK,
      resok: {
        obj_attributes: a.postOpAttr(),
        rtmax: a.u32(),
        rtpref: a.u32(),
        rtmult: a.u32(),
        wtmax: a.u32(),
        wtpref: a.u32(),
        wtmult: a.u32(),
        dtpref: a.u32(),
        maxfilesize: a.u53(),
        time_delta: a.time(),
        properties: a.int(0, 32),
      },
    }),
    fail: (a) => ({ status: a.status(), resfail: { obj_attributes: a.postOpAttr() } }),
  },
  20: {
    args: (a) => ({ object: a.fh() }),
    ok: (a) => ({
      status: OK,
      resok: {
        obj_attributes: a.postOpAttr(),
        linkmax: a.u32(),
        name_max: a.u32(),
        no_trunc: a.bool(),
        chown_restricted: a.bool(),
        case_insensitive: a.bool(),
        case_preserving: a.bool(),
      },
    }),
    fail: (a) => ({ status: a.status(), resfail: { obj_attributes: a.postOpAttr() } }),
  },
  21: {
    args: (a) => ({ file: a.fh(), offset: a.u53(), count: a.u32() }),
    ok: (a) => ({ status: OK, resok: { file_wcc: a.wcc(), verf: a.u64() } }),
    fail: (a) => ({ status: a.status(), resfail: { file_wcc: a.wcc() } }),
  },
};
