/*
 * The one reader of whole files for the tree (takd, takctl, the PKI code):
 * no symbolic link followed, no FIFO or device waited on, a regular file
 * only, a size cap, and a file that grows while we read it refused.  What
 * takd trusts is also checked for its owner by its caller (trust.h).
 */
#ifndef TAKD_FILEIO_H
#define TAKD_FILEIO_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/*
 * Open a file to read without following a link (ELOOP) or blocking on a
 * FIFO: a descriptor of a regular file (its fstat in st), or -1 with errno
 * set and a message in err naming path.
 */
int	 fileio_open(int dirfd, const char *name, const char *path,
	    struct stat *st, char *err, size_t errlen);
/*
 * Read a whole file (at most max bytes), opened as fileio_open() does, into
 * a NUL-terminated buffer; the caller wipes and frees it.  NULL with errno
 * ENOENT when it does not exist.  _st also gives the file's fstat.
 */
char	*fileio_read(int dirfd, const char *name, const char *path,
	    size_t max, size_t *len, char *err, size_t errlen);
char	*fileio_read_st(int dirfd, const char *name, const char *path,
	    size_t max, size_t *len, struct stat *st, char *err,
	    size_t errlen);

#endif
