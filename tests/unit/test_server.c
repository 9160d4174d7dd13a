/* test_server.c — TAP tests of core/server.c end to end without a database or a web server:
 * srv_handle over requests read from memory and answers written into a buffer, with the
 * in-memory store of fake_store.c behind srv_worker_new. Every transport rule (403, 405,
 * 415, 406, 413, 400, 404, 202), and that the rejections made before the database is needed
 * do not touch the store; initialize, one-step and streaming tools/call, answers, GET with
 * Last-Event-ID, following a run woken by NOTIFY, cancellation and DELETE; the 2026-07-28
 * ladder (every rung, and none of it touches the store), subscriptions/listen and the
 * 2025-11-25 standalone stream fed by change payloads. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "cfg.h"
#include "dmcp.h"
#include "err.h"
#include "examples.h"
#include "fake_store.h"
#include "auth.h"
#include "http.h"
#include "js.h"
#include "rnd.h"
#include "server.h"
#include "store.h"
#include "t.h"
#include "wake.h"

/* Bytes of one captured answer. */
#define OUT_MAX (4u << 20)
/* The body limit the tests configure. */
#define MAX_BODY 4096

static struct cfg cfg;
static dmcp_registry *reg;
static struct srv *srv;
static struct srv_worker *w, *w2;
static struct wake *tw; /* the test's wake-ups: NOTIFYs of the fake store ring it */

static void ring_on_notify(void *arg, const char *payload)
{
	wake_notify(arg, payload);
}
static volatile sig_atomic_t stopping;

/* ---- request and answer in memory ------------------------------------------------------- */

struct mem_in {
	const char *data;
	size_t len, pos;
	size_t chunk; /* bytes handed over per read */
};

static dmcp_rc mem_read(void *io, char *p, size_t cap, size_t *got)
{
	struct mem_in *in = io;
	size_t n = in->len - in->pos;

	if (n > cap)
		n = cap;
	if (in->chunk > 0 && n > in->chunk)
		n = in->chunk;
	memcpy(p, in->data + in->pos, n);
	in->pos += n;
	*got = n;
	return DMCP_OK;
}

struct mem_out {
	struct buf b;
	int flushes;
};

static dmcp_rc mem_write(void *io, const char *p, size_t n)
{
	struct mem_out *o = io;

	return buf_add(&o->b, p, n);
}

static dmcp_rc mem_flush(void *io)
{
	struct mem_out *o = io;

	o->flushes++;
	return DMCP_OK;
}

/* One answer, split. */
struct resp {
	char *raw;        /* owned: everything written */
	int status;
	char *head;       /* owned copy of the head (without the blank line) */
	const char *body; /* into raw */
	size_t body_len;
	json_object *json; /* the body parsed, when it is JSON */
	size_t read;       /* body bytes srv_handle read */
	int flushes;
};

static void resp_free(struct resp *r)
{
	free(r->raw);
	free(r->head);
	json_object_put(r->json);
	memset(r, 0, sizeof r[0]);
}

/* The value of header name in the head (copied into out), or NULL. */
static const char *header(const struct resp *r, const char *name, char *out, size_t cap)
{
	char key[80];
	const char *p, *e;

	snprintf(key, sizeof key, "\r\n%s: ", name);
	p = r->head != NULL ? strstr(r->head, key) : NULL;
	if (p == NULL)
		return NULL;
	p += strlen(key);
	e = strstr(p, "\r\n");
	snprintf(out, cap, "%.*s", (int)(e != NULL ? (size_t)(e - p) : strlen(p)), p);
	return out;
}

/* A POST as a well-behaved client sends it. */
static struct srv_req post_req(const char *session)
{
	struct srv_req rq;

	memset(&rq, 0, sizeof rq);
	rq.method = "POST";
	rq.accept = "application/json, text/event-stream";
	rq.content_type = "application/json";
	rq.host = "localhost:3001";
	rq.session_id = session;
	rq.protocol_version = session != NULL ? "2025-11-25" : NULL;
	return rq;
}

static struct srv_req get_req(const char *session, const char *last_event_id)
{
	struct srv_req rq;

	memset(&rq, 0, sizeof rq);
	rq.method = "GET";
	rq.accept = "text/event-stream";
	rq.host = "localhost:3001";
	rq.session_id = session;
	rq.last_event_id = last_event_id;
	return rq;
}

/* Run srv_handle on worker wk. content_length_auto: send the body's length as
 * Content-Length. */
static struct resp handle_on(struct srv_worker *wk, struct srv_req rq, const char *body,
                             int content_length_auto)
{
	struct mem_in in = {body != NULL ? body : "", body != NULL ? strlen(body) : 0, 0, 1000};
	struct mem_out o;
	struct srv_out out;
	struct resp r;
	char clen[24];
	const char *sep;

	memset(&r, 0, sizeof r);
	buf_init(&o.b, OUT_MAX);
	o.flushes = 0;
	if (content_length_auto) {
		snprintf(clen, sizeof clen, "%zu", in.len);
		rq.content_length = clen;
	}
	rq.io = &in;
	rq.read = mem_read;
	out.io = &o;
	out.write = mem_write;
	out.flush = mem_flush;
	out.fd = -1;
	srv_handle(wk, &rq, &out);
	r.read = in.pos;
	r.flushes = o.flushes;
	r.raw = buf_take(&o.b);
	if (r.raw == NULL)
		r.raw = strdup("");
	buf_free(&o.b);
	sep = strstr(r.raw, "\r\n\r\n");
	if (sscanf(r.raw, "Status: %d", &r.status) != 1)
		r.status = -1;
	if (sep != NULL) {
		r.head = strndup(r.raw, (size_t)(sep - r.raw) + 2);
		r.body = sep + 4;
		r.body_len = strlen(r.body);
		r.json = js_parse_trusted(r.body);
	} else {
		r.body = "";
	}
	return r;
}

static struct resp handle(struct srv_req rq, const char *body)
{
	return handle_on(w, rq, body, body != NULL);
}

static int rpc_code(const struct resp *r)
{
	return json_object_get_int(js_get(js_get(r->json, "error", json_type_object), "code",
	                                  json_type_int));
}

/* A decimal number, or -1. */
static long atoi_ok(const char *s)
{
	char *end = NULL;
	long v = strtol(s, &end, 10);

	return end != s && *end == '\0' ? v : -1;
}

static int has(const char *hay, const char *needle)
{
	return hay != NULL && strstr(hay, needle) != NULL;
}

/* Occurrences of needle in hay. */
static int count_of(const char *hay, const char *needle)
{
	int n = 0;

	while (hay != NULL && (hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

/* initialize a session for principal (NULL: anonymous) with caps; its id into sid. */
static int init_session(const char *principal, const char *version, const char *caps,
                        rnd_hex_id sid)
{
	struct srv_req rq = post_req(NULL);
	struct resp r;
	char body[512], hv[64];
	int ok;

	snprintf(body, sizeof body, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\","
	         "\"params\":{\"protocolVersion\":\"%s\",\"capabilities\":%s,\"clientInfo\":"
	         "{\"name\":\"t\",\"version\":\"1\"}}}", version, caps);
	rq.remote_user = principal;
	r = handle(rq, body);
	ok = r.status == 200 && header(&r, "Mcp-Session-Id", hv, sizeof hv) != NULL &&
	     rnd_id_ok(hv);
	if (ok)
		snprintf(sid, sizeof(rnd_hex_id), "%.*s", RND_ID_LEN, hv);
	resp_free(&r);
	return ok;
}

/* ---- rejections made before the database ------------------------------------------------- */

static void check_rejected(struct srv_req rq, const char *body, int declared, int status,
                           int code, const char *name)
{
	long calls = fake_store_calls();
	struct resp r = handle_on(w, rq, body, declared);

	T_EQ_INT(r.status, status, name);
	if (code != 0)
		T_OK(rpc_code(&r) == code, "%s: JSON-RPC error %d (got %d)", name, code, rpc_code(&r));
	T_EQ_INT(fake_store_calls() - calls, 0, "... and the store was not touched");
	resp_free(&r);
}

static void test_transport(const char *sid)
{
	struct srv_req rq;
	struct resp r;
	char big[MAX_BODY + 200], hv[100], longhdr[5000];
	static const char ping[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}";
	long calls, lookups;

	rq = post_req(sid);
	rq.host = "evil.example";
	check_rejected(rq, ping, 1, 403, RPC_SERVER_ERROR, "403: a Host not allowed");
	rq = post_req(sid);
	rq.origin = "http://evil.example";
	check_rejected(rq, ping, 1, 403, RPC_SERVER_ERROR, "403: an Origin not allowed");
	rq = post_req(sid);
	rq.origin = "null";
	check_rejected(rq, ping, 1, 403, 0, "403: Origin null");
	rq = post_req(sid);
	rq.method = "PUT";
	r = handle(rq, ping);
	T_EQ_INT(r.status, 405, "405: PUT");
	T_OK(header(&r, "Allow", hv, sizeof hv) != NULL && has(hv, "POST"),
	     "405: ... with an Allow header");
	resp_free(&r);
	rq = post_req(sid);
	rq.method = "PATCH";
	check_rejected(rq, ping, 1, 405, 0, "405: PATCH");
	rq = post_req(sid);
	rq.content_type = "text/plain";
	check_rejected(rq, ping, 1, 415, RPC_SERVER_ERROR, "415: Content-Type text/plain");
	rq = post_req(sid);
	rq.content_type = NULL;
	check_rejected(rq, ping, 1, 415, 0, "415: no Content-Type");
	rq = post_req(sid);
	rq.accept = "application/json";
	check_rejected(rq, ping, 1, 406, RPC_SERVER_ERROR, "406: Accept without text/event-stream");
	rq = post_req(sid);
	rq.accept = "application/json, text/event-stream;q=0";
	check_rejected(rq, ping, 1, 406, 0, "406: text/event-stream with q=0");

	memset(big, ' ', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	memcpy(big, ping, sizeof ping - 1);
	rq = post_req(sid);
	calls = fake_store_calls();
	r = handle_on(w, rq, big, 1);
	T_EQ_INT(r.status, 413, "413: a declared Content-Length over DMCP_MAX_BODY");
	T_EQ_INT(r.read, 0, "413: ... refused before reading the body");
	T_EQ_INT(fake_store_calls() - calls, 0, "... and the store was not touched");
	resp_free(&r);
	rq = post_req(sid);
	check_rejected(rq, big, 0, 413, RPC_INVALID_REQUEST, "413: an undeclared body over the cap");
	rq = post_req(sid);
	rq.content_length = "100";
	check_rejected(rq, "{\"a\":1}", 0, 400, RPC_INVALID_REQUEST,
	               "400: a body shorter than its Content-Length");
	rq = post_req(sid);
	rq.content_length = "12abc";
	check_rejected(rq, ping, 0, 400, RPC_INVALID_REQUEST, "400: Content-Length not a number");
	rq = post_req(sid);
	check_rejected(rq, "{nope", 1, 400, RPC_PARSE_ERROR, "400: not JSON: -32700");
	rq = post_req(sid);
	check_rejected(rq, "", 1, 400, RPC_PARSE_ERROR, "400: an empty body: -32700");
	rq = post_req(sid);
	check_rejected(rq, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]", 1, 400,
	               RPC_INVALID_REQUEST, "400: a batch: -32600");
	rq = post_req(sid);
	check_rejected(rq, "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"ping\"}", 1, 400,
	               RPC_INVALID_REQUEST, "400: jsonrpc 1.0: -32600");
	rq = post_req(sid);
	check_rejected(rq, "{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}", 1, 400,
	               RPC_INVALID_REQUEST, "400: a null id: -32600");
	rq = post_req(sid);
	rq.protocol_version = "1999-01-01";
	check_rejected(rq, ping, 1, 400, RPC_INVALID_REQUEST, "400: a bad MCP-Protocol-Version");
	memset(longhdr, 'a', sizeof longhdr - 1);
	longhdr[sizeof longhdr - 1] = '\0';
	rq = post_req(sid);
	rq.accept = longhdr;
	check_rejected(rq, ping, 1, 400, RPC_INVALID_REQUEST, "400: a header over 4096 bytes");
	rq = post_req(sid);
	rq.remote_user = "bad\nuser";
	check_rejected(rq, ping, 1, 400, RPC_INVALID_REQUEST, "400: a REMOTE_USER with a newline");

	rq = get_req(sid, NULL);
	check_rejected(rq, NULL, 0, 405, RPC_SERVER_ERROR, "405: GET without Last-Event-ID");
	rq = get_req(sid, "not-an-event-id");
	check_rejected(rq, NULL, 0, 400, RPC_INVALID_REQUEST, "400: a malformed Last-Event-ID");
	rq = get_req(sid, "0123456789abcdef0123456789abcdef:1");
	rq.accept = "application/json";
	check_rejected(rq, NULL, 0, 406, 0, "406: GET without text/event-stream");
	rq = get_req(NULL, NULL);
	rq.method = "DELETE";
	check_rejected(rq, NULL, 0, 400, RPC_INVALID_REQUEST, "400: DELETE without a session");
	rq = get_req("zz", NULL);
	rq.method = "DELETE";
	check_rejected(rq, NULL, 0, 404, RPC_SESSION_NOT_FOUND, "404: DELETE of a malformed id");

	/* These need the database. */
	rq = post_req(NULL);
	calls = fake_store_calls();
	lookups = fake_store_calls_of("store_session_get");
	r = handle(rq, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}");
	T_EQ_INT(r.status, 400, "400: no Mcp-Session-Id");
	T_EQ_INT(rpc_code(&r), RPC_INVALID_REQUEST, "400: ... -32600");
	T_EQ_INT(fake_store_calls_of("store_session_get") - lookups, 0,
	         "400: ... without a session lookup");
	if (fake_store_calls() != calls)
		printf("# note: a POST without Mcp-Session-Id made %ld store call(s) (store_ready)\n",
		       fake_store_calls() - calls);
	resp_free(&r);
	rq = post_req("0123456789abcdef0123456789abcdef");
	r = handle(rq, ping);
	T_EQ_INT(r.status, 404, "404: an unknown session");
	T_EQ_INT(rpc_code(&r), RPC_SESSION_NOT_FOUND, "404: ... -32001");
	resp_free(&r);
	rq = post_req("not-hex");
	lookups = fake_store_calls_of("store_session_get");
	r = handle(rq, ping);
	T_EQ_INT(r.status, 404, "404: a malformed session id");
	T_EQ_INT(fake_store_calls_of("store_session_get") - lookups, 0, "404: ... not looked up");
	resp_free(&r);
	rq = post_req(sid);
	rq.remote_user = "bob";
	r = handle(rq, ping);
	T_EQ_INT(r.status, 404, "404: another principal's session");
	resp_free(&r);
	rq = post_req(sid);
	fake_store_fail("store_ready", 0, 1);
	r = handle(rq, ping);
	T_EQ_INT(r.status, 503, "503: the database is unavailable");
	T_EQ_INT(rpc_code(&r), RPC_INTERNAL_ERROR, "503: ... -32603");
	resp_free(&r);
}

/* ---- the happy paths --------------------------------------------------------------------- */

static int run_id_of_stream(const struct resp *r, rnd_hex_id run_id)
{
	const char *p = strstr(r->body, "id: ");

	run_id[0] = '\0';
	if (p == NULL || strlen(p) < 4 + RND_ID_LEN)
		return 0;
	snprintf(run_id, sizeof(rnd_hex_id), "%.*s", RND_ID_LEN, p + 4);
	return rnd_id_ok(run_id);
}

/* While the first worker's stream waits, the second worker takes the client's answer to
 * the call with id 6 of session wait_sid (found through the store: the run id is made
 * inside the call). */
static rnd_hex_id wait_sid;
static int wait_calls, wait_answered;

static void answer_on_w2(void *arg, int *woke)
{
	struct srv_req rq = post_req(wait_sid);
	struct resp r;
	char body[300];
	rnd_hex_id run;

	(void)arg;
	(void)woke;
	wait_calls++;
	if (wait_answered || !fake_store_find_unfinished(wait_sid, "6", run))
		return;
	wait_answered = 1;
	snprintf(body, sizeof body, "{\"jsonrpc\":\"2.0\",\"id\":\"%s/0\",\"result\":{\"action\":"
	         "\"accept\",\"content\":{\"ok\":true}}}", run);
	r = handle_on(w2, rq, body, 1);
	if (r.status != 202)
		printf("# the answer on the second worker got %d\n", r.status);
	resp_free(&r);
}

/* The database fails in the middle: every 503 says when to come back, and a stream whose
 * head went out ends with retry: (never with nothing), so the client resumes. */
static void test_failures(const char *sid)
{
	struct srv_req rq = post_req(sid);
	struct resp r;
	char hv[32];

	fake_store_fail("store_session_get", 0, 1);
	fake_store_fail("store_ready", 0, 1);
	{
		rnd_hex_id other;
		T_OK(rnd_id(other) == DMCP_OK, "a session id nobody cached");
		rq.session_id = other;
		r = handle(rq, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}");
	}
	T_EQ_INT(r.status, 503, "the database down: 503");
	T_OK(header(&r, "Retry-After", hv, sizeof hv) != NULL && atoi_ok(hv) >= 1,
	     "... with Retry-After: a whole number of seconds, at least 1");
	resp_free(&r);
	fake_store_fail("store_ready", 0, 0);
	fake_store_fail("store_session_get", 0, 0);

	/* The first checkpoint goes out, then the database fails: the step ends, the stream
	 * cannot catch up from the table, and ends with retry:. */
	rq = post_req(sid);
	fake_store_fail("store_run_save", 1, 1000);
	fake_store_fail("store_events_after", 0, 1000);
	r = handle(rq, "{\"jsonrpc\":\"2.0\",\"id\":77,\"method\":\"tools/call\",\"params\":"
	           "{\"name\":\"slow_progress\",\"arguments\":{\"steps\":3,\"delay_ms\":0},"
	           "\"_meta\":{\"progressToken\":\"f\"}}}");
	T_EQ_INT(r.status, 200, "a stream whose step failed after its first checkpoint: 200");
	T_OK(has(r.body, "\"progress\":1"), "... the first progress went out");
	T_OK(!has(r.body, "\"result\""), "... no result");
	T_OK(has(r.body, "retry: "), "... and the stream ends with retry:, not with nothing");
	resp_free(&r);
	fake_store_fail("store_run_save", 0, 0);
	fake_store_fail("store_events_after", 0, 0);
}

static void test_calls(const char *sid)
{
	struct srv_req rq;
	struct resp r, g;
	char hv[200], lei[64], want[4096], body[400];
	rnd_hex_id run, sid2, old_sid;
	const char *ev1, *ev2;
	struct run_row row;
	json_object *sc;
	int runs0;

	/* notifications */
	rq = post_req(sid);
	r = handle(rq, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
	T_EQ_INT(r.status, 202, "202: a notification");
	T_EQ_INT(r.body_len, 0, "202: ... with an empty body");
	T_OK(header(&r, "Content-Length", hv, sizeof hv) != NULL && strcmp(hv, "0") == 0,
	     "202: ... and Content-Length: 0");
	resp_free(&r);

	/* a plain request */
	rq = post_req(sid);
	r = handle(rq, "{\"jsonrpc\":\"2.0\",\"id\":\"p\",\"method\":\"ping\"}");
	T_EQ_INT(r.status, 200, "ping: 200");
	T_EQ_STR(js_str(r.json, "id"), "p", "ping: the id is echoed");
	resp_free(&r);
	rq = post_req(sid);
	r = handle(rq, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"nope\"}");
	T_OK(r.status == 200 && rpc_code(&r) == RPC_METHOD_NOT_FOUND, "unknown method: 200, -32601");
	resp_free(&r);

	/* tools/call that finishes in one step: plain JSON */
	rq = post_req(sid);
	runs0 = fake_store_count("runs");
	r = handle(rq, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":"
	           "{\"name\":\"echo\",\"arguments\":{\"message\":\"hi\"}}}");
	T_EQ_INT(r.status, 200, "echo: 200");
	T_OK(header(&r, "Content-Type", hv, sizeof hv) != NULL &&
	     strcmp(hv, "application/json") == 0, "echo: application/json");
	T_OK(header(&r, "Content-Length", hv, sizeof hv) != NULL &&
	     strtoul(hv, NULL, 10) == r.body_len, "echo: Content-Length is the body's length");
	T_EQ_INT(json_object_get_int(json_object_object_get(r.json, "id")), 3, "echo: the id");
	sc = js_get(js_get(r.json, "result", json_type_object), "structuredContent",
	            json_type_object);
	T_EQ_STR(js_str(sc, "echoed"), "hi", "echo: structuredContent.echoed");
	T_EQ_INT(fake_store_count("runs"), runs0, "echo: finished in one step, so not stored");
	resp_free(&r);

	rq = post_req(sid);
	r = handle(rq, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":"
	           "{\"name\":\"echo\",\"arguments\":{}}}");
	T_OK(r.status == 200 && json_object_get_boolean(js_get(js_get(r.json, "result",
	                                                              json_type_object),
	                                                       "isError", json_type_boolean)),
	     "echo: invalid arguments: an isError result");
	T_OK(has(r.body, "Invalid arguments"), "echo: ... saying so");
	resp_free(&r);
	rq = post_req(sid);
	r = handle(rq, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":"
	           "{\"name\":\"no_such_tool\"}}");
	T_OK(r.status == 200 && rpc_code(&r) == RPC_INVALID_PARAMS, "unknown tool: -32602");
	resp_free(&r);

	/* tools/call that elicits: a stream */
	rq = post_req(sid);
	r = handle(rq, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":"
	           "{\"name\":\"confirm\",\"arguments\":{\"question\":\"Sure?\"}}}");
	T_EQ_INT(r.status, 200, "confirm: 200");
	T_OK(header(&r, "Content-Type", hv, sizeof hv) != NULL &&
	     strcmp(hv, "text/event-stream") == 0, "confirm: text/event-stream");
	T_OK(header(&r, "X-Accel-Buffering", hv, sizeof hv) != NULL && strcmp(hv, "no") == 0,
	     "confirm: X-Accel-Buffering: no");
	T_OK(header(&r, "Cache-Control", hv, sizeof hv) != NULL && has(hv, "no-cache"),
	     "confirm: Cache-Control: no-cache");
	T_OK(header(&r, "Content-Length", hv, sizeof hv) == NULL, "confirm: no Content-Length");
	T_OK(run_id_of_stream(&r, run), "confirm: the stream names the run");
	snprintf(want, sizeof want, "id: %s:0\ndata: \n\n", run);
	T_OK(strncmp(r.body, want, strlen(want)) == 0, "confirm: it starts with the priming event "
	     "id: <run>:0");
	ev1 = fake_store_event_body(run, 1);
	snprintf(want, sizeof want, "id: %s:1\ndata: %s\n\n", run, ev1 ? ev1 : "?");
	T_OK(ev1 != NULL && has(r.body, want), "confirm: then the stored request as id <run>:1");
	T_OK(has(ev1, "\"method\":\"elicitation/create\"") && has(ev1, "Sure?"),
	     "confirm: ... an elicitation/create with the question");
	T_OK(has(r.body, "retry: "), "confirm: the hold time passed: the connection ends with retry:");
	T_OK(r.flushes >= 2, "confirm: the events were flushed as they went");
	resp_free(&r);

	/* the answer */
	snprintf(body, sizeof body, "{\"jsonrpc\":\"2.0\",\"id\":\"%s/0\",\"result\":{\"action\":"
	         "\"accept\",\"content\":{\"ok\":true}}}", run);
	rq = post_req(sid);
	r = handle(rq, body);
	T_EQ_INT(r.status, 202, "answer: 202");
	T_EQ_INT(r.body_len, 0, "answer: empty");
	resp_free(&r);
	T_OK(fake_store_run(run, &row) && row.status == RUN_COMPLETED, "answer: the run completed");
	row_run_clear(&row);
	rq = post_req(sid);
	r = handle(rq, body);
	T_EQ_INT(r.status, 202, "answer: the same answer again: 202");
	resp_free(&r);
	T_EQ_INT(fake_store_count("events") > 0 && fake_store_event_body(run, 3) == NULL, 1,
	   "answer: ... and no new event");
	rq = post_req(sid);
	r = handle(rq, "{\"jsonrpc\":\"2.0\",\"id\":\"0123456789abcdef0123456789abcdef/0\","
	           "\"result\":{\"action\":\"decline\"}}");
	T_EQ_INT(r.status, 404, "answer: to no request of ours: 404");
	resp_free(&r);
	rq = post_req(sid);
	r = handle(rq, "{\"jsonrpc\":\"2.0\",\"id\":77,\"result\":{}}");
	T_EQ_INT(r.status, 404, "answer: with a numeric id: 404");
	resp_free(&r);

	/* resume with GET */
	snprintf(lei, sizeof lei, "%s:1", run);
	g = handle(get_req(sid, lei), NULL);
	T_EQ_INT(g.status, 200, "GET: 200");
	T_OK(header(&g, "Content-Type", hv, sizeof hv) != NULL &&
	     strcmp(hv, "text/event-stream") == 0, "GET: text/event-stream");
	ev2 = fake_store_event_body(run, 2);
	snprintf(want, sizeof want, "id: %s:1\ndata: \n\nid: %s:2\ndata: %s\n\n", run, run,
	         ev2 ? ev2 : "?");
	T_OK(strcmp(g.body, want) == 0, "GET after <run>:1: a priming event with the client's own "
	     "cursor, then exactly the response event");
	T_OK(has(ev2, "\"id\":5") && has(ev2, "\"accepted\":true"),
	     "GET: ... the call's result, accepted");
	resp_free(&g);
	snprintf(lei, sizeof lei, "%s:0", run);
	g = handle(get_req(sid, lei), NULL);
	T_EQ_INT(count_of(g.body, "\ndata: "), 3, "GET after <run>:0: priming, the request, the response");
	T_OK(strncmp(g.body, "id: ", 4) == 0 && has(g.body, ":0\ndata: \n\n"),
	     "GET: the resumed stream starts with a priming event (id = Last-Event-ID)");
	resp_free(&g);
	snprintf(lei, sizeof lei, "%s:9", run);
	g = handle(get_req(sid, lei), NULL);
	T_EQ_INT(g.status, 404, "GET after an LSN the run never had: 404");
	resp_free(&g);

	/* another session may not read this run */
	T_OK(init_session(NULL, "2025-11-25", "{}", sid2), "a second session");
	snprintf(lei, sizeof lei, "%s:1", run);
	g = handle(get_req(sid2, lei), NULL);
	T_EQ_INT(g.status, 404, "GET: another session's run: 404");
	T_OK(!has(g.body, "accepted"), "GET: ... and nothing of it");
	resp_free(&g);
	rq = get_req(sid, lei);
	rq.remote_user = "bob";
	g = handle(rq, NULL);
	T_EQ_INT(g.status, 404, "GET: another principal: 404");
	resp_free(&g);

	/* the answer arrives while the POST's stream follows the run (NOTIFY wakes it) */
	snprintf(wait_sid, sizeof wait_sid, "%s", sid);
	wait_calls = wait_answered = 0;
	wake_on_wait(tw, answer_on_w2, NULL);
	rq = post_req(sid);
	r = handle(rq, "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"tools/call\",\"params\":"
	           "{\"name\":\"confirm\",\"arguments\":{\"question\":\"Now?\"}}}");
	T_OK(wait_answered, "follow: the answer came while the stream waited");
	T_OK(has(r.body, "\"id\":6,\"result\""), "follow: the stream carries the response");
	T_OK(!has(r.body, "retry: "), "follow: ... and ends without retry:");
	T_EQ_INT(count_of(r.body, "\ndata: "), 3, "follow: priming, request, response");
	resp_free(&r);
	wake_on_wait(tw, NULL, NULL);

	/* a session on 2025-06-18: no priming event */
	T_OK(init_session(NULL, "2025-06-18", "{\"elicitation\":{}}", old_sid), "an older session");
	rq = post_req(old_sid);
	rq.protocol_version = "2025-06-18";
	r = handle(rq, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":"
	           "{\"name\":\"confirm\"}}");
	T_OK(run_id_of_stream(&r, run), "2025-06-18: a stream");
	snprintf(want, sizeof want, "id: %s:1\n", run);
	T_OK(strncmp(r.body, want, strlen(want)) == 0, "2025-06-18: it starts with the request, "
	     "no priming event");
	resp_free(&r);

	/* progress: a stream with the token */
	rq = post_req(sid);
	r = handle(rq, "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"tools/call\",\"params\":"
	           "{\"name\":\"test_tool_with_progress\",\"_meta\":{\"progressToken\":\"pt\"}}}");
	T_OK(header(&r, "Content-Type", hv, sizeof hv) != NULL &&
	     strcmp(hv, "text/event-stream") == 0, "progress: a stream");
	T_EQ_INT(count_of(r.body, "notifications/progress"), 3, "progress: three notifications");
	T_EQ_INT(count_of(r.body, "\"progressToken\":\"pt\""), 3, "progress: ... with the token");
	T_OK(has(r.body, "\"id\":8,\"result\""), "progress: then the result");
	T_OK(!has(r.body, "retry: "), "progress: the stream ends with the result");
	resp_free(&r);

	/* polling: the tool breaks its stream */
	rq = post_req(sid);
	r = handle(rq, "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/call\",\"params\":"
	           "{\"name\":\"test_reconnection\"}}");
	T_OK(run_id_of_stream(&r, run), "break: a stream");
	snprintf(want, sizeof want, "id: %s:1\nretry: 500\ndata: \n\n", run);
	T_OK(has(r.body, want), "break: the poll event carries retry: 500");
	T_OK(!has(r.body, "\"id\":9,\"result\""), "break: the connection ends before the result");
	resp_free(&r);
	snprintf(lei, sizeof lei, "%s:1", run);
	g = handle(get_req(sid, lei), NULL);
	T_OK(g.status == 200 && has(g.body, "\"id\":9,\"result\""), "break: GET receives the result");
	resp_free(&g);

	/* notifications/cancelled */
	rq = post_req(sid);
	r = handle(rq, "{\"jsonrpc\":\"2.0\",\"id\":\"c\",\"method\":\"tools/call\",\"params\":"
	           "{\"name\":\"confirm\"}}");
	T_OK(run_id_of_stream(&r, run), "cancel: a waiting call");
	resp_free(&r);
	rq = post_req(sid);
	r = handle(rq, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":"
	           "{\"requestId\":\"c\",\"reason\":\"no\"}}");
	T_EQ_INT(r.status, 202, "cancel: 202");
	resp_free(&r);
	T_OK(fake_store_run(run, &row) && row.status == RUN_CANCELLED, "cancel: the run is cancelled");
	row_run_clear(&row);
	snprintf(lei, sizeof lei, "%s:1", run);
	g = handle(get_req(sid, lei), NULL);
	T_OK(g.status == 200 && !has(g.body, "data: {"), "cancel: GET ends at once, with no event");
	resp_free(&g);

	/* the limit of unfinished runs */
	cfg.max_runs = 1;
	rq = post_req(old_sid);
	rq.protocol_version = "2025-06-18";
	r = handle(rq, "{\"jsonrpc\":\"2.0\",\"id\":10,\"method\":\"tools/call\",\"params\":"
	           "{\"name\":\"confirm\"}}");
	T_OK(r.status == 200 && rpc_code(&r) == RPC_SERVER_ERROR &&
	     has(r.body, "DMCP_MAX_RUNS_PER_SESSION"),
	     "max runs: -32000 naming DMCP_MAX_RUNS_PER_SESSION");
	resp_free(&r);
	cfg.max_runs = 100;

	/* the principal's limit of unfinished runs: with 1, the second of two waiting calls is
	 * refused whatever the principal held before, and not stored */
	cfg.max_principal_runs = 1;
	rq = post_req(sid);
	r = handle(rq, "{\"jsonrpc\":\"2.0\",\"id\":20,\"method\":\"tools/call\",\"params\":"
	           "{\"name\":\"confirm\"}}");
	resp_free(&r);
	runs0 = fake_store_count("runs");
	rq = post_req(sid);
	r = handle(rq, "{\"jsonrpc\":\"2.0\",\"id\":21,\"method\":\"tools/call\",\"params\":"
	           "{\"name\":\"confirm\"}}");
	T_OK(r.status == 200 && rpc_code(&r) == RPC_SERVER_ERROR &&
	     has(r.body, "DMCP_MAX_RUNS_PER_PRINCIPAL") && !has(r.body, "PER_SESSION"),
	     "max runs per principal: -32000 naming DMCP_MAX_RUNS_PER_PRINCIPAL (%.200s)", r.body);
	T_EQ_INT(fake_store_count("runs"), runs0, "max runs per principal: the call is not stored");
	resp_free(&r);
	cfg.max_principal_runs = 0;

	/* the run cannot be stored */
	runs0 = fake_store_count("runs");
	fake_store_fail("store_run_save", 0, 1);
	rq = post_req(sid);
	r = handle(rq, "{\"jsonrpc\":\"2.0\",\"id\":11,\"method\":\"tools/call\",\"params\":"
	           "{\"name\":\"confirm\"}}");
	T_OK(r.status == 503 && rpc_code(&r) == RPC_INTERNAL_ERROR, "store fails: 503, -32603");
	T_EQ_INT(fake_store_count("runs"), runs0, "store fails: no run");
	resp_free(&r);

	/* DELETE */
	rq = get_req(sid2, NULL);
	rq.method = "DELETE";
	r = handle(rq, NULL);
	T_EQ_INT(r.status, 200, "DELETE: 200");
	resp_free(&r);
	rq = post_req(sid2);
	r = handle(rq, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}");
	T_EQ_INT(r.status, 404, "DELETE: the session is gone: 404");
	resp_free(&r);
	rq = get_req(sid2, NULL);
	rq.method = "DELETE";
	r = handle(rq, NULL);
	T_EQ_INT(r.status, 404, "DELETE: twice: 404");
	resp_free(&r);
}

/* ---- 2026-07-28 ---------------------------------------------------------------------------- */

#define META26 "\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\"," \
	"\"io.modelcontextprotocol/clientCapabilities\":{}}"

static struct srv_req post26(const char *method, const char *name)
{
	struct srv_req rq = post_req(NULL);

	rq.protocol_version = "2026-07-28";
	rq.mcp_method = method;
	rq.mcp_name = name;
	return rq;
}

/* The error code and id of r ("code id", e.g. "-32020 7"). */
static const char *code_id(const struct resp *r, char *out, size_t cap)
{
	snprintf(out, cap, "%d %s", rpc_code(r), js_text(json_object_object_get(r->json, "id")));
	return out;
}

static void rung(struct srv_req rq, const char *body, int status, const char *want,
                 const char *name)
{
	long calls = fake_store_calls();
	struct resp r = handle(rq, body);
	char got[64];

	T_EQ_INT(r.status, status, name);
	T_EQ_STR(code_id(&r, got, sizeof got), want, "... code and id");
	T_EQ_INT(fake_store_calls() - calls, 0, "... and the store was not touched");
	resp_free(&r);
}

static void test_ladder(void)
{
	static const char disc[] = "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"server/discover\","
	                           "\"params\":{" META26 "}}";
	struct srv_req rq;

	rung(post26("server/discover", NULL), "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":"
	     "\"server/discover\",\"params\":{}}", 400, "-32602 7", "modern header, no _meta: 400");
	rung(post26("server/discover", NULL), "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":"
	     "\"server/discover\",\"params\":{\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":"
	     "\"2026-07-28\"}}}", 400, "-32602 7", "no clientCapabilities: 400");
	rq = post26("server/discover", NULL);
	rq.protocol_version = "2025-11-25";
	rung(rq, disc, 400, "-32020 7", "header 2025-11-25, _meta 2026-07-28: 400 -32020");
	rung(post26("server/discover", NULL), "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":"
	     "\"server/discover\",\"params\":{\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":"
	     "\"2027-01-01\",\"io.modelcontextprotocol/clientCapabilities\":{}}}}", 400, "-32020 7",
	     "header and _meta differ: 400 -32020");
	rq = post26("server/discover", NULL);
	rq.protocol_version = "2027-01-01";
	rung(rq, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"server/discover\",\"params\":{\"_meta\":"
	     "{\"io.modelcontextprotocol/protocolVersion\":\"2027-01-01\",\"io.modelcontextprotocol/"
	     "clientCapabilities\":{}}}}", 400, "-32022 7", "an unsupported version: 400 -32022");
	rq = post26("server/discover", NULL);
	rq.protocol_version = NULL;
	rung(rq, disc, 400, "-32020 7", "no MCP-Protocol-Version: 400 -32020");
	rung(post26(NULL, NULL), disc, 400, "-32020 7", "no Mcp-Method: 400 -32020");
	rung(post26("Server/Discover", NULL), disc, 400, "-32020 7", "Mcp-Method in another case");
	rung(post26("tools/call", NULL), "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\","
	     "\"params\":{\"name\":\"echo\"," META26 "}}", 400, "-32020 7", "no Mcp-Name: 400");
	rung(post26("tools/call", "=?base64?ZWNob?="), "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":"
	     "\"tools/call\",\"params\":{\"name\":\"echo\"," META26 "}}", 400, "-32020 7",
	     "Mcp-Name in invalid base64: 400");
	rung(post26("ping", NULL), "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"ping\",\"params\":{"
	     META26 "}}", 404, "-32601 7", "ping: 404");
	rung(post26("initialize", NULL), "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"initialize\","
	     "\"params\":{\"protocolVersion\":\"2025-11-25\"}}", 400, "-32020 7",
	     "initialize with a modern header: 400 -32020");
	rung(post26("tools/call", "  echo\t"), "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":"
	     "\"tools/call\",\"params\":{\"name\":\"echo\",\"arguments\":{\"message\":\"m\"}," META26
	     "}}", 200, "0 7", "a one-step call: 200, with OWS around Mcp-Name");
	rung(post26("tools/call", "=?base64?ZWNobw==?="), "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":"
	     "\"tools/call\",\"params\":{\"name\":\"echo\",\"arguments\":{\"message\":\"m\"}," META26
	     "}}", 200, "0 7", "Mcp-Name in base64");
	rung(post26("tools/list", NULL), "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/list\","
	     "\"params\":{" META26 "}}", 200, "0 7", "tools/list: 200");
	rung(post26(NULL, NULL), "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}",
	     202, "0 null", "a notification with a modern header: 202");
}

/* The test seam of waiter_wait: the first wait of a change stream receives these payloads. */
static const char *const *pending_changes;

static void change_on_wait(void *arg, int *woke)
{
	const char *const *p;

	(void)arg;
	(void)woke;
	for (p = pending_changes; p != NULL && *p != NULL; p++)
		wake_notify(tw, *p);
	pending_changes = NULL;
}

static void test_changes(const char *sid)
{
	static const char *const lists[] = {"l:tools", "l:prompts", "r:test://other",
	                                    "r:test://watched-resource", NULL};
	static const char *const session_end[] = {"s:0123456789abcdef0123456789abcdef", NULL};
	static const char ack[] = "data: {\"jsonrpc\":\"2.0\",\"method\":"
	                          "\"notifications/subscriptions/acknowledged\"";
	struct srv_req rq;
	struct resp r;
	char own[40];
	long calls;

	rq = post26("subscriptions/listen", NULL);
	r = handle(rq, "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"subscriptions/listen\",\"params\":{"
	           META26 ",\"notifications\":{\"toolsListChanged\":true}}}");
	T_EQ_INT(r.status, 404, "listen in a single-threaded process: 404 (nothing declared)");
	resp_free(&r);
	r = handle(get_req(sid, NULL), NULL);
	T_EQ_INT(r.status, 405, "standalone GET in a single-threaded process: 405");
	resp_free(&r);

	srv_set_threads(srv, 8);
	wake_on_wait(tw, change_on_wait, NULL);
	pending_changes = lists;
	calls = fake_store_calls();
	r = handle(rq, "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"subscriptions/listen\",\"params\":{"
	           META26 ",\"notifications\":{\"toolsListChanged\":true,\"resourceSubscriptions\":"
	           "[\"test://watched-resource\"]}}}");
	T_EQ_INT(r.status, 200, "listen: 200");
	T_OK(strncmp(r.body, ack, strlen(ack)) == 0, "listen: the acknowledgement first");
	T_OK(has(r.body, "\"notifications/tools/list_changed\",\"params\":{\"_meta\":{\"io."
	     "modelcontextprotocol/subscriptionId\":9}}"), "listen: tools changed, with the id");
	T_OK(!has(r.body, "prompts/list_changed"), "listen: ... not prompts (not asked for)");
	T_OK(has(r.body, "\"uri\":\"test://watched-resource\"") && !has(r.body, "test://other"),
	     "listen: the watched resource's update only");
	T_OK(has(r.body, "\"id\":9,\"result\":{\"_meta\":{\"io.modelcontextprotocol/subscriptionId\""),
	     "listen: at the hold time, the request's result");
	T_EQ_INT(fake_store_calls() - calls, 0, "listen: the store was not touched");
	resp_free(&r);

	pending_changes = lists;
	r = handle(get_req(sid, NULL), NULL);
	T_EQ_INT(r.status, 200, "standalone GET: 200");
	T_OK(has(r.body, "data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/tools/list_changed\"}")
	     && has(r.body, "prompts/list_changed"), "standalone: the list changes");
	T_OK(!has(r.body, "resources/updated"), "standalone: no update of unsubscribed resources");
	T_OK(has(r.body, "retry: "), "standalone: at the hold time, retry:");
	resp_free(&r);
	r = handle(post_req(sid), "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"resources/subscribe\","
	           "\"params\":{\"uri\":\"test://watched-resource\"}}");
	T_EQ_INT(r.status, 200, "subscribe");
	resp_free(&r);
	pending_changes = lists;
	r = handle(get_req(sid, NULL), NULL);
	T_EQ_INT(count_of(r.body, "resources/updated"), 1, "standalone: the subscribed update");
	resp_free(&r);
	snprintf(own, sizeof own, "s:%s", sid);
	pending_changes = session_end;
	r = handle(get_req(sid, NULL), NULL);
	T_OK(!has(r.body, "data:"), "standalone: another session's change is nothing here");
	resp_free(&r);
	{
		const char *mine[] = {own, NULL};
		pending_changes = mine;
		r = handle(get_req(sid, NULL), NULL);
		T_OK(has(r.body, "retry: "), "standalone: its session's change ends it with retry:");
		resp_free(&r);
	}
	wake_on_wait(tw, NULL, NULL);
	srv_set_threads(srv, 1);
}

/* ---- authentication -------------------------------------------------------------------- */

/* A POST for the server with DMCP_AUTH=token, with Authorization authz (NULL: none). */
static struct srv_req auth_post(const char *session, const char *authz)
{
	struct srv_req rq = post_req(session);

	rq.authorization = authz;
	return rq;
}

static struct srv_req well_known_req(const char *method, const char *uri)
{
	struct srv_req rq;

	memset(&rq, 0, sizeof rq);
	rq.method = method;
	rq.host = "localhost:3001";
	rq.request_uri = uri;
	return rq;
}

static const char init_body[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\","
                                "\"params\":{\"protocolVersion\":\"2025-11-25\",\"capabilities\":"
                                "{\"elicitation\":{}},\"clientInfo\":{\"name\":\"t\",\"version\":"
                                "\"1\"}}}";

/* On the default server (remote-user): the well-known paths are the program's 404, and a
 * Basic header alone names nobody. */
static void test_remote_user_only(void)
{
	struct srv_req rq = well_known_req("GET", "/.well-known/oauth-protected-resource/mcp");
	struct resp r = handle(rq, NULL);
	char hv[100];
	rnd_hex_id sid;

	T_OK(r.status == 404 && strcmp(r.body, "{\"error\":\"not_found\"}") == 0,
	     "remote-user: the metadata path is a 404 of the program");
	resp_free(&r);
	rq = auth_post(NULL, "Basic Ym9iOng=");
	r = handle(rq, init_body);
	T_OK(r.status == 200 && header(&r, "Mcp-Session-Id", hv, sizeof hv) != NULL,
	     "remote-user: a Basic header with no REMOTE_USER: 200");
	snprintf(sid, sizeof sid, "%.*s", RND_ID_LEN, hv);
	resp_free(&r);
	rq = post_req(sid);
	r = handle(rq, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}");
	T_EQ_INT(r.status, 200, "... the session is anonymous's: an anonymous ping finds it");
	resp_free(&r);
}

static void test_auth(void)
{
	struct cfg c2;
	struct srv *s2 = NULL;
	struct srv_worker *aw = NULL;
	struct token_row t;
	struct resp r;
	struct srv_req rq;
	struct run_row row;
	char err[256], tok[AUTH_TOKEN_LEN + 1], bearer[AUTH_TOKEN_LEN + 10], hv[400], id[40];
	rnd_hex_id sid;
	long calls;
	int i;

	cfg_defaults(&c2);
	c2.max_body = MAX_BODY;
	c2.hold_ms = 100;
	c2.n_auth = 1;
	c2.auth[0] = CFG_AUTH_TOKEN;
	c2.resource = strdup("http://localhost:3001/mcp");
	snprintf(c2.required_scopes, sizeof c2.required_scopes, "mcp");
	c2.max_sessions = 2;
	T_EQ_INT(srv_new(&c2, reg, &stopping, &s2), DMCP_OK, "auth: srv_new with DMCP_AUTH=token");
	srv_use_wake(s2, tw);
	T_EQ_INT(srv_worker_new(s2, &aw, err, sizeof err), DMCP_OK, "auth: a worker");
	memset(&t, 0, sizeof t);
	T_OK(auth_token_new(tok) == DMCP_OK && auth_token_hash(tok, strlen(tok), t.hash) ==
	     DMCP_OK, "auth: a token");
	snprintf(t.id, sizeof t.id, "00000000000000aa");
	snprintf(t.principal, sizeof t.principal, "alice");
	snprintf(t.scopes, sizeof t.scopes, "mcp admin");
	T_EQ_INT(store_token_insert(fake_store_handle(), &t), DMCP_OK, "auth: stored");
	snprintf(bearer, sizeof bearer, "Bearer %s", tok);

	/* The metadata. */
	r = handle_on(aw, well_known_req("GET", "/.well-known/oauth-protected-resource/mcp"), NULL,
	              0);
	T_OK(r.status == 200 && js_str(r.json, "resource") != NULL &&
	     strcmp(js_str(r.json, "resource"), "http://localhost:3001/mcp") == 0,
	     "metadata: 200 with the resource");
	T_OK(header(&r, "Access-Control-Allow-Origin", hv, sizeof hv) != NULL &&
	     strcmp(hv, "*") == 0, "metadata: readable from any origin");
	resp_free(&r);
	rq = well_known_req("GET", NULL);
	rq.script_name = "/.well-known/oauth-protected-resource";
	r = handle_on(aw, rq, NULL, 0);
	T_EQ_INT(r.status, 200, "metadata: found by SCRIPT_NAME without REQUEST_URI");
	resp_free(&r);
	rq = well_known_req("GET", "/.well-known/oauth-protected-resource?x=1");
	rq.origin = "https://evil.example";
	r = handle_on(aw, rq, NULL, 0);
	T_EQ_INT(r.status, 200, "metadata: a query is ignored, a foreign Origin allowed");
	resp_free(&r);
	r = handle_on(aw, well_known_req("OPTIONS", "/.well-known/oauth-protected-resource"), NULL,
	              0);
	T_OK(r.status == 204 && header(&r, "Content-Length", hv, sizeof hv) == NULL &&
	     header(&r, "Access-Control-Allow-Methods", hv, sizeof hv) != NULL,
	     "metadata: OPTIONS is a CORS preflight, 204 without Content-Length");
	resp_free(&r);
	r = handle_on(aw, well_known_req("POST", "/.well-known/oauth-protected-resource"), NULL, 0);
	T_OK(r.status == 405 && header(&r, "Allow", hv, sizeof hv) != NULL &&
	     strcmp(hv, "GET, HEAD, OPTIONS") == 0, "metadata: POST is 405, Allow: GET, HEAD, OPTIONS");
	resp_free(&r);
	r = handle_on(aw, well_known_req("GET", "/.well-known/openid-configuration"), NULL, 0);
	T_EQ_INT(r.status, 404, "another well-known path: 404");
	resp_free(&r);
	rq = well_known_req("GET", "/.well-known/oauth-protected-resource");
	rq.host = "evil.example";
	r = handle_on(aw, rq, NULL, 0);
	T_EQ_INT(r.status, 403, "metadata: a Host not allowed is still 403");
	resp_free(&r);

	/* 401, 403 and then in. */
	calls = fake_store_calls();
	r = handle_on(aw, auth_post(NULL, NULL), init_body, 1);
	T_EQ_INT(r.status, 401, "no token: 401");
	T_OK(header(&r, "WWW-Authenticate", hv, sizeof hv) != NULL &&
	     strcmp(hv, "Bearer scope=\"mcp\", resource_metadata=\"http://localhost:3001/"
	            ".well-known/oauth-protected-resource/mcp\"") == 0,
	     "no token: WWW-Authenticate names the metadata (%s)", hv);
	T_OK(r.read == 0 && fake_store_calls() == calls, "no token: no body read, no store call");
	resp_free(&r);
	r = handle_on(aw, auth_post(NULL, "Bearer dmcp_nope"), init_body, 1);
	T_OK(r.status == 401 && header(&r, "WWW-Authenticate", hv, sizeof hv) != NULL &&
	     strstr(hv, "error=\"invalid_token\"") != NULL, "a bad token: 401 invalid_token");
	resp_free(&r);
	r = handle_on(aw, auth_post(NULL, bearer), init_body, 1);
	T_OK(r.status == 200 && header(&r, "Mcp-Session-Id", hv, sizeof hv) != NULL,
	     "alice's token: initialize 200");
	snprintf(sid, sizeof sid, "%.*s", RND_ID_LEN, hv);
	resp_free(&r);
	r = handle_on(aw, auth_post(sid, bearer), "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":"
	              "\"tools/call\",\"params\":{\"name\":\"whoami\",\"arguments\":{}}}", 1);
	T_OK(r.status == 200 && has(r.body, "\"principal\":\"alice\"") &&
	     has(r.body, "\"scopes\":[\"mcp\",\"admin\"]") && has(r.body, "\"admin\":true"),
	     "whoami: alice, her scopes, admin (%s)", r.body);
	resp_free(&r);
	r = handle_on(aw, auth_post(sid, NULL), "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":"
	              "\"ping\"}", 1);
	T_EQ_INT(r.status, 401, "her session without the token: 401");
	resp_free(&r);
	/* A call that waits keeps its scopes in its row. */
	r = handle_on(aw, auth_post(sid, bearer), "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":"
	              "\"tools/call\",\"params\":{\"name\":\"whoami\",\"arguments\":"
	              "{\"ask\":true}}}", 1);
	T_OK(r.status == 200 && sscanf(r.body, "id: %32[0-9a-f]", id) == 1,
	     "whoami ask: a stream (%.60s)", r.body);
	T_OK(fake_store_run(id, &row) && row.status == RUN_WAITING &&
	     strcmp(row.scopes, "mcp admin") == 0 && strcmp(row.principal, "alice") == 0,
	     "the waiting run's row keeps alice's scopes");
	row_run_clear(&row);
	resp_free(&r);

	/* DMCP_MAX_SESSIONS_PER_PRINCIPAL = 2: alice has one; one more; the third is refused. */
	r = handle_on(aw, auth_post(NULL, bearer), init_body, 1);
	T_EQ_INT(r.status, 200, "a second session: 200");
	resp_free(&r);
	r = handle_on(aw, auth_post(NULL, bearer), init_body, 1);
	T_OK(r.status == 200 && rpc_code(&r) == RPC_SERVER_ERROR &&
	     has(r.body, "DMCP_MAX_SESSIONS_PER_PRINCIPAL"),
	     "a third session: -32000 naming DMCP_MAX_SESSIONS_PER_PRINCIPAL (%s)", r.body);
	resp_free(&r);
	rq = auth_post(sid, bearer);
	rq.method = "DELETE";
	r = handle_on(aw, rq, NULL, 0);
	T_EQ_INT(r.status, 200, "DELETE of the first session");
	resp_free(&r);
	for (i = 0; i < 2; i++) {
		r = handle_on(aw, auth_post(NULL, bearer), init_body, 1);
		T_EQ_INT(r.status == 200 && header(&r, "Mcp-Session-Id", hv, sizeof hv) != NULL, i == 0,
		         i == 0 ? "then a new one is allowed" : "and the next is refused again");
		resp_free(&r);
	}

	srv_worker_free(aw);
	srv_free(s2);
	cfg_free(&c2);
}

int main(void)
{
	char err[256];
	rnd_hex_id sid;

	cfg_defaults(&cfg);
	cfg.max_body = MAX_BODY;
	cfg.hold_ms = 100; /* the minimum DMCP_STREAM_HOLD_MS; store_wait never sleeps */
	reg = dmcp_registry_new();
	T_OK(reg != NULL && dmcp_examples_register(reg, err, sizeof err) == DMCP_OK,
	     "the examples register");
	T_EQ_INT(srv_new(&cfg, reg, &stopping, &srv), DMCP_OK, "srv_new");
	tw = wake_new();
	srv_use_wake(srv, tw);
	fake_store_on_notify(ring_on_notify, tw);
	/* A worker comes up without its database (it answers 503 until the database is there),
	 * and connects at its first request. */
	T_EQ_INT(srv_worker_new(srv, &w, err, sizeof err), DMCP_OK, "srv_worker_new");
	fake_store_fail("store_ready", 0, 1);
	T_EQ_INT(srv_worker_connect(w), DMCP_E_DB, "srv_worker_connect: the database is down");
	T_EQ_INT(srv_worker_connect(w), DMCP_OK, "srv_worker_connect: ... and back");
	T_EQ_INT(srv_worker_new(srv, &w2, err, sizeof err), DMCP_OK, "a second worker");

	T_OK(init_session(NULL, "2025-11-25", "{\"elicitation\":{}}", sid),
	     "initialize: 200 with an Mcp-Session-Id");
	{
		struct srv_req rq = post_req(NULL);
		struct resp r = handle(rq, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\","
		                       "\"params\":{\"protocolVersion\":\"2025-06-18\",\"capabilities\":{},"
		                       "\"clientInfo\":{\"name\":\"t\",\"version\":\"1\"}}}");
		char hv[100];
		T_EQ_INT(r.status, 200, "initialize: 200");
		T_OK(header(&r, "Content-Type", hv, sizeof hv) != NULL &&
		     strcmp(hv, "application/json") == 0, "initialize: application/json");
		T_OK(header(&r, "Content-Length", hv, sizeof hv) != NULL &&
		     strtoul(hv, NULL, 10) == r.body_len, "initialize: Content-Length");
		T_EQ_STR(js_str(js_get(r.json, "result", json_type_object), "protocolVersion"),
		    "2025-06-18", "initialize: the negotiated version");
		resp_free(&r);
	}

	test_transport(sid);
	test_calls(sid);
	test_ladder();
	test_changes(sid);
	test_remote_user_only();
	test_auth();
	test_failures(sid);

	T_EQ_INT(fake_store_open_tx(), 0, "no transaction left open");
	T_EQ_INT(fake_store_anomalies(err, sizeof err), 0,
	   "the store saw nothing PostgreSQL would allow but dmcp must not do");
	if (err[0] != '\0')
		printf("#   last: %s\n", err);
	srv_worker_free(w);
	srv_worker_free(w2);
	srv_free(srv);
	wake_free(tw);
	fake_store_reset();
	dmcp_registry_free(reg);
	cfg_free(&cfg);
	return t_done();
}
