/*
 * HTTP Basic credentials: parse (RFC 7617) and check (basic_auth.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "api/basic_auth.h"
#include "shared/password.h"
#include "shared/users.h"
#include "shared/utf8.h"

#define BASIC_AUTH_MAGIC	0x62617574	/* "baut" */
#define BASIC_AUTH_SCHEME	"Basic"
#define BASIC_AUTH_DUMMY_LEN	24		/* random bytes of the dummy */

struct basic_auth_verifier {
	unsigned				 magic;
	char					 dummy[USERS_HASH_MAX];
	struct basic_auth_verifier_counters	 cnt;
};

static bool
basic_auth_b64_char(unsigned char c)
{
	return ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '+' || c == '/');
}

/*
 * Whether s (len bytes) is padded base64 as RFC 4648 section 4 writes
 * it: a multiple of 4 characters of the alphabet, '=' only as the last one
 * or two.  EVP_DecodeUpdate alone would skip blanks and line breaks and
 * stop at a '-', which a header value must not carry.
 */
static bool
basic_auth_b64_shape(const char *s, size_t len)
{
	size_t	 i, pad = 0;

	if (len == 0 || len % 4 != 0)
		return (false);
	if (s[len - 1] == '=')
		pad = s[len - 2] == '=' ? 2 : 1;
	for (i = 0; i < len - pad; i++)
		if (!basic_auth_b64_char((unsigned char)s[i]))
			return (false);
	return (true);
}

/*
 * Decode the base64 of s into out (room for 3 * len / 4 bytes) with
 * OpenSSL's decoder; the length, or -1.  Non-canonical encodings (bits set
 * in the padding) are refused by encoding the result again: one spelling
 * of each credential, as the fuzz target checks.
 */
static int
basic_auth_b64_decode(const char *s, size_t len, unsigned char *out)
{
	EVP_ENCODE_CTX	*ctx;
	unsigned char	*again = NULL;
	int		 n = 0, m = 0, rc = -1;

	if ((ctx = EVP_ENCODE_CTX_new()) == NULL)
		return (-1);
	EVP_DecodeInit(ctx);
	if (EVP_DecodeUpdate(ctx, out, &n, (const unsigned char *)s,
	    (int)len) < 0 || EVP_DecodeFinal(ctx, out + n, &m) != 1)
		goto done;
	n += m;
	if ((again = malloc(len + 1)) == NULL ||
	    EVP_EncodeBlock(again, out, n) != (int)len ||
	    memcmp(again, s, len) != 0)
		goto done;
	rc = n;
 done:
	free(again);
	EVP_ENCODE_CTX_free(ctx);
	return (rc);
}

/* Why the user name u (len bytes) cannot be one, or NULL. */
static const char *
basic_auth_user_why(const unsigned char *u, size_t len)
{
	size_t		 i, n;
	uint32_t	 c;

	if (len == 0)
		return ("empty user name");
	if (len >= USERS_NAME_MAX)
		return ("user name longer than 63 bytes");
	for (i = 0; i < len; i += n) {
		if ((n = utf8_decode(u + i, len - i, &c)) == 0)
			return ("user name not UTF-8");
		if (c < 0x20 || (c >= 0x7f && c <= 0x9f))
			return ("control character in the user name");
	}
	return (NULL);
}

void
basic_auth_clear(struct basic_auth *ba)
{
	OPENSSL_cleanse(ba, sizeof(*ba));
}

int
basic_auth_parse(const char *value, size_t len, struct basic_auth *out,
    const char **why)
{
	unsigned char	 dec[BASIC_AUTH_VALUE_MAX];
	const char	*tok;
	const unsigned char *colon;
	size_t		 slen = strlen(BASIC_AUTH_SCHEME), i, tlen, ulen;
	int		 n = -1;

	memset(out, 0, sizeof(*out));
	*why = NULL;
	if (len > BASIC_AUTH_VALUE_MAX) {
		*why = "Authorization longer than 1024 bytes";
		goto fail;
	}
	if (len < slen || strncasecmp(value, BASIC_AUTH_SCHEME, slen) != 0 ||
	    (len > slen && value[slen] != ' ')) {
		*why = "not the Basic scheme";
		goto fail;
	}
	/* 1*SP between scheme and token68 (RFC 9110 section 11.4). */
	for (i = slen; i < len && value[i] == ' '; i++)
		;
	tok = value + i;
	tlen = len - i;
	if (i == slen || tlen == 0) {
		*why = "no credentials after Basic";
		goto fail;
	}
	if (memchr(tok, '\0', tlen) != NULL || !basic_auth_b64_shape(tok,
	    tlen) || (n = basic_auth_b64_decode(tok, tlen, dec)) < 0) {
		*why = "credentials not canonical base64";
		goto fail;
	}
	if (memchr(dec, '\0', (size_t)n) != NULL) {
		*why = "NUL byte in the credentials";
		goto fail;
	}
	if ((colon = memchr(dec, ':', (size_t)n)) == NULL) {
		*why = "no ':' between user and password";
		goto fail;
	}
	ulen = (size_t)(colon - dec);
	if ((*why = basic_auth_user_why(dec, ulen)) != NULL)
		goto fail;
	if ((size_t)n - ulen - 1 == 0) {
		*why = "empty password";
		goto fail;
	}
	memcpy(out->user, dec, ulen);
	memcpy(out->password, colon + 1, (size_t)n - ulen - 1);
	OPENSSL_cleanse(dec, sizeof(dec));
	return (0);
 fail:
	OPENSSL_cleanse(dec, sizeof(dec));
	basic_auth_clear(out);
	return (-1);
}

struct basic_auth_verifier *
basic_auth_verifier_new(char *err, size_t errlen)
{
	struct basic_auth_verifier	*v;
	unsigned char			 rnd[BASIC_AUTH_DUMMY_LEN];
	char				 pw[2 * BASIC_AUTH_DUMMY_LEN + 1];
	size_t				 i;

	if ((v = calloc(1, sizeof(*v))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (NULL);
	}
	/* A password nobody knows: the dummy must never verify. */
	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		snprintf(err, errlen, "RAND_bytes failed");
		goto fail;
	}
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(pw + 2 * i, 3, "%02x", rnd[i]);
	if (password_hash(pw, v->dummy, sizeof(v->dummy), err, errlen) == -1)
		goto fail;
	OPENSSL_cleanse(pw, sizeof(pw));
	v->magic = BASIC_AUTH_MAGIC;
	return (v);
 fail:
	OPENSSL_cleanse(pw, sizeof(pw));
	free(v);
	return (NULL);
}

void
basic_auth_verifier_free(struct basic_auth_verifier *v)
{
	if (v == NULL)
		return;
	OPENSSL_cleanse(v, sizeof(*v));
	free(v);
}

const char *
basic_auth_hash_for(struct basic_auth_verifier *v, const struct users *us,
    const struct basic_auth *ba, enum basic_auth_verdict *if_match)
{
	const struct users_user	*u;

	if (v == NULL || v->magic != BASIC_AUTH_MAGIC)
		abort();
	u = users_find(us, ba->user);
	if (u != NULL && users_has_password(u)) {
		*if_match = BASIC_AUTH_OK;
		return (u->hash);
	}
	/*
	 * The same slow hash as a real user's wrong password, so that the
	 * time of the answer does not tell which names exist (or have no
	 * password).  The result is thrown away: the dummy's password is
	 * random and unknown.
	 */
	*if_match = u == NULL ? BASIC_AUTH_UNKNOWN_USER :
	    BASIC_AUTH_NO_PASSWORD;
	return (v->dummy);
}

enum basic_auth_verdict
basic_auth_verdict_of(struct basic_auth_verifier *v,
    enum basic_auth_verdict if_match, bool matched)
{
	enum basic_auth_verdict	 r = if_match;

	if (if_match == BASIC_AUTH_OK && !matched)
		r = BASIC_AUTH_BAD_PASSWORD;
	switch (r) {
	case BASIC_AUTH_OK:
		v->cnt.ok++;
		break;
	case BASIC_AUTH_BAD_PASSWORD:
		v->cnt.bad_password++;
		break;
	case BASIC_AUTH_UNKNOWN_USER:
		v->cnt.unknown_user++;
		break;
	case BASIC_AUTH_NO_PASSWORD:
		v->cnt.no_password++;
		break;
	}
	return (r);
}

enum basic_auth_verdict
basic_auth_verify(struct basic_auth_verifier *v, const struct users *us,
    const struct basic_auth *ba, const struct users_user **user)
{
	enum basic_auth_verdict	 if_match, r;
	const char		*hash;

	if (user != NULL)
		*user = NULL;
	hash = basic_auth_hash_for(v, us, ba, &if_match);
	r = basic_auth_verdict_of(v, if_match,
	    password_verify(ba->password, hash));
	if (r == BASIC_AUTH_OK && user != NULL)
		*user = users_find(us, ba->user);
	return (r);
}

const char *
basic_auth_verdict_name(enum basic_auth_verdict r)
{
	switch (r) {
	case BASIC_AUTH_OK:
		return ("ok");
	case BASIC_AUTH_BAD_PASSWORD:
		return ("wrong password");
	case BASIC_AUTH_UNKNOWN_USER:
		return ("unknown user");
	case BASIC_AUTH_NO_PASSWORD:
		return ("user without a password");
	}
	return ("?");
}

void
basic_auth_verifier_counters(const struct basic_auth_verifier *v,
    struct basic_auth_verifier_counters *c)
{
	*c = v->cnt;
}
