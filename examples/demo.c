/* demo.c — the demo tools of `make run`: echo, confirm, analyze, interactive, pick_card,
 * greet, book_flight, connect_account, slow_progress, roll_dice, whoami, long_report. Written
 * only against dmcp.h,
 * the way a tool is meant to be written: typed parameters and forms, the dmcp_arg_* getters,
 * designated initializers. Each shows one durable effect (elicitation, sampling, progress,
 * memo) and how a tool resumes from its journal; roll_dice shows dmcp_fail; whoami the
 * caller's principal and scopes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "examples.h"

/* Dice roll_dice rolls at once, and their largest number of sides: a table-top range, which
 * keeps the rolls, their sum and the result small. */
#define DICE_MAX_COUNT 100
#define DICE_MAX_SIDES 1000
/* KiB of text long_report writes at most: a few MiB, more than any socket buffer holds, so a
 * client that does not read it shows what a large answer costs on the way. */
#define REPORT_MAX_KIB 4096

/* n random 32-bit words from the kernel; DMCP_E_INTERNAL when it gives none. Random, so only
 * ever called through dmcp_memo (journaled: a replay receives the same words). */
static dmcp_rc random_words(uint32_t *w, size_t n)
{
	FILE *f = fopen("/dev/urandom", "rb");
	size_t got;

	if (f == NULL)
		return DMCP_E_INTERNAL;
	got = fread(w, sizeof *w, n, f);
	fclose(f);
	return got == n ? DMCP_OK : DMCP_E_INTERNAL;
}

/* echo {message, uppercase} -> structuredContent {echoed, length} */
static dmcp_rc echo(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	const char *msg = dmcp_arg_str(args, "message"); /* required: validated to be there */
	size_t i, n = strlen(msg);
	char *text = malloc(n + 1);
	json_object *out;

	(void)ctx;
	if (text == NULL)
		return DMCP_E_NOMEM;
	memcpy(text, msg, n + 1);
	if (dmcp_arg_bool(args, "uppercase")) /* optional, default false: always there */
		for (i = 0; i < n; i++)
			if (text[i] >= 'a' && text[i] <= 'z')
				text[i] = (char)(text[i] - 'a' + 'A');
	out = json_object_new_object();
	json_object_object_add(out, "echoed", json_object_new_string_len(text, (int)n));
	json_object_object_add(out, "length", json_object_new_int64((int64_t)n));
	free(text);
	return dmcp_result_structured(res, out);
}

/* confirm {question} -> elicits {ok} -> structuredContent {accepted} */
static dmcp_rc confirm(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	struct dmcp_elicit_answer ans;
	json_object *out;

	DMCP_TRY(dmcp_elicit(ctx, "confirm", dmcp_arg_str(args, "question"), &ans));
	/* A declined or cancelled answer has no content: the getter then reads false. */
	out = json_object_new_object();
	json_object_object_add(out, "accepted",
	                       json_object_new_boolean(dmcp_arg_bool(ans.content, "ok")));
	return dmcp_result_structured(res, out);
}

/* whoami {ask} -> (with ask: elicits {ok} first) -> structuredContent {principal, scopes,
 * admin}: who called, as DMCP_AUTH authenticated them. The scopes are those of the request
 * that started the call, in every step. */
static dmcp_rc whoami(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	const char *p = dmcp_scopes(ctx);
	struct dmcp_elicit_answer ans;
	json_object *out, *scopes;

	if (dmcp_arg_bool(args, "ask"))
		DMCP_TRY(dmcp_elicit(ctx, "confirm", "Say who you are?", &ans));
	out = json_object_new_object();
	scopes = json_object_new_array();
	while (*p != '\0') {
		size_t n = strcspn(p, " ");
		json_object_array_add(scopes, json_object_new_string_len(p, (int)n));
		p += n + (p[n] == ' ');
	}
	json_object_object_add(out, "principal", json_object_new_string(dmcp_principal(ctx)));
	json_object_object_add(out, "scopes", scopes);
	json_object_object_add(out, "admin", json_object_new_boolean(dmcp_has_scope(ctx, "admin")));
	return dmcp_result_structured(res, out);
}

/* analyze {text}: progress, then sampling, then progress. */
static dmcp_rc analyze(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	struct dmcp_sample_req req = {
		.system_prompt = "Summarize the user's text in one sentence.",
		.prompt = dmcp_arg_str(args, "text"),
		.max_tokens = 200,
	};
	struct dmcp_sample_answer ans;

	DMCP_TRY(dmcp_progress(ctx, 0, 2, "Reading the text"));
	DMCP_TRY(dmcp_sample(ctx, &req, &ans));
	DMCP_TRY(dmcp_progress(ctx, 2, 2, "Done"));
	return dmcp_result_textf(res, "Analysis: %s", ans.text != NULL ? ans.text : "");
}

/* interactive: asks a name, samples a greeting, asks to keep it; several steps. */
static dmcp_rc interactive(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	struct dmcp_elicit_answer who, keep;
	struct dmcp_sample_req req = {.max_tokens = 100};
	struct dmcp_sample_answer greeting;
	char prompt[512]; /* the words and a name of at most 100 characters (400 bytes) */

	(void)args;
	DMCP_TRY(dmcp_elicit(ctx, "name", "What is your name?", &who));
	if (who.action != DMCP_ACCEPT)
		return dmcp_result_text(res, "No name given; nothing to do.");
	snprintf(prompt, sizeof prompt, "Write a one-line greeting for %s.",
	         dmcp_arg_str(who.content, "name"));
	req.prompt = prompt;
	DMCP_TRY(dmcp_sample(ctx, &req, &greeting));
	DMCP_TRY(dmcp_log(ctx, DMCP_LOG_INFO, "interactive", "greeting drafted"));
	DMCP_TRY(dmcp_elicit(ctx, "keep", greeting.text != NULL ? greeting.text : "(empty)", &keep));
	if (dmcp_arg_bool(keep.content, "ok"))
		return dmcp_result_textf(res, "Kept: %s", greeting.text ? greeting.text : "");
	return dmcp_result_text(res, "Greeting discarded.");
}

/* pick_card: elicitation with an enum. */
static dmcp_rc pick_card(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	struct dmcp_elicit_answer ans;

	(void)args;
	DMCP_TRY(dmcp_elicit(ctx, "card", "Pick a card", &ans));
	if (ans.action != DMCP_ACCEPT)
		return dmcp_result_textf(res, "No card picked (%s).",
		                         ans.action == DMCP_DECLINE ? "declined" : "cancelled");
	return dmcp_result_textf(res, "You picked the %s.", dmcp_arg_str(ans.content, "card"));
}

/* greet {name, style}: sampling. */
static dmcp_rc greet(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	struct dmcp_sample_req req = {.system_prompt = "You write short greetings.",
	                              .max_tokens = 100};
	struct dmcp_sample_answer ans;
	char prompt[512]; /* the words, a style and a name of at most 100 characters */

	snprintf(prompt, sizeof prompt, "Write a %s greeting for %s.",
	         dmcp_arg_str(args, "style"), dmcp_arg_str(args, "name"));
	req.prompt = prompt;
	DMCP_TRY(dmcp_sample(ctx, &req, &ans));
	return dmcp_result_text(res, ans.text != NULL ? ans.text : "");
}

/* A booking reference: random, so memoized (the same on every replay). */
static dmcp_rc new_reference(void *arg, json_object **out)
{
	char ref[16];
	uint32_t v;

	(void)arg;
	DMCP_TRY(random_words(&v, 1));
	snprintf(ref, sizeof ref, "BK%08X", (unsigned)v);
	*out = json_object_new_string(ref);
	return DMCP_OK;
}

/* book_flight: multi-turn elicitation (route, then seats), a confirmation, a reference. */
static dmcp_rc book_flight(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	struct dmcp_elicit_answer route, seats, ok;
	json_object *ref, *out;
	char question[768]; /* the words and two places of at most 64 characters (256 bytes) */

	(void)args;
	DMCP_TRY(dmcp_elicit(ctx, "route", "Where do you want to fly?", &route));
	if (route.action != DMCP_ACCEPT)
		return dmcp_result_text(res, "Booking abandoned.");
	DMCP_TRY(dmcp_progress(ctx, 1, 3, "route chosen"));
	DMCP_TRY(dmcp_elicit(ctx, "seats", "How many seats, and which class?", &seats));
	if (seats.action != DMCP_ACCEPT)
		return dmcp_result_text(res, "Booking abandoned.");
	DMCP_TRY(dmcp_progress(ctx, 2, 3, "seats chosen"));
	snprintf(question, sizeof question, "Book %lld %s seat(s) from %s to %s?",
	         (long long)dmcp_arg_int(seats.content, "count"), dmcp_arg_str(seats.content, "class"),
	         dmcp_arg_str(route.content, "from"), dmcp_arg_str(route.content, "to"));
	DMCP_TRY(dmcp_elicit(ctx, "confirm", question, &ok));
	if (!dmcp_arg_bool(ok.content, "ok"))
		return dmcp_result_text(res, "Booking not confirmed.");
	DMCP_TRY(dmcp_memo(ctx, new_reference, NULL, &ref));
	DMCP_TRY(dmcp_progress(ctx, 3, 3, "booked"));
	out = json_object_new_object();
	json_object_object_add(out, "reference", json_object_get(ref));
	json_object_object_add(out, "from", json_object_new_string(dmcp_arg_str(route.content,
	                                                                        "from")));
	json_object_object_add(out, "to", json_object_new_string(dmcp_arg_str(route.content, "to")));
	json_object_object_add(out, "seats", json_object_new_int64(dmcp_arg_int(seats.content,
	                                                                        "count")));
	return dmcp_result_structured(res, out);
}

/* slow_progress {steps, delay_ms}: progress while it works. */
static dmcp_rc slow_progress(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	int64_t steps = dmcp_arg_int(args, "steps"), i; /* 1-100, default 5 */
	int delay = (int)dmcp_arg_int(args, "delay_ms"); /* 0-5000, default 100 */

	for (i = 1; i <= steps; i++) {
		DMCP_TRY(dmcp_sleep_ms(ctx, delay));
		DMCP_TRY(dmcp_progress(ctx, (double)i, (double)steps, NULL));
	}
	return dmcp_result_textf(res, "Finished %lld steps.", (long long)steps);
}

/* long_report {kib}: kib KiB of text, in blocks of 64 KiB (a large answer, in one step). */
static dmcp_rc long_report(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	int64_t kib = dmcp_arg_int(args, "kib"), i;
	char *block = malloc(64 * 1024 + 1);

	(void)ctx;
	if (block == NULL)
		return DMCP_E_NOMEM;
	memset(block, 'x', 64 * 1024);
	for (i = 0; i < kib; i += 64) {
		int64_t n = kib - i < 64 ? kib - i : 64;
		block[n * 1024] = '\0';
		if (dmcp_result_text(res, block) != DMCP_OK)
			break;
		block[n * 1024] = 'x';
	}
	free(block);
	return DMCP_OK;
}

/* connect_account {service}: URL-mode elicitation (the user signs in out of band, so no
 * credentials pass through the client); then notifications/elicitation/complete. */
static dmcp_rc connect_account(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	struct dmcp_elicit_answer ans;
	const char *service = dmcp_arg_str(args, "service");
	char msg[384]; /* the words and a name of at most 64 characters (256 bytes) */

	snprintf(msg, sizeof msg, "Sign in to %s in your browser to connect it.", service);
	DMCP_TRY(dmcp_elicit_url(ctx, "https://auth.example.com/connect?elicitation={elicitationId}",
	                         msg, &ans));
	if (ans.action != DMCP_ACCEPT)
		return dmcp_result_textf(res, "Not connected (%s).",
		                         ans.action == DMCP_DECLINE ? "declined" : "cancelled");
	/* A real tool would now check with its backend that the sign-in finished (through
	 * dmcp_memo, so a replay asks only once); the demo takes the consent as done. */
	DMCP_TRY(dmcp_elicit_url_complete(ctx));
	return dmcp_result_textf(res, "Connected to %s.", service);
}

struct dice {
	long count; /* how many dice */
	long sides; /* faces of each */
};

/* The rolls of d, one per die: random, so only through dmcp_memo. */
static dmcp_rc roll(void *arg, json_object **out)
{
	const struct dice *d = arg;
	uint32_t w[DICE_MAX_COUNT];
	long i;

	DMCP_TRY(random_words(w, (size_t)d->count));
	*out = json_object_new_array();
	for (i = 0; i < d->count; i++) { /* % leans by < 1 in 4 million: fine for a game */
		int64_t face = 1 + (int64_t)(w[i] % (uint32_t)d->sides);
		json_object_array_add(*out, json_object_new_int64(face));
	}
	return DMCP_OK;
}

/* roll_dice {dice}: "2d6" -> structuredContent {rolls, total}. The parameter's pattern has
 * already checked the shape (digits, d, digits); what a schema cannot say well — how many
 * dice and sides make sense — the tool refuses in words with dmcp_fail: the caller receives an
 * isError result telling it what would work, and can try again. */
static dmcp_rc roll_dice(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	const char *text = dmcp_arg_str(args, "dice");
	struct dice d;
	json_object *rolls, *out;
	int64_t total = 0;
	size_t i;
	char *end;

	d.count = strtol(text, &end, 10);
	d.sides = strtol(end + 1, NULL, 10); /* end is at the 'd' */
	if (d.count < 1 || d.count > DICE_MAX_COUNT)
		return dmcp_fail(ctx, "cannot roll %ld dice: roll 1 to %d at once", d.count,
		                 DICE_MAX_COUNT);
	if (d.sides < 2 || d.sides > DICE_MAX_SIDES)
		return dmcp_fail(ctx, "a die with %ld sides cannot be rolled: give it 2 to %d",
		                 d.sides, DICE_MAX_SIDES);
	DMCP_TRY(dmcp_memo(ctx, roll, &d, &rolls));
	for (i = 0; i < json_object_array_length(rolls); i++)
		total += json_object_get_int64(json_object_array_get_idx(rolls, i));
	out = json_object_new_object();
	json_object_object_add(out, "rolls", json_object_get(rolls));
	json_object_object_add(out, "total", json_object_new_int64(total));
	return dmcp_result_structured(res, out);
}

/* ---- parameters and forms ------------------------------------------------------------- */

static const struct dmcp_param echo_params[] = {
	DMCP_STRING("message", .required = 1, .max_length = 65536,
	            .description = "The text to send back"),
	DMCP_BOOL("uppercase", .description = "Upper-case its ASCII letters first",
	          .default_bool = DMCP_SET(0)),
	DMCP_END};

static const struct dmcp_param confirm_params[] = {
	DMCP_STRING("question", .max_length = 1000, .description = "What to ask the user",
	            .default_str = "Do you confirm?"),
	DMCP_END};

static const struct dmcp_param analyze_params[] = {
	DMCP_STRING("text", .required = 1, .max_length = 20000,
	            .description = "The text to summarize"),
	DMCP_END};

static const struct dmcp_param no_params[] = {DMCP_END};

static const struct dmcp_param greet_params[] = {
	DMCP_STRING("name", .required = 1, .min_length = 1, .max_length = 100,
	            .description = "Who to greet"),
	DMCP_ENUM("style", .values = DMCP_VALUES("friendly", "formal", "pirate"),
	          .default_str = "friendly", .description = "The tone of the greeting"),
	DMCP_END};

static const struct dmcp_param connect_params[] = {
	DMCP_STRING("service", .required = 1, .min_length = 1, .max_length = 64,
	            .description = "The service to connect, e.g. a calendar"),
	DMCP_END};

static const struct dmcp_param report_params[] = {
	DMCP_INT("kib", .minimum = DMCP_SET(1), .maximum = DMCP_SET(REPORT_MAX_KIB),
	         .default_int = DMCP_SET(64), .description = "How many KiB of text"),
	DMCP_END};

static const struct dmcp_param slow_params[] = {
	DMCP_INT("steps", .minimum = DMCP_SET(1), .maximum = DMCP_SET(100),
	         .default_int = DMCP_SET(5), .description = "How many steps to work"),
	DMCP_INT("delay_ms", .minimum = DMCP_SET(0), .maximum = DMCP_SET(5000),
	         .default_int = DMCP_SET(100), .description = "Milliseconds per step"),
	DMCP_END};

static const struct dmcp_param dice_params[] = {
	DMCP_STRING("dice", .required = 1, .pattern = "^[0-9]{1,4}[dD][0-9]{1,5}$",
	            .description = "Dice notation NdM: N dice (1-100) of M sides (2-1000), "
	                           "e.g. 2d6"),
	DMCP_END};

/* Forms (elicitation schemas): flat fields, shown by the client as a form. */
static const struct dmcp_param whoami_params[] = {
	DMCP_BOOL("ask", .default_bool = DMCP_SET(0),
	          .description = "Ask the user first (the answer is a later step of the call)"),
	DMCP_END};

static const struct dmcp_param ok_fields[] = {
	DMCP_BOOL("ok", .required = 1, .title = "OK?", .description = "Confirm"),
	DMCP_END};

static const struct dmcp_param name_fields[] = {
	DMCP_STRING("name", .required = 1, .title = "Your name", .min_length = 1,
	            .max_length = 100),
	DMCP_END};

static const struct dmcp_param card_fields[] = {
	DMCP_ENUM("card", .required = 1, .title = "Card",
	          .values = DMCP_VALUES("ace of spades", "queen of hearts", "seven of clubs",
	                                "two of diamonds")),
	DMCP_END};

static const struct dmcp_param route_fields[] = {
	DMCP_STRING("from", .required = 1, .title = "From", .min_length = 3, .max_length = 64),
	DMCP_STRING("to", .required = 1, .title = "To", .min_length = 3, .max_length = 64),
	DMCP_END};

static const struct dmcp_param seats_fields[] = {
	DMCP_INT("count", .required = 1, .title = "Seats", .minimum = DMCP_SET(1),
	         .maximum = DMCP_SET(9), .default_int = DMCP_SET(1)),
	DMCP_ENUM("class", .required = 1, .title = "Class",
	          .values = DMCP_VALUES("economy", "business", "first"), .default_str = "economy"),
	DMCP_END};

static const struct dmcp_schema_def confirm_forms[] = {
	{.name = "confirm", .fields = ok_fields},
	{.name = NULL}};

static const struct dmcp_schema_def interactive_forms[] = {
	{.name = "name", .fields = name_fields},
	{.name = "keep", .fields = ok_fields},
	{.name = NULL}};

static const struct dmcp_schema_def card_forms[] = {
	{.name = "card", .fields = card_fields},
	{.name = NULL}};

static const struct dmcp_schema_def flight_forms[] = {
	{.name = "route", .fields = route_fields},
	{.name = "seats", .fields = seats_fields},
	{.name = "confirm", .fields = ok_fields},
	{.name = NULL}};

/* ---- the tools ------------------------------------------------------------------------- */

static const struct dmcp_tool tools[] = {
	{.name = "echo", .title = "Echo",
	 .description = "Echoes a message back, optionally in upper case",
	 .params = echo_params,
	 .output_schema = "{\"type\":\"object\",\"properties\":{\"echoed\":{\"type\":\"string\"},"
	                  "\"length\":{\"type\":\"integer\"}},\"required\":[\"echoed\",\"length\"]}",
	 .annotations = "{\"readOnlyHint\":true,\"idempotentHint\":true,\"openWorldHint\":false}",
	 .version = 1, .run = echo},
	{.name = "confirm", .title = "Confirm",
	 .description = "Asks the user to confirm, and says whether they did",
	 .params = confirm_params,
	 .output_schema = "{\"type\":\"object\",\"properties\":{\"accepted\":{\"type\":\"boolean\"}},"
	                  "\"required\":[\"accepted\"]}",
	 .elicits = confirm_forms, .version = 1, .run = confirm},
	{.name = "analyze", .title = "Analyze",
	 .description = "Summarizes a text with the client's LLM, reporting progress",
	 .params = analyze_params, .version = 1, .run = analyze},
	{.name = "interactive", .title = "Interactive",
	 .description = "Asks your name, drafts a greeting with the LLM, asks whether to keep it",
	 .params = no_params, .elicits = interactive_forms, .version = 1, .run = interactive},
	{.name = "pick_card", .title = "Pick a card",
	 .description = "Asks the user to pick a card from a list",
	 .params = no_params, .elicits = card_forms, .version = 1, .run = pick_card},
	{.name = "greet", .title = "Greet", .description = "Writes a greeting with the client's LLM",
	 .params = greet_params, .version = 1, .run = greet},
	{.name = "book_flight", .title = "Book a flight",
	 .description = "Books a flight over several questions (route, seats, confirmation)",
	 .params = no_params,
	 .output_schema = "{\"type\":\"object\",\"properties\":{\"reference\":{\"type\":\"string\"},"
	                  "\"from\":{\"type\":\"string\"},\"to\":{\"type\":\"string\"},"
	                  "\"seats\":{\"type\":\"integer\"}},\"required\":[\"reference\"]}",
	 .elicits = flight_forms, .version = 1, .run = book_flight},
	{.name = "connect_account", .title = "Connect an account",
	 .description = "Connects an external account through a sign-in page (URL-mode "
	                "elicitation)",
	 .params = connect_params, .version = 1, .run = connect_account},
	{.name = "slow_progress", .title = "Slow progress",
	 .description = "Works for steps x delay_ms, reporting progress at every step",
	 .params = slow_params, .version = 1, .run = slow_progress},
	{.name = "long_report", .title = "Long report",
	 .description = "Writes kib KiB of text: a large answer, to see how one travels",
	 .annotations = "{\"readOnlyHint\":true,\"openWorldHint\":false}",
	 .params = report_params, .version = 1, .run = long_report},
	{.name = "roll_dice", .title = "Roll dice",
	 .description = "Rolls dice given in NdM notation (2d6: two six-sided dice) and adds "
	                "them up; refuses, saying why, what cannot be rolled",
	 .params = dice_params,
	 .output_schema = "{\"type\":\"object\",\"properties\":{\"rolls\":{\"type\":\"array\","
	                  "\"items\":{\"type\":\"integer\"}},\"total\":{\"type\":\"integer\"}},"
	                  "\"required\":[\"rolls\",\"total\"]}",
	 .annotations = "{\"readOnlyHint\":true,\"openWorldHint\":false}",
	 .version = 1, .run = roll_dice},
	{.name = "whoami", .title = "Who am I",
	 .description = "Says who called: the principal and the OAuth scopes this server "
	                "authenticated",
	 .params = whoami_params,
	 .output_schema = "{\"type\":\"object\",\"properties\":{\"principal\":{\"type\":"
	                  "\"string\"},\"scopes\":{\"type\":\"array\",\"items\":{\"type\":"
	                  "\"string\"}},\"admin\":{\"type\":\"boolean\"}},\"required\":"
	                  "[\"principal\",\"scopes\",\"admin\"]}",
	 .elicits = confirm_forms, .version = 1, .run = whoami},
};

dmcp_rc examples_demo_register(dmcp_registry *reg, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < sizeof tools / sizeof tools[0]; i++)
		DMCP_TRY(dmcp_register_tool(reg, &tools[i], err, errlen));
	return examples_longrun_register(reg, err, errlen); /* timers, branches (longrun.c) */
}
