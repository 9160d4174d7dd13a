/* modern.c — the MCP 2026-07-28 wire on the same endpoint as the 2025-11-25 one: no session,
 * no initialize; every request carries its protocol version, the client's capabilities and
 * info in params._meta. This file classifies a message (modern_claims), runs the validation
 * ladder in the order the reference SDK and the conformance suite check it, and serves what
 * passes: JSON methods through mcp.c, tools/call through srv_tools_call, subscriptions/listen
 * as a change stream.
 * Knows nothing of FastCGI or SQL.
 * MCP 2026-07-28 basic/lifecycle (server/discover), basic/transports (standard headers,
 * SEP-2243), SEP-2575 (per-request _meta, subscriptions/listen), server/tools. */
#include <stdio.h>
#include <string.h>
#include "b64.h"
#include "err.h"
#include "http.h"
#include "js.h"
#include "mcp.h"
#include "runtime.h"
#include "srvint.h"

/* The _meta keys of a modern request. */
#define META_VERSION "io.modelcontextprotocol/protocolVersion"
#define META_CAPS "io.modelcontextprotocol/clientCapabilities"
#define META_INFO "io.modelcontextprotocol/clientInfo"
#define META_LEVEL "io.modelcontextprotocol/logLevel"

/* JSON-RPC codes of the 2026-07-28 ladder. */
#define RPC_HEADER_MISMATCH (-32020)
#define RPC_MISSING_CAPABILITY (-32021)
#define RPC_UNSUPPORTED_VERSION (-32022)

/* Resource URIs one subscriptions/listen request may watch: each update is compared with
 * every one of them, and a client watching more should watch a list instead. */
#define MODERN_MAX_WATCH 100

/* A header value with the optional whitespace around it left out (RFC 9110 §5.5). */
struct hval {
	const char *p; /* NULL when the header is absent */
	size_t n;
};

static struct hval hval_of(const char *v)
{
	struct hval h = {v, 0};

	if (v == NULL)
		return h;
	while (*h.p == ' ' || *h.p == '\t')
		h.p++;
	h.n = strlen(h.p);
	while (h.n > 0 && (h.p[h.n - 1] == ' ' || h.p[h.n - 1] == '\t'))
		h.n--;
	return h;
}

/* 1 when the header is present and equals s byte for byte (values are case-sensitive). */
static int hval_is(struct hval h, const char *s, size_t n)
{
	return h.p != NULL && h.n == n && memcmp(h.p, s, n) == 0;
}

static json_object *request_meta(const struct req *r)
{
	return js_get(r->msg.params, "_meta", json_type_object);
}

static int header_names_modern(const struct req *r)
{
	struct hval h = hval_of(r->rq->protocol_version);
	char v[32];

	if (h.p == NULL || h.n >= sizeof v)
		return 0;
	memcpy(v, h.p, h.n);
	v[h.n] = '\0';
	return mcp_modern_version(v);
}

/* ---- the envelope ---------------------------------------------------------------------- */

/* The first problem of a claimed envelope: key and problem set, 0 returned; 1 when valid. */
static int envelope_ok(json_object *meta, const char **key, const char **problem)
{
	static const char *const cap_members[] = {"elicitation", "sampling", "roots", "extensions",
	                                          "experimental", "tasks"};
	json_object *v, *caps;
	size_t i;

	*problem = "missing";
	*key = META_CAPS;
	caps = js_get(meta, META_CAPS, json_type_object);
	if (!js_has(meta, META_CAPS))
		return 0;
	*key = META_VERSION;
	*problem = "expected a protocol version string";
	if (js_str(meta, META_VERSION) == NULL)
		return 0;
	*key = META_CAPS;
	*problem = "expected an object";
	if (caps == NULL)
		return 0;
	for (i = 0; i < sizeof cap_members / sizeof cap_members[0]; i++) {
		if (js_has(caps, cap_members[i]) && js_get(caps, cap_members[i], json_type_object) == NULL) {
			*problem = "every capability must be an object";
			return 0;
		}
	}
	*key = META_INFO;
	*problem = "expected an object with string name and version";
	v = json_object_object_get(meta, META_INFO);
	if (v != NULL && (js_str(v, "name") == NULL || js_str(v, "version") == NULL))
		return 0;
	if (js_has(meta, META_INFO) && v == NULL)
		return 0;
	*key = META_LEVEL;
	*problem = "expected a logging level (debug, info, notice, warning, error, critical, "
	           "alert, emergency)";
	if (js_has(meta, META_LEVEL) && rt_level_parse(js_str(meta, META_LEVEL)) < 0)
		return 0;
	*key = "progressToken";
	*problem = "expected a string or an integer";
	if (js_has(meta, "progressToken") && !rpc_id_valid(json_object_object_get(meta,
	                                                                          "progressToken")))
		return 0;
	return 1;
}

/* initialize without a valid 2026-07-28 envelope: the 2025-11-25 handshake. */
static int legacy_initialize(const struct req *r)
{
	json_object *meta = request_meta(r);
	const char *k, *p;

	return r->msg.kind == RPC_REQUEST && strcmp(r->msg.method, "initialize") == 0 &&
	       (!mcp_modern_version(js_str(meta, META_VERSION)) || !envelope_ok(meta, &k, &p));
}

int modern_claims(const struct req *r)
{
	json_object *meta;

	if (r->msg.kind == RPC_RESPONSE)
		return 0;
	meta = request_meta(r);
	if (meta != NULL && js_has(meta, META_VERSION) && !legacy_initialize(r))
		return 1; /* (a valid claim on initialize: the modern table answers it, -32601) */
	return header_names_modern(r);
}

/* ---- ladder replies -------------------------------------------------------------------- */

static void reject_mismatch(struct req *r, const char *what, struct hval header,
                            const char *body)
{
	json_object *data = js_new_object(), *mm = js_new_object();
	char msg[300];

	js_object_add(mm, "header", header.p != NULL
	                       ? js_new_string_len(header.p, (int)header.n)
	                       : js_new_string("(missing)"));
	js_object_add(mm, "body", js_new_string(body));
	js_object_add(data, "mismatch", mm);
	snprintf(msg, sizeof msg, "Bad Request: the request headers and body disagree: %s", what);
	srv_reply_error(r, 400, r->msg.id, RPC_HEADER_MISMATCH, msg, data);
}

static void reject_envelope(struct req *r, const char *key, const char *problem)
{
	json_object *data = js_new_object(), *env = js_new_object();
	char msg[300];

	js_object_add(env, "key", js_new_string(key));
	js_object_add(env, "problem", js_new_string(problem));
	js_object_add(data, "envelope", env);
	snprintf(msg, sizeof msg, "Invalid _meta envelope for protocol revision 2026-07-28: %s: %s",
	         key, problem);
	srv_reply_error(r, 400, r->msg.id, RPC_INVALID_PARAMS, msg, data);
}

/* A modern MCP-Protocol-Version header, but no envelope claim in the body. */
static void reject_unclaimed(struct req *r, json_object *meta)
{
	json_object *data = js_new_object(), *env = js_new_object();
	json_object *missing = js_new_array();
	char msg[400];

	if (meta == NULL)
		js_array_add(missing, js_new_string("_meta"));
	else
		js_array_add(missing, js_new_string(META_VERSION));
	if (meta != NULL && !js_has(meta, META_CAPS))
		js_array_add(missing, js_new_string(META_CAPS));
	snprintf(msg, sizeof msg, "Invalid params: the MCP-Protocol-Version header names a "
	         "2026-07-28 revision, but the request is missing the per-request envelope "
	         "key(s): %s%s", meta == NULL ? "_meta" : META_VERSION,
	         meta != NULL && !js_has(meta, META_CAPS) ? ", " META_CAPS : "");
	js_object_add(env, "missing", missing);
	js_object_add(data, "envelope", env);
	srv_reply_error(r, 400, r->msg.id, RPC_INVALID_PARAMS, msg, data);
}

static void reject_version(struct req *r, const char *v)
{
	json_object *data = js_new_object();
	char msg[200];

	js_object_add(data, "supported", mcp_modern_versions());
	js_object_add(data, "requested", js_new_string(v));
	snprintf(msg, sizeof msg, "Unsupported protocol version: %.100s", v);
	srv_reply_error(r, 400, r->msg.id, RPC_UNSUPPORTED_VERSION, msg, data);
}

/* ---- Mcp-Name ---------------------------------------------------------------------------- */

/* The body field the Mcp-Name header mirrors for method, or NULL (SEP-2243; SEP-2663 adds
 * the task methods of the tasks extension, which name their task). */
static const char *name_field(const char *method)
{
	if (strcmp(method, "tools/call") == 0 || strcmp(method, "prompts/get") == 0)
		return "name";
	if (strcmp(method, "resources/read") == 0)
		return "uri";
	if (strcmp(method, "tasks/get") == 0 || strcmp(method, "tasks/update") == 0 ||
	    strcmp(method, "tasks/cancel") == 0)
		return "taskId";
	return NULL;
}

/* 1 when the Mcp-Name header agrees with the body (or the method has none); else replies. */
static int name_header_ok(struct req *r)
{
	static const char pre[] = "=?base64?", post[] = "?=";
	const char *field = name_field(r->msg.method), *body;
	struct hval h = hval_of(r->rq->mcp_name);
	unsigned char dec[HTTP_MAX_HEADER];
	size_t n;

	body = field != NULL ? js_str(r->msg.params, field) : NULL;
	if (body == NULL)
		return 1; /* nothing to mirror: the method's own params check answers */
	if (h.p == NULL) {
		reject_mismatch(r, "the required Mcp-Name header is absent", h, body);
		return 0;
	}
	if (h.n >= sizeof pre + sizeof post - 2 && memcmp(h.p, pre, sizeof pre - 1) == 0 &&
	    memcmp(h.p + h.n - (sizeof post - 1), post, sizeof post - 1) == 0) {
		if (b64_decode(h.p + sizeof pre - 1, h.n - (sizeof pre - 1) - (sizeof post - 1), dec,
		               sizeof dec, &n) != DMCP_OK) {
			reject_mismatch(r, "the Mcp-Name header carries an invalid Base64 value", h, body);
			return 0;
		}
		if (n != strlen(body) || memcmp(dec, body, n) != 0) {
			reject_mismatch(r, "the Mcp-Name header names another target", h, body);
			return 0;
		}
		return 1;
	}
	if (!hval_is(h, body, strlen(body))) {
		reject_mismatch(r, "the Mcp-Name header names another target", h, body);
		return 0;
	}
	return 1;
}

/* ---- the ladder -------------------------------------------------------------------------- */

/* The rungs every modern message passes, in the reference SDK's order: initialize without
 * a claim, the envelope, header/body cross-checks, the supported revision, then (requests
 * only) the presence of the standard headers and Mcp-Name. 1 when they pass (*version set);
 * else the reply is written. */
static int ladder(struct req *r, const char **version)
{
	json_object *meta = request_meta(r);
	struct hval hv = hval_of(r->rq->protocol_version), hm = hval_of(r->rq->mcp_method);
	const char *v = js_str(meta, META_VERSION), *key, *problem;
	int request = r->msg.kind == RPC_REQUEST;

	if (legacy_initialize(r)) {
		/* Only the header made this modern. */
		reject_mismatch(r, "an initialize request (the 2025-11-25 handshake) was sent with a "
		                "2026-07-28 MCP-Protocol-Version header", hv, "initialize");
		return 0;
	}
	if (!js_has(meta, META_VERSION)) {
		/* No claim: only the header made this modern. */
		if (request) {
			reject_unclaimed(r, meta);
			return 0;
		}
		v = NULL;
	} else if (request ? !envelope_ok(meta, &key, &problem) : v == NULL) {
		if (!request) {
			key = META_VERSION;
			problem = "expected a protocol version string";
		}
		reject_envelope(r, key, problem);
		return 0;
	} else if (hv.p != NULL && !hval_is(hv, v, strlen(v))) {
		reject_mismatch(r, "the MCP-Protocol-Version header and the body's "
		                "io.modelcontextprotocol/protocolVersion differ", hv, v);
		return 0;
	}
	if (hm.p != NULL && !hval_is(hm, r->msg.method, strlen(r->msg.method))) {
		reject_mismatch(r, "the Mcp-Method header and the body's method differ", hm,
		                r->msg.method);
		return 0;
	}
	if (v != NULL && !mcp_modern_version(v)) {
		reject_version(r, v);
		return 0;
	}
	if (request && hv.p == NULL) {
		reject_mismatch(r, "the required MCP-Protocol-Version header is absent", hv, v);
		return 0;
	}
	if (request && hm.p == NULL) {
		reject_mismatch(r, "the required Mcp-Method header is absent", hm, r->msg.method);
		return 0;
	}
	if (request && !name_header_ok(r))
		return 0;
	*version = v;
	return 1;
}

/* ---- subscriptions/listen ---------------------------------------------------------------- */

/* 1 when caps declares section.flag true. */
static int cap_on(json_object *caps, const char *section, const char *flag)
{
	json_object *b = js_get(js_get(caps, section, json_type_object), flag, json_type_boolean);

	return b != NULL && json_object_get_boolean(b);
}

/* Read the requested filter and keep what this server delivers (the honored subset, as the
 * acknowledgement reports it). 0 with why set when the filter is malformed. */
static int listen_filter(struct req *r, struct srv_changes *c, json_object *honored,
                         const char **why)
{
	static const char *const lists[] = {"toolsListChanged", "promptsListChanged",
	                                    "resourcesListChanged"};
	static const char *const sections[] = {"tools", "prompts", "resources"};
	json_object *f = js_get(r->msg.params, "notifications", json_type_object), *uris, *caps;
	int *on[3];
	size_t i, n;

	on[0] = &c->tools;
	on[1] = &c->prompts;
	on[2] = &c->resources;
	*why = "notifications is required and must be an object";
	if (f == NULL)
		return 0;
	caps = mcp_server_caps(r->w->srv->reg, srv_change_streams(r->w->srv), 1);
	for (i = 0; i < 3; i++) {
		json_object *b = js_get(f, lists[i], json_type_boolean);
		*why = "toolsListChanged, promptsListChanged and resourcesListChanged must be booleans";
		if (js_has(f, lists[i]) && b == NULL)
			goto bad;
		*on[i] = b != NULL && json_object_get_boolean(b) && cap_on(caps, sections[i],
		                                                           "listChanged");
		if (*on[i])
			js_object_add(honored, lists[i], js_new_boolean(1));
	}
	uris = js_get(f, "resourceSubscriptions", json_type_array);
	*why = "resourceSubscriptions must be an array of at most 100 URI strings";
	if (js_has(f, "resourceSubscriptions") && uris == NULL)
		goto bad;
	n = uris != NULL ? json_object_array_length(uris) : 0;
	if (n > MODERN_MAX_WATCH)
		goto bad;
	for (i = 0; i < n; i++) {
		json_object *u = json_object_array_get_idx(uris, i);
		if (!json_object_is_type(u, json_type_string) ||
		    json_object_get_string_len(u) >= DMCP_MAX_URI)
			goto bad;
	}
	if (n > 0 && cap_on(caps, "resources", "subscribe")) {
		c->uris = uris;
		js_object_add(honored, "resourceSubscriptions", json_object_get(uris));
	}
	json_object_put(caps);
	return 1;
bad:
	json_object_put(caps);
	return 0;
}

/* notifications/subscriptions/acknowledged, stamped with the subscription id: JSON text
 * (borrowed from *owner, which the caller frees). */
static const char *listen_ack(json_object *id, json_object *honored, json_object **owner)
{
	json_object *params = js_new_object(), *meta = js_new_object();

	js_object_add(params, "notifications", json_object_get(honored));
	js_object_add(meta, SRV_META_SUBSCRIPTION, json_object_get(id));
	js_object_add(params, "_meta", meta);
	*owner = rpc_request(NULL, "notifications/subscriptions/acknowledged", params);
	return js_text(*owner);
}

/* subscriptions/listen: the acknowledgement first, then the notifications the filter asked
 * for and this server delivers, each stamped with the subscription id (the request's id),
 * until the hold time passes; then the request's (empty) result, and the client listens
 * again. A filter nothing of which is delivered is acknowledged and answered at once. */
static void serve_listen(struct req *r)
{
	struct srv_changes c;
	json_object *honored = js_new_object(), *ack = NULL, *res;
	const char *why, *text;
	struct buf b;

	memset(&c, 0, sizeof c);
	c.sub_id = r->msg.id;
	if (!listen_filter(r, &c, honored, &why)) {
		char msg[200];
		snprintf(msg, sizeof msg, "Invalid params: %s", why);
		srv_reply_error(r, 200, r->msg.id, RPC_INVALID_PARAMS, msg, NULL);
		json_object_put(honored);
		return;
	}
	text = listen_ack(r->msg.id, honored, &ack);
	if (!c.tools && !c.prompts && !c.resources && c.uris == NULL) {
		json_object *meta = js_new_object();
		js_object_add(meta, SRV_META_SUBSCRIPTION, json_object_get(r->msg.id));
		res = js_new_object();
		js_object_add(res, "_meta", meta);
		mcp_modern_result(res, "complete");
		res = rpc_result(r->msg.id, res);
		buf_init(&b, 1u << 20);
		(void)buf_addf(&b, "data: %s\n\ndata: %s\n\n", text, js_text(res));
		srv_reply(r, 200, "text/event-stream", "Cache-Control: no-cache, no-transform\r\n",
		          b.data, b.len);
		buf_free(&b);
		json_object_put(res);
	} else if (!srv_change_slot(r->w->srv)) {
		srv_reply_error(r, 200, r->msg.id, RPC_INTERNAL_ERROR, "Subscription limit reached: "
		                "every stream slot of this process is taken; listen again later", NULL);
	} else {
		srv_follow_changes(r, &c, text);
		srv_change_release(r->w->srv);
	}
	json_object_put(ack);
	json_object_put(honored);
}

/* ---- dispatch ---------------------------------------------------------------------------- */

static void answer_json(struct req *r, struct mcp_call *c)
{
	json_object *result = NULL;
	dmcp_rc rc = mcp_dispatch(c, &result);

	if (rc == DMCP_OK) {
		srv_reply_json(r, 200, rpc_result(r->msg.id, result), NULL);
	} else if (rc == DMCP_E_DB || rc == DMCP_E_NOMEM || rc == DMCP_E_INTERNAL) {
		srv_reply_error(r, err_http_status(rc), r->msg.id, err_rpc_code(rc),
		                "internal error; try again", NULL);
		json_object_put(c->error_data);
	} else {
		/* A handler's error is in-band (HTTP 200), except a missing client capability. */
		int code = c->rpc_code ? c->rpc_code : err_rpc_code(rc);
		srv_reply_error(r, code == RPC_MISSING_CAPABILITY ? 400 : 200, r->msg.id, code,
		                c->err[0] ? c->err : dmcp_rc_name(rc), c->error_data);
	}
}

void modern_handle(struct req *r)
{
	json_object *meta = request_meta(r);
	const char *v = NULL;
	struct mcp_call c;
	enum mcp_kind kind;

	if (!ladder(r, &v))
		return;
	if (r->msg.kind == RPC_NOTIFICATION) {
		srv_reply_empty(r, 202); /* no session, nothing to cancel: a stream's client hangs up */
		return;
	}
	r->modern = 1;
	r->log_level = js_has(meta, META_LEVEL) ? rt_level_parse(js_str(meta, META_LEVEL)) : 8;
	r->caps = json_object_get(js_get(meta, META_CAPS, json_type_object));
	memset(&c, 0, sizeof c);
	c.cfg = r->w->srv->cfg;
	c.reg = r->w->srv->reg;
	c.st = r->w->st;
	c.msg = &r->msg;
	c.principal = r->principal;
	c.modern = 1;
	c.notifies = srv_change_streams(r->w->srv);
	kind = mcp_method_kind(&c, r->msg.method);
	if (kind == MCP_UNKNOWN && task_is_method(r->msg.method))
		task_modern(r); /* the tasks extension (tasksrv.c) */
	else if (kind == MCP_UNKNOWN)
		srv_reply_error(r, 404, r->msg.id, RPC_METHOD_NOT_FOUND, "Method not found", NULL);
	else if (kind == MCP_JSON && strcmp(r->msg.method, "prompts/get") == 0 && srv_prompts_get(r))
		return; /* a prompt that runs: the run engine answered */
	else if (kind == MCP_JSON)
		answer_json(r, &c);
	else if (strcmp(r->msg.method, "tools/call") == 0)
		srv_tools_call(r);
	else
		serve_listen(r);
}
