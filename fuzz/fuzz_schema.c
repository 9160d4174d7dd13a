/* fuzz_schema.c — libFuzzer target: the JSON Schema validator (core/schema.c) on untrusted
 * instances, and its compiler on untrusted schemas.
 * Knows nothing of MCP. The input, parsed as a request body is (js_parse), is validated
 * against a fixed set of schemas that together use every supported keyword; then compiled as
 * a schema itself. Properties: validation answers valid or a one-line reason, the same way
 * twice, and the same for the value re-read from its own text; the combinators agree with
 * logic for a pair of the fixed schemas (allOf is "and", anyOf "or", oneOf "exactly one",
 * not "not"); a value is valid against {"const": itself} and {"enum": [.., itself]} and not
 * against {"not": {"const": itself}}; [v, v] breaks uniqueItems and [v] does not; a schema
 * that compiles validates anything without crashing. */
#include <string.h>
#include "fuzz.h"
#include "js.h"
#include "schema.h"

/* Bytes of the one-line messages, as the runtime keeps them. */
#define ERR_LEN 256

static const char *const texts[] = {
	/* a tool's arguments (README's example) */
	"{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"},\"metric\":"
	"{\"type\":\"boolean\"}},\"required\":[\"city\",\"metric\"],\"additionalProperties\":false}",
	/* recursive $defs/$ref: a tree of nodes */
	"{\"$defs\":{\"node\":{\"type\":\"object\",\"required\":[\"value\"],\"properties\":"
	"{\"value\":{\"type\":\"integer\"},\"children\":{\"type\":\"array\",\"items\":"
	"{\"$ref\":\"#/$defs/node\"}}},\"additionalProperties\":false}},\"$ref\":\"#/$defs/node\"}",
	/* numbers */
	"{\"type\":\"object\",\"properties\":{\"i\":{\"type\":\"integer\",\"minimum\":-5,"
	"\"exclusiveMaximum\":1e6,\"multipleOf\":3},\"n\":{\"type\":\"number\",\"exclusiveMinimum\":0,"
	"\"maximum\":1.5,\"multipleOf\":0.25},\"big\":{\"maximum\":9007199254740992,"
	"\"minimum\":-9223372036854775808}}}",
	/* strings */
	"{\"type\":[\"string\",\"null\"],\"minLength\":2,\"maxLength\":5,"
	"\"pattern\":\"^[a-z\\u00e9]+\\\\d?$\"}",
	/* arrays */
	"{\"type\":\"array\",\"prefixItems\":[{\"type\":\"string\"},{\"type\":\"integer\"}],"
	"\"items\":{\"type\":\"boolean\"},\"minItems\":1,\"maxItems\":6,\"uniqueItems\":true}",
	/* combinators */
	"{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"integer\"}],\"not\":{\"const\":0}}",
	"{\"oneOf\":[{\"required\":[\"id\"],\"properties\":{\"id\":{\"type\":\"integer\"}}},"
	"{\"required\":[\"name\"],\"properties\":{\"name\":{\"type\":\"string\"}}}]}",
	"{\"allOf\":[{\"minProperties\":1},{\"maxProperties\":3}],\"type\":\"object\"}",
	/* enum and const, with numbers equal by value */
	"{\"enum\":[null,true,1,\"a\",[1,2.0],{\"k\":\"v\"}]}",
	"{\"const\":{\"kind\":\"point\",\"at\":[1,2.0]}}",
	/* names: patternProperties, additionalProperties */
	"{\"properties\":{\"id\":{\"type\":\"integer\"}},\"patternProperties\":{\"^x-\":"
	"{\"type\":\"string\"},\"\\\\d$\":{\"type\":\"number\"}},\"additionalProperties\":false}",
	/* booleans */
	"true",
	"false",
	/* anyOf through a recursive $ref: integers or arrays of them, any depth */
	"{\"$defs\":{\"t\":{\"anyOf\":[{\"type\":\"integer\"},{\"type\":\"array\",\"items\":"
	"{\"$ref\":\"#/$defs/t\"}}]}},\"$ref\":\"#/$defs/t\"}",
	/* draft-07 tuple items, checked with 2020-12 semantics */
	"{\"$schema\":\"http://json-schema.org/draft-07/schema#\",\"items\":[{\"type\":\"string\"}],"
	"\"additionalItems\":{\"type\":\"integer\"}}",
	/* an elicitation form (the demo's flight booking) */
	"{\"type\":\"object\",\"properties\":{\"count\":{\"type\":\"integer\",\"minimum\":1,"
	"\"maximum\":9,\"default\":1},\"class\":{\"type\":\"string\",\"enum\":[\"economy\","
	"\"business\",\"first\"]}},\"required\":[\"count\",\"class\"]}",
};

#define NSCHEMAS (sizeof texts / sizeof texts[0])

static json_object *trees[NSCHEMAS];     /* the fixed schemas' trees */
static struct schema *schemas[NSCHEMAS]; /* compiled */
static size_t plain[NSCHEMAS];           /* those without a "$ref" (whose pointers would not
                                            resolve inside a combination) */
static size_t nplain;                    /* how many */

static void setup(void)
{
	char err[ERR_LEN];
	size_t i;

	for (i = 0; i < NSCHEMAS; i++) {
		trees[i] = js_parse_trusted(texts[i]);
		FUZZ_CHECK(trees[i] != NULL || strcmp(texts[i], "null") == 0, "schema %zu text", i);
		FUZZ_CHECK(schema_new(trees[i], &schemas[i], err, sizeof err) == DMCP_OK,
		           "schema %zu: %s", i, err);
		if (strstr(texts[i], "$ref") == NULL)
			plain[nplain++] = i;
	}
}

/* 1 when x is valid against s, 0 when not; checks the answer's form and that it repeats. */
static int valid(const struct schema *s, json_object *x)
{
	char err[ERR_LEN], again[ERR_LEN];
	dmcp_rc rc, rc2;

	err[0] = '\0';
	rc = schema_validate(s, x, err, sizeof err);
	FUZZ_CHECK(rc == DMCP_OK || rc == DMCP_E_VALIDATION, "schema_validate gave %s",
	           dmcp_rc_name(rc));
	FUZZ_CHECK(rc == DMCP_OK || (err[0] != '\0' && strlen(err) < sizeof err), "no reason");
	rc2 = schema_validate(s, x, again, sizeof again);
	FUZZ_CHECK(rc2 == rc && (rc == DMCP_OK || strcmp(err, again) == 0),
	           "a second validation differs: %s / %s", err, again);
	return rc == DMCP_OK;
}

/* A schema {"<kw>": [a, b]} (or {"<kw>": a} when b is NULL) over borrowed trees. Owned. */
static struct schema *combined(const char *kw, json_object *a, json_object *b)
{
	json_object *root = json_object_new_object(), *v;
	struct schema *s = NULL;
	char err[ERR_LEN];

	if (b != NULL) {
		v = json_object_new_array();
		json_object_array_add(v, json_object_get(a));
		json_object_array_add(v, json_object_get(b));
	} else {
		v = json_object_get(a);
	}
	json_object_object_add(root, kw, v);
	FUZZ_CHECK(schema_new(root, &s, err, sizeof err) == DMCP_OK, "%s: %s", kw, err);
	json_object_put(root);
	return s;
}

/* Logic: the combinators over the fixed schemas a and b, for the instance x. */
static void check_logic(size_t a, size_t b, json_object *x)
{
	int va = valid(schemas[a], x), vb = valid(schemas[b], x);
	struct schema *s;

	s = combined("allOf", trees[a], trees[b]);
	FUZZ_CHECK(valid(s, x) == (va && vb), "allOf of %zu and %zu", a, b);
	schema_free(s);
	s = combined("anyOf", trees[a], trees[b]);
	FUZZ_CHECK(valid(s, x) == (va || vb), "anyOf of %zu and %zu", a, b);
	schema_free(s);
	s = combined("oneOf", trees[a], trees[b]);
	FUZZ_CHECK(valid(s, x) == (va != vb), "oneOf of %zu and %zu", a, b);
	schema_free(s);
	s = combined("not", trees[a], NULL);
	FUZZ_CHECK(valid(s, x) == !va, "not of %zu", a);
	schema_free(s);
}

/* Equality: x equals itself (const, enum), and twice x is not unique. */
static void check_self(json_object *x)
{
	json_object *root, *list;
	struct schema *s;

	root = json_object_new_object();
	json_object_object_add(root, "const", json_object_get(x));
	s = combined("not", root, NULL);
	FUZZ_CHECK(!valid(s, x), "x is valid against not const x");
	schema_free(s);
	s = combined("allOf", root, root);
	FUZZ_CHECK(valid(s, x), "x is not valid against const x");
	schema_free(s);
	json_object_put(root);

	list = json_object_new_array();
	json_object_array_add(list, json_object_new_int(1));
	json_object_array_add(list, json_object_get(x));
	root = json_object_new_object();
	json_object_object_add(root, "enum", list);
	s = combined("allOf", root, root);
	FUZZ_CHECK(valid(s, x), "x is not valid against enum [1, x]");
	schema_free(s);
	json_object_put(root);

	root = json_object_new_object();
	json_object_object_add(root, "uniqueItems", json_object_new_boolean(1));
	s = combined("allOf", root, root);
	list = json_object_new_array();
	json_object_array_add(list, json_object_get(x));
	FUZZ_CHECK(valid(s, list), "[x] is not unique");
	json_object_array_add(list, json_object_get(x));
	FUZZ_CHECK(!valid(s, list), "[x, x] is unique");
	json_object_put(list);
	schema_free(s);
	json_object_put(root);
}

/* x as a schema: compiling either fails with a reason or gives a schema that validates. */
static void check_as_schema(json_object *x)
{
	static json_object *fixed[5];
	struct schema *s = NULL;
	char err[ERR_LEN];
	dmcp_rc rc;
	size_t i;

	if (fixed[0] == NULL) {
		fixed[0] = json_object_new_int(0);
		fixed[1] = json_object_new_string("");
		fixed[2] = json_object_new_array();
		fixed[3] = json_object_new_object();
		fixed[4] = json_object_new_double(0.5);
	}
	err[0] = '\0';
	rc = schema_new(x, &s, err, sizeof err);
	if (rc != DMCP_OK) {
		FUZZ_CHECK(rc == DMCP_E_SCHEMA && err[0] != '\0', "schema_new gave %s",
		           dmcp_rc_name(rc));
		return;
	}
	(void)valid(s, x);
	(void)valid(s, NULL);
	for (i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		(void)valid(s, fixed[i]);
	schema_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_object *x = NULL, *y = NULL;
	char err[ERR_LEN];
	const char *text;
	size_t i;

	if (schemas[0] == NULL)
		setup();
	if (js_parse((const char *)data, size, JS_MAX_DEPTH, &x, err, sizeof err) != DMCP_OK)
		return 0;
	text = js_text(x);
	FUZZ_CHECK(js_parse(text, strlen(text), JS_MAX_DEPTH, &y, err, sizeof err) == DMCP_OK,
	           "own text refused");
	for (i = 0; i < NSCHEMAS; i++)
		FUZZ_CHECK(valid(schemas[i], x) == valid(schemas[i], y), "schema %zu: the re-read "
		           "value is judged otherwise", i);
	check_logic(plain[size % nplain], plain[(size / nplain + (size > 0 ? data[0] : 0)) % nplain],
	            x);
	check_self(x);
	check_as_schema(x);
	json_object_put(x);
	json_object_put(y);
	return 0;
}
