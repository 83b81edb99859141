/*
 * JSON for takd and takctl: a small writer for status replies and `--json`
 * output (a growing buffer with automatic commas; strings are escaped; an
 * allocation failure sets err and turns every later call into a no-op), and
 * the one reader (RFC 8259, strict: valid UTF-8, escapes and surrogate
 * pairs, numbers, bounded depth) that takctl uses for takd's replies and the
 * FreeTAKServer CRL import uses for its JSON form.
 */
#ifndef TAKD_JSON_H
#define TAKD_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define JSON_MAX_DEPTH	16

struct json {
	char		*buf;
	size_t		 len;
	size_t		 cap;
	int		 err;
	int		 depth;
	bool		 first[JSON_MAX_DEPTH];	/* no comma before the next item */
	bool		 after_key;
};

void	 json_init(struct json *);
void	 json_free(struct json *);
void	 json_obj_begin(struct json *);
void	 json_obj_end(struct json *);
void	 json_arr_begin(struct json *);
void	 json_arr_end(struct json *);
void	 json_key(struct json *, const char *);
void	 json_str(struct json *, const char *);
void	 json_int(struct json *, int64_t);
void	 json_uint(struct json *, uint64_t);
void	 json_bool(struct json *, bool);
void	 json_null(struct json *);
/*
 * A value already written as JSON (by this writer, elsewhere: another
 * process's), placed as one: the caller checked that it is one value.
 */
void	 json_value(struct json *, const char *, size_t);
/*
 * An ISO-8601 UTC string (pki_time_format), or null for 0 and for a time
 * that has no such form.
 */
void	 json_time(struct json *, time_t);

/* Shorthands for "key": value inside an object. */
void	 json_kv_str(struct json *, const char *, const char *);
void	 json_kv_int(struct json *, const char *, int64_t);
void	 json_kv_uint(struct json *, const char *, uint64_t);
void	 json_kv_bool(struct json *, const char *, bool);
void	 json_kv_time(struct json *, const char *, time_t);

/*
 * The reader: a cursor over a buffer, driven by the caller (pull style).
 * Every function returns 0 (or, where said, 1), or -1 with the first
 * error's message in err and its byte offset in err_at (both sticky).
 *
 *	json_rd_init(&r, buf, len);
 *	if (json_rd_open(&r, '{') == -1) ...
 *	while ((more = json_rd_more(&r, '}', &first)) == 1) {
 *		json_rd_key(&r, key, sizeof(key));
 *		... json_rd_string() / json_rd_number() / json_rd_skip()
 *	}
 */
#define JSON_RD_DEPTH	32	/* nesting of objects and arrays */
#define JSON_RD_KEY_MAX	64	/* longest member name a caller looks for */

struct json_rd {
	const char	*start;
	const char	*p;
	const char	*end;
	int		 depth;
	const char	*err;		/* static message, NULL until an error */
	size_t		 err_at;
};

void	 json_rd_init(struct json_rd *, const char *buf, size_t len);
/* The next non-blank byte (not consumed), or -1 at the end. */
int	 json_rd_peek(struct json_rd *);
/* '{' or '[' (open), one level deeper. */
int	 json_rd_open(struct json_rd *, char open);
/*
 * Inside a container opened with open: 1 when another member or element
 * follows (its ',' consumed), 0 when close ended it.  first is true before
 * the first call and kept up to date.
 */
int	 json_rd_more(struct json_rd *, char close, bool *first);
/* A member name and its ':'; a name that does not fit in key gives "". */
int	 json_rd_key(struct json_rd *, char *key, size_t keylen);
/*
 * A string, decoded to UTF-8 into out (NULL: only checked).  *trunc (may be
 * NULL) says it did not fit or held a NUL (\u0000).
 */
int	 json_rd_string(struct json_rd *, char *out, size_t outlen, bool *trunc);
/* A number; its text in *tok / *len. */
int	 json_rd_number(struct json_rd *, const char **tok, size_t *len);
/* Exactly word ("true", "false", "null"). */
int	 json_rd_literal(struct json_rd *, const char *word);
/* Any value, checked and passed over. */
int	 json_rd_skip(struct json_rd *);
/* Any value, checked; its raw text in *v / *vlen. */
int	 json_rd_value(struct json_rd *, const char **v, size_t *vlen);
/* Nothing but blanks is left. */
int	 json_rd_end(struct json_rd *);

/*
 * A member of the JSON object obj (which must be one well-formed object and
 * nothing else): 1 with the raw text of its value (the first one, if the
 * name repeats), 0 when absent, -1 when obj is not a valid object.
 */
int	 json_get(const char *obj, size_t len, const char *key, const char **v,
	    size_t *vlen);
/*
 * Walk a JSON array: *pos starts at its '[' and moves past each element.
 * 1 with the element's raw text, 0 after the last, -1 when malformed.
 */
int	 json_array_next(const char **pos, const char *end, const char **elem,
	    size_t *elen);

#endif
