/*
 * nfs3-ops: a scripted NFSv3 client over libnfs's synchronous API, for the
 * end-to-end tests (test/utils/nfs-ops.ts builds and drives it).
 *
 *   nfs3-ops <url>      url: nfs://host/share[/dir]?version=3&nfsport=N&mountport=M[&uid=U&gid=G]
 *
 * It mounts the URL's directory, prints one line for the mount, then reads
 * commands from stdin, one per line, and answers each with exactly one line:
 *
 *   ok [result...]      or      err <errno> <message>
 *
 * Words are separated by spaces; %XX in an argument stands for the byte XX
 * (names with spaces or odd bytes), and names in results are escaped alike.
 * Data goes in and out as hex. Open files live in numbered slots.
 *
 *   uid <n> | gid <n>                 credentials of the following calls (AUTH_SYS)
 *   stat <path> | lstat <path>        ok type=<t> mode=<octal> uid= gid= size= nlink= ino=
 *   ls <path>                         ok <count> <name>:<type>:<ino> ...   (readdir, . and .. included)
 *   mkdir <path> [mode] | rmdir <path> | unlink <path>
 *   rename <from> <to> | link <existing> <new> | symlink <target> <path>
 *   readlink <path>                   ok <target>
 *   chmod <path> <mode> | chown <path> <uid> <gid> | truncate <path> <length>
 *   creat <path> <mode>               create (GUARDED, as libnfs's creat does) and close
 *   open <slot> <path> <flags> [mode] flags: rdonly,wronly,rdwr,creat,trunc,append,sync
 *   write <slot> <offset> <hex>       ok <count>
 *   fill <slot> <offset> <length> <byte>  write <length> copies of <byte> (decimal)
 *   read <slot> <offset> <count>      ok <count> <hex>
 *   fstat <slot> | fsync <slot> | close <slot>
 *   cat <path>                        ok <size> <hex>   (open, read to the end, close)
 *   put <path> <mode> <hex>           open(O_WRONLY|O_CREAT|O_TRUNC), write, close
 *   statvfs <path>                    ok bsize= blocks= bfree= files= ffree=
 *   echo <word>                       ok <word>   (a marker the driver can wait for)
 */
#define _FILE_OFFSET_BITS 64
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <nfsc/libnfs.h>

#define MAX_WORDS 8
#define SLOTS 64

static struct nfs_context *nfs;
static struct nfsfh *slots[SLOTS];

/* libnfs's sync calls return -errno; the message says what the server answered. */
static void fail(int rc) {
  const char *msg = nfs_get_error(nfs);
  printf("err %d %s\n", rc < 0 ? -rc : rc, msg && *msg ? msg : strerror(rc < 0 ? -rc : rc));
}

static void usage_err(const char *what) {
  printf("err %d usage: %s\n", EINVAL, what);
}

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* %XX decoding in place. */
static void unescape(char *s) {
  char *o = s;
  for (char *p = s; *p; p++) {
    if (p[0] == '%' && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
      *o++ = (char)(hexval(p[1]) * 16 + hexval(p[2]));
      p += 2;
    } else {
      *o++ = *p;
    }
  }
  *o = 0;
}

static void print_escaped(const char *s) {
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p <= ' ' || *p >= 0x7f || *p == '%' || *p == ':') printf("%%%02X", *p);
    else putchar(*p);
  }
}

static void print_hex(const unsigned char *b, size_t n) {
  for (size_t i = 0; i < n; i++) printf("%02x", b[i]);
}

/* Hex text to bytes; returns the length or -1. */
static long unhex(const char *s, unsigned char **out) {
  size_t n = strlen(s);
  if (n % 2) return -1;
  unsigned char *b = malloc(n / 2 + 1);
  for (size_t i = 0; i < n / 2; i++) {
    int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      free(b);
      return -1;
    }
    b[i] = (unsigned char)(hi * 16 + lo);
  }
  *out = b;
  return (long)(n / 2);
}

static const char *type_name(uint64_t mode) {
  switch (mode & S_IFMT) {
    case S_IFREG: return "reg";
    case S_IFDIR: return "dir";
    case S_IFLNK: return "lnk";
    case S_IFCHR: return "chr";
    case S_IFBLK: return "blk";
    case S_IFSOCK: return "sock";
    case S_IFIFO: return "fifo";
  }
  return "unknown";
}

static void print_stat(const struct nfs_stat_64 *st) {
  printf("ok type=%s mode=%04llo uid=%llu gid=%llu size=%llu nlink=%llu ino=%llu\n", type_name(st->nfs_mode), (unsigned long long)(st->nfs_mode & 07777),
         (unsigned long long)st->nfs_uid, (unsigned long long)st->nfs_gid, (unsigned long long)st->nfs_size, (unsigned long long)st->nfs_nlink,
         (unsigned long long)st->nfs_ino);
}

static int parse_flags(const char *s, int *flags) {
  char buf[128];
  *flags = 0;
  snprintf(buf, sizeof buf, "%s", s);
  for (char *save = NULL, *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
    if (!strcmp(w, "rdonly")) *flags |= O_RDONLY;
    else if (!strcmp(w, "wronly")) *flags |= O_WRONLY;
    else if (!strcmp(w, "rdwr")) *flags |= O_RDWR;
    else if (!strcmp(w, "creat")) *flags |= O_CREAT;
    else if (!strcmp(w, "trunc")) *flags |= O_TRUNC;
    else if (!strcmp(w, "append")) *flags |= O_APPEND;
    else if (!strcmp(w, "sync")) *flags |= O_SYNC;
    else return -1;
  }
  return 0;
}

static int slot_of(const char *s) {
  int n = atoi(s);
  return n >= 0 && n < SLOTS ? n : -1;
}

static const char *dirent_type(uint32_t t) {
  /* ftype3: NF3REG = 1 ... NF3FIFO = 7 */
  static const char *names[] = {"unknown", "reg", "dir", "blk", "chr", "lnk", "sock", "fifo"};
  return t < 8 ? names[t] : "unknown";
}

static void cmd_ls(const char *path) {
  struct nfsdir *dir;
  int rc = nfs_opendir(nfs, path, &dir);
  if (rc) return fail(rc);
  size_t count = 0;
  for (struct nfsdirent *e = nfs_readdir(nfs, dir); e; e = nfs_readdir(nfs, dir)) count++;
  nfs_closedir(nfs, dir);
  /* Again for the names: the count comes first so the driver knows what to expect. */
  rc = nfs_opendir(nfs, path, &dir);
  if (rc) return fail(rc);
  printf("ok %zu", count);
  for (struct nfsdirent *e = nfs_readdir(nfs, dir); e; e = nfs_readdir(nfs, dir)) {
    putchar(' ');
    print_escaped(e->name);
    printf(":%s:%llu", dirent_type(e->type), (unsigned long long)e->inode);
  }
  putchar('\n');
  nfs_closedir(nfs, dir);
}

static int read_all(struct nfsfh *fh, unsigned char **data, uint64_t *size) {
  size_t cap = 65536, len = 0;
  unsigned char *b = malloc(cap);
  for (;;) {
    if (cap - len < 65536) b = realloc(b, cap *= 2);
    int n = nfs_pread(nfs, fh, len, 65536, (char *)b + len);
    if (n < 0) {
      free(b);
      return n;
    }
    if (n == 0) break;
    len += (size_t)n;
  }
  *data = b;
  *size = len;
  return 0;
}

static void run(char **w, int n) {
  const char *c = w[0];
  int rc;
  struct nfs_stat_64 st;
  if (!strcmp(c, "echo") && n == 2) {
    printf("ok %s\n", w[1]);
  } else if (!strcmp(c, "uid") && n == 2) {
    nfs_set_uid(nfs, atoi(w[1]));
    printf("ok\n");
  } else if (!strcmp(c, "gid") && n == 2) {
    nfs_set_gid(nfs, atoi(w[1]));
    printf("ok\n");
  } else if ((!strcmp(c, "stat") || !strcmp(c, "lstat")) && n == 2) {
    rc = c[0] == 'l' ? nfs_lstat64(nfs, w[1], &st) : nfs_stat64(nfs, w[1], &st);
    if (rc) return fail(rc);
    print_stat(&st);
  } else if (!strcmp(c, "ls") && n == 2) {
    cmd_ls(w[1]);
  } else if (!strcmp(c, "mkdir") && (n == 2 || n == 3)) {
    rc = n == 3 ? nfs_mkdir2(nfs, w[1], (int)strtol(w[2], NULL, 8)) : nfs_mkdir(nfs, w[1]);
    if (rc) return fail(rc);
    printf("ok\n");
  } else if (!strcmp(c, "rmdir") && n == 2) {
    if ((rc = nfs_rmdir(nfs, w[1]))) return fail(rc);
    printf("ok\n");
  } else if (!strcmp(c, "unlink") && n == 2) {
    if ((rc = nfs_unlink(nfs, w[1]))) return fail(rc);
    printf("ok\n");
  } else if (!strcmp(c, "rename") && n == 3) {
    if ((rc = nfs_rename(nfs, w[1], w[2]))) return fail(rc);
    printf("ok\n");
  } else if (!strcmp(c, "link") && n == 3) {
    if ((rc = nfs_link(nfs, w[1], w[2]))) return fail(rc);
    printf("ok\n");
  } else if (!strcmp(c, "symlink") && n == 3) {
    if ((rc = nfs_symlink(nfs, w[1], w[2]))) return fail(rc);
    printf("ok\n");
  } else if (!strcmp(c, "readlink") && n == 2) {
    char buf[4200];
    memset(buf, 0, sizeof buf);
    if ((rc = nfs_readlink(nfs, w[1], buf, sizeof buf - 1))) return fail(rc);
    printf("ok ");
    print_escaped(buf);
    putchar('\n');
  } else if (!strcmp(c, "chmod") && n == 3) {
    if ((rc = nfs_chmod(nfs, w[1], (int)strtol(w[2], NULL, 8)))) return fail(rc);
    printf("ok\n");
  } else if (!strcmp(c, "chown") && n == 4) {
    if ((rc = nfs_chown(nfs, w[1], atoi(w[2]), atoi(w[3])))) return fail(rc);
    printf("ok\n");
  } else if (!strcmp(c, "truncate") && n == 3) {
    if ((rc = nfs_truncate(nfs, w[1], strtoull(w[2], NULL, 10)))) return fail(rc);
    printf("ok\n");
  } else if (!strcmp(c, "creat") && n == 3) {
    struct nfsfh *fh;
    if ((rc = nfs_creat(nfs, w[1], (int)strtol(w[2], NULL, 8), &fh))) return fail(rc);
    nfs_close(nfs, fh);
    printf("ok\n");
  } else if (!strcmp(c, "open") && (n == 4 || n == 5)) {
    int s = slot_of(w[1]), flags;
    if (s < 0 || slots[s] || parse_flags(w[3], &flags)) return usage_err("open <free slot> <path> <flags> [mode]");
    rc = n == 5 ? nfs_open2(nfs, w[2], flags, (int)strtol(w[4], NULL, 8), &slots[s]) : nfs_open(nfs, w[2], flags, &slots[s]);
    if (rc) {
      slots[s] = NULL;
      return fail(rc);
    }
    printf("ok\n");
  } else if (!strcmp(c, "close") && n == 2) {
    int s = slot_of(w[1]);
    if (s < 0 || !slots[s]) return usage_err("close <open slot>");
    rc = nfs_close(nfs, slots[s]);
    slots[s] = NULL;
    if (rc) return fail(rc);
    printf("ok\n");
  } else if (!strcmp(c, "write") && n == 4) {
    int s = slot_of(w[1]);
    unsigned char *data;
    long len = unhex(w[3], &data);
    if (s < 0 || !slots[s] || len < 0) return usage_err("write <open slot> <offset> <hex>");
    rc = nfs_pwrite(nfs, slots[s], strtoull(w[2], NULL, 10), (uint64_t)len, (char *)data);
    free(data);
    if (rc < 0) return fail(rc);
    printf("ok %d\n", rc);
  } else if (!strcmp(c, "fill") && n == 5) {
    int s = slot_of(w[1]);
    size_t len = strtoull(w[3], NULL, 10);
    if (s < 0 || !slots[s]) return usage_err("fill <open slot> <offset> <length> <byte>");
    unsigned char *data = malloc(len ? len : 1);
    memset(data, atoi(w[4]), len);
    rc = nfs_pwrite(nfs, slots[s], strtoull(w[2], NULL, 10), len, (char *)data);
    free(data);
    if (rc < 0) return fail(rc);
    printf("ok %d\n", rc);
  } else if (!strcmp(c, "read") && n == 4) {
    int s = slot_of(w[1]);
    size_t count = strtoull(w[3], NULL, 10);
    if (s < 0 || !slots[s]) return usage_err("read <open slot> <offset> <count>");
    unsigned char *data = malloc(count ? count : 1);
    rc = nfs_pread(nfs, slots[s], strtoull(w[2], NULL, 10), count, (char *)data);
    if (rc < 0) {
      free(data);
      return fail(rc);
    }
    printf("ok %d ", rc);
    print_hex(data, (size_t)rc);
    putchar('\n');
    free(data);
  } else if (!strcmp(c, "fstat") && n == 2) {
    int s = slot_of(w[1]);
    if (s < 0 || !slots[s]) return usage_err("fstat <open slot>");
    if ((rc = nfs_fstat64(nfs, slots[s], &st))) return fail(rc);
    print_stat(&st);
  } else if (!strcmp(c, "fsync") && n == 2) {
    int s = slot_of(w[1]);
    if (s < 0 || !slots[s]) return usage_err("fsync <open slot>");
    if ((rc = nfs_fsync(nfs, slots[s]))) return fail(rc);
    printf("ok\n");
  } else if (!strcmp(c, "cat") && n == 2) {
    struct nfsfh *fh;
    unsigned char *data;
    uint64_t size;
    if ((rc = nfs_open(nfs, w[1], O_RDONLY, &fh))) return fail(rc);
    rc = read_all(fh, &data, &size);
    nfs_close(nfs, fh);
    if (rc) return fail(rc);
    printf("ok %llu ", (unsigned long long)size);
    print_hex(data, size);
    putchar('\n');
    free(data);
  } else if (!strcmp(c, "put") && n == 4) {
    struct nfsfh *fh;
    unsigned char *data;
    long len = unhex(w[3], &data);
    if (len < 0) return usage_err("put <path> <mode> <hex>");
    if ((rc = nfs_open2(nfs, w[1], O_WRONLY | O_CREAT | O_TRUNC, (int)strtol(w[2], NULL, 8), &fh))) {
      free(data);
      return fail(rc);
    }
    rc = len ? nfs_pwrite(nfs, fh, 0, (uint64_t)len, (char *)data) : 0;
    free(data);
    int rc2 = nfs_close(nfs, fh);
    if (rc < 0) return fail(rc);
    if (rc2) return fail(rc2);
    printf("ok %d\n", rc);
  } else if (!strcmp(c, "statvfs") && n == 2) {
    struct statvfs sv;
    if ((rc = nfs_statvfs(nfs, w[1], &sv))) return fail(rc);
    printf("ok bsize=%lu blocks=%llu bfree=%llu files=%llu ffree=%llu\n", sv.f_bsize, (unsigned long long)sv.f_blocks, (unsigned long long)sv.f_bfree,
           (unsigned long long)sv.f_files, (unsigned long long)sv.f_ffree);
  } else {
    usage_err("unknown command or wrong number of arguments");
  }
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: nfs3-ops <nfs url>\n");
    return 2;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  nfs = nfs_init_context();
  if (!nfs) {
    printf("err %d cannot make an nfs context\n", ENOMEM);
    return 1;
  }
  struct nfs_url *url = nfs_parse_url_dir(nfs, argv[1]);
  if (!url) {
    printf("err %d %s\n", EINVAL, nfs_get_error(nfs));
    return 1;
  }
  int rc = nfs_mount(nfs, url->server, url->path);
  if (rc) {
    fail(rc);
    return 1;
  }
  printf("ok mounted %s\n", url->path);
  nfs_destroy_url(url);

  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  while ((len = getline(&line, &cap, stdin)) >= 0) {
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
    char *w[MAX_WORDS];
    int n = 0;
    for (char *save = NULL, *t = strtok_r(line, " ", &save); t && n < MAX_WORDS; t = strtok_r(NULL, " ", &save)) {
      unescape(t);
      w[n++] = t;
    }
    if (n == 0) continue;
    if (!strcmp(w[0], "quit")) break;
    run(w, n);
  }
  free(line);
  for (int i = 0; i < SLOTS; i++)
    if (slots[i]) nfs_close(nfs, slots[i]);
  nfs_umount(nfs);
  nfs_destroy_context(nfs);
  return 0;
}
