/*
 * libFuzzer target for api/multipart.c: the streaming multipart/form-data
 * splitter of the data package upload.  The input is a Content-Type value
 * (up to the first newline) and the body after it.
 *
 * Checked on every input:
 * - the body fed whole and fed in pieces (sizes drawn from the input)
 *   gives the same verdict and the same file bytes: where a piece ends
 *   changes nothing;
 * - the file bytes are never more than the body, and are a run of bytes
 *   the body holds when the body has no CR in the file part (checked
 *   cheaply: out <= in);
 * - a refusal has a reason; a success has a filename of at most
 *   MP_NAME_MAX bytes without control bytes and a printable Content-Type;
 * - nothing is fed after a refusal is taken.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/multipart.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct fz_out {
	unsigned char	*buf;
	size_t		 len;
	size_t		 cap;
};

static void
fz_fail(const char *what)
{
	fprintf(stderr, "fuzz_multipart: %s\n", what);
	abort();
}

static int
fz_cb(const unsigned char *p, size_t n, void *arg)
{
	struct fz_out	*o = arg;
	unsigned char	*nb;

	if (n == 0)
		fz_fail("an empty piece handed out");
	if (o->len + n > o->cap) {
		o->cap = (o->len + n) * 2;
		if ((nb = realloc(o->buf, o->cap)) == NULL)
			abort();
		o->buf = nb;
	}
	memcpy(o->buf + o->len, p, n);
	o->len += n;
	return (0);
}

/* The verdict of the body in pieces of the sizes step gives (0: whole). */
static int
fz_run(const char *ctype, const uint8_t *body, size_t len, const uint8_t *step,
    size_t nstep, struct fz_out *o, struct multipart *mp)
{
	size_t	 off = 0, n, k = 0;

	memset(o, 0, sizeof(*o));
	if (multipart_init(mp, ctype, fz_cb, o) == -1) {
		if (mp->err[0] == '\0')
			fz_fail("init refused without a reason");
		return (-1);
	}
	while (off < len) {
		n = nstep == 0 ? len - off : 1 + step[k++ % nstep] % 97;
		if (n > len - off)
			n = len - off;
		if (multipart_feed(mp, body + off, n) == -1) {
			if (mp->err[0] == '\0')
				fz_fail("refused without a reason");
			if (multipart_feed(mp, body, len) != -1)
				fz_fail("fed again after a refusal");
			return (-1);
		}
		off += n;
	}
	return (multipart_finish(mp));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct multipart	 mp1, mp2;
	struct fz_out		 o1, o2;
	const uint8_t		*nl, *body;
	char			 ctype[256];
	size_t			 clen, blen, i;
	int			 r1, r2;

	if ((nl = memchr(data, '\n', size < 255 ? size : 255)) == NULL)
		return (0);
	clen = (size_t)(nl - data);
	memcpy(ctype, data, clen);
	ctype[clen] = '\0';
	body = nl + 1;
	blen = size - clen - 1;
	r1 = fz_run(ctype, body, blen, NULL, 0, &o1, &mp1);
	r2 = fz_run(ctype, body, blen, body, blen < 16 ? blen : 16, &o2, &mp2);
	if (r1 != r2)
		fz_fail("the verdict depends on the pieces");
	if (r1 == 0) {
		if (o1.len != o2.len || (o1.len > 0 &&
		    memcmp(o1.buf, o2.buf, o1.len) != 0))
			fz_fail("the file depends on the pieces");
		if (o1.len > blen || mp1.file_bytes != o1.len)
			fz_fail("more file than body");
		if (strlen(mp1.filename) > MP_NAME_MAX)
			fz_fail("a filename over its bound");
		for (i = 0; mp1.filename[i] != '\0'; i++)
			if ((unsigned char)mp1.filename[i] < 0x20)
				fz_fail("a control byte in the filename");
		for (i = 0; mp1.ctype[i] != '\0'; i++)
			if ((unsigned char)mp1.ctype[i] < 0x20 ||
			    (unsigned char)mp1.ctype[i] >= 0x7f)
				fz_fail("a Content-Type not printable");
	}
	free(o1.buf);
	free(o2.buf);
	return (0);
}
