/*
 * HTTP Basic authentication for the enrollment port (8446): the
 * Authorization header's value parsed strictly (RFC 7617, base64 by
 * OpenSSL's EVP decoder) and the credentials checked against the users
 * file in memory (shared/users.h) with libcrypt (shared/password.h).
 *
 * Pure: no sockets, no logging.  The caller (the api process's 8446
 * handlers) logs the reason with the peer's address, counts it, feeds the
 * throttle (api/throttle.h) and answers 401 with the same body whatever the
 * reason: the reasons are for the log only.
 */
#ifndef TAKD_API_BASIC_AUTH_H
#define TAKD_API_BASIC_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "shared/password.h"
#include "shared/users.h"

/*
 * The longest header value taken: "Basic " and the base64 of a user name
 * (at most USERS_NAME_MAX - 1 bytes), a colon and a password of up to
 * about 700 bytes.  Longer is refused before anything is decoded.
 */
#define BASIC_AUTH_VALUE_MAX	1024

struct basic_auth {
	char	 user[USERS_NAME_MAX];
	/* Decoded from at most BASIC_AUTH_VALUE_MAX bytes of base64. */
	char	 password[BASIC_AUTH_VALUE_MAX];
};

/*
 * Parse the value of an Authorization header (len bytes, not necessarily
 * NUL-terminated; the HTTP library has removed the field name and the
 * whitespace around the value):
 *
 *	credentials = "Basic" 1*SP token68	(scheme in any case)
 *
 * token68 must be canonical padded base64 (RFC 4648 section 4) of
 * "user:password": the user is everything before the first ':' (RFC 7617
 * forbids ':' in it), 1 to USERS_NAME_MAX - 1 bytes of UTF-8 without control
 * characters; the password is everything after it, 1 byte or more; no NUL
 * byte anywhere.  0 with *out filled, or -1 with a static reason in *why
 * (and *out wiped).  basic_auth_clear() wipes the password when done.
 */
int	 basic_auth_parse(const char *value, size_t len, struct basic_auth *out,
	    const char **why);
void	 basic_auth_clear(struct basic_auth *);

enum basic_auth_verdict {
	BASIC_AUTH_OK,
	BASIC_AUTH_BAD_PASSWORD,	/* a user with a password, not this one */
	BASIC_AUTH_UNKNOWN_USER,	/* no such user */
	BASIC_AUTH_NO_PASSWORD		/* the user has none ("" or "!") */
};

/*
 * What checks passwords: a dummy hash made once, with a random password
 * and libcrypt's default cost (the cost of every hash takctl writes), so
 * that an unknown user costs one slow hash like a known one.
 */
struct basic_auth_verifier;

struct basic_auth_verifier_counters {
	unsigned long long	 ok;
	unsigned long long	 bad_password;
	unsigned long long	 unknown_user;
	unsigned long long	 no_password;
};

/* NULL with a message in err (libcrypt or memory). */
struct basic_auth_verifier *basic_auth_verifier_new(char *err, size_t errlen);
void	 basic_auth_verifier_free(struct basic_auth_verifier *);

/*
 * Check ba against us.  Every verdict but BASIC_AUTH_OK costs one
 * password hash, the same as a wrong password of a real user: an unknown
 * user, or one without a password, is hashed against the dummy.  The
 * caller must answer every verdict but OK the same way (401); the verdict
 * is for its log line.  *user (may be NULL) gets the user on OK, else
 * NULL; it is valid until us changes.
 */
enum basic_auth_verdict basic_auth_verify(struct basic_auth_verifier *,
	    const struct users *us, const struct basic_auth *ba,
	    const struct users_user **user);
/*
 * basic_auth_verify() in two halves, for a check made elsewhere (a
 * thread: api/pwcheck.h).  The first gives the hash to check ba's password
 * against (the user's, or the dummy: the same cost) and in *if_match the
 * verdict should it match; the second counts and gives the verdict.
 */
const char *basic_auth_hash_for(struct basic_auth_verifier *,
	    const struct users *us, const struct basic_auth *ba,
	    enum basic_auth_verdict *if_match);
enum basic_auth_verdict basic_auth_verdict_of(struct basic_auth_verifier *,
	    enum basic_auth_verdict if_match, bool matched);
const char *basic_auth_verdict_name(enum basic_auth_verdict);
void	 basic_auth_verifier_counters(const struct basic_auth_verifier *,
	    struct basic_auth_verifier_counters *);

#endif
