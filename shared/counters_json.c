/*
 * The worker counters as JSON keys and objects (takctl status): see
 * counters.h.  Apart from counters.c so that what only encodes and decodes
 * them (the fuzz targets) does not link the JSON writer.
 */
#include <string.h>

#include "shared/counters.h"
#include "shared/json.h"

void
counters_json(struct json *j, const struct counters *c)
{
	const struct counter_def	*d;
	const char			*open = "";
	size_t				 i, k;

	for (i = 0; i < counter_ndefs; i++) {
		d = &counter_defs[i];
		/* Rows of one object are adjacent; an A row is one object. */
		if (d->names != NULL || strcmp(d->group, open) != 0) {
			if (open[0] != '\0')
				json_obj_end(j);
			open = d->group;
			if (open[0] != '\0') {
				json_key(j, open);
				json_obj_begin(j);
			}
		}
		if (d->names == NULL) {
			json_kv_uint(j, d->key, counters_get(c, d, 0));
			continue;
		}
		for (k = 0; k < d->n; k++)
			json_kv_uint(j, counters_name(d, k),
			    counters_get(c, d, k));
		/* The next row opens its own object, even of the same name. */
		json_obj_end(j);
		open = "";
	}
	if (open[0] != '\0')
		json_obj_end(j);
}
