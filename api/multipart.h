/*
 * A streaming splitter of multipart/form-data (RFC 7578 over RFC 2046),
 * for the data package upload of ATAK (POST /Marti/sync/missionupload,
 * docs/datapackages.md): it takes the request body in pieces of any size
 * as they come off the network and hands out the bytes of the one part
 * named "assetfile" as they come, never the whole body in memory.  Pure:
 * no I/O, no libevent; what the HTTP library parsed (the Content-Type
 * header) comes in, bytes come out through a callback.
 *
 * Bounded and strict:
 *   - the boundary: 1 to 70 characters of RFC 2046's bchars, from the
 *     Content-Type parameter (quoted or not);
 *   - a part's headers at most MP_HEAD_MAX bytes, lines ending in CRLF,
 *     no folding; Content-Disposition must be form-data; a
 *     Content-Transfer-Encoding other than 7bit, 8bit or binary is
 *     refused;
 *   - at most MP_PARTS_MAX parts; the parts that are not "assetfile"
 *     (ATAK sends none) at most MP_OTHER_MAX bytes in all, dropped;
 *   - the preamble at most MP_PREAMBLE_MAX bytes; the epilogue is
 *     ignored (the HTTP side bounds the whole body);
 *   - exactly one "assetfile" part, its filename= at most MP_NAME_MAX
 *     bytes (checked again by the store: never a path), its Content-Type
 *     at most MP_CTYPE_MAX.
 *
 * Any refusal is final: multipart_feed() returns -1 from then on and
 * mp->err says why (answer 400).
 */
#ifndef TAKD_API_MULTIPART_H
#define TAKD_API_MULTIPART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MP_MAGIC		0x4d504152u	/* "MPAR" */
#define MP_BOUNDARY_MAX		70	/* RFC 2046 */
#define MP_DELIM_MAX		(MP_BOUNDARY_MAX + 4)	/* CRLF "--" b */
#define MP_HEAD_MAX		4096	/* one part's headers */
#define MP_PARTS_MAX		16
#define MP_OTHER_MAX		(64 * 1024)	/* bytes of other parts */
#define MP_PREAMBLE_MAX		4096
#define MP_NAME_MAX		255	/* filename= */
#define MP_CTYPE_MAX		127	/* the part's Content-Type */
#define MP_FIELD		"assetfile"	/* what ATAK names the file */

/* The bytes of the file part, in order; -1 stops (the caller's error). */
typedef int	(*mp_data_fn)(const unsigned char *, size_t, void *arg);

enum mp_state {
	MP_PREAMBLE,		/* before the first delimiter */
	MP_AFTER_DELIM,		/* "--" (the end) or padding and CRLF */
	MP_HEADERS,		/* a part's header lines */
	MP_BODY,		/* a part's bytes, up to the next delimiter */
	MP_EPILOGUE,		/* after the close delimiter: ignored */
	MP_ERROR
};

struct multipart {
	unsigned	 magic;
	enum mp_state	 state;
	unsigned char	 delim[MP_DELIM_MAX];	/* "\r\n--boundary" */
	size_t		 dlen;
	size_t		 match;		/* delim bytes held back */
	/* After a delimiter: "--", or transport padding then CRLF. */
	unsigned	 after;
	unsigned	 pad;
	char		 head[MP_HEAD_MAX + 1];
	size_t		 head_len;
	unsigned	 parts;
	bool		 in_file;	/* the part under way is the file */
	bool		 found;		/* the file part began */
	bool		 file_done;	/* and ended at a delimiter */
	bool		 closed;	/* the close delimiter was seen */
	size_t		 preamble;
	size_t		 other;		/* bytes of the other parts */
	uint64_t	 file_bytes;
	char		 filename[MP_NAME_MAX + 1];
	char		 ctype[MP_CTYPE_MAX + 1];
	mp_data_fn	 cb;
	void		*arg;
	char		 err[128];
};

/*
 * Start on a body of Content-Type content_type (the header's value).  0,
 * or -1 with the reason in mp->err: not multipart/form-data, no boundary
 * or a bad one.
 */
int	 multipart_init(struct multipart *, const char *content_type,
	    mp_data_fn, void *arg);
/* The next len bytes of the body: 0, or -1 (mp->err; or cb said -1). */
int	 multipart_feed(struct multipart *, const unsigned char *, size_t len);
/*
 * The body is whole: 0 when it ended with the close delimiter and had its
 * file part, else -1 with mp->err.
 */
int	 multipart_finish(struct multipart *);

#endif
