/*
 * An independent XDR implementation for the NFSv3 codec specs: rpcgen compiles nfs3.x into C XDR
 * routines (libtirpc), and this program decodes each message with them and encodes it again.
 *
 * stdin:  one message a line, "<XDR type name> <hex bytes>"
 * stdout: one answer a line, the re-encoded bytes in hex, or "ERR <reason>"
 *
 * Build: rpcgen -h nfs3.x -o nfs3.h; rpcgen -c nfs3.x -o nfs3_xdr.c;
 *        cc -I/usr/include/tirpc xdr-echo.c nfs3_xdr.c -ltirpc
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <rpc/rpc.h>
#include "nfs3.h"

#define T(x) { #x, (xdrproc_t)xdr_##x, sizeof(x) }
static const struct {
	const char *name;
	xdrproc_t proc;
	size_t size;
} types[] = {
	T(GETATTR3args), T(GETATTR3res), T(SETATTR3args), T(SETATTR3res),
	T(LOOKUP3args), T(LOOKUP3res), T(ACCESS3args), T(ACCESS3res),
	T(READLINK3args), T(READLINK3res), T(READ3args), T(READ3res),
	T(WRITE3args), T(WRITE3res), T(CREATE3args), T(CREATE3res),
	T(MKDIR3args), T(MKDIR3res), T(SYMLINK3args), T(SYMLINK3res),
	T(MKNOD3args), T(MKNOD3res), T(REMOVE3args), T(REMOVE3res),
	T(RMDIR3args), T(RMDIR3res), T(RENAME3args), T(RENAME3res),
	T(LINK3args), T(LINK3res), T(READDIR3args), T(READDIR3res),
	T(READDIRPLUS3args), T(READDIRPLUS3res), T(FSSTAT3args), T(FSSTAT3res),
	T(FSINFO3args), T(FSINFO3res), T(PATHCONF3args), T(PATHCONF3res),
	T(COMMIT3args), T(COMMIT3res),
};

static int hexval(int c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	return -1;
}

static void echo(const char *name, const char *hex)
{
	size_t n = strlen(hex) / 2, i, k;
	unsigned char *in = malloc(n + 1), *out = malloc(2 * n + 64);
	for (i = 0; i < n; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0) { printf("ERR bad hex\n"); goto done; }
		in[i] = (unsigned char)(hi << 4 | lo);
	}
	for (k = 0; k < sizeof types / sizeof types[0]; k++)
		if (strcmp(types[k].name, name) == 0) break;
	if (k == sizeof types / sizeof types[0]) { printf("ERR unknown type %s\n", name); goto done; }

	void *obj = calloc(1, types[k].size);
	XDR dec, enc;
	xdrmem_create(&dec, (char *)in, (u_int)n, XDR_DECODE);
	if (!types[k].proc(&dec, obj)) printf("ERR decode failed\n");
	else if (xdr_getpos(&dec) != n) printf("ERR %u of %zu bytes used\n", xdr_getpos(&dec), n);
	else {
		xdrmem_create(&enc, (char *)out, (u_int)(2 * n + 64), XDR_ENCODE);
		if (!types[k].proc(&enc, obj)) printf("ERR encode failed\n");
		else {
			u_int len = xdr_getpos(&enc);
			for (i = 0; i < len; i++) printf("%02x", out[i]);
			printf("\n");
		}
	}
	xdr_free(types[k].proc, obj);
	free(obj);
done:
	free(in);
	free(out);
}

int main(void)
{
	size_t cap = 1 << 20;
	char *line = malloc(cap);
	ssize_t len;
	while ((len = getline(&line, &cap, stdin)) > 0) {
		if (line[len - 1] == '\n') line[--len] = 0;
		char *space = strchr(line, ' ');
		if (!space) { printf("ERR no space\n"); continue; }
		*space = 0;
		echo(line, space + 1);
	}
	free(line);
	return 0;
}
