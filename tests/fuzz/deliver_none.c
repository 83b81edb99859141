/*
 * fanout.o calls the data path's deliver_local() when a peer's frame is
 * handled; the fuzz target and the seed maker only encode and decode
 * (fanout_decode() hands records to its callback), so reaching this is a
 * bug worth a crash report.
 */
#include <stdio.h>
#include <stdlib.h>

#include "worker/deliver.h"

void
deliver_local(struct worker *w, const struct deliver *d)
{
	fprintf(stderr, "deliver_local() called by a decoder\n");
	abort();
}
