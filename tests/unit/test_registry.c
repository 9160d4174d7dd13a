/* test_registry.c — TAP tests of core/registry.c: tool, resource, template, prompt and
 * completion registration (every refusal), list pagination and cursors, template matching,
 * resources/read, and the shipped examples (the conformance fixtures). Tool functions need
 * a run context, so none is called; prompt, template and completion functions are. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "examples.h"
#include "js.h"
#include "registry.h"
#include "t.h"

/* Messages from registration: one line. */
#define ERR_LEN 512
/* Tools registered for the pagination checks: two full pages and a part. */
#define PAGED_TOOLS 120
/* Bytes of a generated tool name ("tool-NNN"). */
#define GEN_NAME_LEN 16
/* Bytes of the 2020-12 dialect URI checked in the fixtures. */
#define DIALECT_2020_12 "https://json-schema.org/draft/2020-12/schema"

static dmcp_rc nop(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	(void)ctx;
	(void)args;
	(void)res;
	return DMCP_E_INTERNAL; /* never called */
}

static dmcp_rc nop_read(const char *uri, json_object *vars, json_object *contents)
{
	(void)uri;
	(void)vars;
	(void)contents;
	return DMCP_OK;
}

static dmcp_rc nop_prompt(json_object *args, json_object *messages)
{
	(void)args;
	(void)messages;
	return DMCP_OK;
}

static dmcp_rc nop_prompt_run(dmcp_ctx *ctx, json_object *args, json_object *messages)
{
	(void)ctx;
	(void)args;
	(void)messages;
	return DMCP_OK;
}

static dmcp_rc nop_complete(const char *arg, const char *value, json_object *values)
{
	(void)arg;
	(void)value;
	(void)values;
	return DMCP_OK;
}

/* A tool definition with everything optional left NULL. */
static struct dmcp_tool tool(const char *name, const char *input)
{
	struct dmcp_tool t;

	memset(&t, 0, sizeof t);
	t.name = name;
	t.description = "A test tool";
	t.input_schema = input;
	t.version = 1;
	t.run = nop;
	return t;
}

/* Registers d into a fresh registry; returns the code, err, and how many tools it holds. */
static dmcp_rc try_tool(const struct dmcp_tool *d, char *err, int *n_tools)
{
	dmcp_registry *reg = dmcp_registry_new();
	dmcp_rc rc;

	err[0] = '\0';
	rc = dmcp_register_tool(reg, d, err, ERR_LEN);
	*n_tools = reg->n_tools;
	dmcp_registry_free(reg);
	return rc;
}

static void expect_tool(const struct dmcp_tool *d, dmcp_rc want, const char *in_err,
                        const char *name)
{
	char err[ERR_LEN], *nl;
	int n;
	dmcp_rc rc = try_tool(d, err, &n);

	while ((nl = strchr(err, '\n')) != NULL)
		*nl = ' '; /* one TAP line */
	T_OK(rc == want && n == (want == DMCP_OK) &&
	     (in_err == NULL || strstr(err, in_err) != NULL),
	     "%s (got %s, want %s; %s)", name, dmcp_rc_name(rc), dmcp_rc_name(want), err);
}

static void test_tools(void)
{
	static char name128[129], name129[130];
	static const struct dmcp_schema_def nested[] = {
		{.name = "form",
		 .schema = "{\"type\":\"object\",\"properties\":{\"addr\":{\"type\":\"object\","
		           "\"properties\":{\"city\":{\"type\":\"string\"}}}}}"},
		{.name = NULL}};
	static const struct dmcp_schema_def untyped[] = {
		{.name = "form",
		 .schema = "{\"type\":\"object\",\"properties\":{\"x\":{\"minLength\":1}}}"},
		{.name = NULL}};
	static const struct dmcp_schema_def free_array[] = {
		{.name = "form",
		 .schema = "{\"type\":\"object\",\"properties\":{\"x\":{\"type\":\"array\","
		           "\"items\":{\"type\":\"string\"}}}}"},
		{.name = NULL}};
	static const struct dmcp_schema_def enum_array[] = {
		{.name = "form",
		 .schema = "{\"type\":\"object\",\"properties\":{\"x\":{\"type\":\"array\","
		           "\"items\":{\"type\":\"string\",\"enum\":[\"a\",\"b\"]}}}}"},
		{.name = NULL}};
	static const struct dmcp_schema_def not_object[] = {
		{.name = "form", .schema = "{\"type\":\"string\"}"}, {.name = NULL}};
	static const struct dmcp_schema_def not_json[] = {{.name = "form", .schema = "{"},
	                                                  {.name = NULL}};
	static const struct dmcp_schema_def flat[] = {
		{.name = "a",
		 .schema = "{\"type\":\"object\",\"properties\":{\"s\":{\"type\":\"string\"},\"n\":"
		           "{\"type\":\"number\"},\"i\":{\"type\":\"integer\"},\"b\":{\"type\":"
		           "\"boolean\"}}}"},
		{.name = "b", .schema = "{\"type\":\"object\"}"},
		{.name = NULL}};
	static struct dmcp_schema_def many[REG_MAX_ELICITS + 2];
	struct dmcp_tool d;
	dmcp_registry *reg;
	const struct reg_tool *t;
	char err[ERR_LEN];
	dmcp_rc rc;
	int i;

	/* A minimal tool and its listing. */
	reg = dmcp_registry_new();
	d = tool("t1", NULL);
	rc = dmcp_register_tool(reg, &d, err, sizeof err);
	T_EQ_INT(rc, DMCP_OK, "a minimal tool registers");
	t = reg_tool(reg, "t1");
	T_OK(t != NULL && t->def == &d && t->input != NULL && t->output == NULL &&
	     t->n_elicits == 0, "reg_tool finds it, input compiled, no output, no elicits");
	T_OK(t != NULL && strcmp(t->listing, "{\"name\":\"t1\",\"description\":\"A test tool\","
	                         "\"inputSchema\":{\"type\":\"object\"}}") == 0,
	     "listing of a minimal tool (%s)", t != NULL ? t->listing : "none");
	T_OK(reg_tool(reg, "t2") == NULL, "reg_tool of an unknown name is NULL");
	T_OK(reg_tool(reg, "T1") == NULL, "tool names are case-sensitive");
	rc = dmcp_register_tool(reg, &d, err, sizeof err);
	T_OK(rc == DMCP_E_PARAMS && strstr(err, "exists") != NULL && reg->n_tools == 1,
	     "a duplicate name is refused (%s)", err);
	dmcp_registry_free(reg);
	dmcp_registry_free(NULL);

	/* A full tool. */
	reg = dmcp_registry_new();
	d = tool("full.tool-1_A", "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"}}}");
	d.title = "Full";
	d.output_schema = "{\"type\":\"object\",\"properties\":{\"r\":{\"type\":\"integer\"}}}";
	d.annotations = "{\"readOnlyHint\":true}";
	d.elicits = flat;
	rc = dmcp_register_tool(reg, &d, err, sizeof err);
	T_EQ_INT(rc, DMCP_OK, "a tool with title, output schema, annotations and elicits");
	t = reg_tool(reg, "full.tool-1_A");
	T_OK(t != NULL &&
	     strcmp(t->listing, "{\"name\":\"full.tool-1_A\",\"title\":\"Full\",\"description\":"
	            "\"A test tool\",\"inputSchema\":{\"type\":\"object\",\"properties\":{\"a\":"
	            "{\"type\":\"string\"}}},\"outputSchema\":{\"type\":\"object\",\"properties\":"
	            "{\"r\":{\"type\":\"integer\"}}},\"annotations\":{\"readOnlyHint\":true}}") == 0,
	     "listing of a full tool (%s)", t != NULL ? t->listing : "none");
	T_OK(t != NULL && t->output != NULL && t->n_elicits == 2, "output compiled, two elicits");
	T_OK(t != NULL && reg_elicit(t, "a") != NULL && reg_elicit(t, "b") != NULL &&
	     reg_elicit(t, "c") == NULL && reg_elicit(t, NULL) == NULL, "reg_elicit by name");
	T_OK(t != NULL && reg_elicit(t, "b") != NULL &&
	     strcmp(reg_elicit(t, "b")->schema_text, "{\"type\":\"object\"}") == 0 &&
	     reg_elicit(t, "b")->check != NULL, "an elicit keeps its text and its validator");
	dmcp_registry_free(reg);

	/* Names. */
	memset(name128, 'n', 128);
	memset(name129, 'n', 129);
	d = tool(name128, NULL);
	expect_tool(&d, DMCP_OK, NULL, "a 128-character name");
	d = tool(name129, NULL);
	expect_tool(&d, DMCP_E_PARAMS, "1-128", "a 129-character name");
	d = tool("bad name", NULL);
	expect_tool(&d, DMCP_E_PARAMS, "bad name", "a name with a space");
	d = tool("", NULL);
	expect_tool(&d, DMCP_E_PARAMS, NULL, "an empty name");
	d = tool(NULL, NULL);
	expect_tool(&d, DMCP_E_PARAMS, "(unnamed)", "a NULL name");
	d = tool("a/b", NULL);
	expect_tool(&d, DMCP_E_PARAMS, NULL, "a name with a slash");
	d = tool("caf\xc3\xa9", NULL);
	expect_tool(&d, DMCP_E_PARAMS, NULL, "a non-ASCII name");
	d = tool("a\nb", NULL);
	expect_tool(&d, DMCP_E_PARAMS, NULL, "a name with a newline");
	d = tool("AZaz09_.-", NULL);
	expect_tool(&d, DMCP_OK, NULL, "every allowed character class");

	/* Description and function. */
	d = tool("t", NULL);
	d.description = NULL;
	expect_tool(&d, DMCP_E_PARAMS, "description", "a missing description");
	d.description = "";
	expect_tool(&d, DMCP_E_PARAMS, "description", "an empty description");
	d = tool("t", NULL);
	d.run = NULL;
	expect_tool(&d, DMCP_E_PARAMS, "function", "no function");

	/* Input and output schemas. */
	d = tool("t", "{\"type\":\"string\"}");
	expect_tool(&d, DMCP_E_SCHEMA, "object", "an input schema that is not of type object");
	d = tool("t", "{\"properties\":{}}");
	expect_tool(&d, DMCP_E_SCHEMA, "object", "an input schema without a type");
	d = tool("t", "{\"type\":[\"object\"]}");
	expect_tool(&d, DMCP_E_SCHEMA, NULL, "an input schema with a type array");
	d = tool("t", "[]");
	expect_tool(&d, DMCP_E_SCHEMA, "JSON object", "an input schema that is an array");
	d = tool("t", "true");
	expect_tool(&d, DMCP_E_SCHEMA, NULL, "an input schema that is true");
	d = tool("t", "{\"type\":\"object\"");
	expect_tool(&d, DMCP_E_SCHEMA, NULL, "an input schema that is not JSON");
	d = tool("t", "");
	expect_tool(&d, DMCP_E_SCHEMA, NULL, "an empty input schema");
	d = tool("t", "{\"type\":\"object\",\"properties\":5}");
	expect_tool(&d, DMCP_E_SCHEMA, NULL, "properties that is not an object");
	d = tool("t", "{\"type\":\"object\",\"minLength\":-1}");
	expect_tool(&d, DMCP_E_SCHEMA, NULL, "a negative minLength");
	d = tool("t", NULL);
	d.output_schema = "{\"type\":\"array\"}";
	expect_tool(&d, DMCP_E_SCHEMA, NULL, "an output schema that is not of type object");
	d.output_schema = "nope";
	expect_tool(&d, DMCP_E_SCHEMA, NULL, "an output schema that is not JSON");
	d = tool("t", NULL);
	d.annotations = "[1]";
	expect_tool(&d, DMCP_E_SCHEMA, "annotations", "annotations that are an array");
	d.annotations = "{";
	expect_tool(&d, DMCP_E_SCHEMA, "annotations", "annotations that are not JSON");

	/* Elicitation schemas. */
	d = tool("t", NULL);
	d.elicits = nested;
	expect_tool(&d, DMCP_E_SCHEMA, "flat", "a nested elicitation schema");
	d.elicits = untyped;
	expect_tool(&d, DMCP_E_SCHEMA, "flat", "an elicitation property without a type");
	d.elicits = free_array;
	expect_tool(&d, DMCP_E_SCHEMA, "flat", "an elicitation array without enum items");
	d.elicits = enum_array;
	expect_tool(&d, DMCP_OK, NULL, "an elicitation array of enum strings");
	d.elicits = not_object;
	expect_tool(&d, DMCP_E_SCHEMA, "form", "an elicitation schema not of type object");
	d.elicits = not_json;
	expect_tool(&d, DMCP_E_SCHEMA, "form", "an elicitation schema that is not JSON");
	for (i = 0; i < REG_MAX_ELICITS + 1; i++) {
		static char names[REG_MAX_ELICITS + 1][GEN_NAME_LEN];
		snprintf(names[i], sizeof names[i], "e%d", i);
		many[i].name = names[i];
		many[i].schema = "{\"type\":\"object\"}";
	}
	many[REG_MAX_ELICITS].name = NULL;
	d.elicits = many;
	expect_tool(&d, DMCP_OK, NULL, "REG_MAX_ELICITS elicitation schemas");
	many[REG_MAX_ELICITS].name = "e16";
	many[REG_MAX_ELICITS + 1].name = NULL;
	expect_tool(&d, DMCP_E_LIMIT, NULL, "REG_MAX_ELICITS+1 elicitation schemas");

	/* A refused tool leaves the registry as it was: the next one takes its place. */
	reg = dmcp_registry_new();
	d = tool("t", "{\"type\":\"string\"}");
	rc = dmcp_register_tool(reg, &d, err, sizeof err);
	{
		struct dmcp_tool ok = tool("t", NULL);
		dmcp_rc rc2 = dmcp_register_tool(reg, &ok, err, sizeof err);
		T_OK(rc == DMCP_E_SCHEMA && rc2 == DMCP_OK && reg->n_tools == 1 &&
		     reg_tool(reg, "t")->def == &ok, "a refused tool does not take the name");
	}
	dmcp_registry_free(reg);
}

/* One page of kind: the number of items, and nextCursor into next ("" when none). */
static dmcp_rc page(const dmcp_registry *reg, const char *kind, const char *cursor, int *n,
                    char *next, size_t nextlen, json_object **items_out)
{
	json_object *res = (json_object *)1, *items;
	dmcp_rc rc = reg_list(reg, kind, cursor, &res);
	const char *nc;

	*n = -1;
	next[0] = '\0';
	if (items_out != NULL)
		*items_out = NULL;
	if (rc != DMCP_OK)
		return res == NULL ? rc : DMCP_RC_COUNT; /* *result NULL on failure */
	items = js_get(res, kind, json_type_array);
	*n = items != NULL ? (int)json_object_array_length(items) : -1;
	nc = js_str(res, "nextCursor");
	if (nc != NULL)
		snprintf(next, nextlen, "%s", nc);
	if (items_out != NULL && items != NULL)
		*items_out = json_object_get(items);
	json_object_put(res);
	return rc;
}

static const char *item_name(json_object *items, size_t i)
{
	return js_str(json_object_array_get_idx(items, i), "name");
}

static void test_pagination(void)
{
	static char names[REG_MAX_ENTRIES + 1][GEN_NAME_LEN];
	static struct dmcp_tool defs[REG_MAX_ENTRIES + 1];
	static const char *const bad[] = {"c0", "c120", "x", "c-1", "c999999", "", "c", "C50",
	                                  "c50x", "c 50", "c1000000", "50", "c121"};
	dmcp_registry *reg = dmcp_registry_new();
	json_object *items = NULL;
	char err[ERR_LEN], next[32];
	const char *nx = next;
	size_t k;
	int i, n, failed = 0;
	dmcp_rc rc;

	rc = page(reg, "tools", NULL, &n, next, sizeof next, NULL);
	T_OK(rc == DMCP_OK && n == 0 && next[0] == '\0', "an empty registry lists no tools");
	rc = page(reg, "tools", "c1", &n, next, sizeof next, NULL);
	T_EQ_INT(rc, DMCP_E_PARAMS, "any cursor is bad for an empty list");

	for (i = 0; i <= REG_MAX_ENTRIES; i++) {
		snprintf(names[i], sizeof names[i], "tool-%03d", i);
		defs[i] = tool(names[i], NULL);
	}
	for (i = 0; i < PAGED_TOOLS; i++)
		if (dmcp_register_tool(reg, &defs[i], err, sizeof err) != DMCP_OK)
			failed++;
	T_EQ_INT(failed, 0, "120 generated tools register");

	rc = page(reg, "tools", NULL, &n, next, sizeof next, &items);
	T_OK(rc == DMCP_OK && n == REG_PAGE_SIZE, "first page has REG_PAGE_SIZE tools");
	T_EQ_STR(nx, "c50", "first page nextCursor c50");
	T_OK(items != NULL && strcmp(item_name(items, 0), "tool-000") == 0 &&
	     strcmp(item_name(items, 49), "tool-049") == 0, "first page: tools 0-49 in order");
	json_object_put(items);
	rc = page(reg, "tools", "c50", &n, next, sizeof next, &items);
	T_OK(rc == DMCP_OK && n == REG_PAGE_SIZE, "second page has REG_PAGE_SIZE tools");
	T_EQ_STR(nx, "c100", "second page nextCursor c100");
	T_OK(items != NULL && strcmp(item_name(items, 0), "tool-050") == 0 &&
	     strcmp(item_name(items, 49), "tool-099") == 0, "second page: tools 50-99");
	json_object_put(items);
	rc = page(reg, "tools", "c100", &n, next, sizeof next, &items);
	T_OK(rc == DMCP_OK && n == 20, "last page has the 20 left");
	T_EQ_STR(nx, "", "last page has no nextCursor");
	T_OK(items != NULL && strcmp(item_name(items, 19), "tool-119") == 0, "last page ends at 119");
	json_object_put(items);
	rc = page(reg, "tools", "c119", &n, next, sizeof next, NULL);
	T_OK(rc == DMCP_OK && n == 1 && next[0] == '\0', "a cursor at the last item");
	rc = page(reg, "tools", "c7", &n, next, sizeof next, NULL);
	T_OK(rc == DMCP_OK && n == REG_PAGE_SIZE && strcmp(next, "c57") == 0,
	     "a cursor we did not hand out, in range, still pages");
	for (k = 0; k < sizeof bad / sizeof bad[0]; k++) {
		rc = page(reg, "tools", bad[k], &n, next, sizeof next, NULL);
		T_EQ_INT(rc, DMCP_E_PARAMS, bad[k][0] != '\0' ? bad[k] : "empty cursor");
	}
	rc = page(reg, "prompts", "c50", &n, next, sizeof next, NULL);
	T_EQ_INT(rc, DMCP_E_PARAMS, "a tools cursor is bad for an empty prompts list");

	/* Exactly two pages: the second page has no nextCursor. */
	{
		dmcp_registry *r2 = dmcp_registry_new();
		failed = 0;
		for (i = 0; i < 2 * REG_PAGE_SIZE; i++)
			if (dmcp_register_tool(r2, &defs[i], err, sizeof err) != DMCP_OK)
				failed++;
		rc = page(r2, "tools", "c50", &n, next, sizeof next, NULL);
		T_OK(failed == 0 && rc == DMCP_OK && n == REG_PAGE_SIZE && next[0] == '\0',
		     "a full last page has no nextCursor");
		rc = page(r2, "tools", "c100", &n, next, sizeof next, NULL);
		T_EQ_INT(rc, DMCP_E_PARAMS, "a cursor at the end of a full list is bad");
		dmcp_registry_free(r2);
	}

	/* Fill to REG_MAX_ENTRIES: one more is refused. */
	failed = 0;
	for (i = PAGED_TOOLS; i < REG_MAX_ENTRIES; i++)
		if (dmcp_register_tool(reg, &defs[i], err, sizeof err) != DMCP_OK)
			failed++;
	T_OK(failed == 0 && reg->n_tools == REG_MAX_ENTRIES, "REG_MAX_ENTRIES tools register");
	rc = dmcp_register_tool(reg, &defs[REG_MAX_ENTRIES], err, sizeof err);
	T_OK(rc == DMCP_E_LIMIT && reg->n_tools == REG_MAX_ENTRIES, "one more is DMCP_E_LIMIT");
	rc = page(reg, "tools", "c250", &n, next, sizeof next, NULL);
	T_OK(rc == DMCP_OK && n == 6 && next[0] == '\0', "the last page of a full registry");
	dmcp_registry_free(reg);
}

static void test_other_kinds(void)
{
	static const struct dmcp_resource r_ok = {"test://a", "a", NULL, NULL, NULL, "text", NULL};
	static const struct dmcp_resource r_both = {"test://b", "b", NULL, NULL, NULL, "t", "YQ=="};
	static const struct dmcp_resource r_none = {"test://c", "c", NULL, NULL, NULL, NULL, NULL};
	static const struct dmcp_resource r_nouri = {NULL, "d", NULL, NULL, NULL, "t", NULL};
	static const struct dmcp_resource r_noname = {"test://e", NULL, NULL, NULL, NULL, "t", NULL};
	static const struct dmcp_resource_template t_ok = {"test://{x}", "x", NULL, NULL, NULL,
	                                                    nop_read};
	static const struct dmcp_resource_template t_noread = {"test://{x}", "x", NULL, NULL, NULL,
	                                                        NULL};
	static const struct dmcp_resource_template t_nouri = {NULL, "x", NULL, NULL, NULL, nop_read};
	static const struct dmcp_prompt p_ok = {.name = "p1", .description = "a prompt",
	                                        .get = nop_prompt};
	static const struct dmcp_prompt p_badname = {.name = "p 1", .description = "a prompt",
	                                             .get = nop_prompt};
	static const struct dmcp_prompt p_nodesc = {.name = "p2", .get = nop_prompt};
	static const struct dmcp_prompt p_noget = {.name = "p3", .description = "a prompt"};
	static const struct dmcp_schema_def p_form[] = {
		{.name = "ctx", .schema = "{\"type\":\"object\",\"properties\":{\"c\":{\"type\":\"string\"}}}"},
		{.name = NULL}};
	static const struct dmcp_prompt p_both = {.name = "p4", .description = "a prompt",
	                                          .get = nop_prompt, .run = nop_prompt_run};
	static const struct dmcp_prompt p_run = {.name = "p5", .description = "a prompt that asks",
	                                         .run = nop_prompt_run, .elicits = p_form,
	                                         .version = 2};
	static const struct dmcp_completion c_ok = {"ref/prompt", "p1", nop_complete};
	static const struct dmcp_completion c_res = {"ref/resource", "test://{x}", nop_complete};
	static const struct dmcp_completion c_badtype = {"ref/tool", "p1", nop_complete};
	static const struct dmcp_completion c_nofn = {"ref/prompt", "p1", NULL};
	static const struct dmcp_completion c_noref = {"ref/prompt", NULL, nop_complete};
	dmcp_registry *reg = dmcp_registry_new();
	char err[ERR_LEN];
	dmcp_rc rc;

	rc = dmcp_register_resource(reg, &r_ok, err, sizeof err);
	T_EQ_INT(rc, DMCP_OK, "a text resource");
	rc = dmcp_register_resource(reg, &r_both, err, sizeof err);
	T_EQ_INT(rc, DMCP_E_PARAMS, "a resource with both text and blob");
	rc = dmcp_register_resource(reg, &r_none, err, sizeof err);
	T_EQ_INT(rc, DMCP_E_PARAMS, "a resource with neither text nor blob");
	rc = dmcp_register_resource(reg, &r_nouri, err, sizeof err);
	T_OK(rc == DMCP_E_PARAMS && strstr(err, "(unnamed)") != NULL, "a resource without uri");
	rc = dmcp_register_resource(reg, &r_noname, err, sizeof err);
	T_EQ_INT(rc, DMCP_E_PARAMS, "a resource without name");
	T_EQ_INT(reg->n_resources, 1, "only the good resource is kept");

	rc = dmcp_register_template(reg, &t_ok, err, sizeof err);
	T_EQ_INT(rc, DMCP_OK, "a template");
	rc = dmcp_register_template(reg, &t_noread, err, sizeof err);
	T_EQ_INT(rc, DMCP_E_PARAMS, "a template without a read function");
	rc = dmcp_register_template(reg, &t_nouri, err, sizeof err);
	T_EQ_INT(rc, DMCP_E_PARAMS, "a template without a URI template");

	rc = dmcp_register_prompt(reg, &p_ok, err, sizeof err);
	T_EQ_INT(rc, DMCP_OK, "a prompt");
	rc = dmcp_register_prompt(reg, &p_ok, err, sizeof err);
	T_OK(rc == DMCP_E_PARAMS && strstr(err, "exists") != NULL, "a duplicate prompt");
	rc = dmcp_register_prompt(reg, &p_badname, err, sizeof err);
	T_EQ_INT(rc, DMCP_E_PARAMS, "a prompt name with a space");
	rc = dmcp_register_prompt(reg, &p_nodesc, err, sizeof err);
	T_EQ_INT(rc, DMCP_E_PARAMS, "a prompt without description");
	rc = dmcp_register_prompt(reg, &p_noget, err, sizeof err);
	T_EQ_INT(rc, DMCP_E_PARAMS, "a prompt without function");
	T_OK(reg_prompt(reg, "p1") == &p_ok && reg_prompt(reg, "p2") == NULL, "reg_prompt");
	rc = dmcp_register_prompt(reg, &p_both, err, sizeof err);
	T_EQ_INT(rc, DMCP_E_PARAMS, "a prompt with both get and run");
	rc = dmcp_register_prompt(reg, &p_run, err, sizeof err);
	T_EQ_INT(rc, DMCP_OK, "a prompt that runs");
	T_OK(reg_prompt_run(reg, "p5") != NULL && reg_prompt_run(reg, "p5")->prompt == &p_run &&
	     reg_prompt_run(reg, "p1") == NULL, "reg_prompt_run: only prompts with run");
	T_OK(reg_runnable(reg, "prompt:p5") == reg_prompt_run(reg, "p5") &&
	     reg_runnable(reg, "p5") == NULL && reg_tool(reg, "p5") == NULL,
	     "a prompt's run is named prompt:NAME and is no tool");
	T_OK(reg_elicit(reg_prompt_run(reg, "p5"), "ctx") != NULL &&
	     reg_prompt_run(reg, "p5")->def->version == 2, "its elicitation schema and version");

	rc = dmcp_register_completion(reg, &c_ok, err, sizeof err);
	T_EQ_INT(rc, DMCP_OK, "a prompt completion");
	rc = dmcp_register_completion(reg, &c_res, err, sizeof err);
	T_EQ_INT(rc, DMCP_OK, "a resource completion");
	rc = dmcp_register_completion(reg, &c_badtype, err, sizeof err);
	T_EQ_INT(rc, DMCP_E_PARAMS, "a completion for ref/tool");
	rc = dmcp_register_completion(reg, &c_nofn, err, sizeof err);
	T_EQ_INT(rc, DMCP_E_PARAMS, "a completion without function");
	rc = dmcp_register_completion(reg, &c_noref, err, sizeof err);
	T_EQ_INT(rc, DMCP_E_PARAMS, "a completion without ref");
	T_OK(reg_completion(reg, "ref/prompt", "p1") == &c_ok, "reg_completion for a prompt");
	T_OK(reg_completion(reg, "ref/resource", "test://{x}") == &c_res,
	     "reg_completion for a resource");
	T_OK(reg_completion(reg, "ref/resource", "p1") == NULL, "the ref type must match");
	T_OK(reg_completion(reg, "ref/prompt", "p9") == NULL, "an unknown ref");
	dmcp_registry_free(reg);
}

/* reg_template_match; *id receives the "id" variable ("" when none). */
static int match(const char *tmpl, const char *uri, char *id, size_t idlen)
{
	json_object *vars = json_object_new_object();
	int r = reg_template_match(tmpl, uri, vars);
	const char *v = js_str(vars, "id");

	snprintf(id, idlen, "%s", r && v != NULL ? v : "");
	json_object_put(vars);
	return r;
}

static void test_template_match(void)
{
	static const char tmpl[] = "test://template/{id}/data";
	char id[128], longvar[200];
	json_object *vars;
	int r;

	r = match(tmpl, "test://template/42/data", id, sizeof id);
	T_OK(r == 1 && strcmp(id, "42") == 0, "a matching URI gives id 42");
	r = match(tmpl, "test://template/abc-XYZ_%20/data", id, sizeof id);
	T_OK(r == 1 && strcmp(id, "abc-XYZ_%20") == 0, "any segment characters");
	r = match(tmpl, "test://template/42/x/data", id, sizeof id);
	T_EQ_INT(r, 0, "an extra segment");
	r = match(tmpl, "test://template//data", id, sizeof id);
	T_EQ_INT(r, 0, "an empty variable");
	r = match(tmpl, "test://template/42", id, sizeof id);
	T_EQ_INT(r, 0, "a missing suffix");
	r = match(tmpl, "test://template/42/", id, sizeof id);
	T_EQ_INT(r, 0, "a cut suffix");
	r = match(tmpl, "test://template/42/data/", id, sizeof id);
	T_EQ_INT(r, 0, "a trailing slash");
	r = match(tmpl, "test://template/42/datax", id, sizeof id);
	T_EQ_INT(r, 0, "a longer suffix");
	r = match(tmpl, "test://template/", id, sizeof id);
	T_EQ_INT(r, 0, "the prefix alone");
	r = match(tmpl, "", id, sizeof id);
	T_EQ_INT(r, 0, "an empty URI");
	r = match(tmpl, "test://other/42/data", id, sizeof id);
	T_EQ_INT(r, 0, "another prefix");
	r = match(tmpl, "test://template/4?2/data", id, sizeof id);
	T_EQ_INT(r, 0, "a query inside the variable");
	r = match(tmpl, "test://template/4#2/data", id, sizeof id);
	T_EQ_INT(r, 0, "a fragment inside the variable");
	r = match("test://{id}", "test://abc", id, sizeof id);
	T_OK(r == 1 && strcmp(id, "abc") == 0, "a variable at the end");
	r = match("test://{id}", "test://abc/def", id, sizeof id);
	T_EQ_INT(r, 0, "a variable at the end does not take two segments");
	r = match("test://{id}", "test://", id, sizeof id);
	T_EQ_INT(r, 0, "a variable at the end cannot be empty");
	r = match("test://{id", "test://abc", id, sizeof id);
	T_EQ_INT(r, 0, "an unclosed variable matches nothing");
	r = match("test://static", "test://static", id, sizeof id);
	T_EQ_INT(r, 1, "a template without variables matches itself");
	r = match("test://static", "test://stati", id, sizeof id);
	T_EQ_INT(r, 0, "... and not a prefix of itself");

	vars = json_object_new_object();
	r = reg_template_match("db://{schema}/{table}", "db://public/users", vars);
	T_OK(r == 1 && strcmp(js_str(vars, "schema"), "public") == 0 &&
	     strcmp(js_str(vars, "table"), "users") == 0, "two variables");
	json_object_put(vars);

	memset(longvar, 'v', sizeof longvar);
	memcpy(longvar, "x://{", 5);
	longvar[150] = '}';
	longvar[151] = '\0';
	vars = json_object_new_object();
	r = reg_template_match(longvar, "x://abc", vars);
	T_EQ_INT(r, 0, "a variable name longer than 63 bytes matches nothing");
	json_object_put(vars);
}

/* The text of the first item of contents, as a C string; NULL when none. */
static const char *first(json_object *contents, const char *key)
{
	return js_str(json_object_array_get_idx(contents, 0), key);
}

static void test_examples(void)
{
	dmcp_registry *reg = dmcp_registry_new();
	json_object *items = NULL, *contents, *o, *schema, *defs;
	const struct dmcp_completion *comp;
	const struct dmcp_prompt *p;
	const struct reg_tool *t;
	char err[ERR_LEN], next[32];
	size_t i;
	int n;
	dmcp_rc rc;

	rc = dmcp_examples_register(reg, err, sizeof err);
	T_OK(rc == DMCP_OK, "the examples register (%s)", rc == DMCP_OK ? "ok" : err);

	/* tools/list. */
	rc = page(reg, "tools", NULL, &n, next, sizeof next, &items);
	T_OK(rc == DMCP_OK && n == reg->n_tools && n > 0 && next[0] == '\0',
	     "tools/list: every example tool on one page (%d)", n);
	o = NULL;
	for (i = 0; items != NULL && i < json_object_array_length(items); i++)
		if (strcmp(item_name(items, i), "json_schema_2020_12_tool") == 0)
			o = json_object_array_get_idx(items, i);
	T_OK(o != NULL, "tools/list has json_schema_2020_12_tool");
	schema = js_get(o, "inputSchema", json_type_object);
	T_EQ_STR(js_str(schema, "$schema"), DIALECT_2020_12, "its inputSchema keeps $schema");
	defs = js_get(schema, "$defs", json_type_object);
	T_OK(defs != NULL && js_get(defs, "address", json_type_object) != NULL,
	     "its inputSchema keeps $defs.address");
	T_OK(js_get(js_get(schema, "properties", json_type_object), "address", json_type_object) !=
	     NULL && strcmp(js_str(js_get(js_get(schema, "properties", json_type_object), "address",
	                                  json_type_object), "$ref"), "#/$defs/address") == 0,
	     "its address property keeps the $ref");
	for (i = 0, n = 0; items != NULL && i < json_object_array_length(items); i++) {
		json_object *it = json_object_array_get_idx(items, i);
		if (js_str(it, "name") == NULL || js_str(it, "description") == NULL ||
		    js_get(it, "inputSchema", json_type_object) == NULL)
			n++;
	}
	T_EQ_INT(n, 0, "every listed tool has name, description and an inputSchema object");
	json_object_put(items);
	t = reg_tool(reg, "test_simple_text");
	T_OK(t != NULL, "test_simple_text is registered");
	t = reg_tool(reg, "test_elicitation");
	T_OK(t != NULL && reg_elicit(t, "user") != NULL, "test_elicitation has its user form");
	t = reg_tool(reg, "test_elicitation_sep1330_enums");
	T_OK(t != NULL && reg_elicit(t, "enums") != NULL,
	     "the enums form (titled and untitled, single and multi) is flat enough");
	t = reg_tool(reg, "echo");
	T_OK(t != NULL && t->output != NULL && strstr(t->listing, "\"annotations\"") != NULL &&
	     strstr(t->listing, "\"title\":\"Echo\"") != NULL, "the demo echo tool is complete");

	/* prompts/list. */
	rc = page(reg, "prompts", NULL, &n, next, sizeof next, &items);
	T_OK(rc == DMCP_OK && n == 5, "prompts/list has the five fixtures");
	T_OK(items != NULL && strcmp(item_name(items, 0), "test_simple_prompt") == 0 &&
	     strcmp(item_name(items, 1), "test_prompt_with_arguments") == 0,
	     "prompts in registration order");
	o = json_object_array_get_idx(items, 1);
	{
		json_object *args = js_get(o, "arguments", json_type_array);
		json_object *a0 = json_object_array_get_idx(args, 0);
		T_OK(args != NULL && json_object_array_length(args) == 2 &&
		     strcmp(js_str(a0, "name"), "arg1") == 0 &&
		     json_object_get_boolean(js_get(a0, "required", json_type_boolean)),
		     "test_prompt_with_arguments lists arg1 (required) and arg2");
		T_OK(js_get(json_object_array_get_idx(items, 0), "arguments", json_type_array) != NULL,
		     "a prompt without arguments lists an empty array");
	}
	json_object_put(items);
	p = reg_prompt(reg, "test_simple_prompt");
	o = json_object_new_array();
	rc = p != NULL ? p->get(NULL, o) : DMCP_E_NOT_FOUND;
	T_OK(rc == DMCP_OK && json_object_array_length(o) == 1 &&
	     strcmp(js_str(json_object_array_get_idx(o, 0), "role"), "user") == 0,
	     "test_simple_prompt gives one user message");
	json_object_put(o);

	/* resources/list and resources/templates/list. */
	rc = page(reg, "resources", NULL, &n, next, sizeof next, &items);
	T_OK(rc == DMCP_OK && n == 3, "resources/list has the three fixtures");
	o = json_object_array_get_idx(items, 0);
	T_OK(o != NULL && strcmp(js_str(o, "uri"), "test://static-text") == 0 &&
	     strcmp(js_str(o, "mimeType"), "text/plain") == 0 && js_str(o, "text") == NULL,
	     "a listed resource has uri and mimeType, not its content");
	json_object_put(items);
	rc = page(reg, "resourceTemplates", NULL, &n, next, sizeof next, &items);
	T_OK(rc == DMCP_OK && n == 1 && strcmp(js_str(json_object_array_get_idx(items, 0),
	                                              "uriTemplate"), "test://template/{id}/data") == 0,
	     "resources/templates/list has the template");
	json_object_put(items);

	/* resources/read. */
	contents = json_object_new_array();
	rc = reg_read(reg, "test://static-text", contents);
	T_OK(rc == DMCP_OK && json_object_array_length(contents) == 1, "read static text");
	T_EQ_STR(first(contents, "text"), "This is the content of the static text resource.",
	         "static text content");
	T_EQ_STR(first(contents, "uri"), "test://static-text", "static text uri");
	T_OK(first(contents, "blob") == NULL, "no blob for text");
	json_object_put(contents);
	contents = json_object_new_array();
	rc = reg_read(reg, "test://static-binary", contents);
	T_OK(rc == DMCP_OK && first(contents, "blob") != NULL && first(contents, "text") == NULL &&
	     strcmp(first(contents, "mimeType"), "image/png") == 0, "read static blob");
	json_object_put(contents);
	contents = json_object_new_array();
	rc = reg_read(reg, "test://template/abc/data", contents);
	T_OK(rc == DMCP_OK && strcmp(first(contents, "uri"), "test://template/abc/data") == 0,
	     "read through the template");
	o = js_parse_trusted(first(contents, "text"));
	T_OK(o != NULL && strcmp(js_str(o, "id"), "abc") == 0 &&
	     strcmp(js_str(o, "data"), "Data for ID: abc") == 0, "the template saw id abc");
	json_object_put(o);
	json_object_put(contents);
	contents = json_object_new_array();
	rc = reg_read(reg, "test://nope", contents);
	T_OK(rc == DMCP_E_NOT_FOUND && json_object_array_length(contents) == 0,
	     "an unknown URI is DMCP_E_NOT_FOUND");
	rc = reg_read(reg, "test://template//data", contents);
	T_EQ_INT(rc, DMCP_E_NOT_FOUND, "an empty template variable is not found");
	rc = reg_read(reg, "test://static-text/", contents);
	T_EQ_INT(rc, DMCP_E_NOT_FOUND, "static URIs match exactly");
	json_object_put(contents);
	T_EQ_INT(reg_has_resource(reg, "test://watched-resource"), 1, "reg_has_resource static");
	T_EQ_INT(reg_has_resource(reg, "test://template/1/data"), 1, "reg_has_resource template");
	T_EQ_INT(reg_has_resource(reg, "test://template/1/2/data"), 0, "reg_has_resource refuses");
	T_EQ_INT(reg_has_resource(reg, ""), 0, "reg_has_resource of \"\"");

	/* completion/complete. */
	comp = reg_completion(reg, "ref/prompt", "test_prompt_with_arguments");
	o = json_object_new_array();
	rc = comp != NULL ? comp->complete("arg1", "te", o) : DMCP_E_NOT_FOUND;
	T_OK(rc == DMCP_OK && json_object_array_length(o) == 2 &&
	     strcmp(json_object_get_string(json_object_array_get_idx(o, 0)), "test") == 0,
	     "the completion for te gives test and testing");
	json_object_put(o);
	dmcp_registry_free(reg);
}

int main(void)
{
	test_tools();
	test_pagination();
	test_other_kinds();
	test_template_match();
	test_examples();
	return t_done();
}
