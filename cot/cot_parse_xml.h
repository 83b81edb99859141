/*
 * cot_parse.c's machinery for the TAK protocol v1 codec (cot/takp_*.c,
 * docs/takproto.md): the same checks and libxml2 options as cot_parse(),
 * on a <detail> fragment or into a tree.  Not for other callers: they
 * want cot_parse().
 */
#ifndef TAKD_COT_PARSE_XML_H
#define TAKD_COT_PARSE_XML_H

#include <stddef.h>

#include <libxml/tree.h>

#include "cot/cot_parse.h"

/*
 * Parse frag[0..len) as the children of a <detail> (what v1's xmlDetail
 * holds): the same byte checks (UTF-8 without NUL, attributes per tag,
 * size), libxml2 options, depth and namespace caps as cot_parse(), the
 * whole wrapped in <detail>...</detail>, so the fragment cannot close the
 * wrapper and add elements outside it.  Initialises v and fills what
 * cot_parse() reads under event/detail: contact, __group, marti dests,
 * link, takp_request.  names (NULL-terminated, at most 32; may be NULL):
 * bit i of *seen is set when a child of <detail> is named names[i].
 * Returns 0, or -1 with a one-line reason in err.
 */
int	 cot_parse_detail(const void *frag, size_t len, struct cot_view *v,
	    const char *const *names, unsigned *seen, char *err,
	    size_t errlen);

/* v as cot_parse() starts it: every field empty, unset or default. */
void	 cot_parse_view_init(struct cot_view *v);

/*
 * cot_parse(), then the same bytes (from <event>) as a libxml2 tree under
 * the same options: everything cot_parse() refuses never reaches the tree
 * builder.  Returns the document (xmlFreeDoc() it), or NULL with err.
 */
xmlDocPtr cot_parse_doc(const void *buf, size_t len, struct cot_view *v,
	    char *err, size_t errlen);

#endif
