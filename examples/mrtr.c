/* mrtr.c — the multi-round-trip fixtures the official conformance suite (0.2.0) calls by name on
 * the 2026-07-28 wire: tools that ask the user, the client's LLM or the client's roots, and
 * finish when the answers come back in a later call. Written only against dmcp.h: the same
 * code serves the 2025-11-25 wire, where the questions travel on the call's stream. */
#include <stdio.h>
#include "examples.h"

static const char no_args[] = "{\"type\":\"object\",\"properties\":{}}";

static const char name_schema[] =
	"{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"}},\"required\":[\"name\"]}";
static const char ok_schema[] =
	"{\"type\":\"object\",\"properties\":{\"ok\":{\"type\":\"boolean\"}},\"required\":[\"ok\"]}";
static const char color_schema[] =
	"{\"type\":\"object\",\"properties\":{\"color\":{\"type\":\"string\"}},\"required\":[\"color\"]}";

/* A string field of an accepted answer, or dflt. */
static const char *answer_str(const struct dmcp_elicit_answer *a, const char *key,
                              const char *dflt)
{
	json_object *v;

	if (a->action != DMCP_ACCEPT || !json_object_object_get_ex(a->content, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return dflt;
	return json_object_get_string(v);
}

/* Asks the user's name (input key "user_name"), then greets them. */
static dmcp_rc ask_name(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	struct dmcp_elicit_answer who;

	(void)args;
	DMCP_TRY(dmcp_elicit(ctx, "user_name", "What is your name?", &who));
	return dmcp_result_textf(res, "Hello, %s!", answer_str(&who, "name", "stranger"));
}

/* Asks the client's LLM (input key "capital_question"). */
static dmcp_rc ask_llm(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	struct dmcp_sample_req req = {.key = "capital_question",
	                              .prompt = "What is the capital of France?", .max_tokens = 100};
	struct dmcp_sample_answer ans;

	(void)args;
	DMCP_TRY(dmcp_sample(ctx, &req, &ans));
	return dmcp_result_textf(res, "The model said: %s", ans.text != NULL ? ans.text : "");
}

/* Asks the client's roots (input key "client_roots"). */
static dmcp_rc ask_roots(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	struct dmcp_roots_answer roots;

	(void)args;
	DMCP_TRY(dmcp_roots(ctx, "client_roots", &roots));
	return dmcp_result_textf(res, "The client has %zu root(s).",
	                         json_object_array_length(roots.roots));
}

/* One confirmation (input key "confirm"); finishes with "state-ok". */
static dmcp_rc ask_confirm(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	struct dmcp_elicit_answer ok;

	(void)args;
	DMCP_TRY(dmcp_elicit(ctx, "confirm", "Please confirm", &ok));
	return dmcp_result_text(res, ok.action == DMCP_ACCEPT ? "state-ok" : "state-declined");
}

/* Three questions at once: the user, the LLM and the roots. */
static dmcp_rc ask_three(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	struct dmcp_sample_req q = {.prompt = "Say hello.", .max_tokens = 50};
	struct dmcp_ask asks[] = {
		{.kind = DMCP_ASK_ELICIT, .key = "user_name", .schema = "user_name",
		 .message = "What is your name?"},
		{.kind = DMCP_ASK_SAMPLE, .key = "greeting", .sample = &q},
		{.kind = DMCP_ASK_ROOTS, .key = "client_roots"},
	};

	(void)args;
	DMCP_TRY(dmcp_ask_all(ctx, asks, 3));
	return dmcp_result_textf(res, "%s; the model said %s; %zu root(s).",
	                         answer_str(&asks[0].elicit, "name", "no name"),
	                         asks[1].sampled.text ? asks[1].sampled.text : "nothing",
	                         asks[2].roots.roots ? json_object_array_length(asks[2].roots.roots)
	                                             : 0);
}

/* Two rounds: a name, then a favourite colour. */
static dmcp_rc two_rounds(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	struct dmcp_elicit_answer who, color;

	(void)args;
	DMCP_TRY(dmcp_elicit(ctx, "user_name", "What is your name?", &who));
	DMCP_TRY(dmcp_elicit(ctx, "favorite_color", "What is your favourite colour?", &color));
	return dmcp_result_textf(res, "%s likes %s.", answer_str(&who, "name", "someone"),
	                         answer_str(&color, "color", "no colour"));
}

/* Asks the user when the client can, else the LLM: never a request the client did not
 * declare. */
static dmcp_rc ask_what_client_can(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	struct dmcp_sample_req req = {.key = "fallback_question", .prompt = "Pick a number.",
	                              .max_tokens = 10};
	struct dmcp_elicit_answer who;
	struct dmcp_sample_answer ans;

	(void)args;
	if (dmcp_client_can(ctx, DMCP_CAN_ELICIT_FORM)) {
		DMCP_TRY(dmcp_elicit(ctx, "user_name", "What is your name?", &who));
		return dmcp_result_textf(res, "Hello, %s!", answer_str(&who, "name", "stranger"));
	}
	DMCP_TRY(dmcp_sample(ctx, &req, &ans));
	return dmcp_result_textf(res, "The model picked %s.", ans.text ? ans.text : "nothing");
}

static const struct dmcp_schema_def name_elicits[] = {
	{.name = "user_name", .schema = name_schema}, {.name = NULL}};
static const struct dmcp_schema_def confirm_elicits[] = {
	{.name = "confirm", .schema = ok_schema}, {.name = NULL}};
static const struct dmcp_schema_def round_elicits[] = {
	{.name = "user_name", .schema = name_schema},
	{.name = "favorite_color", .schema = color_schema}, {.name = NULL}};

static const struct dmcp_tool tools[] = {
	{.name = "test_input_required_result_elicitation",
	 .description = "Asks the user's name (input key user_name), then greets them",
	 .input_schema = no_args, .elicits = name_elicits, .version = 1, .run = ask_name},
	{.name = "test_input_required_result_sampling",
	 .description = "Asks the client's LLM for the capital of France (input key capital_question)",
	 .input_schema = no_args, .version = 1, .run = ask_llm},
	{.name = "test_input_required_result_list_roots",
	 .description = "Asks the client's roots (input key client_roots)",
	 .input_schema = no_args, .version = 1, .run = ask_roots},
	{.name = "test_input_required_result_request_state",
	 .description = "Asks one confirmation (input key confirm) and answers state-ok",
	 .input_schema = no_args, .elicits = confirm_elicits, .version = 1, .run = ask_confirm},
	{.name = "test_input_required_result_tampered_state",
	 .description = "Asks one confirmation; a changed requestState is refused",
	 .input_schema = no_args, .elicits = confirm_elicits, .version = 1, .run = ask_confirm},
	{.name = "test_input_required_result_multiple_inputs",
	 .description = "Asks the user, the LLM and the roots at once",
	 .input_schema = no_args, .elicits = name_elicits, .version = 1, .run = ask_three},
	{.name = "test_input_required_result_multi_round",
	 .description = "Asks a name, then a favourite colour, in two rounds",
	 .input_schema = no_args, .elicits = round_elicits, .version = 1, .run = two_rounds},
	{.name = "test_input_required_result_capabilities",
	 .description = "Asks the user when the client declared elicitation, else the client's LLM",
	 .input_schema = no_args, .elicits = name_elicits, .version = 1,
	 .run = ask_what_client_can},
};

/* A prompt that asks for context (input key user_context) before it answers. */
static dmcp_rc context_prompt(dmcp_ctx *ctx, json_object *args, json_object *messages)
{
	struct dmcp_elicit_answer ans;
	char text[600];

	(void)args;
	DMCP_TRY(dmcp_elicit(ctx, "user_context", "What should the prompt know?", &ans));
	snprintf(text, sizeof text, "Context: %.500s", answer_str(&ans, "context", "(none)"));
	json_object_array_add(messages, dmcp_message("user", dmcp_text_block(text)));
	return DMCP_OK;
}

static const struct dmcp_schema_def context_elicits[] = {
	{.name = "user_context", .schema = "{\"type\":\"object\",\"properties\":{\"context\":"
	                                   "{\"type\":\"string\"}},\"required\":[\"context\"]}"},
	{.name = NULL}};

static const struct dmcp_prompt context = {
	.name = "test_input_required_result_prompt",
	.description = "Asks for context (input key user_context), then answers with it",
	.run = context_prompt, .elicits = context_elicits, .version = 1};

dmcp_rc examples_mrtr_register(dmcp_registry *reg, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < sizeof tools / sizeof tools[0]; i++)
		DMCP_TRY(dmcp_register_tool(reg, &tools[i], err, errlen));
	return dmcp_register_prompt(reg, &context, err, errlen);
}
