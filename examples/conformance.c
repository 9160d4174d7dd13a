/* conformance.c — the fixtures the official MCP conformance suites (0.1.16, and 0.2.0 for
 * 2026-07-28) call by name:
 * tools, resources, a resource template, prompts and a completion. Written only against
 * dmcp.h. The names, shapes and texts are what the suite's reference server uses. */
#include <stdio.h>
#include <string.h>
#include "examples.h"

/* A 1x1 PNG and a tiny WAV, base64. */
static const char png_b64[] =
	"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
static const char wav_b64[] = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=";

static const char no_args[] = "{\"type\":\"object\",\"properties\":{}}";

/* ---- one-step tools -------------------------------------------------------------------- */

static dmcp_rc simple_text(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	(void)ctx;
	(void)args;
	return dmcp_result_text(res, "This is a simple text response for testing.");
}

static dmcp_rc image_content(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	(void)ctx;
	(void)args;
	return dmcp_result_image(res, png_b64, "image/png");
}

static dmcp_rc audio_content(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	(void)ctx;
	(void)args;
	return dmcp_result_audio(res, wav_b64, "audio/wav");
}

static dmcp_rc embedded_resource(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	(void)ctx;
	(void)args;
	return dmcp_result_resource_text(res, "test://embedded-resource", "text/plain",
	                                 "This is an embedded resource content.");
}

static dmcp_rc multiple_content(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	(void)ctx;
	(void)args;
	DMCP_TRY(dmcp_result_text(res, "Multiple content types test:"));
	DMCP_TRY(dmcp_result_image(res, png_b64, "image/png"));
	return dmcp_result_resource_text(res, "test://mixed-content-resource", "application/json",
	                                 "{\"test\":\"data\",\"value\":123}");
}

static dmcp_rc error_handling(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	(void)ctx;
	(void)args;
	return dmcp_result_error(res, "This tool intentionally returns an error for testing");
}

static dmcp_rc schema_2020_12(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	(void)ctx;
	return dmcp_result_textf(res, "Received: %s",
	                         json_object_to_json_string_ext(args, JSON_C_TO_STRING_PLAIN));
}

/* ---- streaming tools ------------------------------------------------------------------- */

static dmcp_rc with_logging(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	static const char *const lines[] = {"Tool execution started", "Tool processing data",
	                                    "Tool execution completed"};
	int i;

	(void)args;
	for (i = 0; i < 3; i++) {
		if (i > 0)
			DMCP_TRY(dmcp_sleep_ms(ctx, 50));
		DMCP_TRY(dmcp_log(ctx, DMCP_LOG_INFO, NULL, "%s", lines[i]));
	}
	return dmcp_result_text(res, "Tool with logging executed successfully");
}

static dmcp_rc with_progress(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	int i;

	(void)args;
	for (i = 0; i <= 2; i++) {
		if (i > 0)
			DMCP_TRY(dmcp_sleep_ms(ctx, 50));
		DMCP_TRY(dmcp_progress(ctx, i * 50.0, 100.0, NULL));
	}
	return dmcp_result_textf(res, "Progress test completed (token %s)", dmcp_progress_token(ctx));
}

static dmcp_rc sampling(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	struct dmcp_sample_req req = {0};
	struct dmcp_sample_answer ans;

	req.prompt = json_object_get_string(json_object_object_get(args, "prompt"));
	req.max_tokens = 100;
	DMCP_TRY(dmcp_sample(ctx, &req, &ans));
	return dmcp_result_textf(res, "LLM response: %s", ans.text != NULL ? ans.text : "");
}

static const char *action_name(dmcp_action a)
{
	return a == DMCP_ACCEPT ? "accept" : a == DMCP_DECLINE ? "decline" : "cancel";
}

static dmcp_rc elicit_and_report(dmcp_ctx *ctx, const char *schema, const char *message,
                                 const char *prefix, dmcp_result *res)
{
	struct dmcp_elicit_answer ans;

	DMCP_TRY(dmcp_elicit(ctx, schema, message, &ans));
	return dmcp_result_textf(res, "%s: action=%s, content=%s", prefix, action_name(ans.action),
	                         ans.content != NULL
	                             ? json_object_to_json_string_ext(ans.content, JSON_C_TO_STRING_PLAIN)
	                             : "{}");
}

static dmcp_rc elicitation(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	const char *msg = json_object_get_string(json_object_object_get(args, "message"));

	return elicit_and_report(ctx, "user", msg, "User response", res);
}

static dmcp_rc elicitation_defaults(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	(void)args;
	return elicit_and_report(ctx, "defaults", "Please review and update the form fields with "
	                         "defaults", "Elicitation completed", res);
}

static dmcp_rc elicitation_enums(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	(void)args;
	return elicit_and_report(ctx, "enums", "Please select options from the enum fields",
	                         "Elicitation completed", res);
}

static dmcp_rc reconnection(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	(void)args;
	/* End the POST's connection before the result: the client resumes with GET. */
	DMCP_TRY(dmcp_stream_break(ctx, 500));
	return dmcp_result_text(res, "Reconnection test completed successfully. The server "
	                        "closed the stream and the client resumed it.");
}

/* Generated: {"type":"object","properties":{"username":{"type":"string","description":
 * "User's response"},"email":{"type":"string","description":"User's email address"}},
 * "required":["username","email"]}, the suite's text exactly. */
static const struct dmcp_param user_fields[] = {
	DMCP_STRING("username", .required = 1, .description = "User's response"),
	DMCP_STRING("email", .required = 1, .description = "User's email address"),
	DMCP_END};

static const struct dmcp_schema_def user_schema[] = {
	{.name = "user", .fields = user_fields},
	{.name = NULL}};

/* The forms below stay text: the suite expects "required": [] (generated schemas leave an
 * empty list out), titled enums (oneOf, anyOf) and the legacy enumNames. */

static const struct dmcp_schema_def defaults_schema[] = {
	{.name = "defaults", .schema = "{\"type\":\"object\",\"properties\":{"
	  "\"name\":{\"type\":\"string\",\"description\":\"User name\",\"default\":\"John Doe\"},"
	  "\"age\":{\"type\":\"integer\",\"description\":\"User age\",\"default\":30},"
	  "\"score\":{\"type\":\"number\",\"description\":\"User score\",\"default\":95.5},"
	  "\"status\":{\"type\":\"string\",\"description\":\"User status\","
	  "\"enum\":[\"active\",\"inactive\",\"pending\"],\"default\":\"active\"},"
	  "\"verified\":{\"type\":\"boolean\",\"description\":\"Verification status\","
	  "\"default\":true}},\"required\":[]}"},
	{.name = NULL}};

static const struct dmcp_schema_def enums_schema[] = {
	{.name = "enums", .schema = "{\"type\":\"object\",\"properties\":{"
	  "\"untitledSingle\":{\"type\":\"string\",\"description\":\"Pick one\","
	  "\"enum\":[\"option1\",\"option2\",\"option3\"]},"
	  "\"titledSingle\":{\"type\":\"string\",\"description\":\"Pick one\",\"oneOf\":["
	  "{\"const\":\"value1\",\"title\":\"First Option\"},"
	  "{\"const\":\"value2\",\"title\":\"Second Option\"},"
	  "{\"const\":\"value3\",\"title\":\"Third Option\"}]},"
	  "\"legacyEnum\":{\"type\":\"string\",\"description\":\"Pick one\","
	  "\"enum\":[\"opt1\",\"opt2\",\"opt3\"],"
	  "\"enumNames\":[\"Option One\",\"Option Two\",\"Option Three\"]},"
	  "\"untitledMulti\":{\"type\":\"array\",\"description\":\"Pick some\",\"minItems\":1,"
	  "\"maxItems\":3,\"items\":{\"type\":\"string\",\"enum\":[\"option1\",\"option2\","
	  "\"option3\"]}},"
	  "\"titledMulti\":{\"type\":\"array\",\"description\":\"Pick some\",\"minItems\":1,"
	  "\"maxItems\":3,\"items\":{\"anyOf\":["
	  "{\"const\":\"value1\",\"title\":\"First Choice\"},"
	  "{\"const\":\"value2\",\"title\":\"Second Choice\"},"
	  "{\"const\":\"value3\",\"title\":\"Third Choice\"}]}}},\"required\":[]}"},
	{.name = NULL}};

/* ---- 2026-07-28 (server-stateless) ------------------------------------------------------ */

/* Needs the client's LLM: a client that declared no sampling receives -32021 (the runtime's
 * answer to a missing capability on the 2026-07-28 wire). */
static dmcp_rc missing_capability(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	struct dmcp_sample_req req = {0};
	struct dmcp_sample_answer ans;

	(void)args;
	req.prompt = "Say hello.";
	req.max_tokens = 50;
	DMCP_TRY(dmcp_sample(ctx, &req, &ans));
	return dmcp_result_textf(res, "LLM response: %s", ans.text != NULL ? ans.text : "");
}

/* Progress and a log line while it works, then a question for the user: on the 2026-07-28
 * wire the response stream carries notifications and a result, never a request. */
static dmcp_rc streaming_elicitation(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	(void)args;
	DMCP_TRY(dmcp_progress(ctx, 1, 2, "asking"));
	DMCP_TRY(dmcp_log(ctx, DMCP_LOG_INFO, NULL, "%s", "asking the user for a name"));
	return elicit_and_report(ctx, "name", "What is your name?", "User response", res);
}

/* Three info logs; without a logLevel in the request's _meta none of them is sent. */
static dmcp_rc logging_tool(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	int i;

	(void)args;
	for (i = 1; i <= 3; i++)
		DMCP_TRY(dmcp_log(ctx, DMCP_LOG_INFO, NULL, "Log message %d", i));
	return dmcp_result_text(res, "Logged three messages.");
}

static dmcp_rc trigger_tool_change(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	(void)args;
	DMCP_TRY(dmcp_list_changed(ctx, "tools"));
	return dmcp_result_text(res, "The tool list changed.");
}

static dmcp_rc trigger_prompt_change(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	(void)args;
	DMCP_TRY(dmcp_list_changed(ctx, "prompts"));
	return dmcp_result_text(res, "The prompt list changed.");
}

/* Not a suite fixture: announces an update of the resource uri (default the watched one),
 * for the tests of subscriptions and listen streams. */
static dmcp_rc trigger_resource_update(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	json_object *u = json_object_object_get(args, "uri");
	const char *uri = u != NULL ? json_object_get_string(u) : "test://watched-resource";

	DMCP_TRY(dmcp_resource_updated(ctx, uri));
	return dmcp_result_textf(res, "Updated %s.", uri);
}

static const struct dmcp_schema_def name_schema[] = {
	{.name = "name", .schema = "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":"
	                            "\"string\"}},\"required\":[\"name\"]}"},
	{.name = NULL}};

/* The tools' input schemas stay text: the suite's allow other properties, which a schema
 * generated from typed parameters does not. */
#define TOOL(n, d, s, f) {.name = n, .description = d, .input_schema = s, .version = 1, .run = f}

static const struct dmcp_tool tools[] = {
	TOOL("test_simple_text", "Returns a simple text response", no_args, simple_text),
	TOOL("test_image_content", "Returns a PNG image", no_args, image_content),
	TOOL("test_audio_content", "Returns a WAV audio clip", no_args, audio_content),
	TOOL("test_embedded_resource", "Returns an embedded text resource", no_args,
	     embedded_resource),
	TOOL("test_multiple_content_types", "Returns text, an image and a resource", no_args,
	     multiple_content),
	TOOL("test_error_handling", "Always fails with a tool error", no_args, error_handling),
	TOOL("json_schema_2020_12_tool", "Takes arguments described with JSON Schema 2020-12",
	     "{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\",\"type\":\"object\","
	     "\"$defs\":{\"address\":{\"type\":\"object\",\"properties\":{\"street\":{\"type\":"
	     "\"string\"},\"city\":{\"type\":\"string\"}}}},\"properties\":{\"name\":{\"type\":"
	     "\"string\"},\"address\":{\"$ref\":\"#/$defs/address\"}},\"additionalProperties\":false}",
	     schema_2020_12),
	TOOL("test_tool_with_logging", "Sends three log messages while it works", no_args,
	     with_logging),
	TOOL("test_tool_with_progress", "Reports progress 0, 50 and 100 of 100", no_args,
	     with_progress),
	TOOL("test_sampling", "Asks the client's LLM to answer a prompt",
	     "{\"type\":\"object\",\"properties\":{\"prompt\":{\"type\":\"string\"}},"
	     "\"required\":[\"prompt\"]}", sampling),
	{.name = "test_elicitation", .description = "Asks the user for a username and an email",
	 .input_schema = "{\"type\":\"object\",\"properties\":{\"message\":{\"type\":"
	                 "\"string\"}},\"required\":[\"message\"]}",
	 .elicits = user_schema, .version = 1, .run = elicitation},
	{.name = "test_elicitation_sep1034_defaults",
	 .description = "Elicits a form whose fields have defaults", .input_schema = no_args,
	 .elicits = defaults_schema, .version = 1, .run = elicitation_defaults},
	{.name = "test_elicitation_sep1330_enums", .description = "Elicits every kind of enum field",
	 .input_schema = no_args, .elicits = enums_schema, .version = 1, .run = elicitation_enums},
	TOOL("test_reconnection", "Closes its stream before the result, so the client resumes "
	     "with Last-Event-ID", no_args, reconnection),
	TOOL("test_missing_capability", "Asks the client's LLM, so it needs the sampling "
	     "capability", no_args, missing_capability),
	{.name = "test_streaming_elicitation", .description = "Reports progress and a log line, "
	 "then asks the user for a name", .input_schema = no_args, .elicits = name_schema,
	 .version = 1, .run = streaming_elicitation},
	TOOL("test_logging_tool", "Logs three info messages (sent only when the request asks "
	     "for a log level)", no_args, logging_tool),
	TOOL("test_trigger_tool_change", "Announces that the tool list changed", no_args,
	     trigger_tool_change),
	TOOL("test_trigger_prompt_change", "Announces that the prompt list changed", no_args,
	     trigger_prompt_change),
	TOOL("test_trigger_resource_update", "Announces that a resource changed",
	     "{\"type\":\"object\",\"properties\":{\"uri\":{\"type\":\"string\"}}}",
	     trigger_resource_update),
};

/* ---- resources, prompts, completion ---------------------------------------------------- */

static const struct dmcp_resource resources[] = {
	{"test://static-text", "static-text", "Static text", "A static text resource",
	 "text/plain", "This is the content of the static text resource.", NULL},
	{"test://static-binary", "static-binary", "Static binary", "A static PNG image",
	 "image/png", NULL, png_b64},
	{"test://watched-resource", "watched-resource", "Watched resource",
	 "A resource clients may subscribe to", "text/plain", "Watched resource content", NULL},
};

static dmcp_rc read_template(const char *uri, json_object *vars, json_object *contents)
{
	const char *id = json_object_get_string(json_object_object_get(vars, "id"));
	json_object *o = json_object_new_object(), *data = json_object_new_object();
	char text[512];

	json_object_object_add(data, "id", json_object_new_string(id));
	json_object_object_add(data, "templateTest", json_object_new_boolean(1));
	snprintf(text, sizeof text, "Data for ID: %.200s", id);
	json_object_object_add(data, "data", json_object_new_string(text));
	json_object_object_add(o, "uri", json_object_new_string(uri));
	json_object_object_add(o, "mimeType", json_object_new_string("application/json"));
	json_object_object_add(o, "text", json_object_new_string(
		json_object_to_json_string_ext(data, JSON_C_TO_STRING_PLAIN)));
	json_object_put(data);
	json_object_array_add(contents, o);
	return DMCP_OK;
}

static const struct dmcp_resource_template tmpl = {
	"test://template/{id}/data", "template-data", "Template data",
	"Data for any id", "application/json", read_template};

static dmcp_rc simple_prompt(json_object *args, json_object *messages)
{
	(void)args;
	json_object_array_add(messages, dmcp_message("user",
		dmcp_text_block("This is a simple prompt for testing.")));
	return DMCP_OK;
}

static dmcp_rc args_prompt(json_object *args, json_object *messages)
{
	char text[1024];

	snprintf(text, sizeof text, "Prompt with arguments: arg1='%s', arg2='%s'",
	         json_object_get_string(json_object_object_get(args, "arg1")),
	         json_object_get_string(json_object_object_get(args, "arg2")));
	json_object_array_add(messages, dmcp_message("user", dmcp_text_block(text)));
	return DMCP_OK;
}

static dmcp_rc resource_prompt(json_object *args, json_object *messages)
{
	json_object *block = json_object_new_object(), *r = json_object_new_object();

	json_object_object_add(r, "uri", json_object_get(json_object_object_get(args,
	                                                                         "resourceUri")));
	json_object_object_add(r, "mimeType", json_object_new_string("text/plain"));
	json_object_object_add(r, "text", json_object_new_string("Embedded resource content for "
	                                                        "testing."));
	json_object_object_add(block, "type", json_object_new_string("resource"));
	json_object_object_add(block, "resource", r);
	json_object_array_add(messages, dmcp_message("user", block));
	json_object_array_add(messages, dmcp_message("user",
		dmcp_text_block("Please process the embedded resource above.")));
	return DMCP_OK;
}

static dmcp_rc image_prompt(json_object *args, json_object *messages)
{
	(void)args;
	json_object_array_add(messages, dmcp_message("user", dmcp_image_block(png_b64,
	                                                                      "image/png")));
	json_object_array_add(messages, dmcp_message("user",
		dmcp_text_block("Please analyze the image above.")));
	return DMCP_OK;
}

static const struct dmcp_prompt_arg two_args[] = {
	{"arg1", "First argument", 1}, {"arg2", "Second argument", 1}, {NULL, NULL, 0}};
static const struct dmcp_prompt_arg uri_arg[] = {
	{"resourceUri", "URI of the resource to embed", 1}, {NULL, NULL, 0}};

static const struct dmcp_prompt prompts[] = {
	{.name = "test_simple_prompt", .title = "Simple prompt",
	 .description = "A prompt without arguments", .get = simple_prompt},
	{.name = "test_prompt_with_arguments", .title = "Prompt with arguments",
	 .description = "A prompt with two arguments", .args = two_args, .get = args_prompt},
	{.name = "test_prompt_with_embedded_resource", .title = "Prompt with a resource",
	 .description = "A prompt that embeds a resource", .args = uri_arg, .get = resource_prompt},
	{.name = "test_prompt_with_image", .title = "Prompt with an image",
	 .description = "A prompt that carries an image", .get = image_prompt},
};

static dmcp_rc complete_args(const char *arg, const char *value, json_object *values)
{
	static const char *const words[] = {"test", "testing", "value", "example"};
	size_t i;

	(void)arg;
	for (i = 0; i < sizeof words / sizeof words[0]; i++)
		if (strncmp(words[i], value, strlen(value)) == 0)
			json_object_array_add(values, json_object_new_string(words[i]));
	return DMCP_OK;
}

static const struct dmcp_completion completion = {"ref/prompt", "test_prompt_with_arguments",
                                                  complete_args};

/* Everything, or (with_greet 0) all but the tasks extension's greet, whose name the demo's
 * greet takes in the unit tests' registry. */
static dmcp_rc fixtures(dmcp_registry *reg, int with_greet, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < sizeof tools / sizeof tools[0]; i++)
		DMCP_TRY(dmcp_register_tool(reg, &tools[i], err, errlen));
	for (i = 0; i < sizeof resources / sizeof resources[0]; i++)
		DMCP_TRY(dmcp_register_resource(reg, &resources[i], err, errlen));
	DMCP_TRY(dmcp_register_template(reg, &tmpl, err, errlen));
	for (i = 0; i < sizeof prompts / sizeof prompts[0]; i++)
		DMCP_TRY(dmcp_register_prompt(reg, &prompts[i], err, errlen));
	DMCP_TRY(dmcp_register_completion(reg, &completion, err, errlen));
	DMCP_TRY(examples_mrtr_register(reg, err, errlen)); /* the 2026-07-28 fixtures (mrtr.c) */
	return examples_tasks_register(reg, with_greet, err, errlen); /* tasks (tasks.c) */
}

dmcp_rc examples_conformance_register(dmcp_registry *reg, char *err, size_t errlen)
{
	return fixtures(reg, 1, err, errlen);
}

dmcp_rc examples_conformance_register_beside_demo(dmcp_registry *reg, char *err, size_t errlen)
{
	return fixtures(reg, 0, err, errlen);
}
