/* sse.c — SSE framing and event ids (see sse.h).
 * Knows nothing of HTTP. Ids are strict: 32 lowercase hex, ':', decimal LSN < 2^63. */
#include <stdio.h>
#include <string.h>
#include "rnd.h"
#include "sse.h"

/* Each line of text (CR LF, CR and LF all end one) as "<prefix><line>\n": a line break in
 * the text can never end a field early and start another. */
static void lines(struct buf *b, const char *prefix, size_t plen, const char *text)
{
	const char *p = text;

	for (;;) {
		size_t n = strcspn(p, "\r\n");
		(void)buf_add(b, prefix, plen);
		(void)buf_add(b, p, n);
		(void)buf_add(b, "\n", 1);
		p += n;
		if (*p == '\0')
			break;
		p += (p[0] == '\r' && p[1] == '\n') ? 2 : 1;
	}
}

dmcp_rc sse_event(struct buf *b, const char *id, int retry_ms, const char *data)
{
	if (id != NULL)
		(void)buf_addf(b, "id: %s\n", id);
	if (retry_ms >= 0)
		(void)buf_addf(b, "retry: %d\n", retry_ms);
	lines(b, "data: ", 6, data);
	(void)buf_add(b, "\n", 1);
	return b->fail;
}

dmcp_rc sse_comment(struct buf *b, const char *text)
{
	lines(b, ": ", 2, text);
	(void)buf_add(b, "\n", 1);
	return b->fail;
}

void sse_event_id(char *out, const char *run_id, int64_t lsn)
{
	snprintf(out, SSE_ID_MAX, "%.32s:%lld", run_id, (long long)lsn);
}

int sse_parse_event_id(const char *s, rnd_hex_id run_id, int64_t *lsn)
{
	const char *p;
	int64_t v = 0;

	if (s == NULL || strlen(s) < RND_ID_LEN + 2 || s[RND_ID_LEN] != ':')
		return 0;
	memcpy(run_id, s, RND_ID_LEN);
	run_id[RND_ID_LEN] = '\0';
	if (!rnd_id_ok(run_id))
		return 0;
	p = s + RND_ID_LEN + 1;
	if (strlen(p) > SSE_MAX_LSN_DIGITS)
		return 0;
	for (; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return 0;
		v = v * 10 + (*p - '0');
	}
	*lsn = v;
	return 1;
}
