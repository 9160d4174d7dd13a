/* buf.c — capped growable buffers (see buf.h).
 * Knows nothing of the protocol. Growth doubles, bounded by the cap. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"

void buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
	b->fail = DMCP_OK;
}

void buf_free(struct buf *b)
{
	free(b->data);
	buf_init(b, b->max);
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	b->fail = DMCP_OK;
	if (b->data != NULL)
		b->data[0] = '\0';
}

static dmcp_rc grow(struct buf *b, size_t need)
{
	size_t cap = b->cap ? b->cap : 64;
	char *p;

	while (cap < need + 1)
		cap *= 2;
	if (cap - 1 > b->max) /* not cap > max + 1: that wraps to 0 when max is SIZE_MAX */
		cap = b->max + 1;
	p = realloc(b->data, cap);
	if (p == NULL)
		return DMCP_E_NOMEM;
	b->data = p;
	b->cap = cap;
	return DMCP_OK;
}

dmcp_rc buf_add(struct buf *b, const void *p, size_t n)
{
	dmcp_rc rc;

	if (b->fail != DMCP_OK)
		return b->fail;
	if (n > b->max - b->len) {
		b->fail = DMCP_E_LIMIT;
		return b->fail;
	}
	if (b->len + n + 1 > b->cap) {
		rc = grow(b, b->len + n);
		if (rc != DMCP_OK) {
			b->fail = rc;
			return rc;
		}
	}
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return DMCP_OK;
}

dmcp_rc buf_adds(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

dmcp_rc buf_vaddf(struct buf *b, const char *fmt, va_list ap)
{
	char small[256];
	va_list ap2;
	int n;
	dmcp_rc rc;

	if (b->fail != DMCP_OK)
		return b->fail;
	va_copy(ap2, ap);
	n = vsnprintf(small, sizeof small, fmt, ap2);
	va_end(ap2);
	if (n < 0) {
		b->fail = DMCP_E_INTERNAL;
		return b->fail;
	}
	if ((size_t)n < sizeof small)
		return buf_add(b, small, (size_t)n);
	if ((size_t)n > b->max - b->len) {
		b->fail = DMCP_E_LIMIT;
		return b->fail;
	}
	rc = grow(b, b->len + (size_t)n);
	if (rc != DMCP_OK) {
		b->fail = rc;
		return rc;
	}
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return DMCP_OK;
}

dmcp_rc buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	dmcp_rc rc;

	va_start(ap, fmt);
	rc = buf_vaddf(b, fmt, ap);
	va_end(ap);
	return rc;
}

const char *buf_cstr(struct buf *b)
{
	return b->data != NULL ? b->data : "";
}

char *buf_take(struct buf *b)
{
	char *p = b->data;

	if (p == NULL)
		p = calloc(1, 1);
	buf_init(b, b->max);
	return p;
}
