/*
 * pkgput: store a file in a data package store the way the api process
 * does (shared/pkgstore.h: a temp file, its SHA-256, a commit), for the
 * tests of takctl packages without an HTTP upload (test_packages.sh).
 *
 *	pkgput DIR FILE NAME USER GROUPS [public] [MS]
 *
 * Creates DIR when absent.  Prints the hash and "new" or "existed"; exit
 * 0, or 1 with the store's answer on stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "shared/log.h"
#include "shared/pkgstore.h"

int
main(int argc, char **argv)
{
	struct pkgstore	*s;
	struct pkg_meta	 m;
	EVP_MD_CTX	*md;
	unsigned char	 buf[65536], dig[32];
	char		 tmp[PATH_MAX], err[PATH_MAX + 128];
	unsigned int	 dlen;
	ssize_t		 n;
	bool		 existed;
	int		 in, fd, rc, i;

	if (argc < 6 || argc > 8) {
		fprintf(stderr, "usage: pkgput DIR FILE NAME USER GROUPS "
		    "[public] [MS]\n");
		return (2);
	}
	log_init(LOG_DEST_STDERR, NULL, LOG_WARNING);
	log_procinit("pkgput");
	if ((s = pkgstore_open(argv[1], 0, err, sizeof(err))) == NULL) {
		fprintf(stderr, "pkgput: %s\n", err);
		return (1);
	}
	memset(&m, 0, sizeof(m));
	snprintf(m.name, sizeof(m.name), "%s", argv[3]);
	snprintf(m.user, sizeof(m.user), "%s", argv[4]);
	snprintf(m.groups, sizeof(m.groups), "%s", argv[5]);
	snprintf(m.mime, sizeof(m.mime), "application/octet-stream");
	snprintf(m.creator_uid, sizeof(m.creator_uid), "pkgput-%s", argv[4]);
	m.public = argc >= 7 && strcmp(argv[6], "public") == 0;
	if (argc == 8)
		m.submitted_ms = strtoll(argv[7], NULL, 10);
	if ((in = open(argv[2], O_RDONLY)) == -1 ||
	    (fd = pkgstore_tmp_create(s, tmp, sizeof(tmp))) < 0) {
		fprintf(stderr, "pkgput: %s: %s\n", argv[2], strerror(errno));
		return (1);
	}
	md = EVP_MD_CTX_new();
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		EVP_DigestUpdate(md, buf, (size_t)n);
		if (write(fd, buf, (size_t)n) != n) {
			fprintf(stderr, "pkgput: write: %s\n", strerror(errno));
			return (1);
		}
		m.size += (uint64_t)n;
	}
	EVP_DigestFinal_ex(md, dig, &dlen);
	EVP_MD_CTX_free(md);
	close(in);
	close(fd);
	for (i = 0; i < 32; i++)
		snprintf(m.hash + 2 * i, 3, "%02x", dig[i]);
	rc = pkgstore_commit(s, tmp, &m, &existed);
	pkgstore_close(s);
	if (rc != 0) {
		fprintf(stderr, "pkgput: %s\n", pkgstore_strerror(rc));
		return (1);
	}
	printf("%s %s\n", m.hash, existed ? "existed" : "new");
	return (0);
}
