/* effects.c — what a tool calls during a step (see dmcp.h): the result it builds, and the
 * durable effects. A request effect (elicitation, sampling, roots; or several at once) is
 * numbered in call order and journaled: replayed, it returns the journaled answer; new, it
 * is recorded and the step ends waiting for the client. On the 2025-11-25 wire the requests
 * go out on the call's stream; on the 2026-07-28 wire they are listed in an input_required
 * result and answered by inputResponses (matched by key) in a later call.
 * Knows nothing of HTTP, SSE or SQL; saves go through the engine (rtint.h).
 * MCP 2025-11-25 client/elicitation, client/sampling, client/roots, basic/utilities;
 * MCP 2026-07-28 server/tools (multi-round-trip requests). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "buf.h"
#include "js.h"
#include "param.h"
#include "rpc.h"
#include "rtint.h"
#include "scope.h"
#include "task.h"
#include "utf8.h"

/* Bytes of one log message a tool formats. */
#define RT_LOG_LEN 4096
/* Bytes of one text block a tool formats with dmcp_result_textf (a longer one is refused
 * with DMCP_E_LIMIT): results larger than this belong in resources. */
#define RT_TEXT_MAX (1u << 20)
/* Bytes of a URL-mode elicitation's URL, after its {elicitationId} is filled in. */
#define RT_URL_MAX 8192
/* Bytes of an input key (2026-07-28 inputRequests/inputResponses map keys). */
#define RT_MAX_KEY 64

/* ---- results (public) ------------------------------------------------------------------ */

dmcp_rc dmcp_result_content(dmcp_result *res, json_object *block)
{
	if (block == NULL)
		return DMCP_E_PARAMS;
	js_array_add(res->content, block);
	return DMCP_OK;
}

dmcp_rc dmcp_result_text(dmcp_result *res, const char *text)
{
	return dmcp_result_content(res, dmcp_text_block(text != NULL ? text : ""));
}

dmcp_rc dmcp_result_textf(dmcp_result *res, const char *fmt, ...)
{
	struct buf b;
	va_list ap;
	dmcp_rc rc;

	buf_init(&b, RT_TEXT_MAX);
	va_start(ap, fmt);
	rc = buf_vaddf(&b, fmt, ap);
	va_end(ap);
	if (rc == DMCP_OK)
		rc = dmcp_result_text(res, buf_cstr(&b));
	buf_free(&b);
	return rc;
}

static json_object *media_block(const char *type, const char *b64, const char *mime)
{
	json_object *o = js_new_object();

	js_object_add(o, "type", js_new_string(type));
	js_object_add(o, "data", js_new_string(b64));
	js_object_add(o, "mimeType", js_new_string(mime));
	return o;
}

dmcp_rc dmcp_result_image(dmcp_result *res, const char *base64, const char *mime)
{
	return dmcp_result_content(res, media_block("image", base64, mime));
}

dmcp_rc dmcp_result_audio(dmcp_result *res, const char *base64, const char *mime)
{
	return dmcp_result_content(res, media_block("audio", base64, mime));
}

dmcp_rc dmcp_result_resource_text(dmcp_result *res, const char *uri, const char *mime,
                                  const char *text)
{
	json_object *o = js_new_object(), *r = js_new_object();

	js_object_add(r, "uri", js_new_string(uri));
	if (mime != NULL)
		js_object_add(r, "mimeType", js_new_string(mime));
	js_object_add(r, "text", js_new_string(text));
	js_object_add(o, "type", js_new_string("resource"));
	js_object_add(o, "resource", r);
	return dmcp_result_content(res, o);
}

dmcp_rc dmcp_result_structured(dmcp_result *res, json_object *obj)
{
	if (obj == NULL || !json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		return DMCP_E_PARAMS;
	}
	json_object_put(res->structured);
	res->structured = obj;
	return dmcp_result_text(res, js_text(obj));
}

/* Cut s (a NUL-terminated buffer of cap bytes that vsnprintf may have filled) before a
 * character that the cut split, so that a long message never ends in half of one. */
static void cut_whole(char *s, size_t cap)
{
	size_t n = strlen(s), i = 0, len;
	uint32_t cp;

	if (n + 1 < cap)
		return; /* nothing was cut */
	while (i < n) {
		len = utf8_decode(s + i, n - i, &cp);
		if (len == 0 && n - i < UTF8_MAX_SEQ) {
			s[i] = '\0';
			return;
		}
		i += len > 0 ? len : 1;
	}
}

dmcp_rc dmcp_result_error(dmcp_result *res, const char *fmt, ...)
{
	char msg[RT_ERR_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	cut_whole(msg, sizeof msg);
	json_object_put(res->content);
	res->content = js_new_array();
	res->is_error = 1;
	js_array_add(res->content, dmcp_text_block(msg));
	return DMCP_OK;
}

/* ---- answers --------------------------------------------------------------------------- */

/* A form declared with fields: the tool receives a copy of the accepted content with the
 * defaults of the fields it lacks filled in (as arguments get theirs), owned by the step;
 * the journal keeps what the client sent, and every replay fills in the same. */
static dmcp_rc fill_answer(dmcp_ctx *ctx, const struct reg_elicit *el,
                           struct dmcp_elicit_answer *out)
{
	json_object *copy = NULL;

	if (json_object_deep_copy(out->content, &copy, NULL) != 0) {
		out->content = NULL;
		return DMCP_E_NOMEM;
	}
	if (ctx->answers == NULL)
		ctx->answers = js_new_array();
	js_array_add(ctx->answers, copy);
	param_fill_defaults(el->fields, copy);
	out->content = copy;
	return DMCP_OK;
}

static dmcp_rc parse_elicit_answer(dmcp_ctx *ctx, json_object *result,
                                   const struct reg_elicit *el, struct dmcp_elicit_answer *out)
{
	const char *action = js_str(result, "action");
	char why[256];

	out->content = NULL;
	if (action != NULL && strcmp(action, "accept") == 0) {
		out->action = DMCP_ACCEPT;
	} else if (action != NULL && strcmp(action, "decline") == 0) {
		out->action = DMCP_DECLINE;
		return DMCP_OK;
	} else if (action != NULL && strcmp(action, "cancel") == 0) {
		out->action = DMCP_CANCEL;
		return DMCP_OK;
	} else {
		rt_set_err(ctx, "the elicitation answer's action must be accept, decline or cancel");
		return DMCP_E_ANSWER;
	}
	if (el == NULL)
		return DMCP_OK; /* URL mode: no content */
	out->content = js_get(result, "content", json_type_object);
	if (out->content == NULL) {
		rt_set_err(ctx, "an accepted elicitation answer needs a content object");
		return DMCP_E_ANSWER;
	}
	if (schema_validate(el->check, out->content, why, sizeof why) != DMCP_OK) {
		rt_set_err(ctx, "the elicitation answer does not fit the schema: %s", why);
		out->content = NULL;
		return DMCP_E_ANSWER;
	}
	return el->fields != NULL ? fill_answer(ctx, el, out) : DMCP_OK;
}

static json_object *sample_params(const struct dmcp_sample_req *req)
{
	json_object *p = js_new_object(), *msgs;

	if (req->messages != NULL) {
		msgs = json_object_get(req->messages);
	} else {
		json_object *content = dmcp_text_block(req->prompt != NULL ? req->prompt : "");
		msgs = js_new_array();
		js_array_add(msgs, dmcp_message("user", content));
	}
	js_object_add(p, "messages", msgs);
	if (req->system_prompt != NULL)
		js_object_add(p, "systemPrompt", js_new_string(req->system_prompt));
	js_object_add(p, "maxTokens", js_new_int(req->max_tokens));
	if (req->tools != NULL)
		js_object_add(p, "tools", json_object_get(req->tools));
	if (req->tool_choice != NULL)
		js_object_add(p, "toolChoice", json_object_get(req->tool_choice));
	return p;
}

static const char *first_text(json_object *content)
{
	size_t i, n;

	if (json_object_is_type(content, json_type_object)) {
		const char *type = js_str(content, "type");
		return type != NULL && strcmp(type, "text") == 0 ? js_str(content, "text") : NULL;
	}
	n = json_object_is_type(content, json_type_array) ? json_object_array_length(content) : 0;
	for (i = 0; i < n; i++) {
		const char *t = first_text(json_object_array_get_idx(content, i));
		if (t != NULL)
			return t;
	}
	return NULL;
}

static dmcp_rc parse_sample_answer(dmcp_ctx *ctx, json_object *result,
                                   struct dmcp_sample_answer *out)
{
	json_object *content;
	const char *role = js_str(result, "role");

	content = js_get(result, "content", json_type_object);
	if (content == NULL)
		content = js_get(result, "content", json_type_array);
	out->model = js_str(result, "model");
	if (role == NULL || (strcmp(role, "assistant") != 0 && strcmp(role, "user") != 0) ||
	    content == NULL || out->model == NULL) {
		rt_set_err(ctx, "the sampling answer is malformed: it needs role, content and model");
		return DMCP_E_ANSWER;
	}
	out->text = first_text(content);
	out->stop_reason = js_str(result, "stopReason");
	out->result = result;
	out->tokens = rt_tokens_of(result);
	return DMCP_OK;
}

/* A sampling answer that counts against the branch tree's budgets. */
static dmcp_rc sampled(dmcp_ctx *ctx, json_object *result, struct dmcp_sample_answer *out)
{
	dmcp_rc rc = parse_sample_answer(ctx, result, out);

	return rc == DMCP_OK ? rt_budget_charge(ctx, out->tokens) : rc;
}

struct dmcp_roots_answer;
static dmcp_rc parse_roots_answer(dmcp_ctx *ctx, json_object *result,
                                  struct dmcp_roots_answer *out);
static void set_deadline(dmcp_ctx *ctx, json_object *e);
static int timed_out(dmcp_ctx *ctx, json_object *holder, json_object *e);

/* ---- the journal ----------------------------------------------------------------------- */

json_object *rt_next_entry(dmcp_ctx *ctx, const char *t, dmcp_rc *rc)
{
	int k;
	json_object *e;
	const char *had;

	*rc = rt_check_time(ctx);
	if (*rc != DMCP_OK)
		return NULL;
	k = ctx->effect++;
	if ((size_t)k >= json_object_array_length(ctx->journal))
		return NULL;
	e = json_object_array_get_idx(ctx->journal, (size_t)k);
	had = js_str(e, "t");
	if (had == NULL || strcmp(had, t) != 0) {
		rt_set_err(ctx, "effect %d was %s in the journal but is %s now: the tool is not "
		           "deterministic or changed without a version bump", k, had ? had : "?", t);
		*rc = DMCP_E_VERSION;
	}
	return e;
}

/* 1 when key can name an input: 1..RT_MAX_KEY printable ASCII characters. */
static int key_ok(const char *key)
{
	size_t i, n = key != NULL ? strnlen(key, RT_MAX_KEY + 1) : 0;

	if (n == 0 || n > RT_MAX_KEY)
		return 0;
	for (i = 0; i < n; i++)
		if (key[i] <= 0x20 || key[i] >= 0x7f)
			return 0;
	return 1;
}

/* A request entry: {"t", "key", "id", "req": {"method", "params"}}; params taken. */
static json_object *request_entry(const char *t, const char *key, const char *id,
                                  const char *method, json_object *params)
{
	json_object *e = js_new_object(), *req = js_new_object();

	js_object_add(req, "method", js_new_string(method));
	js_object_add(req, "params", params);
	js_object_add(e, "t", js_new_string(t));
	js_object_add(e, "key", js_new_string(key));
	js_object_add(e, "id", js_new_string(id));
	js_object_add(e, "req", req);
	return e;
}

/* The step needs a capability the client did not declare. required: the ClientCapabilities
 * object that names it (JSON text): on the 2026-07-28 wire the call fails with -32021 and
 * this as data.requiredCapabilities; on the 2025-11-25 wire the tool receives the error. */
static dmcp_rc need_cap(dmcp_ctx *ctx, const char *required, const char *what)
{
	json_object_put(ctx->required);
	ctx->required = js_parse_trusted(required);
	rt_set_err(ctx, "this tool needs %s, which the client did not declare", what);
	return DMCP_E_CAPABILITY;
}

/* The answer of a request entry: DMCP_SUSPENDED while none, DMCP_E_REJECTED for a JSON-RPC
 * error, else DMCP_OK with *result. */
static dmcp_rc answer_of(dmcp_ctx *ctx, json_object *e, json_object **result)
{
	json_object *ans = js_get(e, "ans", json_type_object), *er;

	*result = NULL;
	if (ans == NULL)
		return DMCP_SUSPENDED;
	if (js_has(ans, "timeout")) {
		rt_set_err(ctx, "no answer came before the request's deadline");
		return DMCP_E_TIMEOUT;
	}
	er = js_get(ans, "error", json_type_object);
	if (er != NULL) {
		const char *m = js_str(er, "message");
		json_object *code = js_get(er, "code", json_type_int);
		rt_set_err(ctx, "the client refused the request (%d: %.200s)",
		           code ? json_object_get_int(code) : 0, m ? m : "");
		return DMCP_E_REJECTED;
	}
	*result = js_get(ans, "result", json_type_object);
	if (*result == NULL) {
		rt_set_err(ctx, "the client's answer has no result object");
		return DMCP_E_ANSWER;
	}
	return DMCP_OK;
}

/* 1 when result is an acceptable answer to a request entry of type t (form answers are
 * checked against el's schema). Leaves ctx->err as it was. */
static int answer_fits(dmcp_ctx *ctx, const char *t, const struct reg_elicit *el,
                       json_object *result)
{
	char saved[RT_ERR_LEN];
	struct dmcp_elicit_answer ea;
	struct dmcp_sample_answer sa;
	int ok = 0;

	if (!json_object_is_type(result, json_type_object))
		return 0;
	memcpy(saved, ctx->err, sizeof saved);
	if (strcmp(t, "elicit") == 0 || strcmp(t, "url") == 0)
		ok = parse_elicit_answer(ctx, result, strcmp(t, "elicit") == 0 ? el : NULL, &ea) ==
		     DMCP_OK;
	else if (strcmp(t, "sample") == 0)
		ok = parse_sample_answer(ctx, result, &sa) == DMCP_OK;
	else if (strcmp(t, "roots") == 0)
		ok = parse_roots_answer(ctx, result, NULL) == DMCP_OK;
	memcpy(ctx->err, saved, sizeof saved);
	return ok;
}

/* 2026-07-28: answer request entry e from the call's inputResponses when they hold a fitting
 * answer under its key (each key answers at most one request per call). 1 when answered. */
static int take_input(dmcp_ctx *ctx, json_object *e, const struct reg_elicit *el)
{
	const char *key = js_str(e, "key"), *t = js_str(e, "t");
	json_object *v, *ans;

	if (ctx->inputs == NULL || key == NULL || t == NULL ||
	    !json_object_object_get_ex(ctx->inputs, key, &v) || js_has(ctx->taken, key) ||
	    !answer_fits(ctx, t, el, v))
		return 0;
	ans = js_new_object();
	js_object_add(ans, "result", json_object_get(v));
	js_object_add(e, "ans", ans);
	js_object_add(ctx->taken, key, js_new_boolean(1));
	ctx->accepted++;
	return 1;
}

/* The common start of a request effect of type t: NULL with *rc DMCP_OK when the effect is
 * new (the caller checks capabilities and records it), the journal entry when it was
 * recorded before, NULL with another *rc when the step must end here. */
static json_object *effect_begin(dmcp_ctx *ctx, const char *t, dmcp_rc *rc)
{
	if (ctx->suspended) {
		*rc = DMCP_SUSPENDED;
		return NULL;
	}
	return rt_next_entry(ctx, t, rc);
}

/* Record the new request effect (number ctx->effect - 1) of type t: its journal entry, with
 * key (default "<t>_<n>") and id "<run>/<n>". params taken. NULL (and *rc) when the run
 * has no room for the request. */
static json_object *effect_record(dmcp_ctx *ctx, const char *t, const char *key,
                                  const char *method, json_object *params, dmcp_rc *rc)
{
	char id[RT_PREFIX_MAX + 16], dkey[RT_MAX_KEY + 1];
	json_object *e;

	if (!rt_room_for(ctx, 1)) {
		json_object_put(params);
		ctx->effect--;
		*rc = rt_no_room(ctx);
		return NULL;
	}
	snprintf(id, sizeof id, "%s%d", ctx->prefix, ctx->effect - 1);
	if (key == NULL) {
		snprintf(dkey, sizeof dkey, "%s_%d", t, ctx->effect - 1);
		key = dkey;
	}
	e = request_entry(t, key, id, method, params);
	set_deadline(ctx, e);
	js_array_add(ctx->journal, e);
	ctx->recorded = 1;
	*rc = DMCP_OK;
	return e;
}

/* The next request receives the deadline dmcp_deadline set: "due" in its entry (journaled, so
 * every replay agrees on it). */
static void set_deadline(dmcp_ctx *ctx, json_object *e)
{
	if (ctx->deadline_ms <= 0)
		return;
	js_object_add(e, "due", js_new_int64(rt_now(ctx) + ctx->deadline_ms));
	ctx->deadline_ms = 0;
}

/* 2025-11-25: tell the client to drop a request that timed out (notifications/cancelled). */
static void drop_request(dmcp_ctx *ctx, json_object *e)
{
	json_object *params;

	if (ctx->env->sess->modern || js_str(e, "id") == NULL || !rt_room_for(ctx, 1))
		return;
	params = js_new_object();
	js_object_add(params, "requestId", js_new_string(js_str(e, "id")));
	js_object_add(params, "reason", js_new_string("the deadline for an answer passed"));
	rt_queue_event(ctx, EV_NOTIFICATION, rpc_request(NULL, "notifications/cancelled", params));
}

/* When holder (the request entry, or its group) has a deadline that passed, answer e with a
 * timeout (journaled: later answers are ignored) and return 1. */
static int timed_out(dmcp_ctx *ctx, json_object *holder, json_object *e)
{
	json_object *due = js_get(holder, "due", json_type_int), *ans;

	if (due == NULL || rt_now(ctx) < json_object_get_int64(due) || js_has(e, "ans"))
		return 0;
	ans = js_new_object();
	js_object_add(ans, "timeout", js_new_boolean(1));
	js_object_add(e, "ans", ans);
	ctx->accepted++; /* the journal changed: the step is saved */
	drop_request(ctx, e);
	return 1;
}

/* Wait for e's answer: from the journal, from the call's inputResponses (2026-07-28), or
 * end the step waiting for it (DMCP_SUSPENDED). DMCP_OK with *result when answered. */
static dmcp_rc effect_await(dmcp_ctx *ctx, json_object *e, const struct reg_elicit *el,
                            json_object **result)
{
	*result = NULL;
	if (!js_has(e, "ans") && !take_input(ctx, e, el) && !timed_out(ctx, e, e)) {
		ctx->suspended = 1;
		ctx->pending = e;
		return DMCP_SUSPENDED;
	}
	return answer_of(ctx, e, result);
}

/* ---- elicitation ----------------------------------------------------------------------- */

dmcp_rc dmcp_elicit(dmcp_ctx *ctx, const char *schema_name, const char *message,
                    struct dmcp_elicit_answer *out)
{
	const struct reg_elicit *el = reg_elicit(ctx->tool, schema_name);
	json_object *e, *result, *params;
	dmcp_rc rc;

	memset(out, 0, sizeof *out);
	if (el == NULL && !ctx->suspended) {
		rt_set_err(ctx, "the tool has no elicitation schema named %.100s",
		           schema_name ? schema_name : "(null)");
		return DMCP_E_PARAMS;
	}
	e = effect_begin(ctx, "elicit", &rc);
	if (rc != DMCP_OK)
		return rc;
	if (e == NULL) {
		if (!rt_caps_elicit_form(ctx->env->sess->caps)) {
			ctx->effect--;
			return need_cap(ctx, "{\"elicitation\":{\"form\":{}}}", "elicitation");
		}
		params = js_new_object();
		js_object_add(params, "message",
		                       js_new_string(message ? message : ""));
		js_object_add(params, "requestedSchema", js_parse_trusted(el->schema_text));
		e = effect_record(ctx, "elicit", key_ok(schema_name) ? schema_name : NULL,
		                  "elicitation/create", params, &rc);
		if (e == NULL)
			return rc;
	}
	rc = effect_await(ctx, e, el, &result);
	return rc == DMCP_OK ? parse_elicit_answer(ctx, result, el, out) : rc;
}

/* ---- forms that arrive while serving --------------------------------------------------- */

/* A form to validate answers with, compiled from schema (a tree, borrowed: it must outlive
 * el): el->check is owned (schema_free it). DMCP_E_SCHEMA (ctx->err) when it is no form. */
static dmcp_rc inline_form(dmcp_ctx *ctx, json_object *schema, struct reg_elicit *el)
{
	char why[200];
	dmcp_rc rc;

	memset(el, 0, sizeof *el);
	rc = reg_form_compile(schema, &el->check, why, sizeof why);
	if (rc == DMCP_E_SCHEMA)
		rt_set_err(ctx, "the elicitation form is not valid: %s", why);
	return rc;
}

/* The requestedSchema a journaled elicitation entry asked with (borrowed), or NULL. */
static json_object *asked_schema(json_object *e)
{
	return js_get(js_get(js_get(e, "req", json_type_object), "params", json_type_object),
	              "requestedSchema", json_type_object);
}

dmcp_rc rt_elicit_inline(dmcp_ctx *ctx, json_object *schema, const char *key,
                         const char *message, struct dmcp_elicit_answer *out)
{
	struct reg_elicit el;
	json_object *e, *result, *params;
	dmcp_rc rc;

	memset(out, 0, sizeof *out);
	e = effect_begin(ctx, "elicit", &rc);
	if (rc != DMCP_OK)
		return rc;
	if (e == NULL) {
		rc = inline_form(ctx, schema, &el);
		if (rc != DMCP_OK) {
			ctx->effect--;
			return rc;
		}
		if (!rt_caps_elicit_form(ctx->env->sess->caps)) {
			schema_free(el.check);
			ctx->effect--;
			return need_cap(ctx, "{\"elicitation\":{\"form\":{}}}", "elicitation");
		}
		params = js_new_object();
		js_object_add(params, "message", js_new_string(message ? message : ""));
		js_object_add(params, "requestedSchema", js_parse_trusted(js_text(schema)));
		e = effect_record(ctx, "elicit", key_ok(key) ? key : NULL, "elicitation/create",
		                  params, &rc);
		schema_free(el.check);
		if (e == NULL)
			return rc;
	}
	/* New or replayed, answers are checked against the schema the client was shown. */
	rc = inline_form(ctx, asked_schema(e), &el);
	if (rc != DMCP_OK)
		return DMCP_E_VERSION;
	rc = effect_await(ctx, e, &el, &result);
	if (rc == DMCP_OK)
		rc = parse_elicit_answer(ctx, result, &el, out);
	schema_free(el.check);
	return rc;
}

/* An answer handed to a program: the client's result, or {"error": <its error>} for a
 * request it refused; kept alive for the step in ctx->answers. */
static json_object *keep_answer(dmcp_ctx *ctx, json_object *result, json_object *e)
{
	json_object *a;

	if (result != NULL)
		return result;
	a = js_new_object();
	js_object_add(a, "error", json_object_get(js_get(js_get(e, "ans", json_type_object),
	                                                  "error", json_type_object)));
	if (ctx->answers == NULL)
		ctx->answers = js_new_array();
	js_array_add(ctx->answers, a);
	return a;
}

dmcp_rc rt_next_answer(dmcp_ctx *ctx, json_object **answer)
{
	struct dmcp_elicit_answer ea;
	struct dmcp_sample_answer sa;
	struct reg_elicit el;
	json_object *e, *result = NULL;
	const char *t;
	dmcp_rc rc;

	*answer = NULL;
	if (ctx->suspended)
		return DMCP_SUSPENDED;
	if ((size_t)ctx->effect >= json_object_array_length(ctx->journal))
		return DMCP_OK; /* no more: the caller runs its code for the next request */
	e = json_object_array_get_idx(ctx->journal, (size_t)ctx->effect);
	t = js_str(e, "t");
	if (t == NULL || (strcmp(t, "elicit") != 0 && strcmp(t, "url") != 0 &&
	                  strcmp(t, "sample") != 0)) {
		rt_set_err(ctx, "effect %d is %s in the journal, which a program cannot ask for",
		           ctx->effect, t != NULL ? t : "?");
		return DMCP_E_VERSION;
	}
	ctx->effect++;
	if (strcmp(t, "elicit") == 0) {
		if (inline_form(ctx, asked_schema(e), &el) != DMCP_OK)
			return DMCP_E_VERSION;
		rc = effect_await(ctx, e, &el, &result);
		if (rc == DMCP_OK)
			rc = parse_elicit_answer(ctx, result, &el, &ea);
		schema_free(el.check);
	} else if (js_has(e, "provider")) {
		rc = answer_of(ctx, e, &result);
	} else {
		rc = effect_await(ctx, e, NULL, &result);
		if (rc == DMCP_OK)
			rc = strcmp(t, "url") == 0 ? parse_elicit_answer(ctx, result, NULL, &ea)
			                           : parse_sample_answer(ctx, result, &sa);
	}
	if (rc == DMCP_E_REJECTED)
		rc = DMCP_OK; /* the program is told, and decides */
	if (rc == DMCP_OK)
		*answer = keep_answer(ctx, result, e);
	return rc;
}

void rt_effect_back(dmcp_ctx *ctx)
{
	if (ctx->effect > 0)
		ctx->effect--;
}

/* ---- confirmation before a destructive tool ------------------------------------------- */

/* Bytes of the arguments shown in a confirmation question (longer ones are cut). */
#define RT_CONFIRM_ARGS 1000
/* The key of the confirmation on the 2026-07-28 wire. */
#define RT_CONFIRM_KEY "dmcp_confirm"

/* The confirmation form: one required boolean, false until the user ticks it. */
static json_object *confirm_form(const char *tool)
{
	json_object *schema = js_new_object(), *props = js_new_object(), *f = js_new_object();
	json_object *req = js_new_array();
	char title[REG_MAX_NAME + 16];

	snprintf(title, sizeof title, "Run %s", tool);
	js_object_add(f, "type", js_new_string("boolean"));
	js_object_add(f, "title", js_new_string(title));
	js_object_add(f, "description", js_new_string("Tick to run it; anything else does "
	                                              "nothing"));
	js_object_add(f, "default", js_new_boolean(0));
	js_object_add(props, "confirm", f);
	js_array_add(req, js_new_string("confirm"));
	js_object_add(schema, "type", js_new_string("object"));
	js_object_add(schema, "properties", props);
	js_object_add(schema, "required", req);
	return schema;
}

dmcp_rc rt_confirm(dmcp_ctx *ctx, json_object *args)
{
	const char *tool = ctx->tool->def->name, *text = js_text(args);
	struct dmcp_elicit_answer ans;
	json_object *form = confirm_form(tool);
	char question[RT_CONFIRM_ARGS + REG_MAX_NAME + 64];
	dmcp_rc rc;

	snprintf(question, sizeof question, "Run the tool %s with these arguments? %.*s%s", tool,
	         RT_CONFIRM_ARGS, text, strlen(text) > RT_CONFIRM_ARGS ? "..." : "");
	cut_whole(question, sizeof question);
	rc = rt_elicit_inline(ctx, form, RT_CONFIRM_KEY, question, &ans);
	json_object_put(form);
	if (rc == DMCP_E_CAPABILITY) {
		rt_set_err(ctx, "%s changes things and asks the user to confirm first, but this "
		           "client cannot be asked (it declared no elicitation): nothing was done",
		           tool);
		return rc;
	}
	if (rc != DMCP_OK)
		return rc;
	if (ans.action == DMCP_ACCEPT && dmcp_arg_bool(ans.content, "confirm"))
		return DMCP_OK;
	return dmcp_fail(ctx, "the user did not confirm %s (%s): nothing was done", tool,
	                 ans.action == DMCP_ACCEPT ? "left unticked" :
	                 ans.action == DMCP_DECLINE ? "declined" : "cancelled");
}

/* ---- URL mode -------------------------------------------------------------------------- */

/* Copy url into b with every "{elicitationId}" replaced by eid, "/" as %2F. */
static void url_with_id(struct buf *b, const char *url, const char *eid)
{
	static const char mark[] = "{elicitationId}";
	const char *p = url, *hit;

	while ((hit = strstr(p, mark)) != NULL) {
		const char *e;
		(void)buf_add(b, p, (size_t)(hit - p));
		for (e = eid; *e != '\0'; e++)
			(void)buf_add(b, *e == '/' ? "%2F" : e, *e == '/' ? 3 : 1);
		p = hit + sizeof mark - 1;
	}
	(void)buf_adds(b, p);
}

/* The params of a URL-mode request, or NULL when the URL is longer than RT_URL_MAX. */
static json_object *url_params(dmcp_ctx *ctx, const char *url, const char *message)
{
	json_object *p;
	char eid[RT_PREFIX_MAX + 16];
	struct buf b;

	snprintf(eid, sizeof eid, "%s%d", ctx->prefix, ctx->effect - 1);
	buf_init(&b, RT_URL_MAX);
	url_with_id(&b, url, eid);
	if (b.fail != DMCP_OK) {
		buf_free(&b);
		return NULL;
	}
	p = js_new_object();
	js_object_add(p, "mode", js_new_string("url"));
	js_object_add(p, "message", js_new_string(message ? message : ""));
	js_object_add(p, "elicitationId", js_new_string(eid));
	js_object_add(p, "url", js_new_string(buf_cstr(&b)));
	buf_free(&b);
	return p;
}

dmcp_rc dmcp_elicit_url(dmcp_ctx *ctx, const char *url, const char *message,
                        struct dmcp_elicit_answer *out)
{
	json_object *e, *result, *params, *entry;
	dmcp_rc rc;

	memset(out, 0, sizeof *out);
	if (url == NULL && !ctx->suspended)
		return DMCP_E_PARAMS;
	e = effect_begin(ctx, "url", &rc);
	if (rc != DMCP_OK)
		return rc;
	if (e == NULL) {
		params = url_params(ctx, url, message);
		if (params == NULL) {
			ctx->effect--;
			rt_set_err(ctx, "the elicitation URL is longer than %u bytes", (unsigned)RT_URL_MAX);
			return DMCP_E_LIMIT;
		}
		if (!rt_caps_elicit_url(ctx->env->sess->caps) && ctx->env->sess->modern) {
			json_object_put(params);
			ctx->effect--;
			return need_cap(ctx, "{\"elicitation\":{\"url\":{}}}", "URL-mode elicitation");
		}
		if (!rt_caps_elicit_url(ctx->env->sess->caps)) {
			/* Journal the effect so that the -32042 error can list it. */
			entry = js_new_object();
			js_object_add(entry, "t", js_new_string("url"));
			js_object_add(entry, "required", params);
			js_array_add(ctx->journal, entry);
			rt_set_err(ctx, "this call needs a URL-mode elicitation first");
			return DMCP_E_URL_REQUIRED;
		}
		e = effect_record(ctx, "url", NULL, "elicitation/create", params, &rc);
		if (e == NULL)
			return rc;
	}
	rc = effect_await(ctx, e, NULL, &result);
	return rc == DMCP_OK ? parse_elicit_answer(ctx, result, NULL, out) : rc;
}

/* ---- sampling -------------------------------------------------------------------------- */

/* Ask the fallback provider now and journal its answer as if the client had given it. */
static dmcp_rc sample_fallback(dmcp_ctx *ctx, json_object *params,
                               struct dmcp_sample_answer *out)
{
	const struct dmcp_sampling_provider *p = ctx->env->reg->sampling;
	json_object *result = NULL, *e, *ans;
	dmcp_rc rc;

	if (p == NULL) {
		json_object_put(params);
		ctx->effect--;
		if (ctx->env->sess->modern)
			return need_cap(ctx, "{\"sampling\":{}}", "sampling");
		rt_set_err(ctx, "the client does not support sampling and no sampling fallback is "
		           "configured (DMCP_SAMPLING_FALLBACK)");
		return DMCP_E_NO_SAMPLING;
	}
	rc = p->create_message(p->state, params, &result);
	if (rc != DMCP_OK || result == NULL) {
		json_object_put(params);
		json_object_put(result);
		ctx->effect--;
		rt_set_err(ctx, "the sampling provider %s failed", p->name);
		return DMCP_E_TOOL;
	}
	e = js_new_object();
	ans = js_new_object();
	js_object_add(ans, "result", result);
	js_object_add(e, "t", js_new_string("sample"));
	js_object_add(e, "provider", js_new_string(p->name));
	js_object_add(e, "req", params);
	js_object_add(e, "ans", ans);
	js_array_add(ctx->journal, e);
	return sampled(ctx, result, out);
}

dmcp_rc dmcp_sample(dmcp_ctx *ctx, const struct dmcp_sample_req *req,
                    struct dmcp_sample_answer *out)
{
	json_object *e, *result, *params;
	dmcp_rc rc;

	memset(out, 0, sizeof *out);
	if ((req == NULL || req->max_tokens <= 0) && !ctx->suspended)
		return DMCP_E_PARAMS;
	e = effect_begin(ctx, "sample", &rc);
	if (rc != DMCP_OK)
		return rc;
	if (e != NULL && js_has(e, "provider")) /* answered by the fallback when it was new */
		return answer_of(ctx, e, &result) == DMCP_OK ? sampled(ctx, result, out)
		                                             : DMCP_E_ANSWER;
	if (e == NULL) {
		struct dmcp_sample_req capped = *req;
		int64_t left = rt_budget_left(ctx);
		if ((req->tools != NULL || req->tool_choice != NULL) &&
		    !rt_caps_sampling_tools(ctx->env->sess->caps)) {
			ctx->effect--;
			return need_cap(ctx, "{\"sampling\":{\"tools\":{}}}",
			                "sampling with tools (sampling.tools)");
		}
		if (left <= 0) {
			ctx->effect--;
			rt_set_err(ctx, "the sampling token budget of this branch is used up");
			return DMCP_E_BUDGET;
		}
		if (left < capped.max_tokens)
			capped.max_tokens = (int)left; /* the model may not use more than is left */
		params = sample_params(&capped);
		if (!rt_caps_sampling(ctx->env->sess->caps))
			return sample_fallback(ctx, params, out);
		e = effect_record(ctx, "sample", key_ok(req->key) ? req->key : NULL,
		                  "sampling/createMessage", params, &rc);
		if (e == NULL)
			return rc;
	}
	rc = effect_await(ctx, e, NULL, &result);
	return rc == DMCP_OK ? sampled(ctx, result, out) : rc;
}

/* ---- roots ----------------------------------------------------------------------------- */

/* A roots/list answer: {"roots": [{"uri": "file://...", "name"?}, ...]}; out may be NULL. */
static dmcp_rc parse_roots_answer(dmcp_ctx *ctx, json_object *result,
                                  struct dmcp_roots_answer *out)
{
	json_object *roots = js_get(result, "roots", json_type_array);
	size_t i, n = roots != NULL ? json_object_array_length(roots) : 0;

	if (roots == NULL) {
		rt_set_err(ctx, "the roots answer has no roots array");
		return DMCP_E_ANSWER;
	}
	for (i = 0; i < n; i++) {
		json_object *r = json_object_array_get_idx(roots, i);
		if (js_str(r, "uri") == NULL) {
			rt_set_err(ctx, "every root needs a uri string");
			return DMCP_E_ANSWER;
		}
	}
	if (out != NULL)
		out->roots = roots;
	return DMCP_OK;
}

dmcp_rc dmcp_roots(dmcp_ctx *ctx, const char *key, struct dmcp_roots_answer *out)
{
	json_object *e, *result;
	dmcp_rc rc;

	memset(out, 0, sizeof *out);
	e = effect_begin(ctx, "roots", &rc);
	if (rc != DMCP_OK)
		return rc;
	if (e == NULL) {
		if (!rt_caps_roots(ctx->env->sess->caps)) {
			ctx->effect--;
			return need_cap(ctx, "{\"roots\":{}}", "roots");
		}
		e = effect_record(ctx, "roots", key_ok(key) ? key : NULL, "roots/list",
		                  js_new_object(), &rc);
		if (e == NULL)
			return rc;
	}
	rc = effect_await(ctx, e, NULL, &result);
	return rc == DMCP_OK ? parse_roots_answer(ctx, result, out) : rc;
}

/* ---- several requests at once ---------------------------------------------------------- */

static const char *const ask_types[] = {"elicit", "sample", "roots"};

/* Check one ask of a new group: DMCP_OK, or an error with ctx->err (and ctx->required). */
static dmcp_rc ask_check(dmcp_ctx *ctx, const struct dmcp_ask *a)
{
	json_object *caps = ctx->env->sess->caps;

	if (!key_ok(a->key)) {
		rt_set_err(ctx, "every request of dmcp_ask_all needs a key of 1 to %d printable "
		           "characters", RT_MAX_KEY);
		return DMCP_E_PARAMS;
	}
	switch (a->kind) {
	case DMCP_ASK_ELICIT:
		if (reg_elicit(ctx->tool, a->schema) == NULL) {
			rt_set_err(ctx, "the tool has no elicitation schema named %.100s",
			           a->schema ? a->schema : "(null)");
			return DMCP_E_PARAMS;
		}
		return rt_caps_elicit_form(caps) ? DMCP_OK
		       : need_cap(ctx, "{\"elicitation\":{\"form\":{}}}", "elicitation");
	case DMCP_ASK_SAMPLE:
		if (a->sample == NULL || a->sample->max_tokens <= 0)
			return DMCP_E_PARAMS;
		return rt_caps_sampling(caps) ? DMCP_OK : need_cap(ctx, "{\"sampling\":{}}", "sampling");
	case DMCP_ASK_ROOTS:
		return rt_caps_roots(caps) ? DMCP_OK : need_cap(ctx, "{\"roots\":{}}", "roots");
	}
	return DMCP_E_PARAMS;
}

/* The request of one ask: its method and params (new). */
static json_object *ask_params(dmcp_ctx *ctx, const struct dmcp_ask *a, const char **method)
{
	json_object *p;

	if (a->kind == DMCP_ASK_SAMPLE) {
		*method = "sampling/createMessage";
		return sample_params(a->sample);
	}
	if (a->kind == DMCP_ASK_ROOTS) {
		*method = "roots/list";
		return js_new_object();
	}
	*method = "elicitation/create";
	p = js_new_object();
	js_object_add(p, "message", js_new_string(a->message ? a->message : ""));
	js_object_add(p, "requestedSchema",
	                       js_parse_trusted(reg_elicit(ctx->tool, a->schema)->schema_text));
	return p;
}

/* Record a new group entry for asks[0..n): {"t": "group", "reqs": [request entries]}. */
static json_object *group_record(dmcp_ctx *ctx, const struct dmcp_ask *asks, int n, dmcp_rc *rc)
{
	json_object *e, *reqs;
	char id[RT_PREFIX_MAX + 32];
	int i, j;

	*rc = n < 1 || n > DMCP_MAX_ASKS ? DMCP_E_PARAMS : DMCP_OK;
	for (i = 0; i < n && *rc == DMCP_OK; i++) {
		*rc = ask_check(ctx, &asks[i]);
		for (j = 0; j < i && *rc == DMCP_OK; j++)
			if (strcmp(asks[i].key, asks[j].key) == 0)
				*rc = DMCP_E_PARAMS;
	}
	if (*rc == DMCP_OK && !rt_room_for(ctx, n))
		*rc = rt_no_room(ctx);
	if (*rc != DMCP_OK) {
		ctx->effect--;
		return NULL;
	}
	reqs = js_new_array();
	for (i = 0; i < n; i++) {
		const char *method;
		json_object *params = ask_params(ctx, &asks[i], &method);
		snprintf(id, sizeof id, "%s%d.%d", ctx->prefix, ctx->effect - 1, i);
		js_array_add(reqs, request_entry(ask_types[asks[i].kind], asks[i].key, id,
		                                          method, params));
	}
	e = js_new_object();
	js_object_add(e, "t", js_new_string("group"));
	js_object_add(e, "reqs", reqs);
	set_deadline(ctx, e);
	js_array_add(ctx->journal, e);
	ctx->recorded = 1;
	return e;
}

/* Fill asks[i]'s answer from its journal entry. */
static void ask_answer(dmcp_ctx *ctx, struct dmcp_ask *a, json_object *sub)
{
	json_object *result;

	a->rc = answer_of(ctx, sub, &result);
	if (a->rc != DMCP_OK)
		return;
	if (a->kind == DMCP_ASK_ELICIT)
		a->rc = parse_elicit_answer(ctx, result, reg_elicit(ctx->tool, a->schema), &a->elicit);
	else if (a->kind == DMCP_ASK_SAMPLE)
		a->rc = sampled(ctx, result, &a->sampled);
	else
		a->rc = parse_roots_answer(ctx, result, &a->roots);
}

dmcp_rc dmcp_ask_all(dmcp_ctx *ctx, struct dmcp_ask *asks, int n)
{
	json_object *e, *reqs;
	int i, waiting = 0;
	dmcp_rc rc;

	e = effect_begin(ctx, "group", &rc);
	if (rc != DMCP_OK)
		return rc;
	if (e == NULL) {
		e = group_record(ctx, asks, n, &rc);
		if (e == NULL)
			return rc;
	}
	reqs = js_get(e, "reqs", json_type_array);
	if (reqs == NULL || n < 1 || json_object_array_length(reqs) != (size_t)n) {
		rt_set_err(ctx, "the journal's group of requests does not match this call: the tool "
		           "is not deterministic or changed without a version bump");
		return DMCP_E_VERSION;
	}
	for (i = 0; i < n; i++) {
		json_object *sub = json_object_array_get_idx(reqs, (size_t)i);
		if (!js_has(sub, "ans") &&
		    !take_input(ctx, sub, asks[i].kind == DMCP_ASK_ELICIT ?
		                          reg_elicit(ctx->tool, asks[i].schema) : NULL))
			waiting++;
	}
	for (i = 0; i < n && waiting > 0; i++)
		if (timed_out(ctx, e, json_object_array_get_idx(reqs, (size_t)i)))
			waiting--;
	if (waiting > 0) {
		ctx->suspended = 1;
		ctx->pending = e;
		return DMCP_SUSPENDED;
	}
	for (i = 0; i < n; i++)
		ask_answer(ctx, &asks[i], json_object_array_get_idx(reqs, (size_t)i));
	return DMCP_OK;
}

int dmcp_client_can(const dmcp_ctx *ctx, enum dmcp_client_cap cap)
{
	json_object *caps = ctx->env->sess->caps;

	switch (cap) {
	case DMCP_CAN_ELICIT_FORM: return rt_caps_elicit_form(caps);
	case DMCP_CAN_ELICIT_URL: return rt_caps_elicit_url(caps);
	case DMCP_CAN_SAMPLE: return rt_caps_sampling(caps);
	case DMCP_CAN_SAMPLE_TOOLS: return rt_caps_sampling_tools(caps);
	case DMCP_CAN_ROOTS: return rt_caps_roots(caps);
	}
	return 0;
}

/* ---- notifications --------------------------------------------------------------------- */

/* A JSON number: integral values as integers ("50", not "50.0"). */
static json_object *number(double v)
{
	if (v == floor(v) && fabs(v) < 9007199254740992.0)
		return js_new_int64((int64_t)v);
	return js_new_double(v);
}

/* Count the next notification; 1 when it is new (must be emitted), 0 when replayed. */
static int next_note(dmcp_ctx *ctx)
{
	ctx->note++;
	return ctx->note > ctx->notes_at_start;
}

/* Queue a notification and commit it now (a checkpoint), so the client sees it while the
 * tool keeps working. */
static dmcp_rc emit(dmcp_ctx *ctx, json_object *msg)
{
	if (!rt_room_for(ctx, 1)) {
		json_object_put(msg);
		return rt_no_room(ctx);
	}
	rt_queue_event(ctx, EV_NOTIFICATION, msg);
	ctx->run->status = RUN_RUNNING;
	return rt_save(ctx);
}

dmcp_rc dmcp_progress(dmcp_ctx *ctx, double progress, double total, const char *message)
{
	json_object *params;
	const char *tok = ctx->run->progress_token;

	if (ctx->suspended)
		return DMCP_SUSPENDED;
	DMCP_TRY(rt_check_time(ctx));
	if (!isfinite(progress))
		return DMCP_E_PARAMS;
	if (!next_note(ctx))
		return DMCP_OK; /* replayed: checked and sent when it was new */
	if (ctx->run->has_progress && progress <= ctx->run->last_progress) {
		rt_set_err(ctx, "progress must increase (%g after %g)", progress,
		        ctx->run->last_progress);
		return DMCP_E_PARAMS;
	}
	ctx->run->has_progress = 1; /* checked with or without a token: same code, same rules */
	ctx->run->last_progress = progress;
	if (tok == NULL)
		return DMCP_OK;
	params = js_new_object();
	js_object_add(params, "progressToken", js_parse_trusted(tok));
	js_object_add(params, "progress", number(progress));
	if (total >= 0 && isfinite(total))
		js_object_add(params, "total", number(total));
	if (message != NULL)
		js_object_add(params, "message", js_new_string(message));
	return emit(ctx, rpc_request(NULL, "notifications/progress", params));
}

dmcp_rc dmcp_log(dmcp_ctx *ctx, dmcp_level level, const char *logger, const char *fmt, ...)
{
	char text[RT_LOG_LEN];
	json_object *params;
	va_list ap;

	if (ctx->suspended)
		return DMCP_SUSPENDED;
	DMCP_TRY(rt_check_time(ctx));
	if ((int)level < 0 || (int)level > 7)
		return DMCP_E_PARAMS;
	if (!next_note(ctx) || (int)level < ctx->env->sess->log_level)
		return DMCP_OK;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	params = js_new_object();
	js_object_add(params, "level", js_new_string(rt_level_name((int)level)));
	if (logger != NULL)
		js_object_add(params, "logger", js_new_string(logger));
	js_object_add(params, "data", js_new_string(text));
	return emit(ctx, rpc_request(NULL, "notifications/message", params));
}

dmcp_rc dmcp_elicit_url_complete(dmcp_ctx *ctx)
{
	json_object *params;
	int k;

	if (ctx->suspended)
		return DMCP_SUSPENDED;
	DMCP_TRY(rt_check_time(ctx));
	for (k = ctx->effect - 1; k >= 0; k--) {
		json_object *e = json_object_array_get_idx(ctx->journal, (size_t)k);
		const char *t = js_str(e, "t");
		if (t != NULL && strcmp(t, "url") == 0)
			break;
	}
	if (k < 0)
		return DMCP_E_PARAMS;
	if (!next_note(ctx))
		return DMCP_OK;
	params = js_new_object();
	js_object_add(params, "elicitationId", js_new_string(
		js_str(js_get(js_get(json_object_array_get_idx(ctx->journal, (size_t)k), "req",
		                     json_type_object), "params", json_type_object), "elicitationId")));
	return emit(ctx, rpc_request(NULL, "notifications/elicitation/complete", params));
}

dmcp_rc dmcp_stream_break(dmcp_ctx *ctx, int retry_ms)
{
	char body[16];
	json_object *e;

	if (ctx->suspended)
		return DMCP_SUSPENDED;
	DMCP_TRY(rt_check_time(ctx));
	if (retry_ms < 0 || retry_ms > 600000)
		return DMCP_E_PARAMS;
	if (!next_note(ctx))
		return DMCP_OK;
	snprintf(body, sizeof body, "%d", retry_ms);
	e = js_new_array();
	js_array_add(e, js_new_int(EV_POLL));
	js_array_add(e, js_new_string(body));
	js_array_add(ctx->events, e);
	ctx->run->status = RUN_RUNNING;
	return rt_save(ctx);
}

/* ---- memo, time, sleep ----------------------------------------------------------------- */

dmcp_rc dmcp_memo(dmcp_ctx *ctx, dmcp_memo_fn fn, void *arg, json_object **out)
{
	json_object *e, *v = NULL;
	dmcp_rc rc;

	*out = NULL;
	if (ctx->suspended)
		return DMCP_SUSPENDED;
	DMCP_TRY(rt_check_time(ctx));
	e = rt_next_entry(ctx, "memo", &rc);
	if (rc != DMCP_OK)
		return rc;
	if (e != NULL) {
		json_object_object_get_ex(e, "v", out);
		return DMCP_OK;
	}
	rc = fn(arg, &v);
	if (rc != DMCP_OK) {
		json_object_put(v);
		ctx->effect--;
		return rc;
	}
	e = js_new_object();
	js_object_add(e, "t", js_new_string("memo"));
	js_object_add(e, "v", v);
	js_array_add(ctx->journal, e);
	*out = v;
	return DMCP_OK;
}

static dmcp_rc clock_ms(void *arg, json_object **out)
{
	struct timespec ts;

	(void)arg;
	clock_gettime(CLOCK_REALTIME, &ts);
	*out = js_new_int64((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
	return DMCP_OK;
}

dmcp_rc dmcp_now_ms(dmcp_ctx *ctx, int64_t *out)
{
	json_object *v;

	DMCP_TRY(dmcp_memo(ctx, clock_ms, NULL, &v));
	*out = json_object_get_int64(v);
	return DMCP_OK;
}

dmcp_rc dmcp_sleep_ms(dmcp_ctx *ctx, int ms)
{
	struct timespec ts;

	if (ctx->suspended)
		return DMCP_SUSPENDED;
	DMCP_TRY(rt_check_time(ctx));
	if (ms < 0 || ms > DMCP_SLEEP_MAX_MS)
		return DMCP_E_PARAMS;
	if (ctx->note < ctx->notes_at_start || ctx->effect < ctx->journal_at_start)
		return DMCP_OK; /* replaying work already done */
	if (ms > rt_time_left(ctx))
		ms = rt_time_left(ctx); /* wake at the deadline, and fail there */
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) != 0)
		;
	return rt_check_time(ctx);
}

/* ---- time as data ----------------------------------------------------------------------- */

int64_t rt_now(const dmcp_ctx *ctx)
{
	int64_t now = task_now_ms();

	return now > ctx->clock_floor ? now : ctx->clock_floor;
}

int rt_can_become_task(const dmcp_ctx *ctx)
{
	return ctx->env->sess->modern && !ctx->run->task && ctx->tool != NULL &&
	       ctx->tool->prompt == NULL && ctx->tool->def->task_support != DMCP_TASK_FORBIDDEN &&
	       task_caps_ext(ctx->env->sess->caps);
}

int rt_can_park(const dmcp_ctx *ctx)
{
	return !ctx->env->sess->modern || ctx->run->task || rt_can_become_task(ctx);
}

/* End the step: the run is due again at due_ms (now: its next step in the background). */
static dmcp_rc park_until(dmcp_ctx *ctx, int64_t due_ms)
{
	ctx->suspended = 1;
	ctx->parked = 1;
	ctx->due_ms = due_ms;
	return DMCP_SUSPENDED;
}

/* A sleep that cannot park: in this thread, DMCP_SLEEP_MAX_MS at most. */
static dmcp_rc sleep_here(dmcp_ctx *ctx, int64_t ms)
{
	struct timespec ts;

	if (ms > DMCP_SLEEP_MAX_MS) {
		rt_set_err(ctx, "a call that is not a task cannot wait %lld ms without its request "
		           "(at most %d ms): give the tool task support", (long long)ms,
		           DMCP_SLEEP_MAX_MS);
		return DMCP_E_LIMIT;
	}
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) != 0)
		;
	return DMCP_OK;
}

dmcp_rc dmcp_sleep(dmcp_ctx *ctx, int64_t ms)
{
	json_object *e, *until;
	int64_t at;
	dmcp_rc rc;

	if (ctx->suspended)
		return DMCP_SUSPENDED;
	if (ms < 0)
		return DMCP_E_PARAMS;
	e = rt_next_entry(ctx, "sleep", &rc);
	if (rc != DMCP_OK)
		return rc;
	if (e != NULL) {
		until = js_get(e, "until", json_type_int);
		at = until != NULL ? json_object_get_int64(until) : 0;
		if (js_has(e, "here") || rt_now(ctx) >= at)
			return DMCP_OK; /* slept in its thread, or the time came */
		return park_until(ctx, at);
	}
	at = rt_now(ctx) + ms;
	e = js_new_object();
	js_object_add(e, "t", js_new_string("sleep"));
	js_object_add(e, "until", js_new_int64(at));
	if (!rt_can_park(ctx)) {
		rc = sleep_here(ctx, ms);
		if (rc != DMCP_OK) {
			json_object_put(e);
			ctx->effect--;
			return rc;
		}
		js_object_add(e, "here", js_new_boolean(1));
		js_array_add(ctx->journal, e);
		return DMCP_OK;
	}
	js_array_add(ctx->journal, e);
	return park_until(ctx, at);
}

dmcp_rc dmcp_deadline(dmcp_ctx *ctx, int64_t ms)
{
	if (ctx->suspended)
		return DMCP_SUSPENDED;
	ctx->deadline_ms = ms > 0 ? ms : 0;
	return DMCP_OK;
}

dmcp_rc dmcp_task_start(dmcp_ctx *ctx)
{
	json_object *e;
	dmcp_rc rc;

	if (ctx->suspended)
		return DMCP_SUSPENDED;
	e = rt_next_entry(ctx, "task", &rc);
	if (rc != DMCP_OK || e != NULL)
		return rc; /* replayed: the run went on (as a task, or as it was) */
	e = js_new_object();
	js_object_add(e, "t", js_new_string("task"));
	js_array_add(ctx->journal, e);
	if (!rt_can_become_task(ctx))
		return DMCP_OK;
	return park_until(ctx, rt_now(ctx));
}

int dmcp_is_task(const dmcp_ctx *ctx)
{
	return ctx->run->task;
}

const char *dmcp_run_id(const dmcp_ctx *ctx)
{
	return ctx->run->id;
}

int dmcp_effect_seq(const dmcp_ctx *ctx)
{
	return ctx->effect;
}

const char *dmcp_progress_token(const dmcp_ctx *ctx)
{
	return ctx->run->progress_token != NULL ? ctx->run->progress_token : "null";
}

const char *dmcp_principal(const dmcp_ctx *ctx)
{
	return ctx->run->principal;
}

const char *dmcp_scopes(const dmcp_ctx *ctx)
{
	return ctx->run->scopes;
}

int dmcp_has_scope(const dmcp_ctx *ctx, const char *scope)
{
	return scope != NULL && scope_has(ctx->run->scopes, scope);
}

const char *dmcp_session_id(const dmcp_ctx *ctx)
{
	return ctx->run->session_id;
}

/* The message goes where every failure's does: finish() turns it into the isError result
 * and the run's error. */
dmcp_rc dmcp_fail(dmcp_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctx->err, sizeof ctx->err, fmt, ap);
	va_end(ap);
	cut_whole(ctx->err, sizeof ctx->err);
	return DMCP_E_TOOL;
}

/* ---- change announcements (public) ------------------------------------------------------ */

/* NOTIFY a change payload once per run (numbered like progress). No step holds a
 * transaction while the tool runs, so it goes out at once. A hint: a failure is logged
 * (store_notify), and a stream that misses one only serves a list a client re-reads. */
static dmcp_rc announce(dmcp_ctx *ctx, const char *kind, const char *what)
{
	struct buf b;

	if (ctx->suspended)
		return DMCP_SUSPENDED;
	if (!next_note(ctx))
		return DMCP_OK;
	buf_init(&b, DMCP_MAX_URI + 3);
	(void)buf_adds(&b, kind);
	(void)buf_adds(&b, what);
	if (b.fail == DMCP_OK)
		store_notify(ctx->env->st, buf_cstr(&b));
	buf_free(&b);
	return DMCP_OK;
}

dmcp_rc dmcp_list_changed(dmcp_ctx *ctx, const char *list)
{
	if (list == NULL || (strcmp(list, "tools") != 0 && strcmp(list, "prompts") != 0 &&
	                     strcmp(list, "resources") != 0))
		return DMCP_E_PARAMS;
	return announce(ctx, "l:", list);
}

dmcp_rc dmcp_resource_updated(dmcp_ctx *ctx, const char *uri)
{
	if (uri == NULL || uri[0] == '\0')
		return DMCP_E_PARAMS;
	if (strnlen(uri, DMCP_MAX_URI) >= DMCP_MAX_URI)
		return DMCP_E_LIMIT;
	return announce(ctx, "r:", uri);
}
