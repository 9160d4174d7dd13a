/* test_schema.c — TAP tests of core/schema.c: the official JSON-Schema-Test-Suite (the draft 7
 * files whose meaning 2020-12 kept), our own 2020-12 cases in tests/schema/2020-12, and the
 * shape of error messages. Knows nothing of HTTP, FastCGI or PostgreSQL. */
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "schema.h"
#include "utf8.h"
#include "t.h"

/* Where Debian's json-schema-test-suite package puts the draft 7 files. */
#define JSTS_DEFAULT_DIR "/usr/share/json-schema-test-suite/tests/draft7"
/* Our own cases, relative to the top of the tree (where `make test` runs). */
#define CASES_DEFAULT_DIR "tests/schema/2020-12"
/* Case files read from one directory: a handful today, room to grow. */
#define MAX_CASE_FILES 64
/* Longest path built here. */
#define PATH_LEN 1024
/* Message buffers: one line of a few hundred bytes is what callers keep. */
#define ERR_LEN 512

/* The draft 7 files run: their keywords mean the same in 2020-12. items, ref, definitions
 * and refRemote changed meaning or need remote refs; our own cases cover them. */
static const char *const jsts_files[] = {
	"type", "properties", "required", "additionalProperties", "enum", "const",
	"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength",
	"minItems", "maxItems", "uniqueItems", "minProperties", "maxProperties", "allOf",
	"anyOf", "oneOf", "not", "boolean_schema",
	/* also implemented, and unchanged in 2020-12 */
	"pattern", "patternProperties", "multipleOf",
};

/* Cases that cannot pass for a principled reason (a remote $ref, a keyword not
 * implemented), printed as "# SKIP". Never add one to hide a bug. None are needed today. */
static const struct skip {
	const char *file;  /* case file name without .json */
	const char *group; /* group description */
	const char *test;  /* test description, or NULL for the whole group */
	const char *why;   /* the reason */
} skips[] = {
	{NULL, NULL, NULL, NULL},
};

static int skipped; /* cases printed as SKIP */

static const char *skip_reason(const char *file, const char *group, const char *test)
{
	const struct skip *s;

	for (s = skips; s->file != NULL; s++)
		if (strcmp(s->file, file) == 0 && strcmp(s->group, group) == 0 &&
		    (s->test == NULL || strcmp(s->test, test) == 0))
			return s->why;
	return NULL;
}

static const char *str_member(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static int bool_member(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_get_boolean(v);
}

/* A failure message must name a location ("/..."), be one line, and hold want if set. */
static int message_ok(const char *err, const char *want)
{
	if (err[0] != '/' || strchr(err, '\n') != NULL || strchr(err, ':') == NULL)
		return 0;
	return want == NULL || strstr(err, want) != NULL;
}

static void run_test(const char *file, const char *group, const struct schema *s,
                     json_object *test)
{
	const char *desc = str_member(test, "description");
	const char *want = str_member(test, "error_contains");
	const char *why;
	json_object *data = NULL;
	char err[ERR_LEN];
	dmcp_rc rc;
	int valid, ok;

	desc = desc != NULL ? desc : "(no description)";
	why = skip_reason(file, group, desc);
	if (why != NULL) {
		skipped++;
		T_OK(1, "%s: %s: %s # SKIP %s", file, group, desc, why);
		return;
	}
	json_object_object_get_ex(test, "data", &data);
	valid = bool_member(test, "valid");
	rc = schema_validate(s, data, err, sizeof err);
	if (valid)
		ok = rc == DMCP_OK;
	else
		ok = rc == DMCP_E_VALIDATION && message_ok(err, want);
	if (!T_OK(ok, "%s: %s: %s", file, group, desc))
		printf("#   want %s, got %s: %s\n", valid ? "valid" : "invalid", dmcp_rc_name(rc),
		       rc == DMCP_OK ? "" : err);
}

static void run_group(const char *file, json_object *group)
{
	const char *desc = str_member(group, "description");
	const char *want = str_member(group, "error_contains");
	json_object *schema = NULL, *tests = NULL;
	struct schema *s = NULL;
	char err[ERR_LEN];
	dmcp_rc rc;
	size_t i, n;

	desc = desc != NULL ? desc : "(no description)";
	json_object_object_get_ex(group, "schema", &schema);
	rc = schema_new(schema, &s, err, sizeof err);
	if (bool_member(group, "schema_error")) {
		if (!T_OK(rc == DMCP_E_SCHEMA && s == NULL && strchr(err, '\n') == NULL &&
		          (want == NULL || strstr(err, want) != NULL),
		          "%s: %s: rejected by schema_new", file, desc))
			printf("#   got %s: %s\n", dmcp_rc_name(rc), err);
		schema_free(s);
		return;
	}
	json_object_object_get_ex(group, "tests", &tests);
	n = json_object_is_type(tests, json_type_array) ? json_object_array_length(tests) : 0;
	if (n == 0)
		T_OK(0, "%s: %s: group has no tests", file, desc);
	for (i = 0; i < n; i++) {
		if (rc == DMCP_OK) {
			run_test(file, desc, s, json_object_array_get_idx(tests, i));
			continue;
		}
		T_OK(0, "%s: %s: %s (schema_new: %s: %s)", file, desc,
		     str_member(json_object_array_get_idx(tests, i), "description"),
		     dmcp_rc_name(rc), err);
	}
	schema_free(s);
}

/* Runs dir/name.json (name without .json in the TAP lines). */
static void run_file(const char *dir, const char *name)
{
	char path[PATH_LEN];
	json_object *groups;
	size_t i, n;

	snprintf(path, sizeof path, "%s/%s.json", dir, name);
	groups = json_object_from_file(path);
	if (!json_object_is_type(groups, json_type_array)) {
		T_OK(0, "%s: cannot read an array of test groups from %s", name, path);
		json_object_put(groups);
		return;
	}
	n = json_object_array_length(groups);
	for (i = 0; i < n; i++)
		run_group(name, json_object_array_get_idx(groups, i));
	json_object_put(groups);
}

static void run_jsts(void)
{
	const char *dir = getenv("DMCP_JSTS_DIR");
	DIR *d;
	size_t i;

	dir = dir != NULL && dir[0] != '\0' ? dir : JSTS_DEFAULT_DIR;
	d = opendir(dir);
	if (d == NULL) {
		T_OK(0, "JSON-Schema-Test-Suite draft 7 directory %s is missing: install the "
		     "json-schema-test-suite package (apt-get install json-schema-test-suite) or "
		     "set DMCP_JSTS_DIR", dir);
		return;
	}
	closedir(d);
	for (i = 0; i < sizeof jsts_files / sizeof jsts_files[0]; i++)
		run_file(dir, jsts_files[i]);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_cases(void)
{
	const char *dir = getenv("DMCP_SCHEMA_CASES_DIR");
	char *names[MAX_CASE_FILES];
	struct dirent *e;
	size_t n = 0, i, len;
	DIR *d;

	dir = dir != NULL && dir[0] != '\0' ? dir : CASES_DEFAULT_DIR;
	d = opendir(dir);
	if (!T_OK(d != NULL, "case directory %s exists (run from the top of the tree or set "
	          "DMCP_SCHEMA_CASES_DIR)", dir))
		return;
	for (e = readdir(d); e != NULL && n < MAX_CASE_FILES; e = readdir(d)) {
		len = strlen(e->d_name);
		if (len <= 5 || strcmp(e->d_name + len - 5, ".json") != 0)
			continue;
		names[n] = strndup(e->d_name, len - 5);
		if (names[n] != NULL)
			n++;
	}
	closedir(d);
	T_OK(n >= 5, "case directory %s holds the case files (%zu found)", dir, n);
	qsort(names, n, sizeof names[0], cmp_names);
	for (i = 0; i < n; i++) {
		run_file(dir, names[i]);
		free(names[i]);
	}
}

/* ---- Messages and API edges ------------------------------------------------------------- */

/* Validates the JSON text data against the schema text; returns the code, message in err. */
static dmcp_rc check_text(const char *schema, const char *data, char *err, size_t errlen)
{
	struct schema *s = NULL;
	json_object *inst;
	dmcp_rc rc;

	rc = schema_new_text(schema, &s, err, errlen);
	if (rc != DMCP_OK)
		return rc;
	inst = json_tokener_parse(data);
	rc = schema_validate(s, inst, err, errlen);
	json_object_put(inst);
	schema_free(s);
	return rc;
}

static void test_messages(void)
{
	static const char *const addr =
		"{\"type\":\"object\",\"properties\":{\"address\":{\"type\":\"object\","
		"\"properties\":{\"city\":{\"type\":\"string\"}}}}}";
	char err[ERR_LEN];
	const char *e = err; /* T_EQ_STR wants a pointer, not an array */
	dmcp_rc rc;

	rc = check_text(addr, "{\"address\":{\"city\":5}}", err, sizeof err);
	T_EQ_INT(rc, DMCP_E_VALIDATION, "nested type error is DMCP_E_VALIDATION");
	T_EQ_STR(e, "/address/city: expected string, got integer", "nested type error message");
	rc = check_text("{\"required\":[\"name\"]}", "{}", err, sizeof err);
	T_EQ_STR(e, "/: missing required property \"name\"", "required message");
	rc = check_text("{\"properties\":{\"color\":{\"enum\":[\"red\",\"green\"]}}}",
	                "{\"color\":\"blue\"}", err, sizeof err);
	T_EQ_STR(e, "/color: value is not one of the enum values", "enum message");
	rc = check_text("{\"properties\":{\"a/b~c\":{\"type\":\"string\"}}}", "{\"a/b~c\":1}", err,
	                sizeof err);
	T_EQ_STR(e, "/a~1b~0c: expected string, got integer", "pointer escapes ~0 ~1");
	rc = check_text("{\"items\":{\"type\":\"integer\"}}", "[1,2,\"x\"]", err, sizeof err);
	T_EQ_STR(e, "/2: expected integer, got string", "array index in pointer");
	rc = check_text("{\"additionalProperties\":false}", "{\"line1\\nline2\":1}", err,
	                sizeof err);
	T_OK(rc == DMCP_E_VALIDATION && strchr(err, '\n') == NULL && strchr(err, '\r') == NULL,
	     "a name with a newline still gives one line: %s", err);
	rc = check_text("{\"properties\":{\"n\":{\"type\":\"integer\",\"minimum\":5}}}",
	                "{\"n\":3}", err, sizeof err);
	T_EQ_STR(e, "/n: 3 is less than the minimum 5", "minimum message");
	rc = check_text("{\"type\":[\"string\",\"null\"]}", "1.5", err, sizeof err);
	T_EQ_STR(e, "/: expected null or string, got number", "type union message");
	rc = check_text("{\"minimum\":\"3\"}", "1", err, sizeof err);
	T_EQ_INT(rc, DMCP_E_SCHEMA, "bad keyword type is DMCP_E_SCHEMA");
	T_EQ_STR(e, "\"minimum\" must be a number", "bad keyword message");
	rc = check_text("{\"properties\":{\"a\":{\"maxLength\":-1}}}", "1", err, sizeof err);
	T_EQ_STR(e, "#/properties/a: \"maxLength\" must be a non-negative integer",
	         "bad nested keyword names its schema location");
	rc = check_text("{\"$schema\":\"http://json-schema.org/draft-04/schema#\"}", "1", err,
	                sizeof err);
	T_EQ_STR(e, "unsupported JSON Schema dialect: http://json-schema.org/draft-04/schema#",
	         "dialect message");
}

/* 1 when err is NUL-terminated within errlen and nothing after it was touched. */
static int fits(const char *buf, size_t errlen, size_t size)
{
	size_t i;

	if (memchr(buf, '\0', errlen) == NULL)
		return 0;
	for (i = errlen; i < size; i++)
		if (buf[i] != 'X')
			return 0;
	return 1;
}

static int utf8_valid(const char *s)
{
	size_t i = 0, n = strlen(s), len;
	uint32_t cp;

	for (; i < n; i += len) {
		len = utf8_decode(s + i, n - i, &cp);
		if (len == 0)
			return 0;
	}
	return 1;
}

static void test_tiny_buffers(void)
{
	char buf[32];
	size_t sizes[] = {8, 1, 2, 5};
	dmcp_rc rc;
	size_t i;

	for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		memset(buf, 'X', sizeof buf);
		rc = check_text("{\"required\":[\"name\"]}", "{}", buf, sizes[i]);
		T_OK(rc == DMCP_E_VALIDATION && fits(buf, sizes[i], sizeof buf) &&
		     strlen(buf) == sizes[i] - 1,
		     "validation message truncated to errlen %zu: '%s'", sizes[i], buf);
		memset(buf, 'X', sizeof buf);
		rc = check_text("{\"$schema\":\"https://example.com/custom\"}", "1", buf, sizes[i]);
		T_OK(rc == DMCP_E_SCHEMA && fits(buf, sizes[i], sizeof buf),
		     "schema message truncated to errlen %zu: '%s'", sizes[i], buf);
		memset(buf, 'X', sizeof buf);
		rc = check_text("{", "1", buf, sizes[i]);
		T_OK(rc == DMCP_E_SCHEMA && fits(buf, sizes[i], sizeof buf),
		     "parse message truncated to errlen %zu: '%s'", sizes[i], buf);
	}
	rc = check_text("{\"required\":[\"name\"]}", "{}", NULL, 0);
	T_EQ_INT(rc, DMCP_E_VALIDATION, "err NULL, errlen 0 is fine");
	/* "/: missing required property \"" is 30 bytes; errlen 32 cuts the é after it in two. */
	memset(buf, 'X', sizeof buf);
	rc = check_text("{\"required\":[\"\xc3\xa9t\xc3\xa9\"]}", "{}", buf, 32);
	T_OK(rc == DMCP_E_VALIDATION && utf8_valid(buf) && strlen(buf) == 30,
	     "truncation does not split a UTF-8 character: '%s'", buf);
}

static void test_api_edges(void)
{
	struct schema *s = NULL;
	json_object *root, *inst;
	char err[ERR_LEN];
	dmcp_rc rc;

	root = json_tokener_parse("{\"type\":\"object\",\"required\":[\"a\"]}");
	rc = schema_new(root, &s, err, sizeof err);
	json_object_put(root); /* the schema keeps its own reference */
	T_EQ_INT(rc, DMCP_OK, "schema_new from a tree");
	inst = json_tokener_parse("{\"a\":null}");
	rc = schema_validate(s, inst, err, sizeof err);
	T_EQ_INT(rc, DMCP_OK, "validates after the caller dropped its reference");
	json_object_put(inst);
	rc = schema_validate(s, NULL, err, sizeof err);
	T_OK(rc == DMCP_E_VALIDATION && strcmp(err, "/: expected object, got null") == 0,
	     "NULL instance is JSON null: %s", err);
	schema_free(s);
	schema_free(NULL);

	rc = schema_new(NULL, &s, err, sizeof err);
	T_OK(rc == DMCP_E_SCHEMA && s == NULL, "null root is refused: %s", err);
	rc = schema_new_text("true", &s, err, sizeof err);
	T_OK(rc == DMCP_OK && schema_validate(s, NULL, err, sizeof err) == DMCP_OK,
	     "true schema accepts null");
	schema_free(s);
	rc = schema_new_text("{\"type\":\"object\"} x", &s, err, sizeof err);
	T_OK(rc == DMCP_E_SCHEMA && s == NULL && strstr(err, "not valid JSON") != NULL,
	     "trailing garbage is refused: %s", err);
	rc = schema_new_text("{\"a\":1,}", &s, err, sizeof err);
	T_OK(rc == DMCP_E_SCHEMA, "strict parsing refuses a trailing comma: %s", err);
	rc = schema_new_text("\"\xff\"", &s, err, sizeof err);
	T_OK(rc == DMCP_E_SCHEMA, "invalid UTF-8 is refused: %s", err);
	rc = schema_new_text("", &s, err, sizeof err);
	T_OK(rc == DMCP_E_SCHEMA, "empty text is refused: %s", err);
	rc = schema_new_text(NULL, &s, err, sizeof err);
	T_OK(rc == DMCP_E_SCHEMA, "NULL text is refused: %s", err);
}

/* An array nested depth levels deep. */
static json_object *nested_array(int depth)
{
	json_object *v = json_object_new_array(), *outer;
	int i;

	for (i = 1; i < depth; i++) {
		outer = json_object_new_array();
		json_object_array_add(outer, v);
		v = outer;
	}
	return v;
}

static void test_limits(void)
{
	/* eight branches per level, each recursing before it fails: 8^12 paths */
	static const char *const explode =
		"{\"$defs\":{\"t\":{\"anyOf\":[{\"$ref\":\"#/$defs/b\"},{\"$ref\":\"#/$defs/b\"},"
		"{\"$ref\":\"#/$defs/b\"},{\"$ref\":\"#/$defs/b\"},{\"$ref\":\"#/$defs/b\"},"
		"{\"$ref\":\"#/$defs/b\"},{\"$ref\":\"#/$defs/b\"},{\"$ref\":\"#/$defs/b\"}]},"
		"\"b\":{\"allOf\":[{\"items\":{\"$ref\":\"#/$defs/t\"}},{\"minItems\":99}]}},"
		"\"$ref\":\"#/$defs/t\"}";
	static const char *const tree =
		"{\"$defs\":{\"n\":{\"type\":\"array\",\"items\":{\"$ref\":\"#/$defs/n\"}}},"
		"\"$ref\":\"#/$defs/n\"}";
	struct schema *s = NULL;
	json_object *inst;
	char err[ERR_LEN];
	dmcp_rc rc;

	rc = check_text("{\"$ref\":\"#\"}", "1", err, sizeof err);
	T_OK(rc == DMCP_E_VALIDATION && strstr(err, "too deep") != NULL,
	     "a schema that refers to itself stops: %s", err);
	rc = check_text("{\"not\":{\"$ref\":\"#\"}}", "1", err, sizeof err);
	T_OK(rc == DMCP_E_VALIDATION && strstr(err, "too deep") != NULL,
	     "\"not\" does not turn too deep into valid: %s", err);
	rc = check_text("{\"anyOf\":[{\"$ref\":\"#\"},true]}", "1", err, sizeof err);
	T_OK(rc == DMCP_E_VALIDATION && strstr(err, "too deep") != NULL,
	     "\"anyOf\" does not hide too deep: %s", err);

	rc = schema_new_text(explode, &s, err, sizeof err);
	T_EQ_INT(rc, DMCP_OK, "exponential schema compiles");
	inst = nested_array(12);
	rc = schema_validate(s, inst, err, sizeof err);
	T_OK(rc == DMCP_E_VALIDATION && strstr(err, "too complex") != NULL,
	     "exponential evaluation stops: %s", err);
	json_object_put(inst);
	schema_free(s);

	rc = schema_new_text(tree, &s, err, sizeof err);
	T_EQ_INT(rc, DMCP_OK, "recursive array schema compiles");
	inst = nested_array(20);
	T_EQ_INT(schema_validate(s, inst, err, sizeof err), DMCP_OK, "20 levels validate");
	json_object_put(inst);
	inst = nested_array(100);
	rc = schema_validate(s, inst, err, sizeof err);
	T_OK(rc == DMCP_E_VALIDATION && strstr(err, "too deep") != NULL,
	     "100 levels are too deep: %s", err);
	json_object_put(inst);
	inst = nested_array(1000);
	rc = schema_validate(s, inst, err, sizeof err);
	T_OK(rc == DMCP_E_VALIDATION && strstr(err, "too deep") != NULL,
	     "1000 levels are refused before any recursion: %s", err);
	json_object_put(inst);
	schema_free(s);
}

/* {"not":{"not":...{}}}: depth objects, depth - 1 nots. */
static json_object *nested_not(int depth)
{
	json_object *v = json_object_new_object(), *outer;
	int i;

	for (i = 1; i < depth; i++) {
		outer = json_object_new_object();
		json_object_object_add(outer, "not", v);
		v = outer;
	}
	return v;
}

static void test_insane_values(void)
{
	struct schema *s = NULL;
	json_object *root, *inst;
	char err[ERR_LEN];
	dmcp_rc rc;

	rc = schema_new_text("{\"type\":\"number\"}", &s, err, sizeof err);
	inst = json_object_new_double(NAN);
	rc = schema_validate(s, inst, err, sizeof err);
	T_OK(rc == DMCP_E_VALIDATION && strstr(err, "not finite") != NULL,
	     "NaN is not a JSON number: %s", err);
	json_object_put(inst);
	inst = json_tokener_parse("[1, -Infinity]");
	rc = schema_validate(s, inst, err, sizeof err);
	T_OK(inst != NULL && rc == DMCP_E_VALIDATION && strstr(err, "not finite") != NULL,
	     "-Infinity inside an array is refused: %s", err);
	json_object_put(inst);
	schema_free(s);

	root = json_object_new_object();
	json_object_object_add(root, "minimum", json_object_new_double(NAN));
	rc = schema_new(root, &s, err, sizeof err);
	T_OK(rc == DMCP_E_SCHEMA && s == NULL && strstr(err, "not finite") != NULL,
	     "a NaN limit is refused: %s", err);
	json_object_put(root);

	root = nested_not(41);
	rc = schema_new(root, &s, err, sizeof err);
	T_EQ_INT(rc, DMCP_OK, "a schema of 40 nested nots compiles");
	rc = schema_validate(s, NULL, err, sizeof err);
	T_OK(rc == DMCP_OK, "an even number of nots accepts: %s", err);
	schema_free(s);
	json_object_put(root);
	root = nested_not(40);
	rc = schema_new(root, &s, err, sizeof err);
	if (rc == DMCP_OK)
		rc = schema_validate(s, NULL, err, sizeof err);
	T_OK(rc == DMCP_E_VALIDATION && strstr(err, "\"not\"") != NULL,
	     "an odd number of nots refuses: %s", err);
	schema_free(s);
	json_object_put(root);
	root = nested_not(200);
	rc = schema_new(root, &s, err, sizeof err);
	T_OK(rc == DMCP_E_SCHEMA && s == NULL && strstr(err, "too deep") != NULL,
	     "a schema 200 JSON levels deep is refused: %s", err);
	json_object_put(root);
}

/* uniqueItems on a large array stays fast (sorted by hash, not compared pairwise). */
static void test_unique_large(void)
{
	struct schema *s = NULL;
	json_object *arr;
	char err[ERR_LEN];
	dmcp_rc rc;
	int i;

	rc = schema_new_text("{\"uniqueItems\":true}", &s, err, sizeof err);
	arr = json_object_new_array();
	for (i = 0; i < 200000; i++)
		json_object_array_add(arr, json_object_new_int(i));
	T_EQ_INT(schema_validate(s, arr, err, sizeof err), DMCP_OK, "200000 distinct items");
	json_object_array_add(arr, json_object_new_double(777.0));
	rc = schema_validate(s, arr, err, sizeof err);
	T_OK(rc == DMCP_E_VALIDATION && strstr(err, "777 and 200000") != NULL,
	     "a duplicate at the end is found: %s", err);
	json_object_put(arr);
	schema_free(s);
}

int main(void)
{
	run_jsts();
	run_cases();
	test_messages();
	test_tiny_buffers();
	test_api_edges();
	test_limits();
	test_insane_values();
	test_unique_large();
	printf("# %d cases skipped\n", skipped);
	return t_done();
}
