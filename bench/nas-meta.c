/*
 * Metadata driver for the NAS benchmark: one libnfs mount, one operation at
 * a time (the sync API), against whatever server the URL names.
 *
 *   nas-meta meta nfs://127.0.0.1/export?version=3&nfsport=N&mountport=M <files> <dir>
 *   nas-meta rm   nfs://127.0.0.1/export?version=3&nfsport=N&mountport=M <path>
 *
 * meta: in a fresh directory <dir> under the export, create + 100-byte write
 * + close of <files> files, then stat of each, then unlink of each; prints
 * one line per phase, "<phase> <files> <seconds>", and removes <dir>.
 * rm: removes one file (libnfs-utils has no nfs-rm).
 * Built by bench/nas.bench.ts with `cc -O2 nas-meta.c -lnfs` (libnfs-dev).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <nfsc/libnfs.h>

static double now(void) {
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void fail(struct nfs_context *nfs, const char *what, const char *name, int rc) {
	fprintf(stderr, "nas-meta: %s %s failed: %s (%d)\n", what, name, nfs_get_error(nfs), rc);
	exit(1);
}

int main(int argc, char **argv) {
	int meta = argc == 5 && strcmp(argv[1], "meta") == 0;
	int rm = argc == 4 && strcmp(argv[1], "rm") == 0;
	if (!meta && !rm) {
		fprintf(stderr, "usage: %s meta <nfs url of the export> <files> <directory>\n"
				"       %s rm <nfs url of the export> <path>\n", argv[0], argv[0]);
		return 2;
	}
	struct nfs_context *nfs = nfs_init_context();
	if (!nfs) {
		fprintf(stderr, "nas-meta: no libnfs context\n");
		return 1;
	}
	struct nfs_url *url = nfs_parse_url_dir(nfs, argv[2]);
	if (!url) {
		fprintf(stderr, "nas-meta: bad url %s: %s\n", argv[2], nfs_get_error(nfs));
		return 1;
	}
	int rc = nfs_mount(nfs, url->server, url->path);
	if (rc != 0) fail(nfs, "mount", url->path, rc);
	if (rm) {
		rc = nfs_unlink(nfs, argv[3]);
		if (rc != 0) fail(nfs, "unlink", argv[3], rc);
		nfs_destroy_url(url);
		nfs_destroy_context(nfs);
		return 0;
	}

	int files = atoi(argv[3]);
	const char *dir = argv[4];
	if (files < 1) {
		fprintf(stderr, "nas-meta: files must be at least 1\n");
		return 2;
	}
	char path[512];
	char data[100];
	memset(data, 'm', sizeof data);
	snprintf(path, sizeof path, "/%s", dir);
	rc = nfs_mkdir(nfs, path);
	if (rc != 0) fail(nfs, "mkdir", path, rc);

	double t0 = now();
	for (int i = 0; i < files; i++) {
		struct nfsfh *fh;
		snprintf(path, sizeof path, "/%s/f%06d", dir, i);
		rc = nfs_create(nfs, path, O_WRONLY, 0644, &fh);
		if (rc != 0) fail(nfs, "create", path, rc);
		rc = nfs_pwrite(nfs, fh, 0, sizeof data, data);
		if (rc != (int)sizeof data) fail(nfs, "write", path, rc);
		rc = nfs_close(nfs, fh);
		if (rc != 0) fail(nfs, "close", path, rc);
	}
	double t1 = now();
	for (int i = 0; i < files; i++) {
		struct nfs_stat_64 st;
		snprintf(path, sizeof path, "/%s/f%06d", dir, i);
		rc = nfs_stat64(nfs, path, &st);
		if (rc != 0) fail(nfs, "stat", path, rc);
		if (st.nfs_size != sizeof data) {
			fprintf(stderr, "nas-meta: %s has %llu bytes, wrote %zu\n", path, (unsigned long long)st.nfs_size, sizeof data);
			return 1;
		}
	}
	double t2 = now();
	for (int i = 0; i < files; i++) {
		snprintf(path, sizeof path, "/%s/f%06d", dir, i);
		rc = nfs_unlink(nfs, path);
		if (rc != 0) fail(nfs, "unlink", path, rc);
	}
	double t3 = now();
	snprintf(path, sizeof path, "/%s", dir);
	rc = nfs_rmdir(nfs, path);
	if (rc != 0) fail(nfs, "rmdir", path, rc);

	printf("create %d %.6f\nstat %d %.6f\nunlink %d %.6f\n", files, t1 - t0, files, t2 - t1, files, t3 - t2);
	nfs_destroy_url(url);
	nfs_destroy_context(nfs);
	return 0;
}
