/* test_param.c — TAP tests of core/param.c: the JSON Schema generated from typed parameters
 * (every type and field, forms, numbers, escaping), tools written with typed parameters
 * against their hand-written twins (the same listing, the same refusals with the same
 * messages), every refusal of a bad definition, defaults, and every getter. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "examples.h"
#include "js.h"
#include "param.h"
#include "registry.h"
#include "t.h"

/* Messages from registration and validation: one line. */
#define ERR_LEN 512

static dmcp_rc nop(dmcp_ctx *ctx, json_object *args, dmcp_result *res)
{
	(void)ctx;
	(void)args;
	(void)res;
	return DMCP_E_INTERNAL; /* never called */
}

/* The generated text of params (use), or "" with the message in err. Free the result. */
static char *gen(const struct dmcp_param *params, enum param_use use, dmcp_rc *rc, char *err)
{
	char *text = NULL;

	err[0] = '\0';
	*rc = param_schema(params, use, &text, err, ERR_LEN);
	return text != NULL ? text : strdup("");
}

static void expect_text(const struct dmcp_param *params, enum param_use use, const char *want,
                        const char *name)
{
	char err[ERR_LEN], *text;
	dmcp_rc rc;

	text = gen(params, use, &rc, err);
	T_OK(rc == DMCP_OK && strcmp(text, want) == 0, "%s (got %s%s)", name, text, err);
	free(text);
}

/* ---- generation ------------------------------------------------------------------------- */

static const struct dmcp_param every_type[] = {
	DMCP_STRING("s", .required = 1, .title = "S", .description = "a string", .min_length = 1,
	            .max_length = 10, .pattern = "^[a-z]+$", .format = "email", .default_str = "ab"),
	DMCP_BOOL("b", .default_bool = DMCP_SET(1)),
	DMCP_INT("i", .minimum = DMCP_SET(-5), .maximum = DMCP_SET(5), .default_int = DMCP_SET(0)),
	DMCP_NUMBER("n", .minimum = DMCP_SET(0.5), .maximum = DMCP_SET(1e6),
	            .default_number = DMCP_SET(95.5)),
	DMCP_ENUM("e", .required = 1, .values = DMCP_VALUES("x", "y"), .default_str = "y"),
	DMCP_STRING_ARRAY("a", .min_items = 1, .max_items = 3, .max_length = 4,
	                  .values = DMCP_VALUES("p", "q")),
	DMCP_END};

static void test_generation(void)
{
	static const struct dmcp_param none[] = {DMCP_END};
	static const struct dmcp_param bare[] = {DMCP_STRING("s"), DMCP_BOOL("b"), DMCP_INT("i"),
	                                         DMCP_NUMBER("n"), DMCP_STRING_ARRAY("a"), DMCP_END};
	static const struct dmcp_param numbers[] = {
		DMCP_NUMBER("a", .default_number = DMCP_SET(0.1)),
		DMCP_NUMBER("b", .default_number = DMCP_SET(30.0)),
		DMCP_NUMBER("c", .minimum = DMCP_SET(-0.25), .maximum = DMCP_SET(1e300)),
		DMCP_NUMBER("d", .default_number = DMCP_SET(1.0 / 3.0)),
		DMCP_INT("e", .default_int = DMCP_SET(INT64_MAX)),
		DMCP_END};
	static const struct dmcp_param text[] = {
		DMCP_STRING("q", .description = "say \"hi\" \\ caf\xc3\xa9\n", .title = "</script>"),
		DMCP_END};
	const struct dmcp_param form[] = { /* not static: DMCP_VALUES is a compound literal */
		DMCP_STRING("name", .required = 1, .description = "Name", .format = "email"),
		DMCP_INT("age", .required = 1, .minimum = DMCP_SET(0), .default_int = DMCP_SET(30)),
		DMCP_ENUM("color", .values = DMCP_VALUES("red", "green")),
		DMCP_STRING_ARRAY("tags", .values = DMCP_VALUES("a", "b"), .max_items = 2),
		DMCP_END};
	char err[ERR_LEN], *t;
	dmcp_rc rc;

	expect_text(none, PARAM_ARGS, "{\"type\":\"object\",\"additionalProperties\":false}",
	            "no parameters: the empty object MCP recommends");
	expect_text(none, PARAM_FORM, "{\"type\":\"object\",\"properties\":{}}",
	            "a form without fields still has properties");
	expect_text(bare, PARAM_ARGS,
	            "{\"type\":\"object\",\"properties\":{\"s\":{\"type\":\"string\"},\"b\":{\"type\":"
	            "\"boolean\"},\"i\":{\"type\":\"integer\"},\"n\":{\"type\":\"number\"},\"a\":"
	            "{\"type\":\"array\",\"items\":{\"type\":\"string\"}}},\"additionalProperties\":"
	            "false}", "bare parameters: only their types, nothing required");
	expect_text(every_type, PARAM_ARGS,
	            "{\"type\":\"object\",\"properties\":{"
	            "\"s\":{\"type\":\"string\",\"title\":\"S\",\"description\":\"a string\","
	            "\"format\":\"email\",\"minLength\":1,\"maxLength\":10,\"pattern\":\"^[a-z]+$\","
	            "\"default\":\"ab\"},"
	            "\"b\":{\"type\":\"boolean\",\"default\":true},"
	            "\"i\":{\"type\":\"integer\",\"minimum\":-5,\"maximum\":5,\"default\":0},"
	            "\"n\":{\"type\":\"number\",\"minimum\":0.5,\"maximum\":1000000,\"default\":95.5},"
	            "\"e\":{\"type\":\"string\",\"enum\":[\"x\",\"y\"],\"default\":\"y\"},"
	            "\"a\":{\"type\":\"array\",\"items\":{\"type\":\"string\",\"maxLength\":4,"
	            "\"enum\":[\"p\",\"q\"]},\"minItems\":1,\"maxItems\":3}},"
	            "\"required\":[\"s\",\"e\"],\"additionalProperties\":false}",
	            "every type and field, in the order an author writes them");
	expect_text(numbers, PARAM_ARGS,
	            "{\"type\":\"object\",\"properties\":{"
	            "\"a\":{\"type\":\"number\",\"default\":0.1},"
	            "\"b\":{\"type\":\"number\",\"default\":30},"
	            "\"c\":{\"type\":\"number\",\"minimum\":-0.25,\"maximum\":1e+300},"
	            "\"d\":{\"type\":\"number\",\"default\":0.33333333333333331},"
	            "\"e\":{\"type\":\"integer\",\"default\":9223372036854775807}},"
	            "\"additionalProperties\":false}",
	            "numbers: shortest text that reads back, integral ones without .0");
	t = gen(text, PARAM_ARGS, &rc, err);
	{
		json_object *o = js_parse_trusted(t);
		json_object *q = js_get(js_get(o, "properties", json_type_object), "q",
		                        json_type_object);
		T_OK(rc == DMCP_OK && q != NULL &&
		     strcmp(js_str(q, "description"), "say \"hi\" \\ caf\xc3\xa9\n") == 0 &&
		     strcmp(js_str(q, "title"), "</script>") == 0,
		     "quotes, backslashes, newlines and UTF-8 in texts survive (%s)", t);
		json_object_put(o);
	}
	free(t);
	expect_text(form, PARAM_FORM,
	            "{\"type\":\"object\",\"properties\":{"
	            "\"name\":{\"type\":\"string\",\"description\":\"Name\",\"format\":\"email\"},"
	            "\"age\":{\"type\":\"integer\",\"minimum\":0,\"default\":30},"
	            "\"color\":{\"type\":\"string\",\"enum\":[\"red\",\"green\"]},"
	            "\"tags\":{\"type\":\"array\",\"items\":{\"type\":\"string\",\"enum\":[\"a\","
	            "\"b\"]},\"maxItems\":2}},\"required\":[\"name\",\"age\"]}",
	            "a form: flat, required with a default allowed, no additionalProperties");
	t = gen(NULL, PARAM_ARGS, &rc, err);
	T_OK(rc == DMCP_E_PARAMS && t[0] == '\0', "a NULL list is refused (%s)", err);
	free(t);
}

/* ---- twins: typed parameters and the same schema by hand -------------------------------- */

static const struct dmcp_param twin_params[] = {
	DMCP_STRING("message", .required = 1, .max_length = 5, .description = "What to say"),
	DMCP_BOOL("loud", .default_bool = DMCP_SET(0)),
	DMCP_INT("count", .minimum = DMCP_SET(1), .maximum = DMCP_SET(10), .default_int = DMCP_SET(1)),
	DMCP_NUMBER("ratio", .minimum = DMCP_SET(0), .maximum = DMCP_SET(1)),
	DMCP_ENUM("style", .values = DMCP_VALUES("plain", "bold"), .default_str = "plain"),
	DMCP_STRING_ARRAY("tags", .max_items = 2, .max_length = 3, .pattern = "^[a-z]+$"),
	DMCP_STRING("code", .pattern = "^[A-Z]{3}$", .min_length = 3),
	DMCP_END};

static const char twin_text[] =
	"{\"type\":\"object\",\"properties\":{"
	"\"message\":{\"type\":\"string\",\"description\":\"What to say\",\"maxLength\":5},"
	"\"loud\":{\"type\":\"boolean\",\"default\":false},"
	"\"count\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":10,\"default\":1},"
	"\"ratio\":{\"type\":\"number\",\"minimum\":0,\"maximum\":1},"
	"\"style\":{\"type\":\"string\",\"enum\":[\"plain\",\"bold\"],\"default\":\"plain\"},"
	"\"tags\":{\"type\":\"array\",\"items\":{\"type\":\"string\",\"maxLength\":3,"
	"\"pattern\":\"^[a-z]+$\"},\"maxItems\":2},"
	"\"code\":{\"type\":\"string\",\"minLength\":3,\"pattern\":\"^[A-Z]{3}$\"}},"
	"\"required\":[\"message\"],\"additionalProperties\":false}";

/* Arguments both twins refuse, and a word the message must hold. */
static const struct {
	const char *args;
	const char *says;
} refused[] = {
	{"{}", "missing required property \"message\""},
	{"{\"count\":2}", "missing required property \"message\""},
	{"{\"message\":42}", "/message: expected string, got integer"},
	{"{\"message\":null}", "/message: expected string"},
	{"{\"message\":\"abcdef\"}", "more than maxLength 5"},
	{"{\"message\":\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"}", "6 characters"},
	{"{\"message\":\"a\",\"loud\":\"yes\"}", "/loud: expected boolean, got string"},
	{"{\"message\":\"a\",\"loud\":1}", "/loud: expected boolean"},
	{"{\"message\":\"a\",\"count\":0}", "/count"},
	{"{\"message\":\"a\",\"count\":11}", "/count"},
	{"{\"message\":\"a\",\"count\":1.5}", "/count: expected integer, got number"},
	{"{\"message\":\"a\",\"count\":\"2\"}", "/count: expected integer, got string"},
	{"{\"message\":\"a\",\"ratio\":1.01}", "/ratio"},
	{"{\"message\":\"a\",\"ratio\":-0.5}", "/ratio"},
	{"{\"message\":\"a\",\"ratio\":true}", "/ratio: expected number"},
	{"{\"message\":\"a\",\"style\":\"loud\"}", "/style: value is not one of the enum values"},
	{"{\"message\":\"a\",\"style\":1}", "/style"},
	{"{\"message\":\"a\",\"tags\":\"x\"}", "/tags: expected array, got string"},
	{"{\"message\":\"a\",\"tags\":[1]}", "/tags/0: expected string, got integer"},
	{"{\"message\":\"a\",\"tags\":[\"ok\",\"toolong\"]}", "/tags/1"},
	{"{\"message\":\"a\",\"tags\":[\"ok\",\"UP\"]}", "/tags/1: string does not match"},
	{"{\"message\":\"a\",\"tags\":[\"a\",\"b\",\"c\"]}", "more than maxItems 2"},
	{"{\"message\":\"a\",\"code\":\"abc\"}", "/code: string does not match"},
	{"{\"message\":\"a\",\"code\":\"AB\"}", "/code"},
	{"{\"message\":\"a\",\"extra\":1}", "property \"extra\" is not allowed"},
	{"{\"message\":\"a\",\"Message\":\"b\"}", "\"Message\" is not allowed"},
};

/* reg_args_check of args (JSON text) on t; the message in err; *out receives the arguments as
 * they are afterwards (JSON text, malloc'd). */
static dmcp_rc check(const struct reg_tool *t, const char *args, char *err, char **out)
{
	json_object *o = js_parse_trusted(args);
	dmcp_rc rc;

	err[0] = '\0';
	if (o == NULL)
		abort();
	rc = reg_args_check(t, o, err, ERR_LEN);
	if (out != NULL)
		*out = strdup(js_text(o));
	json_object_put(o);
	return rc;
}

static void test_twins(void)
{
	static const struct dmcp_tool typed = {.name = "typed", .description = "typed", .version = 1,
	                                       .run = nop, .params = twin_params};
	static const struct dmcp_tool hand = {.name = "hand", .description = "hand", .version = 1,
	                                      .run = nop, .input_schema = twin_text};
	dmcp_registry *reg = dmcp_registry_new();
	const struct reg_tool *a, *b;
	json_object *la, *lb;
	char err[ERR_LEN], ea[ERR_LEN], eb[ERR_LEN], *out;
	size_t i;
	dmcp_rc ra, rb;

	T_EQ_INT(dmcp_register_tool(reg, &typed, err, sizeof err), DMCP_OK, "twins: typed registers");
	T_EQ_INT(dmcp_register_tool(reg, &hand, err, sizeof err), DMCP_OK, "twins: hand registers");
	a = reg_tool(reg, "typed");
	b = reg_tool(reg, "hand");
	la = js_parse_trusted(a->listing);
	lb = js_parse_trusted(b->listing);
	T_EQ_STR(js_text(js_get(la, "inputSchema", json_type_object)), twin_text,
	         "twins: the typed tool lists the hand-written text, byte for byte");
	T_OK(js_equal(js_get(la, "inputSchema", json_type_object),
	              js_get(lb, "inputSchema", json_type_object)),
	     "twins: ... and the same schema as its twin");
	json_object_put(la);
	json_object_put(lb);

	for (i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		ra = check(a, refused[i].args, ea, NULL);
		rb = check(b, refused[i].args, eb, NULL);
		T_OK(ra == DMCP_E_VALIDATION && rb == DMCP_E_VALIDATION && strcmp(ea, eb) == 0 &&
		     strstr(ea, refused[i].says) != NULL,
		     "twins refuse %s alike: %s", refused[i].args, ea);
	}

	/* Good arguments: both pass; only the typed one fills in defaults. */
	ra = check(a, "{\"message\":\"hi\"}", ea, &out);
	T_OK(ra == DMCP_OK && strcmp(out, "{\"message\":\"hi\",\"loud\":false,\"count\":1,"
	                                  "\"style\":\"plain\"}") == 0,
	     "twins: the typed tool fills in its defaults (%s)", out);
	free(out);
	rb = check(b, "{\"message\":\"hi\"}", eb, &out);
	T_OK(rb == DMCP_OK && strcmp(out, "{\"message\":\"hi\"}") == 0,
	     "twins: a schema text's defaults stay annotations (%s)", out);
	free(out);
	ra = check(a, "{\"message\":\"hi\",\"loud\":true,\"count\":10,\"ratio\":0.5,\"style\":"
	              "\"bold\",\"tags\":[\"a\",\"b\"],\"code\":\"ABC\"}", ea, &out);
	T_OK(ra == DMCP_OK && strcmp(out, "{\"message\":\"hi\",\"loud\":true,\"count\":10,"
	                                  "\"ratio\":0.5,\"style\":\"bold\",\"tags\":[\"a\",\"b\"],"
	                                  "\"code\":\"ABC\"}") == 0,
	     "twins: every argument given: nothing added or changed (%s)", out);
	free(out);
	dmcp_registry_free(reg);
}

/* ---- refusals ---------------------------------------------------------------------------- */

/* Registers a tool with params (or a form with fields when form is set) and checks the code
 * and a part of the message. */
static void expect_refusal(const struct dmcp_param *params, int form, dmcp_rc want,
                           const char *says, const char *name)
{
	struct dmcp_schema_def forms[2] = {{.name = "f", .fields = params}, {.name = NULL}};
	struct dmcp_tool d = {.name = "t", .description = "a tool", .version = 1, .run = nop};
	dmcp_registry *reg = dmcp_registry_new();
	char err[ERR_LEN] = "";
	dmcp_rc rc;
	int ok;

	if (form)
		d.elicits = forms;
	else
		d.params = params;
	rc = dmcp_register_tool(reg, &d, err, sizeof err);
	ok = rc == want && reg->n_tools == (want == DMCP_OK);
	if (want != DMCP_OK) /* the message names the tool, then the parameter */
		ok = ok && strncmp(err, "t: ", 3) == 0 && strstr(err, says) != NULL;
	T_OK(ok, "%s (got %s: %s)", name, dmcp_rc_name(rc), err);
	dmcp_registry_free(reg);
}

static void test_refusals(void)
{
	static struct dmcp_param many[PARAM_MAX + 2];
	static char names[PARAM_MAX + 1][16];
	static const char *values[PARAM_MAX_VALUES + 2];
	static char vnames[PARAM_MAX_VALUES + 1][8];
	struct dmcp_param one[2] = {DMCP_STRING("x"), DMCP_END};
	struct dmcp_tool both = {.name = "t", .description = "a tool", .version = 1, .run = nop,
	                         .params = one, .input_schema = "{\"type\":\"object\"}"};
	struct dmcp_schema_def both_form[2] = {{.name = "f", .fields = one,
	                                        .schema = "{\"type\":\"object\"}"}, {.name = NULL}};
	struct dmcp_schema_def no_form[2] = {{.name = "f"}, {.name = NULL}};
	dmcp_registry *reg = dmcp_registry_new();
	char err[ERR_LEN];
	int i;

	T_OK(dmcp_register_tool(reg, &both, err, sizeof err) == DMCP_E_PARAMS &&
	     strstr(err, "not both") != NULL && reg->n_tools == 0,
	     "params and input_schema together are refused (%s)", err);
	both.params = NULL;
	both.input_schema = NULL;
	both.elicits = both_form;
	T_OK(dmcp_register_tool(reg, &both, err, sizeof err) == DMCP_E_PARAMS &&
	     strstr(err, "elicitation schema f") != NULL && strstr(err, "exactly one") != NULL,
	     "a form with fields and schema text is refused (%s)", err);
	both.elicits = no_form;
	T_OK(dmcp_register_tool(reg, &both, err, sizeof err) == DMCP_E_PARAMS &&
	     strstr(err, "exactly one") != NULL, "a form with neither is refused (%s)", err);
	dmcp_registry_free(reg);

#define REFUSE(want, says, name, ...)                                                     \
	do {                                                                              \
		const struct dmcp_param l_[] = {__VA_ARGS__, DMCP_END};                   \
		expect_refusal(l_, 0, want, says, name);                                  \
	} while (0)
	REFUSE(DMCP_E_PARAMS, "(unnamed): names are", "a parameter without a name",
	       DMCP_STRING(NULL));
	REFUSE(DMCP_E_PARAMS, "names are 1-64", "an empty name", DMCP_STRING(""));
	REFUSE(DMCP_E_PARAMS, "names are", "a name with a space", DMCP_STRING("a b"));
	REFUSE(DMCP_E_PARAMS, "names are", "a non-ASCII name", DMCP_STRING("caf\xc3\xa9"));
	REFUSE(DMCP_E_PARAMS, "names are", "a 65-character name",
	       DMCP_STRING("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
	REFUSE(DMCP_OK, "", "a 64-character name",
	       DMCP_STRING("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
	REFUSE(DMCP_E_PARAMS, "parameter x: declared twice", "a duplicate name",
	       DMCP_STRING("x"), DMCP_INT("y"), DMCP_BOOL("x"));
	REFUSE(DMCP_E_PARAMS, "unknown type 42", "an unknown type",
	       {.type = (dmcp_param_type)42, .name = "x"});
	REFUSE(DMCP_E_PARAMS, ".minimum/.maximum does not apply to DMCP_STRING", "a string's maximum",
	       DMCP_STRING("x", .maximum = DMCP_SET(3)));
	REFUSE(DMCP_E_PARAMS, ".default_int does not apply to DMCP_BOOL", "a boolean's default_int",
	       DMCP_BOOL("x", .default_int = DMCP_SET(0)));
	REFUSE(DMCP_E_PARAMS, ".default_str does not apply to DMCP_INT", "an integer's default_str",
	       DMCP_INT("x", .default_str = "1"));
	REFUSE(DMCP_E_PARAMS, ".default_number does not apply to DMCP_INT",
	       "an integer's default_number", DMCP_INT("x", .default_number = DMCP_SET(1)));
	REFUSE(DMCP_E_PARAMS, ".min_length/.max_length does not apply to DMCP_ENUM",
	       "an enum's max_length", DMCP_ENUM("x", .values = DMCP_VALUES("a"), .max_length = 3));
	REFUSE(DMCP_E_PARAMS, ".values does not apply to DMCP_NUMBER", "a number's values",
	       DMCP_NUMBER("x", .values = DMCP_VALUES("1")));
	REFUSE(DMCP_E_PARAMS, ".min_items/.max_items does not apply to DMCP_STRING", "a string's items",
	       DMCP_STRING("x", .max_items = 2));
	REFUSE(DMCP_E_PARAMS, ".pattern does not apply to DMCP_BOOL", "a boolean's pattern",
	       DMCP_BOOL("x", .pattern = "a"));
	REFUSE(DMCP_E_PARAMS, ".format does not apply to DMCP_INT", "an integer's format",
	       DMCP_INT("x", .format = "date"));
	REFUSE(DMCP_E_PARAMS, ".default_str does not apply to DMCP_STRING_ARRAY",
	       "a string array's default", DMCP_STRING_ARRAY("x", .default_str = "a"));
	REFUSE(DMCP_E_PARAMS, "an enum needs .values", "an enum without values", DMCP_ENUM("x"));
	REFUSE(DMCP_E_PARAMS, "an enum needs .values", "an enum with an empty list",
	       DMCP_ENUM("x", .values = (const char *const[]){NULL}));
	REFUSE(DMCP_E_PARAMS, ".values is empty", "a string array with an empty list",
	       DMCP_STRING_ARRAY("x", .values = (const char *const[]){NULL}));
	REFUSE(DMCP_E_PARAMS, "the value \"a\" repeats", "an enum value twice",
	       DMCP_ENUM("x", .values = DMCP_VALUES("a", "b", "a")));
	REFUSE(DMCP_E_PARAMS, "minimum 2 is above maximum 1", "bounds out of order",
	       DMCP_INT("x", .minimum = DMCP_SET(2), .maximum = DMCP_SET(1)));
	REFUSE(DMCP_OK, "", "equal bounds", DMCP_INT("x", .minimum = DMCP_SET(2),
	                                               .maximum = DMCP_SET(2)));
	REFUSE(DMCP_E_PARAMS, "min_length 5 is above max_length 4", "lengths out of order",
	       DMCP_STRING("x", .min_length = 5, .max_length = 4));
	REFUSE(DMCP_E_PARAMS, "min_items 3 is above max_items 2", "item counts out of order",
	       DMCP_STRING_ARRAY("x", .min_items = 3, .max_items = 2));
	REFUSE(DMCP_E_PARAMS, "not finite", "an infinite maximum",
	       DMCP_NUMBER("x", .maximum = DMCP_SET(INFINITY)));
	REFUSE(DMCP_E_PARAMS, "not finite", "a NaN default",
	       DMCP_NUMBER("x", .default_number = DMCP_SET(NAN)));
	REFUSE(DMCP_E_PARAMS, "the default 0 does not fit: 0 is less than the minimum 1",
	       "an integer default below its minimum",
	       DMCP_INT("x", .minimum = DMCP_SET(1), .default_int = DMCP_SET(0)));
	REFUSE(DMCP_E_PARAMS, "the default 2.5 does not fit", "a number default above its maximum",
	       DMCP_NUMBER("x", .maximum = DMCP_SET(2), .default_number = DMCP_SET(2.5)));
	REFUSE(DMCP_E_PARAMS, "the default \"c\" does not fit: value is not one of the enum values",
	       "an enum default not among the values",
	       DMCP_ENUM("x", .values = DMCP_VALUES("a", "b"), .default_str = "c"));
	REFUSE(DMCP_E_PARAMS, "more than maxLength 2", "a string default too long",
	       DMCP_STRING("x", .max_length = 2, .default_str = "abc"));
	REFUSE(DMCP_E_PARAMS, "does not match the pattern", "a string default against its pattern",
	       DMCP_STRING("x", .pattern = "^[0-9]+$", .default_str = "abc"));
	REFUSE(DMCP_E_SCHEMA, "not a supported regular expression", "a bad pattern",
	       DMCP_STRING("x", .pattern = "(a"));
	REFUSE(DMCP_E_SCHEMA, "not a supported regular expression", "a bad pattern on items",
	       DMCP_STRING_ARRAY("x", .pattern = "a{2,1}"));
#undef REFUSE

	for (i = 0; i <= PARAM_MAX; i++) {
		snprintf(names[i], sizeof names[i], "p%d", i);
		many[i] = (struct dmcp_param)DMCP_STRING(names[i]);
	}
	many[PARAM_MAX] = (struct dmcp_param)DMCP_END;
	expect_refusal(many, 0, DMCP_OK, "", "PARAM_MAX parameters");
	many[PARAM_MAX] = (struct dmcp_param)DMCP_STRING(names[PARAM_MAX]);
	many[PARAM_MAX + 1] = (struct dmcp_param)DMCP_END;
	expect_refusal(many, 0, DMCP_E_LIMIT, "more than 64 parameters", "PARAM_MAX+1 parameters");
	for (i = 0; i <= PARAM_MAX_VALUES; i++) {
		snprintf(vnames[i], sizeof vnames[i], "v%d", i);
		values[i] = vnames[i];
	}
	values[PARAM_MAX_VALUES] = NULL;
	one[0] = (struct dmcp_param)DMCP_ENUM("x", .values = values);
	expect_refusal(one, 0, DMCP_OK, "", "PARAM_MAX_VALUES values");
	values[PARAM_MAX_VALUES] = vnames[PARAM_MAX_VALUES];
	values[PARAM_MAX_VALUES + 1] = NULL;
	expect_refusal(one, 0, DMCP_E_LIMIT, "more than 1024 values", "PARAM_MAX_VALUES+1 values");

	/* Forms. */
	one[0] = (struct dmcp_param)DMCP_STRING("x", .pattern = "^a$");
	expect_refusal(one, 1, DMCP_E_PARAMS, "an elicitation form has no pattern",
	               "a form field with a pattern");
	expect_refusal(one, 0, DMCP_OK, "", "... which a tool's argument may have");
	one[0] = (struct dmcp_param)DMCP_STRING_ARRAY("x");
	expect_refusal(one, 1, DMCP_E_PARAMS, "multi-select: it needs .values",
	               "a form's string array without values");
	one[0] = (struct dmcp_param)DMCP_STRING_ARRAY("x", .values = DMCP_VALUES("a", "b"));
	expect_refusal(one, 1, DMCP_OK, "", "a form's multi-select");
	one[0] = (struct dmcp_param)DMCP_INT("x", .maximum = DMCP_SET(1),
	                                     .default_int = DMCP_SET(2));
	expect_refusal(one, 1, DMCP_E_PARAMS, "elicitation schema f: parameter x: the default 2",
	               "a form field's default is checked too");
}

/* ---- defaults ---------------------------------------------------------------------------- */

static void expect_filled(const struct dmcp_param *params, const char *in, const char *want,
                          const char *name)
{
	json_object *o = js_parse_trusted(in);

	param_fill_defaults(params, o);
	T_OK(strcmp(js_text(o), want) == 0, "%s (got %s)", name, js_text(o));
	json_object_put(o);
}

static void test_defaults(void)
{
	json_object *arr = json_object_new_array();

	expect_filled(every_type, "{}", "{\"s\":\"ab\",\"b\":true,\"i\":0,\"n\":95.5,\"e\":\"y\"}",
	              "every type's default is filled in, as the schema shows it");
	expect_filled(every_type, "{\"s\":\"zz\",\"b\":false,\"i\":-3,\"n\":1,\"e\":\"x\",\"a\":[]}",
	              "{\"s\":\"zz\",\"b\":false,\"i\":-3,\"n\":1,\"e\":\"x\",\"a\":[]}",
	              "given values (false, 0-like, empty) are left alone");
	expect_filled(every_type, "{\"i\":2}", "{\"i\":2,\"s\":\"ab\",\"b\":true,\"n\":95.5,"
	              "\"e\":\"y\"}", "only what is missing is added, after what is there");
	expect_filled(twin_params, "{\"message\":\"m\"}", "{\"message\":\"m\",\"loud\":false,"
	              "\"count\":1,\"style\":\"plain\"}",
	              "parameters without a default stay absent");
	param_fill_defaults(NULL, arr);
	param_fill_defaults(every_type, arr);
	param_fill_defaults(every_type, NULL);
	T_EQ_INT(json_object_array_length(arr), 0,
	         "no list, an array, NULL: nothing to do (and no crash)");
	json_object_put(arr);
}

/* ---- getters ----------------------------------------------------------------------------- */

static void test_getters(void)
{
	json_object *o = js_parse_trusted(
		"{\"s\":\"text\",\"e\":\"\",\"t\":true,\"f\":false,\"i\":-42,\"i3\":3.0,\"half\":3.5,"
		"\"big\":1e300,\"small\":-1e300,\"u\":9223372036854775807,\"neg\":-9223372036854775808,"
		"\"d\":0.25,\"z\":0,\"n\":null,\"a\":[\"x\",\"y\",7],\"ea\":[],\"o\":{\"s\":\"in\"}}");
	json_object *arr = json_object_new_array();

	T_OK(o != NULL, "the getters' object parses");
	T_EQ_STR(dmcp_arg_str(o, "s"), "text", "str: a string");
	T_EQ_STR(dmcp_arg_str(o, "e"), "", "str: an empty string is not absent");
	T_OK(dmcp_arg_str(o, "missing") == NULL, "str: absent is NULL");
	T_OK(dmcp_arg_str(o, "i") == NULL && dmcp_arg_str(o, "t") == NULL &&
	     dmcp_arg_str(o, "n") == NULL && dmcp_arg_str(o, "a") == NULL,
	     "str: a number, a boolean, null, an array read as NULL (json-c would coerce them)");
	T_OK(dmcp_arg_str(NULL, "s") == NULL && dmcp_arg_str(o, NULL) == NULL &&
	     dmcp_arg_str(arr, "s") == NULL, "str: a NULL or non-object obj, a NULL name");
	T_OK(dmcp_arg_str(o, "o") == NULL, "str: members of nested objects are not looked at");

	T_EQ_INT(dmcp_arg_bool(o, "t"), 1, "bool: true");
	T_EQ_INT(dmcp_arg_bool(o, "f"), 0, "bool: false");
	T_EQ_INT(dmcp_arg_bool(o, "missing"), 0, "bool: absent is 0");
	T_OK(dmcp_arg_bool(o, "s") == 0 && dmcp_arg_bool(o, "i") == 0 && dmcp_arg_bool(o, "n") == 0,
	     "bool: a string, a number, null read as 0 (json-c would say true)");
	T_EQ_INT(dmcp_arg_bool(NULL, "t"), 0, "bool: NULL obj (a declined answer) is 0");

	T_EQ_INT(dmcp_arg_int(o, "i"), -42, "int: an integer");
	T_EQ_INT(dmcp_arg_int(o, "i3"), 3, "int: 3.0 is the integer 3");
	T_EQ_INT(dmcp_arg_int(o, "half"), 0, "int: 3.5 is not an integer: 0");
	T_OK(dmcp_arg_int(o, "big") == INT64_MAX, "int: 1e300 saturates to INT64_MAX");
	T_OK(dmcp_arg_int(o, "small") == INT64_MIN, "int: -1e300 saturates to INT64_MIN");
	T_OK(dmcp_arg_int(o, "u") == INT64_MAX, "int: 2^63-1 is exact (the parser refuses more)");
	T_OK(dmcp_arg_int(o, "neg") == INT64_MIN, "int: -2^63 is exact");
	T_OK(dmcp_arg_int(o, "missing") == 0 && dmcp_arg_int(o, "s") == 0 &&
	     dmcp_arg_int(o, "t") == 0 && dmcp_arg_int(o, "n") == 0 && dmcp_arg_int(NULL, "i") == 0,
	     "int: absent, a string, a boolean, null, NULL obj are 0");

	T_OK(dmcp_arg_number(o, "d") == 0.25, "number: a double");
	T_OK(dmcp_arg_number(o, "i") == -42.0, "number: an integer as a double");
	T_OK(dmcp_arg_number(o, "u") == 9223372036854775807.0, "number: 2^63-1 as a double");
	T_OK(dmcp_arg_number(o, "missing") == 0.0 && dmcp_arg_number(o, "s") == 0.0 &&
	     dmcp_arg_number(o, "t") == 0.0 && dmcp_arg_number(NULL, "d") == 0.0,
	     "number: absent, a string, a boolean, NULL obj are 0.0");

	T_EQ_INT(dmcp_arg_count(o, "a"), 3, "count: three items");
	T_EQ_INT(dmcp_arg_count(o, "ea"), 0, "count: an empty array");
	T_OK(dmcp_arg_count(o, "missing") == 0 && dmcp_arg_count(o, "s") == 0 &&
	     dmcp_arg_count(NULL, "a") == 0 && dmcp_arg_count(o, "o") == 0,
	     "count: absent, a string, an object, NULL obj are 0");
	T_EQ_STR(dmcp_arg_item(o, "a", 0), "x", "item 0");
	T_EQ_STR(dmcp_arg_item(o, "a", 1), "y", "item 1");
	T_OK(dmcp_arg_item(o, "a", 2) == NULL, "item: not a string is NULL");
	T_OK(dmcp_arg_item(o, "a", 3) == NULL && dmcp_arg_item(o, "a", (size_t)-1) == NULL,
	     "item: out of range is NULL");
	T_OK(dmcp_arg_item(o, "s", 0) == NULL && dmcp_arg_item(NULL, "a", 0) == NULL &&
	     dmcp_arg_item(o, NULL, 0) == NULL, "item: not an array, NULL obj, NULL name");

	T_OK(dmcp_arg_has(o, "s") && dmcp_arg_has(o, "f") && dmcp_arg_has(o, "z") &&
	     dmcp_arg_has(o, "e") && dmcp_arg_has(o, "ea"),
	     "has: present values, false, 0, \"\" and [] included");
	T_OK(!dmcp_arg_has(o, "n") && !dmcp_arg_has(o, "missing") && !dmcp_arg_has(NULL, "s") &&
	     !dmcp_arg_has(o, NULL) && !dmcp_arg_has(arr, "s"),
	     "has: null, absent, NULL obj, NULL name, not an object");
	json_object_put(arr);
	json_object_put(o);
}

/* ---- the shipped examples --------------------------------------------------------------- */

/* The listed inputSchema of tool, or the requestedSchema text of its form, equals want. */
static void expect_listed(const dmcp_registry *reg, const char *tool, const char *form,
                          const char *want)
{
	const struct reg_tool *t = reg_tool(reg, tool);
	json_object *l = t != NULL ? js_parse_trusted(t->listing) : NULL;
	const char *got;

	if (form != NULL)
		got = t != NULL && reg_elicit(t, form) != NULL ? reg_elicit(t, form)->schema_text : "";
	else
		got = js_text(js_get(l, "inputSchema", json_type_object));
	T_OK(strcmp(got, want) == 0, "%s%s%s lists %s", tool, form ? " form " : "",
	     form ? form : "", got);
	json_object_put(l);
}

static void test_examples(void)
{
	dmcp_registry *reg = dmcp_registry_new();
	char err[ERR_LEN];

	T_EQ_INT(dmcp_examples_register(reg, err, sizeof err), DMCP_OK, "the examples register");
	expect_listed(reg, "echo", NULL,
	              "{\"type\":\"object\",\"properties\":{\"message\":{\"type\":\"string\","
	              "\"description\":\"The text to send back\",\"maxLength\":65536},\"uppercase\":"
	              "{\"type\":\"boolean\",\"description\":\"Upper-case its ASCII letters first\","
	              "\"default\":false}},\"required\":[\"message\"],\"additionalProperties\":false}");
	expect_listed(reg, "slow_progress", NULL,
	              "{\"type\":\"object\",\"properties\":{\"steps\":{\"type\":\"integer\","
	              "\"description\":\"How many steps to work\",\"minimum\":1,\"maximum\":100,"
	              "\"default\":5},\"delay_ms\":{\"type\":\"integer\",\"description\":"
	              "\"Milliseconds per step\",\"minimum\":0,\"maximum\":5000,\"default\":100}},"
	              "\"additionalProperties\":false}");
	expect_listed(reg, "pick_card", NULL, "{\"type\":\"object\",\"additionalProperties\":false}");
	/* The SDK test's CONFIRM_SCHEMA, and the conformance suite's user form, as they were
	 * written by hand before. */
	expect_listed(reg, "confirm", "confirm",
	              "{\"type\":\"object\",\"properties\":{\"ok\":{\"type\":\"boolean\",\"title\":"
	              "\"OK?\",\"description\":\"Confirm\"}},\"required\":[\"ok\"]}");
	expect_listed(reg, "test_elicitation", "user",
	              "{\"type\":\"object\",\"properties\":{\"username\":{\"type\":\"string\","
	              "\"description\":\"User's response\"},\"email\":{\"type\":\"string\","
	              "\"description\":\"User's email address\"}},\"required\":[\"username\","
	              "\"email\"]}");
	expect_listed(reg, "book_flight", "seats",
	              "{\"type\":\"object\",\"properties\":{\"count\":{\"type\":\"integer\",\"title\":"
	              "\"Seats\",\"minimum\":1,\"maximum\":9,\"default\":1},\"class\":{\"type\":"
	              "\"string\",\"title\":\"Class\",\"enum\":[\"economy\",\"business\",\"first\"],"
	              "\"default\":\"economy\"}},\"required\":[\"count\",\"class\"]}");
	dmcp_registry_free(reg);
}

int main(void)
{
	test_generation();
	test_twins();
	test_refusals();
	test_defaults();
	test_getters();
	test_examples();
	return t_done();
}
