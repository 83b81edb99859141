/*
 * The users set between processes (users.h): the supervisor reads and
 * checks the file, the workers get its text in a sealed memfd at every
 * reload and parse it again.  Text rather than a binary layout: the parser
 * that checks the file is the only reader of users, and the text is at
 * most USERS_FILE_MAX bytes, parsed in milliseconds once per reload.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "shared/users.h"

#define USERS_SEALS	(F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | \
			    F_SEAL_WRITE)

/* Write all of buf at the start of fd. */
static int
users_write_all(int fd, const char *buf, size_t len)
{
	size_t	 off = 0;
	ssize_t	 n;

	while (off < len) {
		if ((n = write(fd, buf + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		off += (size_t)n;
	}
	return (0);
}

int
users_memfd(const struct users *us, char *err, size_t errlen)
{
	char	*text;
	size_t	 len = 0;
	int	 fd;

	if ((text = users_format(us, &len)) == NULL) {
		snprintf(err, errlen, "users: out of memory");
		return (-1);
	}
	fd = memfd_create("takd-users", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd == -1 || users_write_all(fd, text, len) == -1 ||
	    fcntl(fd, F_ADD_SEALS, USERS_SEALS) == -1) {
		snprintf(err, errlen, "users: memfd: %s", strerror(errno));
		if (fd != -1)
			close(fd);
		fd = -1;
	}
	/* It may hold password hashes (the api process's copy). */
	OPENSSL_cleanse(text, len);
	free(text);
	return (fd);
}

struct users *
users_map(int fd, const char *name, char *err, size_t errlen)
{
	struct users	*us;
	struct stat	 st;
	void		*map;
	int		 seals;

	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s: fstat: %s", name, strerror(errno));
		return (NULL);
	}
	if (st.st_size < 0 || (uint64_t)st.st_size > USERS_FILE_MAX) {
		snprintf(err, errlen, "%s: size %lld out of range", name,
		    (long long)st.st_size);
		return (NULL);
	}
	/* Sealed, nobody changes the bytes while they are parsed. */
	if ((seals = fcntl(fd, F_GET_SEALS)) == -1 ||
	    (seals & USERS_SEALS) != USERS_SEALS) {
		snprintf(err, errlen, "%s: descriptor not sealed", name);
		return (NULL);
	}
	if (st.st_size == 0)
		return (users_parse("", 0, name, err, errlen));
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		snprintf(err, errlen, "%s: mmap: %s", name, strerror(errno));
		return (NULL);
	}
	us = users_parse(map, (size_t)st.st_size, name, err, errlen);
	munmap(map, (size_t)st.st_size);
	return (us);
}
