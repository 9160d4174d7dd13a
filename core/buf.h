/* buf.h — growable byte buffers that always carry a size cap.
 * Knows nothing of JSON, HTTP or the database. A failed append makes the buffer "failed"
 * (sticky) so callers may check once after a series of appends. */
#ifndef DMCP_BUF_H
#define DMCP_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include "dmcp.h"

struct buf {
	char *data;   /* owned; NUL-terminated when len > 0 or after buf_cstr() */
	size_t len;   /* bytes in use, not counting the terminating NUL */
	size_t cap;   /* bytes allocated */
	size_t max;   /* the cap: len never exceeds it */
	dmcp_rc fail; /* first failure (DMCP_E_LIMIT or DMCP_E_NOMEM), sticky; DMCP_OK if none */
};

void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);
void buf_reset(struct buf *b); /* len = 0, fail cleared, memory kept */
dmcp_rc buf_add(struct buf *b, const void *p, size_t n);
dmcp_rc buf_adds(struct buf *b, const char *s);
dmcp_rc buf_addf(struct buf *b, const char *fmt, ...) DMCP_PRINTF(2, 3);
dmcp_rc buf_vaddf(struct buf *b, const char *fmt, va_list ap);
/* The contents as a C string; "" for an empty buffer. Borrowed. */
const char *buf_cstr(struct buf *b);
/* Hands the data over to the caller (free() it) and leaves b empty. */
char *buf_take(struct buf *b);

#endif
