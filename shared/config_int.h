/*
 * What the parts of the configuration share, and nothing outside shared/
 * config*.c sees (the public API is config.h):
 *   config.c        loading: the inih reader and callback, section headers,
 *                   FILE:LINE errors, the defaults, derived paths and the
 *                   checks across keys once the file is read
 *   config_keys.c   the table of sections and keys, and each key's setter:
 *                   how its value is checked and where it is stored
 *   config_value.c  the value syntaxes, free of any key: numbers, durations,
 *                   sizes, host names, listen addresses, paths, and the
 *                   spellings of durations and sizes used in messages
 */
#ifndef TAKD_CONFIG_INT_H
#define TAKD_CONFIG_INT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "shared/config.h"

#define CONFIG_LINE_BUF		256	/* > the longest line inih accepts */
#define CONFIG_MSG_MAX		512
#define CONFIG_MAX_KEYS		112	/* >= the rows of the key table */

#define MS_SECOND		1000ULL
#define MS_MINUTE		(60 * MS_SECOND)
#define MS_HOUR			(60 * MS_MINUTE)
#define MS_DAY			(24 * MS_HOUR)

#define NNAMES(a)	(sizeof(a) / sizeof((a)[0]))

#define KEY_EMPTY_OK	0x01	/* "" is a valid value (off, derived) */
#define KEY_MULTI	0x02	/* may be given more than once */
#define KEY_SECRET	0x04	/* never shown in a message */
#define KEY_OFF_OK	0x08	/* duration, size: "off" means 0 */
#define KEY_AUTO_OK	0x10	/* size: "auto" means 0 */

struct load_ctx;
struct config_key;

typedef int (*config_set_fn)(struct load_ctx *, const struct config_key *,
    const char *);

struct config_key {
	const char		*section;
	const char		*name;
	config_set_fn		 set;
	size_t			 off;	/* of the field in struct config */
	size_t			 size;	/* of that field */
	unsigned long long	 min;
	unsigned long long	 max;
	unsigned		 flags;
};

struct load_ctx {
	struct config	*cfg;
	FILE		*fp;
	char		 cwd[PATH_MAX];
	char		 buf[CONFIG_LINE_BUF];
	int		 lineno;
	bool		 failed;
	int		 err_line;	/* 0 when no line applies */
	char		 msg[CONFIG_MSG_MAX];
	bool		 first;		/* this key's first occurrence */
	int		*seen;		/* line of each key's first occurrence */
};

enum num_result {
	NUM_OK,
	NUM_SYNTAX,
	NUM_RANGE
};

/* config.c */
int	 config_key_error(struct load_ctx *, const struct config_key *,
	    const char *, const char *, ...)
	    __attribute__((format(printf, 4, 5)));

/* config_cluster.c: [cluster] values, and what config_finish derives. */
int	 config_set_nats_urls(struct load_ctx *, const struct config_key *,
	    const char *);
int	 config_set_subject_token(struct load_ctx *, const struct config_key *,
	    const char *);
int	 config_finish_cluster(struct config *, const char *cwd, char *msg,
	    size_t msglen);

/* config_keys.c */
const struct config_key *config_key_find(const char *section,
	    const char *name, size_t *idx);
bool	 config_section_known(const char *);

/*
 * config_value.c.  The *_parse functions tell a syntax error from a value out
 * of range; config.h's config_parse_* are their plain 0/-1 forms.
 */
int	 config_str_copy(char *, size_t, const char *);
enum num_result config_number_parse(const char *, unsigned long long max,
	    unsigned long long *);
enum num_result config_duration_parse(const char *, unsigned long long *ms);
void	 config_duration_fmt(char *, size_t, unsigned long long ms);
enum num_result config_size_parse(const char *, unsigned long long max,
	    unsigned long long *);
void	 config_size_fmt(char *, size_t, unsigned long long);
bool	 config_host_valid(const char *);
const char *config_listen_parse(const char *, struct config_listen *);
void	 config_listen_fmt(char *, size_t, const struct config_listen *);
bool	 config_listen_clash(const struct config_listen *,
	    const struct config_listen *);
int	 config_path_resolve(const char *cwd, const char *in, char *out,
	    size_t outlen);

#endif
