/* longrun.c — the demo's long-running tools: remind (a durable timer: the wait is a row, not
 * a thread), confirm_within (an answer with a deadline) and pick_card_branch (sub-branches:
 * a child that draws a card with the client's LLM inside its own token budget, nested as deep
 * as asked, and a parent that handles the child's depth and budget failures). Written only
 * against dmcp.h; registered with the demo tools (demo.c). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "examples.h"

/* Longest reminder: a week. */
#define REMIND_MAX_SECONDS (7 * 86400)
/* Deepest nesting pick_card_branch lets a client ask for (the branches stop it earlier). */
#define PICK_MAX_NEST 8
/* The depth limit pick_card_branch gives its branches: a request to nest deeper shows the
 * depth error, handled by the parent. */
#define PICK_DEPTH_LIMIT 3

/* remind {after_s, note}: waits after_s seconds durably, then reminds. As a task (or from a
 * 2026-07-28 client that takes tasks) nothing waits in memory meanwhile; on a 2025-11-25
 * stream the client resumes with Last-Event-ID. */
static dmcp_rc remind(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	double after = dmcp_arg_number(args, "after_s");

	DMCP_TRY(dmcp_sleep(ctx, (int64_t)(after * 1000)));
	return dmcp_result_textf(res, "Reminder: %s", dmcp_arg_str(args, "note"));
}

/* confirm_within {question, seconds}: asks, but waits at most seconds for the answer. */
static dmcp_rc confirm_within(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	struct dmcp_elicit_answer ans;
	dmcp_rc rc;

	DMCP_TRY(dmcp_deadline(ctx, dmcp_arg_int(args, "seconds") * 1000));
	rc = dmcp_elicit(ctx, "confirm", dmcp_arg_str(args, "question"), &ans);
	if (rc == DMCP_E_TIMEOUT)
		return dmcp_result_text(res, "No answer in time: nothing was done.");
	DMCP_TRY(rc);
	return dmcp_result_text(res, ans.action == DMCP_ACCEPT && dmcp_arg_bool(ans.content, "ok")
	                                 ? "Confirmed." : "Not confirmed.");
}

/* The child of pick_card_branch: shuffles (a branch of itself, nest - 1 deep) and then asks
 * the client's LLM to draw a card. Fails the way its own child failed. */
static dmcp_rc draw_card(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	struct dmcp_sample_req req = {.key = "draw",
	                              .prompt = "Draw one card from a shuffled 52-card deck. "
	                                        "Answer with its name only.",
	                              .max_tokens = 20};
	struct dmcp_sample_answer card;
	struct dmcp_branch_result sub;
	int64_t nest = dmcp_arg_int(args, "nest");
	json_object *deeper;
	dmcp_rc rc;

	if (nest > 1) {
		deeper = json_object_new_object();
		json_object_object_add(deeper, "nest", json_object_new_int64(nest - 1));
		rc = dmcp_branch(ctx, &(struct dmcp_branch){.name = "shuffle", .run = draw_card,
		                                            .args = deeper}, &sub);
		json_object_put(deeper);
		if (rc == DMCP_SUSPENDED || rc == DMCP_CANCELLED)
			return rc;
		if (rc != DMCP_OK || sub.rc != DMCP_OK) {
			dmcp_rc why = dmcp_fail(ctx, "%s", sub.text);
			return rc != DMCP_OK ? rc : sub.rc != DMCP_OK ? sub.rc : why;
		}
	}
	DMCP_TRY(dmcp_sample(ctx, &req, &card));
	return dmcp_result_text(res, card.text != NULL ? card.text : "a blank card");
}

/* A card at random (journaled through dmcp_memo), for when the branch could not draw. */
static dmcp_rc random_card(void *arg, json_object **out)
{
	static const char *const cards[] = {"ace of spades", "queen of hearts", "seven of clubs",
	                                    "two of diamonds"};
	FILE *f = fopen("/dev/urandom", "rb");
	unsigned char b = 0;

	(void)arg;
	if (f != NULL) {
		if (fread(&b, 1, 1, f) != 1)
			b = 0;
		fclose(f);
	}
	*out = json_object_new_string(cards[b % 4]);
	return DMCP_OK;
}

/* pick_card_branch {nest, budget}: a branch draws the card (nest levels deep, within budget
 * sampling tokens); when it fails on depth or budget, the parent draws at random instead and
 * says why; then asks the user whether to keep the card. */
static dmcp_rc pick_card_branch(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	struct dmcp_branch_result drawn;
	struct dmcp_elicit_answer keep;
	json_object *child = json_object_new_object(), *picked;
	char card[200], why[300] = "";
	dmcp_rc rc;

	json_object_object_add(child, "nest", json_object_new_int64(dmcp_arg_int(args, "nest")));
	rc = dmcp_branch(ctx, &(struct dmcp_branch){.name = "draw", .run = draw_card, .args = child,
	                                            .max_depth = PICK_DEPTH_LIMIT,
	                                            .token_budget = dmcp_arg_int(args, "budget")},
	                 &drawn);
	json_object_put(child);
	if (rc == DMCP_SUSPENDED || rc == DMCP_CANCELLED)
		return rc;
	if (rc == DMCP_OK && drawn.rc == DMCP_OK) {
		snprintf(card, sizeof card, "%.190s", drawn.text);
	} else if (drawn.rc == DMCP_E_DEPTH || drawn.rc == DMCP_E_BUDGET) {
		snprintf(why, sizeof why, " (the drawing branch failed: %.200s; drew at random)",
		         drawn.text);
		DMCP_TRY(dmcp_memo(ctx, random_card, NULL, &picked));
		snprintf(card, sizeof card, "%.190s", json_object_get_string(picked));
	} else {
		return dmcp_fail(ctx, "the drawing branch failed: %s", drawn.text);
	}
	DMCP_TRY(dmcp_elicit(ctx, "keep", card, &keep));
	return dmcp_result_textf(res, "%s the %s%s (%lld sampling tokens used).",
	                         keep.action == DMCP_ACCEPT && dmcp_arg_bool(keep.content, "ok")
	                             ? "You keep" : "You put back", card, why,
	                         (long long)dmcp_tokens_used(ctx));
}

static const struct dmcp_param remind_params[] = {
	DMCP_NUMBER("after_s", .required = 1, .minimum = DMCP_SET(0),
	            .maximum = DMCP_SET(REMIND_MAX_SECONDS), .description = "Seconds to wait"),
	DMCP_STRING("note", .required = 1, .max_length = 500, .description = "What to remind of"),
	DMCP_END};

static const struct dmcp_param within_params[] = {
	DMCP_STRING("question", .required = 1, .max_length = 500),
	DMCP_INT("seconds", .minimum = DMCP_SET(1), .maximum = DMCP_SET(86400),
	         .default_int = DMCP_SET(30), .description = "How long to wait for the answer"),
	DMCP_END};

static const struct dmcp_param pick_params[] = {
	DMCP_INT("nest", .minimum = DMCP_SET(1), .maximum = DMCP_SET(PICK_MAX_NEST),
	         .default_int = DMCP_SET(1), .description = "How deep the drawing branch nests "
	         "(more than 3 fails on the depth limit)"),
	DMCP_INT("budget", .minimum = DMCP_SET(1), .maximum = DMCP_SET(100000),
	         .default_int = DMCP_SET(200), .description = "Sampling tokens the drawing branch "
	         "may use"),
	DMCP_END};

static const struct dmcp_param ok_fields[] = {
	DMCP_BOOL("ok", .required = 1, .title = "OK?"),
	DMCP_END};

static const struct dmcp_schema_def ok_forms[] = {
	{.name = "confirm", .fields = ok_fields}, {.name = "keep", .fields = ok_fields},
	{.name = NULL}};

static const struct dmcp_tool tools[] = {
	{.name = "remind", .title = "Remind",
	 .description = "Reminds you of a note after a number of seconds (a durable timer)",
	 .params = remind_params, .version = 1, .run = remind, .task_support = DMCP_TASK_OPTIONAL},
	{.name = "confirm_within", .title = "Confirm within",
	 .description = "Asks a question, and gives up when no answer comes in time",
	 .params = within_params, .elicits = ok_forms, .version = 1, .run = confirm_within,
	 .task_support = DMCP_TASK_OPTIONAL},
	{.name = "pick_card_branch", .title = "Pick a card (branches)",
	 .description = "Draws a card in a sub-branch with the LLM, within a depth limit and a "
	                "token budget, then asks whether to keep it",
	 .params = pick_params, .elicits = ok_forms, .version = 1, .run = pick_card_branch,
	 .task_support = DMCP_TASK_OPTIONAL},
};

dmcp_rc examples_longrun_register(dmcp_registry *reg, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < sizeof tools / sizeof tools[0]; i++)
		DMCP_TRY(dmcp_register_tool(reg, &tools[i], err, errlen));
	return DMCP_OK;
}
