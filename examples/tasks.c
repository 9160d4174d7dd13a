/* tasks.c — the task fixtures the official conformance suite (0.2.0) calls by name for the
 * tasks extension (io.modelcontextprotocol/tasks): greet, slow_compute, failing_job,
 * protocol_error_job, confirm_delete, multi_input, test_tool_with_task. Written only against
 * dmcp.h: the same code serves 2025-11-25 tasks (params.task) and 2026-07-28 tasks, and
 * shows the ways a call becomes a task: waiting on a timer (dmcp_sleep) or saying so
 * (dmcp_task_start). */
#include <stdio.h>
#include "examples.h"

/* Longest slow_compute: an hour is enough to test cancellation and restarts. */
#define SLOW_MAX_SECONDS 3600

static const char confirm_schema[] =
	"{\"type\":\"object\",\"properties\":{\"confirm\":{\"type\":\"boolean\","
	"\"title\":\"Delete it?\"}},\"required\":[\"confirm\"]}";
static const char input_schema[] =
	"{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"},"
	"\"confirm\":{\"type\":\"boolean\"}}}";
static const char name_schema[] =
	"{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"}},\"required\":[\"name\"]}";

/* greet {name}: answers at once (no task). */
static dmcp_rc greet(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	(void)ctx;
	return dmcp_result_textf(res, "Hello, %s!", dmcp_arg_str(args, "name"));
}

/* slow_compute {seconds, label}: waits seconds (durably: a row with a due time, no thread),
 * then answers. Called as a task, or by a 2026-07-28 client that takes tasks, the wait makes
 * it one; seconds 0 answers at once. */
static dmcp_rc slow_compute(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	double seconds = dmcp_arg_number(args, "seconds");
	const char *label = dmcp_arg_has(args, "label") ? dmcp_arg_str(args, "label") : "job";

	if (seconds > 0)
		DMCP_TRY(dmcp_sleep(ctx, (int64_t)(seconds * 1000)));
	return dmcp_result_textf(res, "Computed %s after %g seconds.", label, seconds);
}

/* failing_job: works for a second, then fails as a tool (isError: true). */
static dmcp_rc failing_job(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	(void)args;
	DMCP_TRY(dmcp_sleep(ctx, 1000));
	return dmcp_result_error(res, "The job failed: the input could not be processed.");
}

/* protocol_error_job: fails as a program, not in words: a JSON-RPC error (-32603), which a
 * task reports as failed with that error. */
static dmcp_rc protocol_error_job(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	dmcp_rc why;

	(void)args;
	(void)res;
	DMCP_TRY(dmcp_task_start(ctx));
	why = dmcp_fail(ctx, "the job's worker crashed");
	return why == DMCP_E_TOOL ? DMCP_E_INTERNAL : why;
}

/* confirm_delete {filename}: as a task, asks the user to confirm (the task is then
 * input_required), then answers. */
static dmcp_rc confirm_delete(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	const char *file = dmcp_arg_str(args, "filename");
	struct dmcp_elicit_answer ans;
	char question[300];

	DMCP_TRY(dmcp_task_start(ctx));
	snprintf(question, sizeof question, "Delete %.250s?", file);
	DMCP_TRY(dmcp_elicit(ctx, "confirm", question, &ans));
	if (ans.action == DMCP_ACCEPT && dmcp_arg_bool(ans.content, "confirm"))
		return dmcp_result_textf(res, "Deleted %s.", file);
	return dmcp_result_textf(res, "Kept %s.", file);
}

/* multi_input: as a task, asks two questions at once (two inputRequests); either may be
 * answered first. */
static dmcp_rc multi_input(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	struct dmcp_ask asks[] = {
		{.kind = DMCP_ASK_ELICIT, .key = "first", .schema = "input",
		 .message = "First input?"},
		{.kind = DMCP_ASK_ELICIT, .key = "second", .schema = "input",
		 .message = "Second input?"},
	};
	const char *a, *b;

	(void)args;
	DMCP_TRY(dmcp_task_start(ctx));
	DMCP_TRY(dmcp_ask_all(ctx, asks, 2));
	a = dmcp_arg_str(asks[0].elicit.content, "name");
	b = dmcp_arg_str(asks[1].elicit.content, "name");
	return dmcp_result_textf(res, "Got %s and %s.", a != NULL ? a : "nothing",
	                         b != NULL ? b : "nothing");
}

/* test_tool_with_task: asks the user's name on the request (input_required, no task yet),
 * then goes on as a task, whose result names them. */
static dmcp_rc tool_with_task(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	struct dmcp_elicit_answer who;
	const char *name;

	(void)args;
	DMCP_TRY(dmcp_elicit(ctx, "user_name", "What is your name?", &who));
	DMCP_TRY(dmcp_task_start(ctx));
	name = dmcp_arg_str(who.content, "name");
	return dmcp_result_textf(res, "Hello, %s! The task is done.", name != NULL ? name
	                                                                          : "stranger");
}

static const struct dmcp_param greet_params[] = {
	DMCP_STRING("name", .required = 1, .max_length = 200, .description = "Who to greet"),
	DMCP_END};

static const struct dmcp_param slow_params[] = {
	DMCP_NUMBER("seconds", .minimum = DMCP_SET(0), .maximum = DMCP_SET(SLOW_MAX_SECONDS),
	            .default_number = DMCP_SET(1), .description = "How long to compute"),
	DMCP_STRING("label", .max_length = 200, .description = "Names the computation"),
	DMCP_END};

static const struct dmcp_param file_params[] = {
	DMCP_STRING("filename", .required = 1, .max_length = 200, .description = "What to delete"),
	DMCP_END};

static const struct dmcp_param no_params[] = {DMCP_END};

static const struct dmcp_schema_def confirm_forms[] = {
	{.name = "confirm", .schema = confirm_schema}, {.name = NULL}};
static const struct dmcp_schema_def input_forms[] = {
	{.name = "input", .schema = input_schema}, {.name = NULL}};
static const struct dmcp_schema_def name_forms[] = {
	{.name = "user_name", .schema = name_schema}, {.name = NULL}};

/* greet first: the unit tests' registry, which also holds the demo's greet, skips it. */
static const struct dmcp_tool tools[] = {
	{.name = "greet", .description = "Greets someone at once (no task)",
	 .params = greet_params, .version = 1, .run = greet},
	{.name = "slow_compute", .description = "Computes for some seconds; runs as a task",
	 .params = slow_params, .version = 1, .run = slow_compute,
	 .task_support = DMCP_TASK_OPTIONAL},
	{.name = "failing_job", .description = "Works for a second, then fails (a tool error)",
	 .params = no_params, .version = 1, .run = failing_job,
	 .task_support = DMCP_TASK_REQUIRED},
	{.name = "protocol_error_job", .description = "Fails with a protocol error",
	 .params = no_params, .version = 1, .run = protocol_error_job,
	 .task_support = DMCP_TASK_OPTIONAL},
	{.name = "confirm_delete", .description = "Asks to confirm a deletion, as a task",
	 .params = file_params, .elicits = confirm_forms, .version = 1, .run = confirm_delete,
	 .task_support = DMCP_TASK_OPTIONAL},
	{.name = "multi_input", .description = "Asks two questions at once, as a task",
	 .params = no_params, .elicits = input_forms, .version = 1, .run = multi_input,
	 .task_support = DMCP_TASK_OPTIONAL},
	{.name = "test_tool_with_task", .description = "Asks a name, then goes on as a task",
	 .params = no_params, .elicits = name_forms, .version = 1, .run = tool_with_task,
	 .task_support = DMCP_TASK_REQUIRED},
};

dmcp_rc examples_tasks_register(dmcp_registry *reg, int with_greet, char *err, size_t errlen)
{
	size_t i;

	for (i = with_greet ? 0 : 1; i < sizeof tools / sizeof tools[0]; i++)
		DMCP_TRY(dmcp_register_tool(reg, &tools[i], err, errlen));
	return DMCP_OK;
}
