/* demo.c — the demo tools of `make run`: echo, confirm, analyze, interactive, pick_card,
 * greet, book_flight, slow_progress. Written only against dmcp.h; each shows one durable
 * effect (elicitation, sampling, progress) and how a tool resumes from its journal. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "examples.h"

static const char *str_arg(json_object *args, const char *key, const char *dflt)
{
	json_object *v;

	if (json_object_object_get_ex(args, key, &v) && json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return dflt;
}

static int int_arg(json_object *args, const char *key, int dflt)
{
	json_object *v;

	if (json_object_object_get_ex(args, key, &v) && json_object_is_type(v, json_type_int))
		return json_object_get_int(v);
	return dflt;
}

/* echo {message, uppercase?} -> structuredContent {echoed, length} */
static dmcp_rc echo(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	json_object *msg = json_object_object_get(args, "message"), *up, *out;
	size_t i, n = (size_t)json_object_get_string_len(msg);
	char *text = malloc(n + 1);

	(void)ctx;
	if (text == NULL)
		return DMCP_E_NOMEM;
	memcpy(text, json_object_get_string(msg), n + 1);
	if (json_object_object_get_ex(args, "uppercase", &up) && json_object_get_boolean(up))
		for (i = 0; i < n; i++)
			if (text[i] >= 'a' && text[i] <= 'z')
				text[i] = (char)(text[i] - 'a' + 'A');
	out = json_object_new_object();
	json_object_object_add(out, "echoed", json_object_new_string_len(text, (int)n));
	json_object_object_add(out, "length", json_object_new_int64((int64_t)n));
	free(text);
	return dmcp_result_structured(res, out);
}

/* confirm {question?} -> elicits {ok: boolean} -> structuredContent {accepted} */
static dmcp_rc confirm(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	struct dmcp_elicit_answer ans;
	json_object *ok, *out;
	int accepted = 0;

	DMCP_TRY(dmcp_elicit(ctx, "confirm", str_arg(args, "question", "Do you confirm?"), &ans));
	if (ans.action == DMCP_ACCEPT && json_object_object_get_ex(ans.content, "ok", &ok))
		accepted = json_object_get_boolean(ok);
	out = json_object_new_object();
	json_object_object_add(out, "accepted", json_object_new_boolean(accepted));
	return dmcp_result_structured(res, out);
}

/* analyze {text}: progress, then sampling, then progress. */
static dmcp_rc analyze(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	struct dmcp_sample_req req = {0};
	struct dmcp_sample_answer ans;
	char prompt[2048];

	DMCP_TRY(dmcp_progress(ctx, 0, 2, "Reading the text"));
	snprintf(prompt, sizeof prompt, "Summarize in one sentence: %s",
	         str_arg(args, "text", ""));
	req.prompt = prompt;
	req.max_tokens = 200;
	DMCP_TRY(dmcp_sample(ctx, &req, &ans));
	DMCP_TRY(dmcp_progress(ctx, 2, 2, "Done"));
	return dmcp_result_textf(res, "Analysis: %s", ans.text != NULL ? ans.text : "");
}

/* interactive: asks a name, samples a greeting, asks to keep it; several steps. */
static dmcp_rc interactive(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	struct dmcp_elicit_answer who, keep;
	struct dmcp_sample_req req = {0};
	struct dmcp_sample_answer greeting;
	json_object *name, *ok;
	char prompt[512];

	(void)args;
	DMCP_TRY(dmcp_elicit(ctx, "name", "What is your name?", &who));
	if (who.action != DMCP_ACCEPT)
		return dmcp_result_text(res, "No name given; nothing to do.");
	name = json_object_object_get(who.content, "name");
	snprintf(prompt, sizeof prompt, "Write a one-line greeting for %s.",
	         json_object_get_string(name));
	req.prompt = prompt;
	req.max_tokens = 100;
	DMCP_TRY(dmcp_sample(ctx, &req, &greeting));
	DMCP_TRY(dmcp_log(ctx, DMCP_LOG_INFO, "interactive", "greeting drafted"));
	DMCP_TRY(dmcp_elicit(ctx, "keep", greeting.text != NULL ? greeting.text : "(empty)", &keep));
	if (keep.action == DMCP_ACCEPT && json_object_object_get_ex(keep.content, "ok", &ok) &&
	    json_object_get_boolean(ok))
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
	return dmcp_result_textf(res, "You picked the %s.",
	                         json_object_get_string(json_object_object_get(ans.content, "card")));
}

/* greet {name, style}: sampling. */
static dmcp_rc greet(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	struct dmcp_sample_req req = {0};
	struct dmcp_sample_answer ans;
	char prompt[512];

	snprintf(prompt, sizeof prompt, "Write a %s greeting for %s.",
	         str_arg(args, "style", "friendly"), str_arg(args, "name", "someone"));
	req.prompt = prompt;
	req.system_prompt = "You write short greetings.";
	req.max_tokens = 100;
	DMCP_TRY(dmcp_sample(ctx, &req, &ans));
	return dmcp_result_text(res, ans.text != NULL ? ans.text : "");
}

/* A booking reference: random, so memoized (the same on every replay). */
static dmcp_rc new_reference(void *arg, json_object **out)
{
	char ref[16];
	unsigned v = 0;
	FILE *f = fopen("/dev/urandom", "rb");

	(void)arg;
	if (f == NULL || fread(&v, sizeof v, 1, f) != 1) {
		if (f != NULL)
			fclose(f);
		return DMCP_E_INTERNAL;
	}
	fclose(f);
	snprintf(ref, sizeof ref, "BK%08X", v);
	*out = json_object_new_string(ref);
	return DMCP_OK;
}

/* book_flight: multi-turn elicitation (route, then seats), a confirmation, a reference. */
static dmcp_rc book_flight(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	struct dmcp_elicit_answer route, seats, ok;
	json_object *ref, *out, *yes;
	char question[512];

	(void)args;
	DMCP_TRY(dmcp_elicit(ctx, "route", "Where do you want to fly?", &route));
	if (route.action != DMCP_ACCEPT)
		return dmcp_result_text(res, "Booking abandoned.");
	DMCP_TRY(dmcp_progress(ctx, 1, 3, "route chosen"));
	DMCP_TRY(dmcp_elicit(ctx, "seats", "How many seats, and which class?", &seats));
	if (seats.action != DMCP_ACCEPT)
		return dmcp_result_text(res, "Booking abandoned.");
	DMCP_TRY(dmcp_progress(ctx, 2, 3, "seats chosen"));
	snprintf(question, sizeof question, "Book %d %s seat(s) from %s to %s?",
	         json_object_get_int(json_object_object_get(seats.content, "count")),
	         json_object_get_string(json_object_object_get(seats.content, "class")),
	         json_object_get_string(json_object_object_get(route.content, "from")),
	         json_object_get_string(json_object_object_get(route.content, "to")));
	DMCP_TRY(dmcp_elicit(ctx, "confirm", question, &ok));
	if (ok.action != DMCP_ACCEPT || !json_object_object_get_ex(ok.content, "ok", &yes) ||
	    !json_object_get_boolean(yes))
		return dmcp_result_text(res, "Booking not confirmed.");
	DMCP_TRY(dmcp_memo(ctx, new_reference, NULL, &ref));
	DMCP_TRY(dmcp_progress(ctx, 3, 3, "booked"));
	out = json_object_new_object();
	json_object_object_add(out, "reference", json_object_get(ref));
	json_object_object_add(out, "from", json_object_get(json_object_object_get(route.content,
	                                                                           "from")));
	json_object_object_add(out, "to", json_object_get(json_object_object_get(route.content,
	                                                                         "to")));
	json_object_object_add(out, "seats", json_object_get(json_object_object_get(seats.content,
	                                                                            "count")));
	return dmcp_result_structured(res, out);
}

/* slow_progress {steps, delay_ms}: progress while it works. */
static dmcp_rc slow_progress(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	int steps = int_arg(args, "steps", 5), delay = int_arg(args, "delay_ms", 100), i;

	for (i = 1; i <= steps; i++) {
		DMCP_TRY(dmcp_sleep_ms(ctx, delay));
		DMCP_TRY(dmcp_progress(ctx, i, steps, NULL));
	}
	return dmcp_result_textf(res, "Finished %d steps.", steps);
}

/* connect_account {service}: URL-mode elicitation (the user signs in out of band, so no
 * credentials pass through the client); then notifications/elicitation/complete. */
static dmcp_rc connect_account(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	struct dmcp_elicit_answer ans;
	char msg[256];
	const char *service = str_arg(args, "service", "the service");

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

static const char confirm_schema[] =
	"{\"type\":\"object\",\"properties\":{\"ok\":{\"type\":\"boolean\",\"title\":\"OK?\","
	"\"description\":\"Confirm\"}},\"required\":[\"ok\"]}";

static const struct dmcp_schema_def confirm_elicits[] = {{"confirm", confirm_schema},
                                                         {NULL, NULL}};
static const struct dmcp_schema_def interactive_elicits[] = {
	{"name", "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\","
	         "\"minLength\":1,\"maxLength\":100,\"title\":\"Your name\"}},"
	         "\"required\":[\"name\"]}"},
	{"keep", confirm_schema},
	{NULL, NULL}};
static const struct dmcp_schema_def card_elicits[] = {
	{"card", "{\"type\":\"object\",\"properties\":{\"card\":{\"type\":\"string\",\"title\":"
	         "\"Card\",\"enum\":[\"ace of spades\",\"queen of hearts\",\"seven of clubs\","
	         "\"two of diamonds\"]}},\"required\":[\"card\"]}"},
	{NULL, NULL}};
static const struct dmcp_schema_def flight_elicits[] = {
	{"route", "{\"type\":\"object\",\"properties\":{"
	          "\"from\":{\"type\":\"string\",\"title\":\"From\",\"minLength\":3,\"maxLength\":64},"
	          "\"to\":{\"type\":\"string\",\"title\":\"To\",\"minLength\":3,\"maxLength\":64}},"
	          "\"required\":[\"from\",\"to\"]}"},
	{"seats", "{\"type\":\"object\",\"properties\":{"
	          "\"count\":{\"type\":\"integer\",\"title\":\"Seats\",\"minimum\":1,\"maximum\":9,"
	          "\"default\":1},"
	          "\"class\":{\"type\":\"string\",\"title\":\"Class\",\"enum\":[\"economy\","
	          "\"business\",\"first\"],\"default\":\"economy\"}},"
	          "\"required\":[\"count\",\"class\"]}"},
	{"confirm", confirm_schema},
	{NULL, NULL}};

static const struct dmcp_tool tools[] = {
	{"echo", "Echo", "Echoes a message back, optionally in upper case",
	 "{\"type\":\"object\",\"properties\":{\"message\":{\"type\":\"string\",\"maxLength\":"
	 "65536},\"uppercase\":{\"type\":\"boolean\"}},\"required\":[\"message\"],"
	 "\"additionalProperties\":false}",
	 "{\"type\":\"object\",\"properties\":{\"echoed\":{\"type\":\"string\"},\"length\":"
	 "{\"type\":\"integer\"}},\"required\":[\"echoed\",\"length\"]}",
	 "{\"readOnlyHint\":true,\"idempotentHint\":true,\"openWorldHint\":false}", NULL, 1, echo},
	{"confirm", "Confirm", "Asks the user to confirm, and says whether they did",
	 "{\"type\":\"object\",\"properties\":{\"question\":{\"type\":\"string\"}},"
	 "\"additionalProperties\":false}",
	 "{\"type\":\"object\",\"properties\":{\"accepted\":{\"type\":\"boolean\"}},"
	 "\"required\":[\"accepted\"]}", NULL, confirm_elicits, 1, confirm},
	{"analyze", "Analyze", "Summarizes a text with the client's LLM, reporting progress",
	 "{\"type\":\"object\",\"properties\":{\"text\":{\"type\":\"string\"}},"
	 "\"required\":[\"text\"]}", NULL, NULL, NULL, 1, analyze},
	{"interactive", "Interactive", "Asks your name, drafts a greeting with the LLM, asks "
	 "whether to keep it", "{\"type\":\"object\",\"properties\":{}}", NULL, NULL,
	 interactive_elicits, 1, interactive},
	{"pick_card", "Pick a card", "Asks the user to pick a card from a list",
	 "{\"type\":\"object\",\"properties\":{}}", NULL, NULL, card_elicits, 1, pick_card},
	{"greet", "Greet", "Writes a greeting with the client's LLM",
	 "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"},\"style\":"
	 "{\"type\":\"string\",\"enum\":[\"friendly\",\"formal\",\"pirate\"]}},"
	 "\"required\":[\"name\",\"style\"]}", NULL, NULL, NULL, 1, greet},
	{"book_flight", "Book a flight", "Books a flight over several questions (route, seats, "
	 "confirmation)", "{\"type\":\"object\",\"properties\":{}}",
	 "{\"type\":\"object\",\"properties\":{\"reference\":{\"type\":\"string\"},\"from\":"
	 "{\"type\":\"string\"},\"to\":{\"type\":\"string\"},\"seats\":{\"type\":\"integer\"}},"
	 "\"required\":[\"reference\"]}", NULL, flight_elicits, 1, book_flight},
	{"connect_account", "Connect an account", "Connects an external account through a "
	 "sign-in page (URL-mode elicitation)", "{\"type\":\"object\",\"properties\":{\"service\":"
	 "{\"type\":\"string\",\"maxLength\":64}},\"required\":[\"service\"]}", NULL, NULL, NULL,
	 1, connect_account},
	{"slow_progress", "Slow progress", "Works for steps x delay_ms, reporting progress at "
	 "every step", "{\"type\":\"object\",\"properties\":{\"steps\":{\"type\":\"integer\","
	 "\"minimum\":1,\"maximum\":100},\"delay_ms\":{\"type\":\"integer\",\"minimum\":0,"
	 "\"maximum\":5000}},\"additionalProperties\":false}", NULL, NULL, NULL, 1, slow_progress},
};

dmcp_rc examples_demo_register(dmcp_registry *reg, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < sizeof tools / sizeof tools[0]; i++)
		DMCP_TRY(dmcp_register_tool(reg, &tools[i], err, errlen));
	return DMCP_OK;
}
