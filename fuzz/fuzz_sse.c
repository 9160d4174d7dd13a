/* fuzz_sse.c — libFuzzer target: SSE framing (core/sse.c) of event ids, retry values, data
 * with any line breaks, and comments, read back by an event-stream parser written here from
 * the WHATWG HTML rules (§9.2.6).
 * Knows nothing of HTTP. The input is a flags byte, 16 bytes for the run id and 8 for the LSN
 * and retry, then the data of a first event up to a NUL, the text of a comment up to the next
 * NUL, and the data of a second event. Properties: the stream holds no CR and no NUL; every
 * line is a comment, an "id: ", "retry: " or "data: " field or the blank line that ends an
 * event; parsing it gives back exactly the two events, with their ids, retry and data (line
 * breaks CR LF and CR read as LF, as a client reads them), and the comment adds nothing. */
#include <string.h>
#include "buf.h"
#include "fuzz.h"
#include "rnd.h"
#include "sse.h"

/* Bytes of the framed stream: far above what the fuzzer's inputs make. */
#define STREAM_MAX (1u << 24)
/* LSNs below this have at most SSE_MAX_LSN_DIGITS digits, as every Last-Event-ID must. */
#define LSN_LIMIT 1000000000000000000LL

struct event {
	char id[SSE_ID_MAX]; /* the last event id when the event was dispatched */
	long retry;          /* the last retry field seen, or -1 */
	struct buf data;     /* the data buffer, the trailing LF removed */
};

/* What a client makes of stream s: up to 2 events into ev; the number dispatched. */
static int parse_stream(const char *s, size_t len, struct event *ev, int max)
{
	struct buf data;
	char last_id[SSE_ID_MAX] = "";
	long retry = -1;
	int n = 0, have_data = 0;
	size_t i = 0;

	buf_init(&data, STREAM_MAX);
	while (i < len) {
		const char *line = s + i, *nl = memchr(line, '\n', len - i), *colon, *value;
		size_t ll = (size_t)(nl - line), name_len;
		FUZZ_CHECK(nl != NULL, "the stream ends inside a line");
		i += ll + 1;
		if (ll == 0) { /* dispatch */
			if (have_data) {
				FUZZ_CHECK(n < max, "more events than were written");
				memcpy(ev[n].id, last_id, sizeof last_id);
				ev[n].retry = retry;
				buf_init(&ev[n].data, STREAM_MAX);
				(void)buf_add(&ev[n].data, data.data, data.len - 1); /* less the last LF */
				n++;
			}
			buf_reset(&data);
			have_data = 0;
			continue;
		}
		if (line[0] == ':')
			continue;
		colon = memchr(line, ':', ll);
		name_len = colon != NULL ? (size_t)(colon - line) : ll;
		value = colon != NULL ? colon + 1 : line + ll;
		if (value < line + ll && *value == ' ')
			value++;
		FUZZ_CHECK(colon != NULL && colon[1] == ' ', "a field without ': ': %.*s", (int)ll, line);
		if (name_len == 4 && memcmp(line, "data", 4) == 0) {
			(void)buf_add(&data, value, (size_t)(line + ll - value));
			(void)buf_add(&data, "\n", 1);
			have_data = 1;
		} else if (name_len == 2 && memcmp(line, "id", 2) == 0) {
			size_t vl = (size_t)(line + ll - value);
			FUZZ_CHECK(vl < sizeof last_id, "an id of %zu bytes", vl);
			memcpy(last_id, value, vl);
			last_id[vl] = '\0';
		} else if (name_len == 5 && memcmp(line, "retry", 5) == 0) {
			retry = strtol(value, NULL, 10);
		} else {
			FUZZ_CHECK(0, "a field dmcp never writes: %.*s", (int)ll, line);
		}
	}
	FUZZ_CHECK(!have_data, "an event without its blank line");
	buf_free(&data);
	return n;
}

/* text with CR LF and lone CR turned into LF, as a client reads an event's lines. */
static void normalized(const char *text, struct buf *out)
{
	for (; *text != '\0'; text++) {
		if (*text == '\r') {
			(void)buf_add(out, "\n", 1);
			if (text[1] == '\n')
				text++;
		} else {
			(void)buf_add(out, text, 1);
		}
	}
}

static void check_event(const struct event *got, const char *id, long retry, const char *data)
{
	struct buf want;

	buf_init(&want, STREAM_MAX);
	normalized(data, &want);
	FUZZ_CHECK(strcmp(got->id, id) == 0, "id '%s' read as '%s'", id, got->id);
	FUZZ_CHECK(got->retry == retry, "retry %ld read as %ld", retry, got->retry);
	FUZZ_CHECK(got->data.len == want.len && memcmp(got->data.data, buf_cstr(&want), want.len) == 0,
	           "data changed on the way");
	buf_free(&want);
}

/* The next C string of the input, copied (NUL-free); *p moves past it and its NUL. */
static char *next_text(const uint8_t **p, const uint8_t *end)
{
	const uint8_t *nul = memchr(*p, '\0', (size_t)(end - *p));
	size_t n = nul != NULL ? (size_t)(nul - *p) : (size_t)(end - *p);
	char *s = strndup((const char *)*p, n);

	FUZZ_CHECK(s != NULL, "out of memory");
	*p += nul != NULL ? n + 1 : n;
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *p = data + 25, *end = data + size;
	rnd_hex_id run, back;
	char id[SSE_ID_MAX], *first, *comment, *second;
	struct event ev[2];
	struct buf b;
	int64_t lsn = 0, lsn_back;
	long retry;
	int i, n;

	if (size < 25)
		return 0;
	for (i = 0; i < 16; i++) {
		run[2 * i] = hex[data[1 + i] >> 4];
		run[2 * i + 1] = hex[data[1 + i] & 15];
	}
	run[RND_ID_LEN] = '\0';
	for (i = 0; i < 8; i++)
		lsn = (int64_t)((uint64_t)lsn << 8 | data[17 + i]);
	lsn = (lsn & INT64_MAX) % LSN_LIMIT;
	retry = (data[0] & 1) ? (long)(lsn % 600001) : -1;
	sse_event_id(id, run, lsn);
	FUZZ_CHECK(sse_parse_event_id(id, back, &lsn_back) && strcmp(back, run) == 0 &&
	           lsn_back == lsn, "event id %s does not parse back", id);

	first = next_text(&p, end);
	comment = next_text(&p, end);
	second = next_text(&p, end);
	buf_init(&b, STREAM_MAX);
	FUZZ_CHECK(sse_event(&b, id, (int)retry, first) == DMCP_OK, "sse_event failed");
	FUZZ_CHECK(sse_comment(&b, comment) == DMCP_OK, "sse_comment failed");
	FUZZ_CHECK(sse_event(&b, (data[0] & 2) ? NULL : id, -1, second) == DMCP_OK,
	           "sse_event failed");
	FUZZ_CHECK(memchr(b.data, '\r', b.len) == NULL, "a CR in the stream");
	FUZZ_CHECK(memchr(b.data, '\0', b.len) == NULL, "a NUL in the stream");
	n = parse_stream(b.data, b.len, ev, 2);
	FUZZ_CHECK(n == 2, "%d events instead of 2", n);
	check_event(&ev[0], id, retry, first);
	check_event(&ev[1], id, retry, second); /* id and retry carry over */
	for (i = 0; i < n; i++)
		buf_free(&ev[i].data);
	buf_free(&b);
	free(first);
	free(comment);
	free(second);
	return 0;
}
