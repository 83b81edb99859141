/*
 * Unit tests for api/basic_auth.c: the Authorization value of HTTP Basic
 * parsed (scheme case, spaces, a ':' in the password, a UTF-8 name) and
 * every malformed one refused with its reason (other schemes, tabs, bad
 * or unpadded or non-canonical base64, NUL bytes, no colon, empty user or
 * password, a name too long, not UTF-8 or with a control character, a
 * value over 1 KiB); then the check against a users file: the right
 * password, a wrong one, an unknown user and a user without a password,
 * and that the last three take the same time (one slow hash each).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <openssl/evp.h>

#include "api/basic_auth.h"
#include "shared/password.h"
#include "shared/users.h"
#include "tests/unit/unit.h"

/* "Basic " and the base64 of cred (clen bytes), as a client writes it. */
static char *
header(const char *scheme, const void *cred, size_t clen)
{
	char	*h;
	size_t	 sl = strlen(scheme);

	h = calloc(1, sl + 4 * (clen / 3 + 1) + 2);
	assert_non_null(h);
	memcpy(h, scheme, sl);
	EVP_EncodeBlock((unsigned char *)h + sl, cred, (int)clen);
	return (h);
}

static void
parse_ok(const char *value, const char *user, const char *password)
{
	struct basic_auth	 ba;
	const char		*why;

	if (basic_auth_parse(value, strlen(value), &ba, &why) != 0)
		fail_msg("\"%s\" refused: %s", value, why);
	assert_string_equal(ba.user, user);
	assert_string_equal(ba.password, password);
	basic_auth_clear(&ba);
	assert_int_equal(ba.password[0], 0);
}

static void
parse_fail(const char *value, size_t len, const char *want)
{
	struct basic_auth	 ba;
	const char		*why = NULL;

	if (basic_auth_parse(value, len, &ba, &why) == 0)
		fail_msg("\"%.*s\" taken as %s, expected \"%s\"", (int)len,
		    value, ba.user, want);
	assert_non_null(why);
	assert_contains(why, want);
	assert_int_equal(ba.user[0], 0);
	assert_int_equal(ba.password[0], 0);
}

static void
parse_cred_fail(const char *cred, size_t clen, const char *want)
{
	char	*h = header("Basic ", cred, clen);

	parse_fail(h, strlen(h), want);
	free(h);
}

static void
test_basic_auth_parse(void **state)
{
	char	*h;

	(void)state;
	/* curl -u alice:secret */
	parse_ok("Basic YWxpY2U6c2VjcmV0", "alice", "secret");
	parse_ok("basic YWxpY2U6c2VjcmV0", "alice", "secret");
	parse_ok("BASIC    YWxpY2U6c2VjcmV0", "alice", "secret");
	h = header("bAsIc ", "bob:pa:ss word", 14);
	parse_ok(h, "bob", "pa:ss word");
	free(h);
	h = header("Basic ", "jos\xc3\xa9:x", 7);
	parse_ok(h, "jos\xc3\xa9", "x");
	free(h);
	/* One and two padding characters. */
	parse_ok("Basic YTpi", "a", "b");
	parse_ok("Basic YTpiYw==", "a", "bc");
	parse_ok("Basic YTpiY2Q=", "a", "bcd");
}

static void
test_basic_auth_refused(void **state)
{
	char	 big[BASIC_AUTH_VALUE_MAX + 2], user[USERS_NAME_MAX + 8];
	char	*h;

	(void)state;
	parse_fail("", 0, "not the Basic scheme");
	parse_fail("Bearer YWxpY2U6c2VjcmV0", 23, "not the Basic scheme");
	parse_fail("Digest username=\"a\"", 19, "not the Basic scheme");
	parse_fail("BasicYWxpY2U6c2VjcmV0", 21, "not the Basic scheme");
	parse_fail("Basic\tYWxpY2U6c2VjcmV0", 22, "not the Basic scheme");
	parse_fail("Basic", 5, "no credentials");
	parse_fail("Basic ", 6, "no credentials");
	parse_fail("Basic    ", 9, "no credentials");
	parse_fail("Basic YWxpY2U6c2VjcmV0 ", 23, "base64");
	parse_fail("Basic YWxp Y2U6c2VjcmV0", 23, "base64");
	parse_fail("Basic YWxpY2U6c2Vj\ncmV0", 23, "base64");
	parse_fail("Basic YWxpY2U6c2VjcmV0MQ", 24, "base64");	/* no pad */
	parse_fail("Basic YWxpY2U6c2Vj*mV0", 22, "base64");
	parse_fail("Basic YWxpY2U6c2VjcmV0=", 23, "base64");
	parse_fail("Basic YT=iYw==", 14, "base64");
	parse_fail("Basic ====", 10, "base64");
	parse_fail("Basic YTpiYx==", 14, "base64");	/* bits in the pad */
	parse_fail("Basic YWxp\0Y2U6c2VjcmV0", 23, "base64");
	parse_fail("Basic YWxpY2U6c2VjcmV0\0", 23, "base64");
	parse_fail("Basic YWxpY2U6c2VjcmV0 YWxp", 27, "base64");
	parse_cred_fail("al\0ce:pw", 8, "NUL byte");
	parse_cred_fail("alice:p\0w", 9, "NUL byte");
	parse_cred_fail("alicepw", 7, "no ':'");
	parse_cred_fail(":pw", 3, "empty user name");
	parse_cred_fail("alice:", 6, "empty password");
	parse_cred_fail("\xff\xfe:pw", 5, "not UTF-8");
	parse_cred_fail("\xc0\xaf:pw", 5, "not UTF-8");		/* overlong */
	parse_cred_fail("\xed\xa0\x80:pw", 6, "not UTF-8");	/* surrogate */
	parse_cred_fail("a\x01" "b:pw", 5, "control character");
	parse_cred_fail("a\x1b[2J:pw", 8, "control character");
	parse_cred_fail("a\xc2\x85" "b:pw", 6, "control character");
	memset(user, 'u', USERS_NAME_MAX);
	memcpy(user + USERS_NAME_MAX, ":pw", 3);
	parse_cred_fail(user, USERS_NAME_MAX + 3, "longer than 63");
	/* 63 bytes are a name. */
	h = header("Basic ", user + 1, USERS_NAME_MAX + 2);
	user[USERS_NAME_MAX] = '\0';
	parse_ok(h, user + 1, "pw");
	free(h);
	/* 1 KiB is the cap, whatever the content. */
	memset(big, 'A', sizeof(big));
	memcpy(big, "Basic ", 6);
	parse_fail(big, BASIC_AUTH_VALUE_MAX + 1, "longer than 1024");
	parse_fail(big, BASIC_AUTH_VALUE_MAX + 2, "longer than 1024");
}

/* The users of the check: alice (a password), nopw (none). */
struct fx {
	struct users			*us;
	struct basic_auth_verifier	*v;
};

static int
setup(void **state)
{
	struct fx	*fx;
	char		 hash[USERS_HASH_MAX], text[512], err[256];

	fx = calloc(1, sizeof(*fx));
	assert_non_null(fx);
	if (password_hash("correct horse", hash, sizeof(hash), err,
	    sizeof(err)) == -1)
		fail_msg("%s", err);
	snprintf(text, sizeof(text), "# takd users 1\nalice:%s:user:::\n"
	    "nopw:!:user:::\n", hash);
	if ((fx->us = users_parse(text, strlen(text), "users", err,
	    sizeof(err))) == NULL)
		fail_msg("%s", err);
	if ((fx->v = basic_auth_verifier_new(err, sizeof(err))) == NULL)
		fail_msg("%s", err);
	*state = fx;
	return (0);
}

static int
teardown(void **state)
{
	struct fx	*fx = *state;

	basic_auth_verifier_free(fx->v);
	users_free(fx->us);
	free(fx);
	return (0);
}

static enum basic_auth_verdict
verify(struct fx *fx, const char *cred, const struct users_user **u)
{
	struct basic_auth	 ba;
	enum basic_auth_verdict	 r;
	const char		*why;
	char			*h = header("Basic ", cred, strlen(cred));

	if (basic_auth_parse(h, strlen(h), &ba, &why) != 0)
		fail_msg("%s: %s", cred, why);
	free(h);
	r = basic_auth_verify(fx->v, fx->us, &ba, u);
	basic_auth_clear(&ba);
	return (r);
}

static void
test_basic_auth_verify(void **state)
{
	struct fx				*fx = *state;
	const struct users_user			*u;
	struct basic_auth_verifier_counters	 c;

	assert_int_equal(verify(fx, "alice:correct horse", &u),
	    BASIC_AUTH_OK);
	assert_non_null(u);
	assert_string_equal(u->name, "alice");
	assert_int_equal(verify(fx, "alice:correct horsE", &u),
	    BASIC_AUTH_BAD_PASSWORD);
	assert_null(u);
	assert_int_equal(verify(fx, "alice:correct horse ", &u),
	    BASIC_AUTH_BAD_PASSWORD);
	/* Names compare as bytes, as in the users file. */
	assert_int_equal(verify(fx, "Alice:correct horse", &u),
	    BASIC_AUTH_UNKNOWN_USER);
	assert_null(u);
	assert_int_equal(verify(fx, "mallory:correct horse", NULL),
	    BASIC_AUTH_UNKNOWN_USER);
	assert_int_equal(verify(fx, "nopw:!", &u), BASIC_AUTH_NO_PASSWORD);
	assert_null(u);
	assert_int_equal(verify(fx, "nopw:anything", &u),
	    BASIC_AUTH_NO_PASSWORD);
	basic_auth_verifier_counters(fx->v, &c);
	assert_int_equal(c.ok, 1);
	assert_int_equal(c.bad_password, 2);
	assert_int_equal(c.unknown_user, 2);
	assert_int_equal(c.no_password, 2);
	assert_string_equal(basic_auth_verdict_name(BASIC_AUTH_UNKNOWN_USER),
	    "unknown user");
}

static double
now_s(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

#define ROUNDS	4

/* Seconds for ROUNDS checks of cred. */
static double
timed(struct fx *fx, const char *cred, enum basic_auth_verdict want)
{
	double	 t0 = now_s();
	int	 i;

	for (i = 0; i < ROUNDS; i++)
		assert_int_equal(verify(fx, cred, NULL), want);
	return (now_s() - t0);
}

/*
 * Without the dummy hash an unknown user is answered in microseconds and
 * a wrong password in tens of milliseconds (yescrypt): a thousandfold
 * difference that tells an attacker which names exist.  Within a factor
 * of 2 leaves room for a busy machine.
 */
static void
test_basic_auth_same_time(void **state)
{
	struct fx	*fx = *state;
	double		 bad, unknown, nopw;

	bad = timed(fx, "alice:wrong", BASIC_AUTH_BAD_PASSWORD);
	unknown = timed(fx, "nobody:wrong", BASIC_AUTH_UNKNOWN_USER);
	nopw = timed(fx, "nopw:wrong", BASIC_AUTH_NO_PASSWORD);
	print_message("%d checks: wrong password %.3f s, unknown user %.3f s,"
	    " no password %.3f s\n", ROUNDS, bad, unknown, nopw);
	assert_true(unknown > bad / 2 && unknown < bad * 2);
	assert_true(nopw > bad / 2 && nopw < bad * 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic_auth_parse),
		cmocka_unit_test(test_basic_auth_refused),
		cmocka_unit_test_setup_teardown(test_basic_auth_verify,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_basic_auth_same_time,
		    setup, teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
