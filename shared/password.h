/*
 * Password hashes for the users file (users.h): libcrypt's crypt(3)
 * family, from Debian's libxcrypt (libcrypt-dev), the library that hashes
 * and checks the system's own passwords in /etc/shadow: maintained,
 * reviewed, and the one place on a Debian host where yescrypt, bcrypt and
 * the older schemes live.  No home-made hashing.
 *
 * New hashes are yescrypt ("$y$", libxcrypt's default cost, about 20 ms
 * and 16 MiB per hash here); verify takes any scheme this libcrypt knows,
 * such as the bcrypt ("$2a$") hashes of a TAK Server
 * UserAuthenticationFile.xml (docs/groups.md).
 *
 * Linked into takctl (and later the HTTPS API process), never into takd's
 * supervisor and workers, which do not check passwords.
 */
#ifndef TAKD_PASSWORD_H
#define TAKD_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#define PASSWORD_MAX		1024	/* bytes of a password we hash */
#define PASSWORD_PREFIX		"$y$"	/* yescrypt */

/*
 * A new hash of pw (a NUL-terminated string of 1 to PASSWORD_MAX bytes)
 * with a fresh random salt into out (outlen: USERS_HASH_MAX is enough).
 * 0, or -1 with a message in err.
 */
int	 password_hash(const char *pw, char *out, size_t outlen, char *err,
	    size_t errlen);

/*
 * Whether pw matches hash: crypt(3) of pw with hash as its setting,
 * compared in constant time.  False for "" and "!" (no password), and for
 * a scheme libcrypt does not know or has disabled.
 */
bool	 password_verify(const char *pw, const char *hash);

#endif
