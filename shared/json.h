/*
 * A small JSON writer for status replies and `--json` output: a growing buffer
 * with automatic commas.  Strings are escaped; an allocation failure sets err
 * and turns every later call into a no-op.
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

#endif
