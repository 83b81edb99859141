/*
 * Replies that go on (server-sent events, docs/console.md): the head now,
 * chunks as they come, the end when the handler decides or the client
 * leaves.  A streaming request stays "in a handler" for the framework
 * (no request deadline runs, a drain waits for it or its deadline).
 */
#ifndef TAKD_API_HTTP_PUSH_H
#define TAKD_API_HTTP_PUSH_H

#include <stddef.h>

#include "api/http.h"

/*
 * Send the head (200, ctype, chunked): 0, or -1 when the client went away
 * (then call api_req_push_end() all the same).
 */
int	 api_req_push_start(struct api_req *, const char *ctype);
/* One chunk: 0, or -1 when the client went away. */
int	 api_req_push_send(struct api_req *, const void *, size_t);
/* Bytes the client has not taken yet (0 when gone). */
size_t	 api_req_push_pending(const struct api_req *);
/* The last chunk, then req is freed (exactly once). */
void	 api_req_push_end(struct api_req *);

#endif
