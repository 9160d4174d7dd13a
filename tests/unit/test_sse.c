/* test_sse.c — TAP tests of core/sse.c: event framing (id, retry, data lines split at \n,
 * \r\n and \r), comments, the buffer cap, and event ids "<run id>:<lsn>" both ways.
 * Knows nothing of HTTP or the database. */
#include <stdint.h>
#include <string.h>
#include "http.h"
#include "rnd.h"
#include "sse.h"
#include "t.h"

#define RUN "0123456789abcdef0123456789abcdef"

/* Bytes of a framed text shown in a check's name. */
#define SHOW_LEN 120

/* s with \r and \n spelled out, for a one-line TAP name. Static; two slots. */
static const char *show(const char *s)
{
	static char out[2][SHOW_LEN + 4];
	static int slot;
	char *o = out[slot ^= 1];
	size_t n = 0;

	for (; *s != '\0' && n < SHOW_LEN; s++) {
		if (*s == '\n' || *s == '\r') {
			o[n++] = '\\';
			o[n++] = *s == '\n' ? 'n' : 'r';
		} else {
			o[n++] = *s;
		}
	}
	o[n] = '\0';
	return o;
}

/* Compares framed text, showing both sides on one line. */
static void same(const char *got, const char *want, const char *name)
{
	T_OK(strcmp(got, want) == 0, "%s (got '%s', want '%s')", name, show(got), show(want));
}

/* Frames one event into a fresh buffer and compares the text. */
static void frame(const char *id, int retry, const char *data, const char *want, const char *name)
{
	struct buf b;
	dmcp_rc rc;

	buf_init(&b, 1u << 16);
	rc = sse_event(&b, id, retry, data);
	T_OK(rc == DMCP_OK, "%s: framed", name);
	same(buf_cstr(&b), want, name);
	buf_free(&b);
}

static void test_event(void)
{
	struct buf b;
	dmcp_rc rc;

	frame(NULL, -1, "{\"a\":1}", "data: {\"a\":1}\n\n", "data only");
	frame("x:1", -1, "d", "id: x:1\ndata: d\n\n", "id and data");
	frame(NULL, 1000, "d", "retry: 1000\ndata: d\n\n", "retry and data");
	frame("e", 0, "d", "id: e\nretry: 0\ndata: d\n\n", "id, retry 0 and data");
	frame(NULL, -1, "", "data: \n\n", "empty data gives one empty data line");
	frame("p", 500, "", "id: p\nretry: 500\ndata: \n\n", "a priming event");
	frame(NULL, -1, "a\nb", "data: a\ndata: b\n\n", "\\n splits lines");
	frame(NULL, -1, "a\r\nb", "data: a\ndata: b\n\n", "\\r\\n splits once");
	frame(NULL, -1, "a\rb", "data: a\ndata: b\n\n", "\\r splits lines");
	frame(NULL, -1, "a\n\nb", "data: a\ndata: \ndata: b\n\n", "an empty line in the middle");
	frame(NULL, -1, "a\r\rb", "data: a\ndata: \ndata: b\n\n", "two \\r give an empty line");
	frame(NULL, -1, "a\n\rb", "data: a\ndata: \ndata: b\n\n", "\\n then \\r is two breaks");
	frame(NULL, -1, "a\n", "data: a\ndata: \n\n", "a trailing newline keeps its empty line");
	frame(NULL, -1, "\n", "data: \ndata: \n\n", "a lone newline");
	frame(NULL, -1, "x\r\n\r\ny", "data: x\ndata: \ndata: y\n\n", "\\r\\n\\r\\n");
	frame(NULL, -1, "id: forged\n\nevent: x", "data: id: forged\ndata: \ndata: event: x\n\n",
	      "data cannot inject fields or end the event early");

	/* The cap: a failed buffer reports its failure. */
	buf_init(&b, 10);
	rc = sse_event(&b, NULL, -1, "0123456789");
	T_EQ_INT(rc, DMCP_E_LIMIT, "an event larger than the cap gives DMCP_E_LIMIT");
	buf_free(&b);
	buf_init(&b, 11); /* "data: abc\n\n" */
	rc = sse_event(&b, NULL, -1, "abc");
	T_OK(rc == DMCP_OK && b.len == 11, "an event exactly at the cap");
	rc = sse_event(&b, NULL, -1, "");
	T_EQ_INT(rc, DMCP_E_LIMIT, "one more event past the cap");
	buf_free(&b);

	/* Several events append. */
	buf_init(&b, 1024);
	rc = sse_event(&b, "1", -1, "a");
	if (rc == DMCP_OK)
		rc = sse_event(&b, "2", -1, "b");
	T_OK(rc == DMCP_OK, "two events");
	same(buf_cstr(&b), "id: 1\ndata: a\n\nid: 2\ndata: b\n\n", "events append");
	buf_free(&b);
}

static void test_comment(void)
{
	struct buf b;
	dmcp_rc rc;

	buf_init(&b, 64);
	rc = sse_comment(&b, "keepalive");
	T_EQ_INT(rc, DMCP_OK, "comment framed");
	same(buf_cstr(&b), ": keepalive\n\n", "comment text");
	buf_free(&b);
	buf_init(&b, 64);
	rc = sse_comment(&b, "");
	same(buf_cstr(&b), ": \n\n", "empty comment");
	buf_free(&b);
	buf_init(&b, 4);
	rc = sse_comment(&b, "long");
	T_EQ_INT(rc, DMCP_E_LIMIT, "a comment past the cap");
	buf_free(&b);

	/* Found by fuzz/fuzz_sse.c: a line break in the text ended the comment line, and what
	 * followed was read as a field ("data: x" made an event). Each line is a comment now. */
	buf_init(&b, 1024);
	rc = sse_comment(&b, "a\ndata: x\rid: y\r\nz");
	T_EQ_INT(rc, DMCP_OK, "a comment with line breaks framed");
	same(buf_cstr(&b), ": a\n: data: x\n: id: y\n: z\n\n",
	     "each line of a comment's text is a comment line");
	buf_free(&b);
	buf_init(&b, 1024);
	rc = sse_comment(&b, "\n");
	same(buf_cstr(&b), ": \n: \n\n", "a comment of one line break is two empty comment lines");
	buf_free(&b);
}

static void test_ids(void)
{
	char buf[SSE_ID_MAX];
	rnd_hex_id run;
	char *id = buf;
	int64_t lsn;
	int ok;

	sse_event_id(id, RUN, 0);
	T_EQ_STR(id, RUN ":0", "id for lsn 0");
	ok = sse_parse_event_id(id, run, &lsn);
	T_OK(ok && strcmp(run, RUN) == 0 && lsn == 0, "round trip lsn 0");
	sse_event_id(id, RUN, 42);
	ok = sse_parse_event_id(id, run, &lsn);
	T_OK(ok && strcmp(run, RUN) == 0 && lsn == 42, "round trip lsn 42");
	sse_event_id(id, RUN, 999999999999999999LL);
	T_EQ_STR(id, RUN ":999999999999999999", "id for the largest 18-digit lsn");
	ok = sse_parse_event_id(id, run, &lsn);
	T_OK(ok && lsn == 999999999999999999LL, "round trip of an 18-digit lsn");
	sse_event_id(id, RUN, INT64_MAX);
	T_OK(strlen(id) < SSE_ID_MAX, "INT64_MAX fits in SSE_ID_MAX");
	sse_event_id(id, RUN "ffff", 1);
	T_EQ_STR(id, RUN ":1", "a longer run id is cut to 32 characters");

	/* Refusals. */
	lsn = -5;
	T_EQ_INT(sse_parse_event_id(NULL, run, &lsn), 0, "NULL");
	T_EQ_INT(sse_parse_event_id("", run, &lsn), 0, "empty");
	T_EQ_INT(sse_parse_event_id(RUN, run, &lsn), 0, "missing colon and lsn");
	T_EQ_INT(sse_parse_event_id(RUN ":", run, &lsn), 0, "missing lsn");
	T_EQ_INT(sse_parse_event_id(RUN "5", run, &lsn), 0, "missing colon");
	T_EQ_INT(sse_parse_event_id(RUN ";5", run, &lsn), 0, "wrong separator");
	T_EQ_INT(sse_parse_event_id("0123456789ABCDEF0123456789abcdef:5", run, &lsn), 0,
	         "upper-case hex");
	T_EQ_INT(sse_parse_event_id("0123456789abcdef0123456789abcde:5", run, &lsn), 0,
	         "31 hex characters");
	T_EQ_INT(sse_parse_event_id("0123456789abcdef0123456789abcdef0:5", run, &lsn), 0,
	         "33 hex characters");
	T_EQ_INT(sse_parse_event_id("0123456789abcdef0123456789abcdeg:5", run, &lsn), 0,
	         "a non-hex character");
	T_EQ_INT(sse_parse_event_id(RUN ":-1", run, &lsn), 0, "negative lsn");
	T_EQ_INT(sse_parse_event_id(RUN ":+1", run, &lsn), 0, "lsn with a plus");
	T_EQ_INT(sse_parse_event_id(RUN ": 1", run, &lsn), 0, "lsn with a space");
	T_EQ_INT(sse_parse_event_id(RUN ":1a", run, &lsn), 0, "trailing garbage");
	T_EQ_INT(sse_parse_event_id(RUN ":1 ", run, &lsn), 0, "trailing space");
	T_EQ_INT(sse_parse_event_id(RUN ":1:2", run, &lsn), 0, "two colons");
	T_EQ_INT(sse_parse_event_id(RUN ":abc", run, &lsn), 0, "non-digit lsn");
	T_EQ_INT(sse_parse_event_id(RUN ":1000000000000000000", run, &lsn), 0, "19-digit lsn");
	T_EQ_INT(sse_parse_event_id(RUN ":9223372036854775807", run, &lsn), 0, "INT64_MAX");
	T_EQ_INT(sse_parse_event_id(RUN ":99999999999999999999", run, &lsn), 0, "20-digit lsn");
	T_EQ_INT(lsn, -5, "a refused id leaves *lsn untouched");
}

int main(void)
{
	test_event();
	test_comment();
	test_ids();
	return t_done();
}
