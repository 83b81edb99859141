/*
 * takp_conv: takd's TAK protocol v1 codec (cot/takp.h) on stdin, for the
 * scripts that check it against another implementation
 * (tests/integ/test_takp_python.sh).
 *
 *	takp_conv from-xml	one XML event in, its v1 frame out
 *				(0xBF, varint length, TakMessage)
 *	takp_conv to-xml	one TakMessage payload in, its XML event out
 *	takp_conv decode	one TakMessage payload in, the view out, one
 *				"name=value" a line (dest=kind:value each)
 *
 * Exit status 0, or 1 with "takp_conv: REASON" on stderr when the codec
 * refuses the input (2: usage or I/O).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cot/cot_parse.h"
#include "cot/takp.h"

/* 32 MiB: past any cap of the codec, so the codec's own limits decide. */
#define CONV_MAX	(32 * 1024 * 1024)

static uint8_t *
conv_read(size_t *len)
{
	uint8_t	*buf;
	size_t	 n;

	if ((buf = malloc(CONV_MAX)) == NULL)
		return (NULL);
	*len = 0;
	while ((n = fread(buf + *len, 1, CONV_MAX - *len, stdin)) > 0)
		*len += n;
	if (ferror(stdin) || *len == CONV_MAX) {
		free(buf);
		return (NULL);
	}
	return (buf);
}

static void
conv_time(const char *name, int64_t ms)
{
	if (ms == COT_TIME_UNSET)
		printf("%s=unset\n", name);
	else
		printf("%s=%" PRId64 "\n", name, ms);
}

static void
conv_view(const struct cot_view *v)
{
	size_t	 i;

	printf("uid=%s\ntype=%s\nhow=%s\n", v->uid, v->type, v->how);
	conv_time("time", v->time_ms);
	conv_time("start", v->start_ms);
	conv_time("stale", v->stale_ms);
	printf("has_point=%d\n", v->has_point);
	printf("lat=%.17g\nlon=%.17g\nhae=%.17g\nce=%.17g\nle=%.17g\n",
	    v->lat, v->lon, v->hae, v->ce, v->le);
	printf("has_contact=%d\ncallsign=%s\nendpoint=%s\n", v->has_contact,
	    v->callsign, v->endpoint);
	printf("group_name=%s\ngroup_role=%s\n", v->group_name,
	    v->group_role);
	printf("has_marti=%d\ndest_all=%d\nn_dest_other=%zu\n", v->has_marti,
	    v->dest_all, v->n_dest_other);
	for (i = 0; i < v->n_dest; i++)
		printf("dest=%s:%s\n", v->dest[i].kind == COT_DEST_UID ?
		    "uid" : "callsign", v->dest[i].value);
	printf("link_uid=%s\nlink_type=%s\n", v->link_uid, v->link_type);
	printf("takp_request=%d\n", v->takp_request);
}

int
main(int argc, char **argv)
{
	static struct cot_view	 v;
	struct takp_control	 ctl;
	char			 err[COT_ERR_MAX], *x;
	uint8_t			*in, *out;
	size_t			 len, outlen;
	int			 r;

	if (argc != 2) {
		fprintf(stderr, "usage: takp_conv from-xml|to-xml|decode\n");
		return (2);
	}
	cot_parse_init();
	if ((in = conv_read(&len)) == NULL) {
		fprintf(stderr, "takp_conv: cannot read stdin\n");
		return (2);
	}
	if (strcmp(argv[1], "from-xml") == 0) {
		if (takp_from_xml(in, len, &out, &outlen, err,
		    sizeof(err)) == -1)
			goto refused;
		fwrite(out, 1, outlen, stdout);
		free(out);
	} else if (strcmp(argv[1], "to-xml") == 0) {
		if (takp_to_xml(in, len, &x, &outlen, err, sizeof(err)) == -1)
			goto refused;
		fwrite(x, 1, outlen, stdout);
		free(x);
	} else if (strcmp(argv[1], "decode") == 0) {
		if ((r = takp_decode(in, len, &v, &ctl, err,
		    sizeof(err))) == -1)
			goto refused;
		printf("kind=%s\n", r == TAKP_EVENT ? "event" : "control");
		if (ctl.present)
			printf("control=%" PRIu32 "-%" PRIu32 " %s\n",
			    ctl.min_version, ctl.max_version,
			    ctl.contact_uid);
		if (r == TAKP_EVENT)
			conv_view(&v);
	} else {
		fprintf(stderr, "takp_conv: unknown mode %s\n", argv[1]);
		free(in);
		return (2);
	}
	free(in);
	return (fflush(stdout) == 0 ? 0 : 2);
refused:
	fprintf(stderr, "takp_conv: %s\n", err);
	free(in);
	return (1);
}
