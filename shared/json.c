/* JSON writer: see json.h. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/json.h"
#include "shared/pki.h"

void
json_init(struct json *j)
{
	memset(j, 0, sizeof(*j));
	j->first[0] = true;
}

void
json_free(struct json *j)
{
	free(j->buf);
	memset(j, 0, sizeof(*j));
}

static void
json_raw(struct json *j, const char *s, size_t n)
{
	char	*nb;
	size_t	 ncap;

	if (j->err)
		return;
	if (j->len + n + 1 > j->cap) {
		ncap = j->cap ? j->cap : 256;
		while (j->len + n + 1 > ncap)
			ncap *= 2;
		if ((nb = realloc(j->buf, ncap)) == NULL) {
			j->err = 1;
			return;
		}
		j->buf = nb;
		j->cap = ncap;
	}
	memcpy(j->buf + j->len, s, n);
	j->len += n;
	j->buf[j->len] = '\0';
}

/* Every value and key goes through here: it places the comma. */
static void
json_sep(struct json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (!j->first[j->depth])
		json_raw(j, ",", 1);
	j->first[j->depth] = false;
}

static void
json_open(struct json *j, const char *c)
{
	json_sep(j);
	json_raw(j, c, 1);
	if (j->depth + 1 >= JSON_MAX_DEPTH) {
		j->err = 1;
		return;
	}
	j->first[++j->depth] = true;
}

static void
json_close(struct json *j, const char *c)
{
	if (j->depth > 0)
		j->depth--;
	json_raw(j, c, 1);
}

void
json_obj_begin(struct json *j)
{
	json_open(j, "{");
}

void
json_obj_end(struct json *j)
{
	json_close(j, "}");
}

void
json_arr_begin(struct json *j)
{
	json_open(j, "[");
}

void
json_arr_end(struct json *j)
{
	json_close(j, "]");
}

static void
json_quoted(struct json *j, const char *s)
{
	char		 esc[8];
	const char	*run = s;

	json_raw(j, "\"", 1);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		json_raw(j, run, (size_t)(s - run));
		if (c == '"' || c == '\\')
			snprintf(esc, sizeof(esc), "\\%c", c);
		else
			snprintf(esc, sizeof(esc), "\\u%04x", c);
		json_raw(j, esc, strlen(esc));
		run = s + 1;
	}
	json_raw(j, run, (size_t)(s - run));
	json_raw(j, "\"", 1);
}

void
json_key(struct json *j, const char *k)
{
	json_sep(j);
	json_quoted(j, k);
	json_raw(j, ":", 1);
	j->after_key = true;
}

void
json_str(struct json *j, const char *s)
{
	json_sep(j);
	if (s == NULL)
		json_raw(j, "null", 4);
	else
		json_quoted(j, s);
}

void
json_int(struct json *j, int64_t v)
{
	char	 b[32];

	json_sep(j);
	snprintf(b, sizeof(b), "%" PRId64, v);
	json_raw(j, b, strlen(b));
}

void
json_uint(struct json *j, uint64_t v)
{
	char	 b[32];

	json_sep(j);
	snprintf(b, sizeof(b), "%" PRIu64, v);
	json_raw(j, b, strlen(b));
}

void
json_bool(struct json *j, bool v)
{
	json_sep(j);
	json_raw(j, v ? "true" : "false", v ? 4 : 5);
}

void
json_null(struct json *j)
{
	json_sep(j);
	json_raw(j, "null", 4);
}

void
json_time(struct json *j, time_t t)
{
	char	 b[32];

	/* pki_time_format() writes "-" for a time it cannot represent. */
	if (t != 0)
		pki_time_format(t, b, sizeof(b));
	if (t == 0 || strcmp(b, "-") == 0)
		json_null(j);
	else
		json_str(j, b);
}

void
json_kv_str(struct json *j, const char *k, const char *v)
{
	json_key(j, k);
	json_str(j, v);
}

void
json_kv_int(struct json *j, const char *k, int64_t v)
{
	json_key(j, k);
	json_int(j, v);
}

void
json_kv_uint(struct json *j, const char *k, uint64_t v)
{
	json_key(j, k);
	json_uint(j, v);
}

void
json_kv_bool(struct json *j, const char *k, bool v)
{
	json_key(j, k);
	json_bool(j, v);
}

void
json_kv_time(struct json *j, const char *k, time_t v)
{
	json_key(j, k);
	json_time(j, v);
}
