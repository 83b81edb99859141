/*
 * libFuzzer target for api/basic_auth.c's parser: the Authorization value
 * of the enrollment port, the first thing a stranger's bytes reach.
 *
 * Checked on every input:
 * - a refusal has a reason and leaves nothing in the output;
 * - what is taken was at most BASIC_AUTH_VALUE_MAX bytes, started with
 *   "Basic" in some case, and names a user of 1 to 63 bytes and a
 *   password of 1 byte or more, neither with a NUL;
 * - "user:password" encoded again by OpenSSL is exactly the token that
 *   was given (one spelling of each credential).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "api/basic_auth.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fz_fail(const char *what)
{
	fprintf(stderr, "fuzz_basic_auth: %s\n", what);
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct basic_auth	 ba;
	const char		*why, *v = (const char *)data, *tok;
	unsigned char		 cred[2 * BASIC_AUTH_VALUE_MAX];
	char			 enc[4 * BASIC_AUTH_VALUE_MAX];
	size_t			 ul, pl, tl;
	int			 n;

	if (basic_auth_parse(v, size, &ba, &why) == -1) {
		if (why == NULL)
			fz_fail("refused without a reason");
		if (ba.user[0] != '\0' || ba.password[0] != '\0')
			fz_fail("refused but credentials left");
		return (0);
	}
	if (size > BASIC_AUTH_VALUE_MAX || size < 6 ||
	    strncasecmp(v, "Basic ", 6) != 0)
		fz_fail("taken without the Basic scheme or over the cap");
	ul = strnlen(ba.user, sizeof(ba.user));
	pl = strnlen(ba.password, sizeof(ba.password));
	if (ul == 0 || ul >= USERS_NAME_MAX || pl == 0 ||
	    pl >= sizeof(ba.password) || memchr(ba.user, ':', ul) != NULL)
		fz_fail("a user or password out of bounds");
	memcpy(cred, ba.user, ul);
	cred[ul] = ':';
	memcpy(cred + ul + 1, ba.password, pl);
	n = EVP_EncodeBlock((unsigned char *)enc, cred, (int)(ul + pl + 1));
	for (tok = v + 5; tok < v + size && *tok == ' '; tok++)
		;
	tl = size - (size_t)(tok - v);
	if ((size_t)n != tl || memcmp(enc, tok, tl) != 0)
		fz_fail("the credentials do not encode back to the token");
	basic_auth_clear(&ba);
	return (0);
}
