/* runtime.c — durable tool runs (see runtime.h).
 * Knows nothing of HTTP or SSE. The tool function replays against the run's journal:
 * effect k returns the journaled answer, or records a request and suspends; notifications
 * are numbered and those already in the event log are not emitted again. Nothing reaches a
 * client before the commit that holds it. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "buf.h"
#include "js.h"
#include "log.h"
#include "mcp.h"
#include "param.h"
#include "rnd.h"
#include "rpc.h"
#include "runtime.h"
#include "utf8.h"

/* Bytes of a failure message kept for the client and the operators. */
#define RT_ERR_LEN 512
/* Bytes of one log message a tool formats. */
#define RT_LOG_LEN 4096
/* Bytes of one text block a tool formats with dmcp_result_textf (a longer one is refused
 * with DMCP_E_LIMIT): results larger than this belong in resources. */
#define RT_TEXT_MAX (1u << 20)
/* Bytes of a URL-mode elicitation's URL, after its {elicitationId} is filled in. */
#define RT_URL_MAX 8192

struct dmcp_result {
	json_object *content;    /* owned array of content blocks */
	json_object *structured; /* owned, or NULL */
	int is_error;            /* isError: true */
};

struct dmcp_ctx {
	struct rt_env *env;
	const struct reg_tool *tool;
	struct run_row *run;      /* the row; journal text is rewritten at each save */
	json_object *journal;     /* owned: parsed journal array */
	json_object *events;      /* owned: array of [kind, body] waiting for the next save */
	int journal_at_start;     /* entries when the step began: below is replay */
	int notes_at_start;       /* run->notes when the step began */
	int effect;               /* index of the next effect */
	int note;                 /* notifications met so far in this step */
	int suspended;            /* a new request was recorded: the step ends */
	int in_tx;                /* a transaction holds the run row */
	int64_t committed_lsn;    /* last_lsn as of the last save (for fencing) */
	dmcp_rc failed;           /* a checkpoint could not be saved: the step is abandoned */
	char err[RT_ERR_LEN];     /* why an effect failed, for the tool's error result */
	json_object *answers;     /* owned array: form answers with their defaults filled in,
	                             handed to the tool for this step */
};

/* ---- levels and capabilities ----------------------------------------------------------- */

static const char *const level_names[] = {"debug", "info", "notice", "warning", "error",
                                          "critical", "alert", "emergency"};

int rt_level_parse(const char *name)
{
	int i;

	for (i = 0; name != NULL && i < 8; i++)
		if (strcmp(name, level_names[i]) == 0)
			return i;
	return -1;
}

const char *rt_level_name(int level)
{
	return level >= 0 && level < 8 ? level_names[level] : "info";
}

int rt_caps_elicit_form(json_object *caps)
{
	json_object *e = js_get(caps, "elicitation", json_type_object);

	if (e == NULL)
		return 0;
	/* An empty object means form only (backwards compatibility). */
	return json_object_object_length(e) == 0 || js_has(e, "form");
}

int rt_caps_elicit_url(json_object *caps)
{
	return js_get(js_get(caps, "elicitation", json_type_object), "url", json_type_object) != NULL;
}

int rt_caps_sampling(json_object *caps)
{
	return js_get(caps, "sampling", json_type_object) != NULL;
}

int rt_caps_sampling_tools(json_object *caps)
{
	return js_get(js_get(caps, "sampling", json_type_object), "tools", json_type_object) != NULL;
}

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

/* ---- saving ---------------------------------------------------------------------------- */

static void queue_event(dmcp_ctx *ctx, enum event_kind kind, json_object *msg)
{
	json_object *e = js_new_array();

	js_array_add(e, js_new_int(kind));
	js_array_add(e, js_new_string(msg != NULL ? js_text(msg) : ""));
	js_array_add(ctx->events, e);
	json_object_put(msg);
}

/* Begin a transaction holding the (existing) run row, checking that nobody else moved the
 * run since our last save (cancelled it, or took it over after our lease passed). */
static dmcp_rc lock_again(dmcp_ctx *ctx, int durable)
{
	struct run_row fresh;
	dmcp_rc rc;

	ctx->in_tx = 1; /* from here on the caller rolls back on failure */
	rc = store_begin_lock(ctx->env->st, ctx->run->id, ctx->run->session_id,
	                      ctx->run->principal, durable, &fresh);
	if (rc != DMCP_OK)
		return rc;
	if (fresh.status == RUN_CANCELLED)
		rc = DMCP_CANCELLED;
	else if (fresh.status != RUN_RUNNING || fresh.last_lsn != ctx->committed_lsn)
		rc = DMCP_E_CONFLICT;
	row_run_clear(&fresh);
	return rc;
}

/* The queued events as parallel arrays; the strings are borrowed from ctx->events. */
static dmcp_rc event_arrays(dmcp_ctx *ctx, int *n_out, enum event_kind **kinds_out,
                            const char ***bodies_out)
{
	int n = (int)json_object_array_length(ctx->events), i;
	enum event_kind *kinds = calloc((size_t)(n > 0 ? n : 1), sizeof *kinds);
	const char **bodies = calloc((size_t)(n > 0 ? n : 1), sizeof *bodies);

	*n_out = n;
	*kinds_out = kinds;
	*bodies_out = bodies;
	if (kinds == NULL || bodies == NULL)
		return DMCP_E_NOMEM;
	for (i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(ctx->events, (size_t)i);
		kinds[i] = (enum event_kind)json_object_get_int(json_object_array_get_idx(e, 0));
		bodies[i] = json_object_get_string(json_object_array_get_idx(e, 1));
	}
	return DMCP_OK;
}

/* Whether this commit must ring the run's doorbell. A run that did not exist before this
 * save cannot have a follower (nobody knows its id yet), so its first commit — all of a
 * one-step call — sends no NOTIFY; later commits (checkpoints, answers, cancels) do. */
static int wants_notify(const dmcp_ctx *ctx, int existed, int n)
{
	if (n == 0 && ctx->run->status == RUN_RUNNING)
		return 0;
	return existed || ctx->env->cfg->notify_mode == CFG_NOTIFY_ALWAYS;
}

static int terminal(enum run_status s)
{
	return s == RUN_COMPLETED || s == RUN_FAILED || s == RUN_CANCELLED;
}

/* 1 when this save needs no row: a run never stored that ends now (a call finished in one
 * step: nobody can name it, resume it or cancel it), or a notification of a sessionless run
 * while it works (no client can resume a 2026-07-28 response stream). */
static int ephemeral(const dmcp_ctx *ctx)
{
	if (ctx->run->exists || ctx->in_tx)
		return 0;
	if (terminal(ctx->run->status))
		return !ctx->env->cfg->record_all || ctx->env->sess->modern;
	return ctx->env->sess->modern && ctx->run->status == RUN_RUNNING;
}

/* Hand the queued events to the sink without storing them. A sessionless run's
 * notifications take no LSN: only what is stored is numbered. */
static dmcp_rc deliver_only(dmcp_ctx *ctx)
{
	struct run_row *r = ctx->run;
	enum event_kind *kinds = NULL;
	const char **bodies = NULL;
	int n = 0, numbered = terminal(r->status);
	char *journal = strdup(js_text(ctx->journal));
	dmcp_rc rc = journal != NULL ? event_arrays(ctx, &n, &kinds, &bodies) : DMCP_E_NOMEM;

	if (journal != NULL) {
		free(r->journal);
		r->journal = journal; /* the caller's copy of the row reflects the step */
	}

	if (rc == DMCP_OK && n > 0 && ctx->env->sink != NULL)
		ctx->env->sink->committed(ctx->env->sink->arg, r->id, r->last_lsn + 1, n, kinds, bodies);
	if (rc == DMCP_OK && numbered)
		r->last_lsn += n;
	if (ctx->note > r->notes)
		r->notes = ctx->note;
	ctx->committed_lsn = r->last_lsn;
	free(kinds);
	free(bodies);
	json_object_put(ctx->events);
	ctx->events = js_new_array();
	return rc;
}

/* Write queued events, the journal and the status in one statement; commit; hand the events
 * to the sink; notify. On failure the transaction is rolled back and the run is as it was. */
static dmcp_rc save(dmcp_ctx *ctx)
{
	struct run_row *r = ctx->run;
	enum event_kind *kinds = NULL;
	const char **bodies = NULL;
	int64_t first = r->last_lsn + 1;
	int existed = r->exists, n = 0, notify, durable;
	char *journal;
	dmcp_rc rc = DMCP_OK;

	if (ephemeral(ctx))
		return deliver_only(ctx);
	/* Durability. A new run that goes on (it waits, or sends progress) must be on disk
	 * before anything reaches the client: the call now exists for it. A call finished in
	 * one step need not be (see store_set_async). A later checkpoint of a run (the step goes
	 * on; notifications only) in its own transaction need not be either: after a crash the
	 * step replays and writes the same numbered notifications at the same LSNs, so a client
	 * resuming from its last id sees no hole. Everything else — a run that waits for the
	 * client, an applied answer (its transaction began durable in rt_answer), a result after
	 * checkpoints — waits for the disk. */
	if (!existed)
		durable = r->status != RUN_COMPLETED && r->status != RUN_FAILED;
	else
		durable = ctx->in_tx || r->status != RUN_RUNNING;
	if (!ctx->in_tx && r->exists)
		rc = lock_again(ctx, durable);
	if (rc == DMCP_OK) {
		journal = strdup(js_text(ctx->journal));
		if (journal == NULL) {
			rc = DMCP_E_NOMEM;
		} else {
			free(r->journal);
			r->journal = journal;
		}
	}
	if (rc == DMCP_OK)
		rc = event_arrays(ctx, &n, &kinds, &bodies);
	notify = wants_notify(ctx, existed, n);
	if (rc == DMCP_OK) {
		r->last_lsn += n;
		if (ctx->note > r->notes)
			r->notes = ctx->note;
		rc = store_run_save(ctx->env->st, r, first, n, kinds, bodies, durable);
		if (rc != DMCP_OK)
			r->last_lsn = first - 1;
	}
	if (rc == DMCP_OK && ctx->in_tx) {
		if (notify && ctx->env->cfg->notify_mode == CFG_NOTIFY_IN_TX)
			store_notify_in_tx(ctx->env->st, r->id); /* the naive design, to measure */
		rc = store_commit_notify(ctx->env->st, notify &&
		                         ctx->env->cfg->notify_mode != CFG_NOTIFY_IN_TX ? r->id : NULL);
		notify = 0;
	}
	ctx->in_tx = 0;
	if (rc != DMCP_OK) {
		store_rollback(ctx->env->st);
		if (rc != DMCP_CANCELLED && rc != DMCP_E_CONFLICT && ctx->failed == DMCP_OK)
			ctx->failed = rc;
	} else {
		ctx->committed_lsn = r->last_lsn;
		if (n > 0 && ctx->env->sink != NULL)
			ctx->env->sink->committed(ctx->env->sink->arg, r->id, first, n, kinds, bodies);
		if (notify)
			store_notify(ctx->env->st, r->id);
	}
	free(kinds);
	free(bodies);
	json_object_put(ctx->events);
	ctx->events = js_new_array();
	return rc;
}

/* ---- effects --------------------------------------------------------------------------- */

static void set_err(dmcp_ctx *ctx, const char *fmt, ...) DMCP_PRINTF(2, 3);
static void set_err(dmcp_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctx->err, sizeof ctx->err, fmt, ap);
	va_end(ap);
}

/* The journal entry for the next effect of type t, or NULL when the effect is new.
 * *rc is set when the journal does not match (the tool changed: DMCP_E_VERSION). */
static json_object *next_entry(dmcp_ctx *ctx, const char *t, dmcp_rc *rc)
{
	int k = ctx->effect++;
	json_object *e;
	const char *had;

	*rc = DMCP_OK;
	if ((size_t)k >= json_object_array_length(ctx->journal))
		return NULL;
	e = json_object_array_get_idx(ctx->journal, (size_t)k);
	had = js_str(e, "t");
	if (had == NULL || strcmp(had, t) != 0) {
		set_err(ctx, "effect %d was %s in the journal but is %s now: the tool is not "
		        "deterministic or changed without a version bump", k, had ? had : "?", t);
		*rc = DMCP_E_VERSION;
	}
	return e;
}

/* 1 when the run may append n more events and still have room for its final one (the
 * response), so that a run never holds more than DMCP_MAX_EVENTS_PER_RUN events. */
static int room_for(dmcp_ctx *ctx, int n)
{
	int64_t queued = (int64_t)json_object_array_length(ctx->events);

	return ctx->run->last_lsn + queued + n + 1 <= (int64_t)ctx->env->cfg->max_events;
}

static dmcp_rc no_room(dmcp_ctx *ctx)
{
	set_err(ctx, "the run reached DMCP_MAX_EVENTS_PER_RUN (%d events)",
	        ctx->env->cfg->max_events);
	return DMCP_E_LIMIT;
}

/* Record a new request effect: journal entry and (at the end of the step) its event. */
static dmcp_rc record_request(dmcp_ctx *ctx, const char *t, const char *method,
                              json_object *params)
{
	char id[48];
	json_object *e, *req;

	if (!room_for(ctx, 1)) {
		json_object_put(params);
		ctx->effect--;
		return no_room(ctx);
	}
	e = js_new_object();
	req = js_new_object();

	snprintf(id, sizeof id, "%s/%d", ctx->run->id, ctx->effect - 1);
	js_object_add(req, "method", js_new_string(method));
	js_object_add(req, "params", params);
	js_object_add(e, "t", js_new_string(t));
	js_object_add(e, "id", js_new_string(id));
	js_object_add(e, "req", req);
	js_array_add(ctx->journal, e);
	ctx->suspended = 1;
	return DMCP_SUSPENDED;
}

/* The answer of a journaled request: DMCP_SUSPENDED while none, DMCP_E_REJECTED for a
 * JSON-RPC error, else DMCP_OK with *result. */
static dmcp_rc answer_of(dmcp_ctx *ctx, json_object *e, json_object **result)
{
	json_object *ans = js_get(e, "ans", json_type_object), *er;

	*result = NULL;
	if (ans == NULL)
		return DMCP_SUSPENDED;
	er = js_get(ans, "error", json_type_object);
	if (er != NULL) {
		const char *m = js_str(er, "message");
		json_object *code = js_get(er, "code", json_type_int);
		set_err(ctx, "the client refused the request (%d: %.200s)",
		        code ? json_object_get_int(code) : 0, m ? m : "");
		return DMCP_E_REJECTED;
	}
	*result = js_get(ans, "result", json_type_object);
	if (*result == NULL) {
		set_err(ctx, "the client's answer has no result object");
		return DMCP_E_ANSWER;
	}
	return DMCP_OK;
}

/* The common start of a request effect of type t. DMCP_OK with *answered 0: the effect is
 * new. DMCP_OK with *answered 1 and *result: the journal holds the client's answer. Any
 * other code ends the effect (still waiting, a refused or mismatched journal entry). */
static dmcp_rc replay_request(dmcp_ctx *ctx, const char *t, int *answered, json_object **result)
{
	json_object *e;
	dmcp_rc rc;

	*answered = 0;
	*result = NULL;
	if (ctx->suspended)
		return DMCP_SUSPENDED;
	e = next_entry(ctx, t, &rc);
	if (rc != DMCP_OK || e == NULL)
		return rc;
	*answered = 1;
	return answer_of(ctx, e, result);
}

/* A form declared with fields: the tool gets a copy of the accepted content with the
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
		set_err(ctx, "the elicitation answer's action must be accept, decline or cancel");
		return DMCP_E_ANSWER;
	}
	if (el == NULL)
		return DMCP_OK; /* URL mode: no content */
	out->content = js_get(result, "content", json_type_object);
	if (out->content == NULL) {
		set_err(ctx, "an accepted elicitation answer needs a content object");
		return DMCP_E_ANSWER;
	}
	if (schema_validate(el->check, out->content, why, sizeof why) != DMCP_OK) {
		set_err(ctx, "the elicitation answer does not fit the schema: %s", why);
		out->content = NULL;
		return DMCP_E_ANSWER;
	}
	return el->fields != NULL ? fill_answer(ctx, el, out) : DMCP_OK;
}

dmcp_rc dmcp_elicit(dmcp_ctx *ctx, const char *schema_name, const char *message,
                    struct dmcp_elicit_answer *out)
{
	const struct reg_elicit *el = reg_elicit(ctx->tool, schema_name);
	json_object *result, *params;
	int answered;
	dmcp_rc rc;

	memset(out, 0, sizeof *out);
	if (el == NULL && !ctx->suspended) {
		set_err(ctx, "the tool has no elicitation schema named %.100s",
		        schema_name ? schema_name : "(null)");
		return DMCP_E_PARAMS;
	}
	rc = replay_request(ctx, "elicit", &answered, &result);
	if (rc != DMCP_OK || answered)
		return rc == DMCP_OK ? parse_elicit_answer(ctx, result, el, out) : rc;
	if (!rt_caps_elicit_form(ctx->env->sess->caps)) {
		ctx->effect--;
		set_err(ctx, "this tool needs elicitation, which the client did not declare");
		return DMCP_E_CAPABILITY;
	}
	params = js_new_object();
	js_object_add(params, "message", js_new_string(message ? message : ""));
	js_object_add(params, "requestedSchema", js_parse_trusted(el->schema_text));
	return record_request(ctx, "elicit", "elicitation/create", params);
}

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
	char eid[48];
	struct buf b;

	snprintf(eid, sizeof eid, "%s/%d", ctx->run->id, ctx->effect - 1);
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
	json_object *result, *params, *entry;
	int answered;
	dmcp_rc rc;

	memset(out, 0, sizeof *out);
	if (url == NULL && !ctx->suspended)
		return DMCP_E_PARAMS;
	rc = replay_request(ctx, "url", &answered, &result);
	if (rc != DMCP_OK || answered)
		return rc == DMCP_OK ? parse_elicit_answer(ctx, result, NULL, out) : rc;
	params = url_params(ctx, url, message);
	if (params == NULL) {
		ctx->effect--;
		set_err(ctx, "the elicitation URL is longer than %u bytes", (unsigned)RT_URL_MAX);
		return DMCP_E_LIMIT;
	}
	if (!rt_caps_elicit_url(ctx->env->sess->caps)) {
		/* Journal the effect so that the -32042 error can list it. */
		entry = js_new_object();
		js_object_add(entry, "t", js_new_string("url"));
		js_object_add(entry, "required", params);
		js_array_add(ctx->journal, entry);
		set_err(ctx, "this call needs a URL-mode elicitation first");
		return DMCP_E_URL_REQUIRED;
	}
	return record_request(ctx, "url", "elicitation/create", params);
}

/* ---- sampling -------------------------------------------------------------------------- */

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
		set_err(ctx, "the sampling answer is malformed: it needs role, content and model");
		return DMCP_E_ANSWER;
	}
	out->text = first_text(content);
	out->stop_reason = js_str(result, "stopReason");
	out->result = result;
	return DMCP_OK;
}

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
		set_err(ctx, "the client does not support sampling and no sampling fallback is "
		        "configured (DMCP_SAMPLING_FALLBACK)");
		return DMCP_E_NO_SAMPLING;
	}
	rc = p->create_message(p->state, params, &result);
	if (rc != DMCP_OK || result == NULL) {
		json_object_put(params);
		json_object_put(result);
		ctx->effect--;
		set_err(ctx, "the sampling provider %s failed", p->name);
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
	return parse_sample_answer(ctx, result, out);
}

dmcp_rc dmcp_sample(dmcp_ctx *ctx, const struct dmcp_sample_req *req,
                    struct dmcp_sample_answer *out)
{
	json_object *result, *params;
	int answered;
	dmcp_rc rc;

	memset(out, 0, sizeof *out);
	if ((req == NULL || req->max_tokens <= 0) && !ctx->suspended)
		return DMCP_E_PARAMS;
	rc = replay_request(ctx, "sample", &answered, &result);
	if (rc != DMCP_OK || answered)
		return rc == DMCP_OK ? parse_sample_answer(ctx, result, out) : rc;
	if ((req->tools != NULL || req->tool_choice != NULL) &&
	    !rt_caps_sampling_tools(ctx->env->sess->caps)) {
		ctx->effect--;
		set_err(ctx, "sampling with tools needs the client's sampling.tools capability");
		return DMCP_E_CAPABILITY;
	}
	params = sample_params(req);
	if (!rt_caps_sampling(ctx->env->sess->caps))
		return sample_fallback(ctx, params, out);
	return record_request(ctx, "sample", "sampling/createMessage", params);
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
	if (!room_for(ctx, 1)) {
		json_object_put(msg);
		return no_room(ctx);
	}
	queue_event(ctx, EV_NOTIFICATION, msg);
	ctx->run->status = RUN_RUNNING;
	return save(ctx);
}

dmcp_rc dmcp_progress(dmcp_ctx *ctx, double progress, double total, const char *message)
{
	json_object *params;
	const char *tok = ctx->run->progress_token;

	if (ctx->suspended)
		return DMCP_SUSPENDED;
	if (!isfinite(progress))
		return DMCP_E_PARAMS;
	if (!next_note(ctx))
		return DMCP_OK; /* replayed: checked and sent when it was new */
	if (ctx->run->has_progress && progress <= ctx->run->last_progress) {
		set_err(ctx, "progress must increase (%g after %g)", progress,
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
	if ((int)level < 0 || (int)level > 7)
		return DMCP_E_PARAMS;
	if (!next_note(ctx) || (int)level < ctx->env->sess->log_level)
		return DMCP_OK;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	params = js_new_object();
	js_object_add(params, "level", js_new_string(level_names[level]));
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
	return save(ctx);
}

/* ---- memo, time, sleep ----------------------------------------------------------------- */

dmcp_rc dmcp_memo(dmcp_ctx *ctx, dmcp_memo_fn fn, void *arg, json_object **out)
{
	json_object *e, *v = NULL;
	dmcp_rc rc;

	*out = NULL;
	if (ctx->suspended)
		return DMCP_SUSPENDED;
	e = next_entry(ctx, "memo", &rc);
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
	if (ms < 0 || ms > DMCP_SLEEP_MAX_MS)
		return DMCP_E_PARAMS;
	if (ctx->note < ctx->notes_at_start || ctx->effect < ctx->journal_at_start)
		return DMCP_OK; /* replaying work already done */
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) != 0)
		;
	return DMCP_OK;
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

/* ---- steps ----------------------------------------------------------------------------- */

static void fail_run(dmcp_ctx *ctx, const char *why)
{
	free(ctx->run->error);
	ctx->run->error = strdup(why);
	ctx->run->status = RUN_FAILED;
}

/* The final response for a finished step: a result, an isError result, or an error. */
static void finish(dmcp_ctx *ctx, dmcp_rc rc, dmcp_result *res)
{
	json_object *id = js_parse_trusted(ctx->run->request_id), *result, *data, *list;
	char why[RT_ERR_LEN];

	if (rc == DMCP_OK && res->structured != NULL && ctx->tool->output != NULL &&
	    schema_validate(ctx->tool->output, res->structured, why, sizeof why) != DMCP_OK) {
		set_err(ctx, "the tool's structuredContent does not match its outputSchema: %s", why);
		rc = DMCP_E_TOOL;
	}
	if (rc == DMCP_E_URL_REQUIRED) {
		json_object *last = json_object_array_get_idx(ctx->journal,
		                                              json_object_array_length(ctx->journal) - 1);
		data = js_new_object();
		list = js_new_array();
		js_array_add(list, json_object_get(js_get(last, "required", json_type_object)));
		js_object_add(data, "elicitations", list);
		queue_event(ctx, EV_RESPONSE, rpc_error(id, -32042, "URL elicitation required", data));
		fail_run(ctx, ctx->err);
	} else {
		result = js_new_object();
		if (rc != DMCP_OK) {
			(void)dmcp_result_error(res, "%s", ctx->err[0] ? ctx->err : dmcp_rc_name(rc));
			fail_run(ctx, ctx->err[0] ? ctx->err : dmcp_rc_name(rc));
		} else {
			ctx->run->status = res->is_error ? RUN_FAILED : RUN_COMPLETED;
		}
		js_object_add(result, "content", json_object_get(res->content));
		if (res->structured != NULL && !res->is_error)
			js_object_add(result, "structuredContent", json_object_get(res->structured));
		if (res->is_error)
			js_object_add(result, "isError", js_new_boolean(1));
		if (ctx->env->sess->modern)
			mcp_modern_result(result, "complete");
		queue_event(ctx, EV_RESPONSE, rpc_result(id, result));
	}
	json_object_put(id);
}

/* The request event for the effect the step suspended on. */
static void suspend(dmcp_ctx *ctx)
{
	json_object *e = json_object_array_get_idx(ctx->journal,
	                                           json_object_array_length(ctx->journal) - 1);
	json_object *req = js_get(e, "req", json_type_object);
	const char *id = js_str(e, "id"), *method = js_str(req, "method");

	free(ctx->run->pending_id);
	free(ctx->run->pending_method);
	ctx->run->pending_id = strdup(id);
	ctx->run->pending_method = strdup(method);
	ctx->run->status = RUN_WAITING;
	queue_event(ctx, EV_REQUEST, rpc_request(id, method,
	                                          json_object_get(js_get(req, "params",
	                                                                 json_type_object))));
}

/* Run the tool function once over the journal and save the outcome. ctx->in_tx tells
 * whether a transaction already holds the row. */
static dmcp_rc step(dmcp_ctx *ctx)
{
	struct dmcp_result res = {js_new_array(), NULL, 0};
	json_object *args = js_parse_trusted(ctx->run->arguments);
	dmcp_rc rc, src;

	ctx->run->steps++;
	ctx->run->status = RUN_RUNNING;
	ctx->journal_at_start = (int)json_object_array_length(ctx->journal);
	ctx->notes_at_start = ctx->run->notes;
	if (ctx->tool == NULL || ctx->tool->def->version != ctx->run->tool_version) {
		set_err(ctx, "the tool %.100s changed (version %d is gone) while this call waited; "
		        "call it again", ctx->run->tool, ctx->run->tool_version);
		rc = DMCP_E_VERSION;
	} else {
		rc = ctx->tool->def->run(ctx, args, &res);
	}
	if (ctx->suspended && rc != DMCP_CANCELLED && rc != DMCP_E_CONFLICT)
		rc = DMCP_SUSPENDED;
	if (ctx->failed != DMCP_OK) {
		/* A checkpoint failed (the database): abandon the step. What earlier checkpoints
		 * committed stays, under the run's lease; the step runs again after the lease. */
		if (ctx->in_tx)
			store_rollback(ctx->env->st);
		ctx->in_tx = 0;
		src = ctx->failed;
	} else if (rc == DMCP_CANCELLED || rc == DMCP_E_CONFLICT) {
		/* Someone else owns the run now (cancel or takeover): leave it to them. */
		if (ctx->in_tx)
			store_rollback(ctx->env->st);
		ctx->in_tx = 0;
		src = DMCP_OK;
	} else {
		if (rc == DMCP_SUSPENDED)
			suspend(ctx);
		else
			finish(ctx, rc, &res);
		src = save(ctx);
		if (src == DMCP_CANCELLED || src == DMCP_E_CONFLICT)
			src = DMCP_OK;
	}
	json_object_put(args);
	json_object_put(res.content);
	json_object_put(res.structured);
	return src;
}

static void ctx_init(dmcp_ctx *ctx, struct rt_env *env, struct run_row *run)
{
	memset(ctx, 0, sizeof *ctx);
	ctx->env = env;
	ctx->run = run;
	ctx->tool = reg_tool(env->reg, run->tool);
	ctx->journal = js_parse_trusted(run->journal);
	if (ctx->journal == NULL || !json_object_is_type(ctx->journal, json_type_array)) {
		json_object_put(ctx->journal);
		ctx->journal = js_new_array();
	}
	ctx->events = js_new_array();
	ctx->committed_lsn = run->last_lsn;
}

static void ctx_free(dmcp_ctx *ctx)
{
	json_object_put(ctx->journal);
	json_object_put(ctx->events);
	json_object_put(ctx->answers);
}

static void copy_id(rnd_hex_id dst, const char *src)
{
	snprintf(dst, sizeof(rnd_hex_id), "%s", src);
}

dmcp_rc rt_start(struct rt_env *env, const struct reg_tool *tool, json_object *request_id,
                 json_object *args, json_object *progress_token, struct run_row *run)
{
	dmcp_ctx ctx;
	dmcp_rc rc;

	memset(run, 0, sizeof *run);
	rc = rnd_id(run->id);
	if (rc != DMCP_OK)
		return rc;
	copy_id(run->session_id, env->sess->id);
	snprintf(run->principal, sizeof run->principal, "%s", env->sess->principal);
	run->request_id = strdup(js_text(request_id));
	run->progress_token = progress_token != NULL ? strdup(js_text(progress_token)) : NULL;
	run->tool = strdup(tool->def->name);
	run->tool_version = tool->def->version;
	run->arguments = strdup(args != NULL ? js_text(args) : "{}");
	run->journal = strdup("[]");
	if (run->request_id == NULL || run->tool == NULL || run->arguments == NULL ||
	    run->journal == NULL || (progress_token != NULL && run->progress_token == NULL)) {
		row_run_clear(run);
		return DMCP_E_NOMEM;
	}
	ctx_init(&ctx, env, run);
	rc = step(&ctx);
	ctx_free(&ctx);
	return rc;
}

/* Put the client's answer into the journal entry of effect k. */
static dmcp_rc apply_answer(dmcp_ctx *ctx, const char *our_id, json_object *msg)
{
	size_t n = json_object_array_length(ctx->journal);
	json_object *e = n > 0 ? json_object_array_get_idx(ctx->journal, n - 1) : NULL;
	json_object *ans = js_new_object();
	json_object *res = js_get(msg, "result", json_type_object);
	json_object *er = js_get(msg, "error", json_type_object);

	if (e == NULL || js_str(e, "id") == NULL || strcmp(js_str(e, "id"), our_id) != 0) {
		json_object_put(ans);
		return DMCP_E_INTERNAL;
	}
	if (res != NULL)
		js_object_add(ans, "result", json_object_get(res));
	else
		js_object_add(ans, "error", json_object_get(er));
	js_object_add(e, "ans", ans);
	free(ctx->run->pending_id);
	free(ctx->run->pending_method);
	ctx->run->pending_id = NULL;
	ctx->run->pending_method = NULL;
	return DMCP_OK;
}

dmcp_rc rt_answer(struct rt_env *env, const char *our_id, json_object *msg, int *applied)
{
	struct run_row run;
	rnd_hex_id run_id;
	dmcp_ctx ctx;
	dmcp_rc rc;

	*applied = 0;
	if (strlen(our_id) < RND_ID_LEN + 2 || our_id[RND_ID_LEN] != '/')
		return DMCP_E_NOT_FOUND;
	memcpy(run_id, our_id, RND_ID_LEN);
	run_id[RND_ID_LEN] = '\0';
	rc = store_begin_lock(env->st, run_id, env->sess->id, env->sess->principal, 1, &run);
	if (rc != DMCP_OK) {
		store_rollback(env->st);
		return rc;
	}
	if (run.status != RUN_WAITING || run.pending_id == NULL ||
	    strcmp(run.pending_id, our_id) != 0) {
		/* A duplicate, a late answer, or an answer to a cancelled run: nothing changes. */
		store_rollback(env->st);
		row_run_clear(&run);
		return DMCP_OK;
	}
	ctx_init(&ctx, env, &run);
	ctx.in_tx = 1;
	rc = apply_answer(&ctx, our_id, msg);
	if (rc == DMCP_OK) {
		rc = step(&ctx);
		*applied = rc == DMCP_OK;
	} else {
		store_rollback(env->st);
	}
	ctx_free(&ctx);
	row_run_clear(&run);
	return rc;
}

dmcp_rc rt_cancel(struct rt_env *env, const char *request_id, const char *reason)
{
	struct run_row run;
	rnd_hex_id run_id;
	char why[RT_ERR_LEN];
	dmcp_rc rc;

	rc = store_run_find_unfinished(env->st, env->sess->id, env->sess->principal, request_id,
	                               run_id);
	if (rc != DMCP_OK)
		return rc;
	rc = store_begin_lock(env->st, run_id, env->sess->id, env->sess->principal, 1, &run);
	if (rc == DMCP_OK && (run.status == RUN_RUNNING || run.status == RUN_WAITING)) {
		snprintf(why, sizeof why, "cancelled by the client%s%.200s", reason ? ": " : "",
		         reason ? reason : "");
		run.status = RUN_CANCELLED;
		free(run.pending_id);
		free(run.pending_method);
		free(run.error);
		run.pending_id = run.pending_method = NULL;
		run.error = strdup(why);
		rc = store_run_save(env->st, &run, run.last_lsn + 1, 0, NULL, NULL, 1);
		if (rc == DMCP_OK)
			rc = store_commit_notify(env->st, run_id);
	}
	store_rollback(env->st); /* after a failure, or to end a transaction that changed nothing */
	row_run_clear(&run);   /* store_begin_lock cleared it first, so this is always safe */
	return rc;
}

/* Take over a running run whose lease has passed (rt_resume). With known_only (the sweep), a
 * run of a tool this program does not have is left as it is, for a program that has it, and
 * gives DMCP_E_NOT_FOUND: a program built with other tools (dmcp.fcgi has none) must not fail
 * the runs of another. */
static dmcp_rc resume(struct rt_env *env, const char *run_id, int known_only)
{
	struct run_row run;
	dmcp_ctx ctx;
	dmcp_rc rc;

	rc = store_begin_lock(env->st, run_id, env->sess->id, env->sess->principal, 1, &run);
	if (rc != DMCP_OK) {
		store_rollback(env->st);
		return rc;
	}
	if (run.status != RUN_RUNNING || !run.lease_expired) {
		store_rollback(env->st);
		row_run_clear(&run);
		return DMCP_E_CONFLICT;
	}
	if (known_only && reg_tool(env->reg, run.tool) == NULL) {
		log_msg(LOG_INFO, "run %s: this program has no tool %.100s; left for one that has it",
		        run_id, run.tool);
		store_rollback(env->st);
		row_run_clear(&run);
		return DMCP_E_NOT_FOUND;
	}
	log_msg(LOG_WARN, "run %s: lease passed; taking over its step", run_id);
	ctx_init(&ctx, env, &run);
	ctx.in_tx = 1;
	rc = step(&ctx);
	ctx_free(&ctx);
	row_run_clear(&run);
	return rc;
}

dmcp_rc rt_resume(struct rt_env *env, const char *run_id)
{
	return resume(env, run_id, 0);
}

/* Orphans handled per call of rt_recover_orphans (the rest wait for the next sweep). */
#define RT_MAX_RECOVER 100

dmcp_rc rt_recover_orphans(struct rt_env *env, int max, int *taken)
{
	struct orphan o[RT_MAX_RECOVER];
	struct session_row srow;
	struct rt_session rs;
	struct rt_env one = *env;
	int n = 0, i;
	dmcp_rc rc;

	*taken = 0;
	if (max > RT_MAX_RECOVER)
		max = RT_MAX_RECOVER;
	rc = store_orphans(env->st, max, o, &n);
	for (i = 0; rc == DMCP_OK && i < n; i++) {
		if (store_session_get(env->st, o[i].session_id, o[i].principal, 0, &srow) != DMCP_OK)
			continue;
		rs.id = srow.id;
		rs.principal = srow.principal;
		rs.protocol = srow.protocol;
		rs.caps = js_parse_trusted(srow.client_caps);
		rs.log_level = srow.log_level;
		one.sess = &rs;
		one.sink = NULL;
		if (resume(&one, o[i].run_id, 1) == DMCP_OK)
			(*taken)++;
		json_object_put(rs.caps);
		row_session_clear(&srow);
	}
	return rc;
}
