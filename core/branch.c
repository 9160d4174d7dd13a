/* branch.c — sub-branches (dmcp_branch, see dmcp.h) and the sampling token budgets they
 * share. A branch runs a child tool function inside its parent's step: the child's effects
 * are journaled in the "j" array of the parent's entry for the branch ({"t": "branch", "name",
 * "j": [...], "done": {...}}), numbered from 0 at its level, and replay like the parent's;
 * its request ids carry the path ("<run>/<k>b<n>"), so every id stays unique in the run. Once
 * the child has ended, "done" holds its outcome and later replays return it without running
 * the child again. Every level of the tree has a depth limit and, optionally, a budget of
 * sampling tokens; a sampling's usage is charged to every level it runs in, recomputed from
 * the journaled answers at each step (so replays agree).
 * Knows nothing of HTTP, SSE or SQL. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "js.h"
#include "rtint.h"

/* Bytes of text per token when a sampling result reports no usage (a common rule of thumb
 * for English text and the models MCP clients front). */
#define RT_BYTES_PER_TOKEN 4
/* Bytes of a branch name. */
#define RT_MAX_BRANCH_NAME 64

/* The member name of o as a non-negative integer, or -1. */
static int64_t count_of(json_object *o, const char *name)
{
	int64_t v;

	return js_int53(js_get(o, name, json_type_int), &v) && v >= 0 ? v : -1;
}

/* The text of a sampling result's content (a block or an array of blocks): its bytes. */
static size_t text_bytes(json_object *content)
{
	size_t i, n, total = 0;
	const char *t;

	if (json_object_is_type(content, json_type_object)) {
		t = js_str(content, "text");
		return t != NULL ? strlen(t) : 0;
	}
	n = json_object_is_type(content, json_type_array) ? json_object_array_length(content) : 0;
	for (i = 0; i < n; i++)
		total += text_bytes(json_object_array_get_idx(content, i));
	return total;
}

int64_t rt_tokens_of(json_object *result)
{
	json_object *usage = js_get(result, "usage", json_type_object);
	int64_t in, out;

	if (usage == NULL)
		usage = js_get(js_get(result, "_meta", json_type_object), "usage", json_type_object);
	in = count_of(usage, "inputTokens");
	out = count_of(usage, "outputTokens");
	if (in >= 0 || out >= 0)
		return (in > 0 ? in : 0) + (out > 0 ? out : 0);
	return (int64_t)((text_bytes(json_object_object_get(result, "content")) +
	                  RT_BYTES_PER_TOKEN - 1) / RT_BYTES_PER_TOKEN);
}

dmcp_rc rt_budget_charge(dmcp_ctx *ctx, int64_t tokens)
{
	int l, crossed = -1;

	for (l = ctx->depth; l >= 0; l--) {
		struct rt_level *lv = &ctx->levels[l];
		lv->used += tokens;
		if (crossed < 0 && lv->budget > 0 && lv->used > lv->budget)
			crossed = l;
	}
	if (crossed < 0)
		return DMCP_OK;
	rt_set_err(ctx, "the sampling token budget of the branch at depth %d is used up (%lld of "
	           "%lld tokens)", crossed, (long long)ctx->levels[crossed].used,
	           (long long)ctx->levels[crossed].budget);
	return DMCP_E_BUDGET;
}

int64_t rt_budget_left(const dmcp_ctx *ctx)
{
	int64_t left = INT64_MAX;
	int l;

	for (l = 0; l <= ctx->depth; l++) {
		const struct rt_level *lv = &ctx->levels[l];
		if (lv->budget > 0 && lv->budget - lv->used < left)
			left = lv->budget - lv->used;
	}
	return left > 0 ? left : 0;
}

int dmcp_branch_depth(const dmcp_ctx *ctx)
{
	return ctx->depth;
}

int64_t dmcp_tokens_used(const dmcp_ctx *ctx)
{
	return ctx->levels[0].used;
}

/* The branch's outcome from its "done" entry, borrowed. */
static void outcome(const json_object *done, struct dmcp_branch_result *out)
{
	json_object *d = (json_object *)done, *content, *first, *rc;
	const char *err = js_str(d, "err");

	rc = js_get(d, "rc", json_type_int);
	out->rc = rc != NULL ? (dmcp_rc)json_object_get_int(rc) : DMCP_E_INTERNAL;
	if ((int)out->rc < 0 || out->rc >= DMCP_RC_COUNT)
		out->rc = DMCP_E_INTERNAL;
	out->result = js_get(d, "result", json_type_object);
	out->is_error = out->rc != DMCP_OK ||
	                json_object_get_boolean(js_get(out->result, "isError", json_type_boolean));
	content = js_get(out->result, "content", json_type_array);
	first = content != NULL && json_object_array_length(content) > 0
	        ? json_object_array_get_idx(content, 0) : NULL;
	out->text = err != NULL ? err : js_str(first, "text") ? js_str(first, "text") : "";
	out->tokens = count_of(d, "tokens") > 0 ? count_of(d, "tokens") : 0;
}

/* Record how the child ended in e's "done", from its result res and return code crc. */
static void record_done(dmcp_ctx *ctx, json_object *e, dmcp_rc crc, dmcp_result *res,
                        int64_t tokens)
{
	json_object *done = js_new_object(), *result = js_new_object();

	if (crc != DMCP_OK) {
		const char *why = ctx->err[0] != '\0' ? ctx->err : dmcp_rc_name(crc);
		(void)dmcp_result_error(res, "%s", why);
		js_object_add(done, "err", js_new_string(why));
	}
	js_object_add(result, "content", json_object_get(res->content));
	if (res->structured != NULL && !res->is_error)
		js_object_add(result, "structuredContent", json_object_get(res->structured));
	if (res->is_error)
		js_object_add(result, "isError", js_new_boolean(1));
	js_object_add(done, "rc", js_new_int((int32_t)crc));
	js_object_add(done, "result", result);
	js_object_add(done, "tokens", js_new_int64(tokens));
	js_object_add(e, "done", done);
	ctx->err[0] = '\0'; /* the child's failure is the parent's to handle, not its own */
}

/* What a branch changes in ctx while its child runs. */
struct frame {
	json_object *journal;
	int effect, journal_at_start;
	char prefix[RT_PREFIX_MAX];
};

/* Run b->run over e's journal, one level deeper; *tokens receives what it used. */
static dmcp_rc run_child(dmcp_ctx *ctx, const struct dmcp_branch *b, int limit, json_object *e,
                         dmcp_result *res, int64_t *tokens)
{
	json_object *args = b->args != NULL ? json_object_get(b->args) : js_new_object();
	struct rt_level *lv;
	struct frame f;
	dmcp_rc crc;

	f.journal = ctx->journal;
	f.effect = ctx->effect;
	f.journal_at_start = ctx->journal_at_start;
	memcpy(f.prefix, ctx->prefix, sizeof f.prefix);
	ctx->journal = js_get(e, "j", json_type_array);
	ctx->effect = 0;
	ctx->journal_at_start = (int)json_object_array_length(ctx->journal);
	snprintf(ctx->prefix, sizeof ctx->prefix, "%s%db", f.prefix, f.effect - 1);
	ctx->depth++;
	lv = &ctx->levels[ctx->depth];
	lv->max_depth = limit;
	lv->budget = b->token_budget > 0 ? b->token_budget : 0;
	lv->used = 0;
	crc = b->run(ctx, args, res);
	*tokens = lv->used;
	ctx->depth--;
	ctx->journal = f.journal;
	ctx->effect = f.effect;
	ctx->journal_at_start = f.journal_at_start;
	memcpy(ctx->prefix, f.prefix, sizeof ctx->prefix);
	json_object_put(args);
	return crc;
}

/* 1 when name can name a branch: 1..RT_MAX_BRANCH_NAME printable ASCII characters. */
static int name_ok(const char *name)
{
	size_t i, n = name != NULL ? strnlen(name, RT_MAX_BRANCH_NAME + 1) : 0;

	if (n == 0 || n > RT_MAX_BRANCH_NAME)
		return 0;
	for (i = 0; i < n; i++)
		if (name[i] < 0x20 || name[i] >= 0x7f)
			return 0;
	return 1;
}

/* A branch that does not start: rc, with the reason (ctx->refused) as its text and error. */
static dmcp_rc refuse(dmcp_ctx *ctx, dmcp_rc rc, struct dmcp_branch_result *out)
{
	rt_set_err(ctx, "%s", ctx->refused);
	out->rc = rc;
	out->is_error = 1;
	out->text = ctx->refused;
	return rc;
}

dmcp_rc dmcp_branch(dmcp_ctx *ctx, const struct dmcp_branch *b, struct dmcp_branch_result *out)
{
	struct dmcp_result res = {NULL, NULL, NULL, 0};
	json_object *e, *done;
	int want, limit, l;
	int64_t tokens = 0;
	dmcp_rc rc, crc;

	memset(out, 0, sizeof *out);
	out->text = "";
	if (ctx->suspended)
		return DMCP_SUSPENDED;
	if (b == NULL || b->run == NULL || !name_ok(b->name) || b->token_budget < 0)
		return DMCP_E_PARAMS;
	want = b->max_depth > 0 ? b->max_depth : DMCP_BRANCH_DEPTH;
	limit = want < ctx->levels[ctx->depth].max_depth ? want : ctx->levels[ctx->depth].max_depth;
	if (limit > RT_MAX_DEPTH)
		limit = RT_MAX_DEPTH;
	if (ctx->depth + 1 > limit) {
		snprintf(ctx->refused, sizeof ctx->refused, "the branch %s would run at depth %d, "
		         "beyond the limit of %d", b->name, ctx->depth + 1, limit);
		return refuse(ctx, DMCP_E_DEPTH, out);
	}
	e = rt_next_entry(ctx, "branch", &rc);
	if (rc != DMCP_OK)
		return rc;
	if (e != NULL && (js_str(e, "name") == NULL || strcmp(js_str(e, "name"), b->name) != 0 ||
	                  js_get(e, "j", json_type_array) == NULL)) {
		rt_set_err(ctx, "the journal holds another branch here than %s: the tool is not "
		           "deterministic or changed without a version bump", b->name);
		return DMCP_E_VERSION;
	}
	if (e == NULL) {
		if (rt_budget_left(ctx) <= 0) {
			ctx->effect--;
			snprintf(ctx->refused, sizeof ctx->refused, "the sampling token budget is used "
			         "up before the branch %s", b->name);
			return refuse(ctx, DMCP_E_BUDGET, out);
		}
		e = js_new_object();
		js_object_add(e, "t", js_new_string("branch"));
		js_object_add(e, "name", js_new_string(b->name));
		js_object_add(e, "j", js_new_array());
		js_array_add(ctx->journal, e);
	}
	done = js_get(e, "done", json_type_object);
	if (done == NULL) {
		res.content = js_new_array();
		crc = run_child(ctx, b, limit, e, &res, &tokens);
		if (ctx->failed != DMCP_OK || crc == DMCP_CANCELLED || crc == DMCP_E_CONFLICT ||
		    ctx->suspended) {
			rc = ctx->failed != DMCP_OK ? ctx->failed : ctx->suspended ? DMCP_SUSPENDED : crc;
		} else {
			record_done(ctx, e, crc, &res, tokens);
			rc = DMCP_OK;
		}
		json_object_put(res.messages);
		json_object_put(res.content);
		json_object_put(res.structured);
		if (rc != DMCP_OK)
			return rc;
		done = js_get(e, "done", json_type_object);
		outcome(done, out);
		return DMCP_OK; /* its tokens were charged while it ran */
	}
	outcome(done, out);
	for (l = 0; l <= ctx->depth; l++)
		ctx->levels[l].used += out->tokens; /* replayed: charged as when it ran */
	return DMCP_OK;
}
