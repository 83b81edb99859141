/*
 * Reading a whole file safely (fileio.h): takd reads its CA, key and CRL
 * through it as root, takctl everything of the PKI directory.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "shared/fileio.h"

int
fileio_open(int dirfd, const char *name, const char *path,
    struct stat *st, char *err, size_t errlen)
{
	int	 fd, saved;

	/*
	 * O_NONBLOCK: a FIFO (or a device) put in a file's place must not
	 * hang us in open(); O_NOFOLLOW: nor may a link send us elsewhere.
	 */
	fd = openat(dirfd, name, O_RDONLY | O_NONBLOCK | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd == -1) {
		saved = errno;
		if (saved == ELOOP)
			snprintf(err, errlen, "%s: is a symbolic link; takd and "
			    "takctl do not follow links to the files they "
			    "read: name the file itself", path);
		else
			snprintf(err, errlen, "%s: %s", path, strerror(saved));
		errno = saved;
		return (-1);
	}
	if (fstat(fd, st) == -1) {
		saved = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(saved));
		close(fd);
		errno = saved;
		return (-1);
	}
	if (!S_ISREG(st->st_mode)) {
		snprintf(err, errlen, "%s: not a regular file (%s)", path,
		    S_ISFIFO(st->st_mode) ? "a FIFO" : S_ISDIR(st->st_mode) ?
		    "a directory" : S_ISSOCK(st->st_mode) ? "a socket" :
		    "a device");
		close(fd);
		errno = EINVAL;
		return (-1);
	}
	return (fd);
}

char *
fileio_read(int dirfd, const char *name, const char *path, size_t max,
    size_t *lenp, char *err, size_t errlen)
{
	struct stat	 st;

	return (fileio_read_st(dirfd, name, path, max, lenp, &st, err,
	    errlen));
}

char *
fileio_read_st(int dirfd, const char *name, const char *path, size_t max,
    size_t *lenp, struct stat *stp, char *err, size_t errlen)
{
	struct stat	 st;
	char		*buf = NULL;
	size_t		 len = 0;
	ssize_t		 n;
	int		 fd, saved;

	if ((fd = fileio_open(dirfd, name, path, &st, err, errlen)) == -1)
		return (NULL);
	*stp = st;
	if ((size_t)st.st_size > max) {
		snprintf(err, errlen, "%s: larger than %zu bytes", path, max);
		close(fd);
		errno = EINVAL;
		return (NULL);
	}
	/* One spare byte to notice growth, one for the NUL. */
	if ((buf = malloc((size_t)st.st_size + 2)) == NULL)
		goto fail;
	for (;;) {
		n = read(fd, buf + len, (size_t)st.st_size + 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto fail;
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > (size_t)st.st_size) {
			snprintf(err, errlen, "%s: changed while reading",
			    path);
			OPENSSL_cleanse(buf, len);
			free(buf);
			close(fd);
			errno = EAGAIN;
			return (NULL);
		}
	}
	close(fd);
	buf[len] = '\0';
	*lenp = len;
	return (buf);
 fail:
	saved = errno;
	snprintf(err, errlen, "%s: %s", path, strerror(saved));
	if (buf != NULL) {
		OPENSSL_cleanse(buf, len);
		free(buf);
	}
	if (fd != -1)
		close(fd);
	errno = saved;
	return (NULL);
}
