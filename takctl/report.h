/*
 * Reading takd's status JSON for people (takctl status and stats): see
 * report.c.
 */
#ifndef TAKD_TAKCTL_REPORT_H
#define TAKD_TAKCTL_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "shared/config.h"

/*
 * The raw text of the value at a dot-separated path of object keys
 * ("crl.generation", "dropped.closed") in the JSON object obj.  0, or -1
 * when a key is missing.
 */
int	 report_get(const char *obj, size_t len, const char *path,
	    const char **v, size_t *vlen);
/* The value at path as text: strings unquoted, yes/no, absent as "-". */
void	 report_cell(const char *obj, size_t len, const char *path, char *buf,
	    size_t buflen);
/* Seconds as "2d 3h", "4h 5m" or "6m 7s". */
void	 report_duration(long long seconds);
/* takd's version, pid, uptime, sessions; the CRL; the state store. */
void	 report_header(const char *status, size_t len);

/* A column of a list printed as a table: a key of each object. */
struct report_col {
	const char	*key;
	const char	*title;
	int		 width;		/* 0: as long as the value */
};

/*
 * Print the JSON array of objects arr as a table of cols (strings without
 * their quotes, null and "" as "-"), then "N one" or "N many" and
 * suffix ("3 clients connected").  The process exit status.
 */
int	 report_table(const char *arr, size_t len, const struct report_col *,
	    size_t ncols, const char *one, const char *many,
	    const char *suffix);

/*
 * Ask takd for request, whose reply holds the array key (what: "a client
 * list", for the error), and print it: as the JSON array with json, else
 * as table() prints it.  The process exit status.
 */
int	 report_list(const struct config *, const char *request,
	    const char *key, const char *what, bool json,
	    int (*table)(const char *, size_t));

#endif
