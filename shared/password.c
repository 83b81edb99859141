/*
 * Password hashes through libcrypt (password.h).
 */
#include <crypt.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "shared/password.h"

int
password_hash(const char *pw, char *out, size_t outlen, char *err,
    size_t errlen)
{
	struct crypt_data	*cd;
	char			 salt[CRYPT_GENSALT_OUTPUT_SIZE];
	const char		*h;
	size_t			 len;
	int			 rc = -1;

	len = strnlen(pw, PASSWORD_MAX + 1);
	if (len == 0 || len > PASSWORD_MAX) {
		snprintf(err, errlen, "a password is 1 to %d bytes",
		    PASSWORD_MAX);
		return (-1);
	}
	/* count 0: libxcrypt's default cost; NULL: its own random bytes. */
	if (crypt_gensalt_rn(PASSWORD_PREFIX, 0, NULL, 0, salt,
	    sizeof(salt)) == NULL) {
		snprintf(err, errlen, "crypt_gensalt(%s): %s", PASSWORD_PREFIX,
		    strerror(errno));
		return (-1);
	}
	/* 32 KiB of state, with the password in it: the heap, then wiped. */
	if ((cd = calloc(1, sizeof(*cd))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (-1);
	}
	if ((h = crypt_rn(pw, salt, cd, sizeof(*cd))) == NULL ||
	    h[0] == '*') {
		snprintf(err, errlen, "crypt(%s): %s", PASSWORD_PREFIX,
		    strerror(errno));
		goto done;
	}
	if (strlen(h) >= outlen) {
		snprintf(err, errlen, "the hash does not fit (%zu bytes)",
		    strlen(h));
		goto done;
	}
	memcpy(out, h, strlen(h) + 1);
	rc = 0;
 done:
	OPENSSL_cleanse(cd, sizeof(*cd));
	free(cd);
	return (rc);
}

bool
password_verify(const char *pw, const char *hash)
{
	struct crypt_data	*cd;
	const char		*h;
	size_t			 len;
	bool			 ok = false;

	/* No password set: nothing verifies; nor does an empty one. */
	len = strnlen(pw, PASSWORD_MAX + 1);
	if (hash[0] != '$' || len == 0 || len > PASSWORD_MAX)
		return (false);
	if ((cd = calloc(1, sizeof(*cd))) == NULL)
		return (false);
	/*
	 * crypt_rn gives NULL (or, in some builds, a "*0" failure token)
	 * for a setting it cannot use; a real hash never starts with '*'.
	 */
	h = crypt_rn(pw, hash, cd, sizeof(*cd));
	if (h != NULL && h[0] != '*' && (len = strlen(h)) == strlen(hash))
		ok = CRYPTO_memcmp(h, hash, len) == 0;
	OPENSSL_cleanse(cd, sizeof(*cd));
	free(cd);
	return (ok);
}
