/* test_js.c — TAP tests of core/js.c: js_parse's strictness (RFC 8259 grammar, UTF-8, U+0000,
 * depth, trailing bytes, non-finite numbers), the typed getters, js_int53, and js_equal with
 * js_hash (the one JSON equality: schema.c's const, enum and uniqueItems use it).
 * Knows nothing of JSON-RPC or MCP. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "js.h"
#include "log.h"
#include "t.h"

/* One-line error messages: what callers keep. */
#define ERR_LEN 256
/* Bytes of the nesting texts built for the depth checks, and the deepest one built. */
#define NEST_MAX 4096
#define NEST_FAR 600

/* Bytes of the bodies of the memory checks: DMCP_MAX_BODY's default, the largest body the
 * program reads unless configured otherwise. */
#define AMP_BODY (1u << 20)
/* Peak resident growth allowed while a refused body is parsed: the pre-scan allocates
 * nothing, so only noise (a page or two of stack and stdio) is expected. */
#define AMP_REFUSED_KB 1024
/* Bytes of heap per byte of body a maximal accepted 1 MiB body may cost while it is parsed
 * and held (README, Limits: measured 8.5 at worst). AddressSanitizer's allocator adds a
 * header and redzones to every block, which the small blocks of a JSON tree feel most
 * (measured 13.8 at worst). */
#ifdef __SANITIZE_ADDRESS__
#define AMP_FACTOR 20
#else
#define AMP_FACTOR 10
#endif

/* Bytes of a test text shown in a check's name. */
#define SHOW_LEN 96

/* s made printable for a TAP line (as the server's log shows client bytes). Static. */
static const char *show(const char *s, size_t len)
{
	static char out[SHOW_LEN];

	return log_escape(out, sizeof out, s, len);
}

/* js_parse over exactly len bytes; frees the value; returns the result code. */
static dmcp_rc parse_len(const char *s, size_t len, char *err)
{
	json_object *o = (json_object *)1;
	dmcp_rc rc;

	err[0] = '\0';
	rc = js_parse(s, len, JS_MAX_DEPTH, &o, err, ERR_LEN);
	if (rc != DMCP_OK && o != NULL)
		return DMCP_RC_COUNT; /* *out must be NULL on failure */
	if (rc == DMCP_OK && o == NULL && strstr(s, "null") == NULL)
		return DMCP_RC_COUNT; /* success gives a value (only "null" is NULL) */
	json_object_put(o);
	return rc;
}

static dmcp_rc parse(const char *s, char *err)
{
	return parse_len(s, strlen(s), err);
}

/* Check the result of parsing s, and that a failure says why in err. */
static void expect(const char *s, dmcp_rc want, const char *name)
{
	char err[ERR_LEN];
	dmcp_rc rc = parse(s, err);

	T_OK(rc == want && (rc == DMCP_OK || err[0] != '\0'), "%s: %s (got %s, want %s; %s)", name,
	     show(s, strlen(s)), dmcp_rc_name(rc), dmcp_rc_name(want), err);
}

static void expect_len(const char *s, size_t len, dmcp_rc want, const char *name)
{
	char err[ERR_LEN];
	dmcp_rc rc = parse_len(s, len, err);

	T_OK(rc == want && (rc == DMCP_OK || err[0] != '\0'), "%s (got %s, want %s; %s)", name,
	     dmcp_rc_name(rc), dmcp_rc_name(want), err);
}

static void test_valid(void)
{
	json_object *o = NULL;
	char err[ERR_LEN];
	dmcp_rc rc;
	static const char text[] = "{\"a\":1,\"b\":[true,false,null],\"c\":{\"d\":\"x\"}}";

	rc = js_parse(text, strlen(text), JS_MAX_DEPTH, &o, err, sizeof err);
	T_EQ_INT(rc, DMCP_OK, "a nested object parses");
	T_OK(o != NULL && json_object_is_type(o, json_type_object), "it is an object");
	T_EQ_STR(js_text(o), "{\"a\":1,\"b\":[true,false,null],\"c\":{\"d\":\"x\"}}",
	         "js_text gives it back compactly");
	json_object_put(o);

	expect("{}", DMCP_OK, "empty object");
	expect("[]", DMCP_OK, "empty array");
	expect(" \t\r\n{\"a\" : [ 1 , 2 ] }\r\n ", DMCP_OK, "whitespace around tokens");
	expect("\"\"", DMCP_OK, "empty string at the top");
	expect("true", DMCP_OK, "true at the top");
	expect("null", DMCP_OK, "null at the top (JSON, so not a parse error)");
	expect(" null ", DMCP_OK, "null at the top with spaces");
	expect("false", DMCP_OK, "false at the top");
	expect("[null]", DMCP_OK, "null in an array");
	expect("12", DMCP_OK, "a bare number at the top (json-c needs a terminator)");
	expect("0", DMCP_OK, "a bare 0");
	expect("-7", DMCP_OK, "a bare negative number");
	expect("1.25", DMCP_OK, "a bare fraction");
	expect("1e5", DMCP_OK, "a bare exponent");
	expect(" 12 ", DMCP_OK, "a bare number with spaces");
	expect("[-0.0e-0,1E+2,0.5,-1.5e-3]", DMCP_OK, "every part of the number grammar");
	expect("\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"", DMCP_OK,
	       "2-, 3- and 4-byte UTF-8 in a string");
	expect("{\"\xc3\xa9\":\"\xef\xbf\xbf\"}", DMCP_OK, "UTF-8 in a key, U+FFFF");
	expect("\"\xf4\x8f\xbf\xbf\"", DMCP_OK, "U+10FFFF, the last code point");
	expect("\"\\u00e9\\ud83d\\ude00\"", DMCP_OK, "escaped BMP and surrogate pair");
	expect("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", DMCP_OK, "every short escape");
	expect("\"\x7f\"", DMCP_OK, "DEL may appear raw (only U+0000-U+001F must be escaped)");

	o = NULL;
	rc = js_parse("\"\\\\u0000\"", 9, JS_MAX_DEPTH, &o, err, sizeof err);
	T_EQ_INT(rc, DMCP_OK, "an escaped backslash then u0000 is accepted");
	T_OK(o != NULL && strcmp(json_object_get_string(o), "\\u0000") == 0,
	     "it is a backslash and the five characters u0000");
	json_object_put(o);

	o = NULL;
	rc = js_parse("\"\\u0041\\u00e9\"", 14, JS_MAX_DEPTH, &o, err, sizeof err);
	T_OK(rc == DMCP_OK && o != NULL && strcmp(json_object_get_string(o), "A\xc3\xa9") == 0,
	     "escapes decode to UTF-8");
	json_object_put(o);

	/* Exactly len bytes are read: a longer buffer's rest is ignored. */
	o = NULL;
	rc = js_parse("{\"a\":1}garbage", 7, JS_MAX_DEPTH, &o, err, sizeof err);
	T_OK(rc == DMCP_OK && o != NULL, "only len bytes are parsed");
	json_object_put(o);
	o = NULL;
	rc = js_parse("123456", 3, JS_MAX_DEPTH, &o, err, sizeof err);
	T_OK(rc == DMCP_OK && o != NULL && json_object_get_int64(o) == 123,
	     "a bare number cut by len is the number of len bytes");
	json_object_put(o);
}

static void test_refused(void)
{
	/* Not JSON at all. */
	expect("", DMCP_E_PARSE, "empty input");
	expect("   ", DMCP_E_PARSE, "whitespace only");
	expect("\r\n\t", DMCP_E_PARSE, "line breaks only");
	expect("{", DMCP_E_PARSE, "unterminated object");
	expect("[1", DMCP_E_PARSE, "unterminated array");
	expect("[1,", DMCP_E_PARSE, "array ending after a comma");
	expect("{\"a\":", DMCP_E_PARSE, "object ending after a colon");
	expect("\"abc", DMCP_E_PARSE, "unterminated string");
	expect("-", DMCP_E_PARSE, "a lone minus");
	expect("tru", DMCP_E_PARSE, "a cut literal");
	{
		/* The offset of a message cut short is its end, not 0 (json-c counts from the NUL
		 * that ends the text). */
		char err[ERR_LEN];
		dmcp_rc rc = parse("{\"a\":[1,2", err);
		T_OK(rc == DMCP_E_PARSE && strstr(err, "at byte 9:") != NULL,
		     "a message cut short: the error names its end (%s)", err);
	}

	/* Trailing bytes. */
	expect("{\"a\":1} x", DMCP_E_PARSE, "trailing garbage after an object");
	expect("[1,2] x", DMCP_E_PARSE, "trailing garbage after an array");
	expect("{}{}", DMCP_E_PARSE, "two values");
	expect("1 2", DMCP_E_PARSE, "two numbers");
	expect("12x", DMCP_E_PARSE, "a number with letters after it");
	expect("true false", DMCP_E_PARSE, "two literals");
	expect("{}]", DMCP_E_PARSE, "a stray bracket");

	/* Grammar json-c's lenient modes would take. */
	expect("{\"a\":1,}", DMCP_E_PARSE, "trailing comma in an object");
	expect("[1,]", DMCP_E_PARSE, "trailing comma in an array");
	expect("{a:1}", DMCP_E_PARSE, "unquoted key");
	expect("['a']", DMCP_E_PARSE, "single quotes");
	expect("[1/*c*/]", DMCP_E_PARSE, "a comment");
	expect("[1]//c", DMCP_E_PARSE, "a line comment");
	expect("True", DMCP_E_PARSE, "capitalized literal");
	expect("nul", DMCP_E_PARSE, "misspelled null");
	expect("\xef\xbb\xbf{}", DMCP_E_PARSE, "a byte order mark");
	expect("\f{}", DMCP_E_PARSE, "form feed is not JSON whitespace");
	expect("\"\\x41\"", DMCP_E_PARSE, "\\x escape");
	expect("\"\\U0041\"", DMCP_E_PARSE, "\\U escape");
	expect("\"\\u12\"", DMCP_E_PARSE, "short \\u escape");
	expect("\"\\u12zz\"", DMCP_E_PARSE, "non-hex \\u escape");

	/* Numbers outside the RFC 8259 grammar. */
	expect("1.", DMCP_E_PARSE, "fraction without digits");
	expect("[1.]", DMCP_E_PARSE, "fraction without digits, in an array");
	expect("[1.e5]", DMCP_E_PARSE, "fraction without digits before an exponent");
	expect("[.5]", DMCP_E_PARSE, "fraction without an integer part");
	expect("01", DMCP_E_PARSE, "leading zero");
	expect("[-01]", DMCP_E_PARSE, "leading zero after a minus");
	expect("-01", DMCP_E_PARSE, "bare leading zero after a minus");
	expect("[+1]", DMCP_E_PARSE, "leading plus");
	expect("[1e]", DMCP_E_PARSE, "exponent without digits");
	expect("1e+", DMCP_E_PARSE, "signed exponent without digits");
	expect("[0x10]", DMCP_E_PARSE, "hex number");
	expect("[-]", DMCP_E_PARSE, "minus without digits");

	/* Raw control characters in strings. */
	expect("\"a\nb\"", DMCP_E_PARSE, "raw newline in a string");
	expect("\"a\tb\"", DMCP_E_PARSE, "raw tab in a string");
	expect("\"\x1f\"", DMCP_E_PARSE, "raw U+001F in a string");
	expect("{\"a\rb\":1}", DMCP_E_PARSE, "raw CR in a key");
}

static void test_utf8(void)
{
	expect("\"\xc0\xaf\"", DMCP_E_PARSE, "overlong 2-byte form of '/'");
	expect("\"\xc1\xbf\"", DMCP_E_PARSE, "overlong 2-byte form (C1)");
	expect("\"\xe0\x80\xaf\"", DMCP_E_PARSE, "overlong 3-byte form");
	expect("\"\xf0\x80\x80\xaf\"", DMCP_E_PARSE, "overlong 4-byte form");
	expect("\"\x80\"", DMCP_E_PARSE, "lone continuation byte");
	expect("\"a\xbf\"", DMCP_E_PARSE, "continuation byte after ASCII");
	expect("\"\xed\xa0\x80\"", DMCP_E_PARSE, "UTF-16 surrogate D800 encoded in UTF-8");
	expect("\"\xed\xbf\xbf\"", DMCP_E_PARSE, "UTF-16 surrogate DFFF encoded in UTF-8");
	expect("\"\xf4\x90\x80\x80\"", DMCP_E_PARSE, "beyond U+10FFFF");
	expect("\"\xf5\x80\x80\x80\"", DMCP_E_PARSE, "F5 lead byte");
	expect("\"\xff\"", DMCP_E_PARSE, "FF byte");
	expect("\"\xfe\"", DMCP_E_PARSE, "FE byte");
	expect("\"\xe2\x82\"", DMCP_E_PARSE, "3-byte sequence cut short");
	expect("\"\xf0\x9f\x98\"", DMCP_E_PARSE, "4-byte sequence cut short");
	expect("\"\xc3\"", DMCP_E_PARSE, "2-byte sequence cut by the quote");
	expect_len("\"\xc3", 2, DMCP_E_PARSE, "2-byte sequence cut by the end of input");
	expect("\"\xc3\x28\"", DMCP_E_PARSE, "lead byte followed by ASCII");
	expect("{\"\xc0\xaf\":1}", DMCP_E_PARSE, "overlong form in a key");
	expect("[\"ok\",\"\xed\xa0\x80\"]", DMCP_E_PARSE, "surrogate in a later array item");
	expect("\"\xee\x80\x80\"", DMCP_OK, "U+E000, just past the surrogates");
	expect("\"\xed\x9f\xbf\"", DMCP_OK, "U+D7FF, just before the surrogates");
	expect("\"\xe0\xa0\x80\"", DMCP_OK, "U+0800, the shortest 3-byte form");
	expect("\"\xf0\x90\x80\x80\"", DMCP_OK, "U+10000, the shortest 4-byte form");
	expect("\"\xc2\x80\"", DMCP_OK, "U+0080, the shortest 2-byte form");
}

static void test_nul(void)
{
	char err[ERR_LEN];
	dmcp_rc rc;

	expect_len("\"a\0b\"", 5, DMCP_E_PARSE, "raw NUL byte inside a string");
	expect_len("{}\0", 3, DMCP_E_PARSE, "raw NUL byte after the value");
	expect_len("\0", 1, DMCP_E_PARSE, "a single NUL byte");
	expect("\"\\u0000\"", DMCP_E_INVALID_REQUEST, "escaped U+0000 as a value");
	expect("{\"a\":\"x\\u0000y\"}", DMCP_E_INVALID_REQUEST, "escaped U+0000 inside a value");
	expect("{\"\\u0000\":1}", DMCP_E_INVALID_REQUEST, "escaped U+0000 as a key");
	expect("{\"a\\u0000b\":1}", DMCP_E_INVALID_REQUEST, "escaped U+0000 inside a key");
	expect("[[[\"\\u0000\"]]]", DMCP_E_INVALID_REQUEST, "escaped U+0000 deep in arrays");
	expect("\"\\\\\\u0000\"", DMCP_E_INVALID_REQUEST,
	       "escaped backslash then an escaped U+0000");
	expect("\"\\\\u0000\"", DMCP_OK, "escaped backslash then the text u0000");
	expect("\"\\\\\\\\u0000\"", DMCP_OK, "two escaped backslashes then the text u0000");
	expect("\"\\u0001\"", DMCP_OK, "escaped U+0001 is fine");
	expect("\"\\u00000\"", DMCP_E_INVALID_REQUEST, "escaped U+0000 followed by a digit");
	rc = parse("\"\\u0000\"", err);
	T_OK(rc == DMCP_E_INVALID_REQUEST && strstr(err, "U+0000") != NULL,
	     "the message names U+0000 (%s)", err);
}

static void test_nonfinite(void)
{
	char err[ERR_LEN];
	dmcp_rc rc;

	expect("NaN", DMCP_E_INVALID_REQUEST, "NaN literal");
	expect("[NaN]", DMCP_E_INVALID_REQUEST, "NaN in an array");
	expect("Infinity", DMCP_E_INVALID_REQUEST, "Infinity literal");
	expect("{\"a\":-Infinity}", DMCP_E_INVALID_REQUEST, "-Infinity as a value");
	expect("-Infinity", DMCP_E_INVALID_REQUEST, "-Infinity at the top");
	/* 1e400 overflows a double: json-c gives infinity, and the walk refuses it. */
	expect("1e400", DMCP_E_INVALID_REQUEST, "1e400 overflows to infinity and is refused");
	expect("[-1e400]", DMCP_E_INVALID_REQUEST, "-1e400 is refused");
	expect("{\"x\":{\"y\":[1,2,1e999]}}", DMCP_E_INVALID_REQUEST, "a deep 1e999 is refused");
	expect("1e-400", DMCP_OK, "1e-400 underflows to 0, which is finite");
	expect("1.7976931348623157e308", DMCP_OK, "the largest double");
	rc = parse("1e400", err);
	T_OK(rc == DMCP_E_INVALID_REQUEST && strstr(err, "finite") != NULL,
	     "the message says numbers must be finite (%s)", err);
	expect("nan", DMCP_E_PARSE, "lower-case nan is not a literal");
	expect("-NaN", DMCP_E_PARSE, "-NaN is not a literal");
	expect("Infinityx", DMCP_E_PARSE, "Infinity with trailing letters");
}

/* Nesting: depth levels of arrays (or of objects {"k":...}); the innermost holds inner, or
 * is empty ([] or {}) when inner is "". */
static void nest(char *out, int depth, int objects, const char *inner)
{
	size_t n = 0, k = strlen(inner);
	int i;

	if (depth < 1 || (size_t)depth * 6 + k + 8 > NEST_MAX) {
		out[0] = '\0'; /* does not fit: an empty text, which no depth check expects */
		return;
	}
	for (i = 0; i < depth - 1; i++) {
		memcpy(out + n, objects ? "{\"k\":" : "[", objects ? 5 : 1);
		n += objects ? 5 : 1;
	}
	if (k == 0) {
		memcpy(out + n, objects ? "{}" : "[]", 2);
		n += 2;
	} else {
		memcpy(out + n, objects ? "{\"k\":" : "[", objects ? 5 : 1);
		n += objects ? 5 : 1;
		memcpy(out + n, inner, k);
		n += k;
		out[n++] = objects ? '}' : ']';
	}
	for (i = 0; i < depth - 1; i++)
		out[n++] = objects ? '}' : ']';
	out[n] = '\0';
}

static void test_depth(void)
{
	static const char *const inners[] = {"", "1", "\"s\"", "null"};
	char text[NEST_MAX], err[ERR_LEN], limit[32];
	size_t k;
	int objects;
	dmcp_rc rc;

	snprintf(limit, sizeof limit, "%d", JS_MAX_DEPTH);
	for (objects = 0; objects <= 1; objects++) {
		for (k = 0; k < sizeof inners / sizeof inners[0]; k++) {
			nest(text, JS_MAX_DEPTH, objects, inners[k]);
			rc = parse(text, err);
			T_OK(rc == DMCP_OK, "%s nested JS_MAX_DEPTH deep around '%s' accepted (%s)",
			     objects ? "objects" : "arrays", inners[k], dmcp_rc_name(rc));
			nest(text, JS_MAX_DEPTH + 1, objects, inners[k]);
			rc = parse(text, err);
			T_OK(rc == DMCP_E_LIMIT && strstr(err, limit) != NULL,
			     "%s nested JS_MAX_DEPTH+1 deep around '%s' refused with DMCP_E_LIMIT (%s; %s)",
			     objects ? "objects" : "arrays", inners[k], dmcp_rc_name(rc), err);
		}
	}
	nest(text, JS_MAX_DEPTH + 1, 0, "1");
	rc = parse(text, err);
	T_EQ_INT(rc, DMCP_E_LIMIT, "too deep wins over an unterminated value");
	nest(text, NEST_FAR, 0, "");
	rc = parse(text, err);
	T_EQ_INT(rc, DMCP_E_LIMIT, "far too deep");

	/* A custom limit. */
	{
		json_object *o = NULL;
		rc = js_parse("[[1]]", 5, 2, &o, err, sizeof err);
		T_EQ_INT(rc, DMCP_OK, "max_depth 2: [[1]] fits");
		json_object_put(o);
		o = NULL;
		rc = js_parse("[[[]]]", 6, 2, &o, err, sizeof err);
		T_OK(rc == DMCP_E_LIMIT && o == NULL, "max_depth 2: [[[]]] is too deep");
		rc = js_parse("{\"a\":[{}]}", 10, 2, &o, err, sizeof err);
		T_OK(rc == DMCP_E_LIMIT && o == NULL, "max_depth 2: mixed objects and arrays");
		rc = js_parse("7", 1, 0, &o, err, sizeof err);
		T_OK(rc == DMCP_OK && o != NULL, "max_depth 0: a scalar fits");
		json_object_put(o);
		o = NULL;
		rc = js_parse("[]", 2, 0, &o, err, sizeof err);
		T_OK(rc == DMCP_E_LIMIT && o == NULL, "max_depth 0: an array is too deep");
	}
}

/* A ping whose params hold one array of copies of unit, about AMP_BODY bytes in all. Owned
 * by the caller. */
static char *amp_body(const char *unit, size_t *len)
{
	static const char head[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{\"x\":[";
	size_t n = sizeof head - 1, k = strlen(unit);
	char *b = malloc(AMP_BODY + 1);

	if (b == NULL)
		return NULL;
	memcpy(b, head, n);
	while (n + k + 4 <= AMP_BODY) {
		memcpy(b + n, unit, k);
		n += k;
		b[n++] = ',';
	}
	b[n - 1] = ']'; /* the last comma */
	b[n++] = '}';
	b[n++] = '}';
	b[n] = '\0';
	*len = n;
	return b;
}

/* A maximal ping of about AMP_BODY bytes: params holds "a": open, count items made with
 * item_fmt (which may use the item's index as %d), close; then "pad", a string that fills the
 * body up to AMP_BODY. Owned by the caller. */
static char *amp_shape(const char *open, const char *item_fmt, int count, const char *close,
                       size_t *len)
{
	static const char head[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{\"a\":";
	char *b = malloc(AMP_BODY + 1);
	size_t n = sizeof head - 1;
	int i;

	if (b == NULL)
		return NULL;
	memcpy(b, head, n);
	n += (size_t)snprintf(b + n, AMP_BODY - n, "%s", open);
	for (i = 0; i < count && n < AMP_BODY / 2; i++) {
		if (i > 0)
			b[n++] = ',';
		n += (size_t)snprintf(b + n, AMP_BODY - n, item_fmt, i);
	}
	n += (size_t)snprintf(b + n, AMP_BODY - n, "%s,\"pad\":\"", close);
	while (n < AMP_BODY - 3)
		b[n++] = 'x';
	memcpy(b + n, "\"}}", 4);
	*len = n + 3;
	return b;
}

/* A /proc/self/status field in KiB, or -1. */
static long status_kb(const char *field)
{
	char line[256];
	size_t n = strlen(field);
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, field, n) == 0 && line[n] == ':')
			v = strtol(line + n + 1, NULL, 10);
	fclose(f);
	return v;
}

/* Parses text in a child process and returns how far its resident size rose above where it
 * started (VmHWM after the parse minus VmRSS before, in KiB; a fresh child's high-water mark
 * starts at its size), or -1 when that cannot be measured. *rc receives js_parse's result. A
 * child keeps what earlier checks left in this process's heap from hiding the growth. */
static long parse_peak_kb(const char *text, size_t len, dmcp_rc *rc)
{
	long out[2] = {-1, DMCP_RC_COUNT};
	int fd[2], status;
	pid_t pid;

	*rc = DMCP_RC_COUNT;
	if (pipe(fd) != 0)
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		json_object *o = NULL;
		char err[ERR_LEN];
		long before = status_kb("VmRSS");
		dmcp_rc r = js_parse(text, len, JS_MAX_DEPTH, &o, err, sizeof err);
		long peak = status_kb("VmHWM");

		out[0] = before >= 0 && peak >= 0 ? peak - before : -1;
		out[1] = r;
		if (write(fd[1], out, sizeof out) != (ssize_t)sizeof out)
			_exit(1);
		_exit(0);
	}
	close(fd[1]);
	if (pid < 0 || read(fd[0], out, sizeof out) != (ssize_t)sizeof out)
		out[0] = -1;
	close(fd[0]);
	if (pid > 0)
		waitpid(pid, &status, 0);
	*rc = (dmcp_rc)out[1];
	return out[0];
}

/* Bodies at the limits, of the kinds that cost json-c the most per byte of text: they are
 * served, and cost at most AMP_FACTOR bytes of heap per byte. Counted as the scan counts
 * (commas + containers + 1): the head has 3 commas and 2 containers, "a" and "pad" add one
 * container and one comma, so a record of m members adds m + 1 values and one container. */
static void test_amplification_maximal(void)
{
	static const struct {
		const char *what, *open, *item, *close;
		int count;
	} shapes[] = {
		{"records of 7 fractions", "[",
		 "{\"a\":0.5,\"b\":0.5,\"c\":0.5,\"d\":0.5,\"e\":0.5,\"f\":0.5,\"g\":0.5}", "]",
		 (JS_MAX_VALUES - 7) / 8 < JS_MAX_CONTAINERS - 3 ? (JS_MAX_VALUES - 7) / 8
		                                                : JS_MAX_CONTAINERS - 3},
		{"records of 7 empty strings", "[",
		 "{\"a\":\"\",\"b\":\"\",\"c\":\"\",\"d\":\"\",\"e\":\"\",\"f\":\"\",\"g\":\"\"}", "]",
		 (JS_MAX_VALUES - 7) / 8 < JS_MAX_CONTAINERS - 3 ? (JS_MAX_VALUES - 7) / 8
		                                                : JS_MAX_CONTAINERS - 3},
		{"empty objects", "[", "{}", "]", JS_MAX_CONTAINERS - 3},
		{"an array of fractions", "[", "0.5", "]", JS_MAX_VALUES - 7},
		{"an object of distinct keys", "{", "\"k%05d\":0", "}", JS_MAX_VALUES - 7},
		{"one long string", "\"\"", "", "", 0},
	};
	size_t i, len;
	char *body;
	dmcp_rc rc;
	long kb;

	for (i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
		body = amp_shape(shapes[i].open, shapes[i].item, shapes[i].count, shapes[i].close,
		                 &len);
		if (body == NULL) {
			T_OK(0, "memory for a %zu-byte body", (size_t)AMP_BODY);
			continue;
		}
		kb = parse_peak_kb(body, len, &rc);
		T_OK(rc == DMCP_OK && kb >= 0 && kb * 1024 <= (long)len * AMP_FACTOR,
		     "a maximal 1 MiB body of %s is served (%s) and costs at most %d bytes of heap "
		     "per byte (%.1f)", shapes[i].what, dmcp_rc_name(rc), AMP_FACTOR,
		     (double)kb * 1024 / (double)len);
		free(body);
	}
}

/* Issue: json-c allocates a hash table per object and a slot array per array before any
 * check runs, so a 1 MiB body of empty objects cost about 260 MB. Bodies of many small values
 * are refused before json-c sees them, and cost next to nothing. */
static void test_amplification(void)
{
	static const char *const units[] = {"{}", "[]", "0", "\"\"", "[{}]", "{\"a\":{}}", "null"};
	size_t i, len;
	char *body;
	dmcp_rc rc;
	long kb;

	if (getenv("DMCP_VALGRIND") != NULL) {
		printf("ok %d - # SKIP resident sizes mean nothing under valgrind\n", ++t_count);
		return;
	}
	for (i = 0; i < sizeof units / sizeof units[0]; i++) {
		body = amp_body(units[i], &len);
		if (body == NULL) {
			T_OK(0, "memory for a %zu-byte body", (size_t)AMP_BODY);
			continue;
		}
		kb = parse_peak_kb(body, len, &rc);
		T_OK(rc != DMCP_OK && kb >= 0 && kb <= AMP_REFUSED_KB,
		     "1 MiB of %s is refused (%s) and costs at most %d KiB while parsed (%ld KiB)",
		     units[i], dmcp_rc_name(rc), AMP_REFUSED_KB, kb);
		free(body);
	}
	test_amplification_maximal();
}

/* "[" unit "," unit ... "]" with k units. Owned by the caller. */
static char *repeat_array(const char *unit, size_t k)
{
	size_t n = 0, u = strlen(unit), i;
	char *b = malloc(k * (u + 1) + 3);

	if (b == NULL)
		return NULL;
	b[n++] = '[';
	for (i = 0; i < k; i++) {
		if (i > 0)
			b[n++] = ',';
		memcpy(b + n, unit, u);
		n += u;
	}
	b[n++] = ']';
	b[n] = '\0';
	return b;
}

/* The count limits: exactly at them is fine, one more is DMCP_E_LIMIT naming the limit, and
 * stored text (js_parse_trusted) is not held to them. */
static void test_counts(void)
{
	static const struct {
		const char *unit; /* the array's items */
		size_t fits;      /* items that reach the limit exactly */
		const char *word; /* what the refusal names */
	} cases[] = {
		{"0", JS_MAX_VALUES - 1, "JSON values"},      /* k items + the array */
		{"\"\"", JS_MAX_VALUES - 1, "JSON values"},
		{"[]", JS_MAX_CONTAINERS - 1, "objects and arrays"}, /* k + 1 containers */
		{"{}", JS_MAX_CONTAINERS - 1, "objects and arrays"},
	};
	char err[ERR_LEN], *text;
	json_object *o;
	size_t i;
	dmcp_rc rc;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		text = repeat_array(cases[i].unit, cases[i].fits);
		rc = text != NULL ? parse(text, err) : DMCP_E_NOMEM;
		T_OK(rc == DMCP_OK, "%zu items %s: exactly at the limit is accepted (%s)",
		     cases[i].fits, cases[i].unit, dmcp_rc_name(rc));
		free(text);
		text = repeat_array(cases[i].unit, cases[i].fits + 1);
		rc = text != NULL ? parse(text, err) : DMCP_E_NOMEM;
		T_OK(rc == DMCP_E_LIMIT && strstr(err, cases[i].word) != NULL,
		     "%zu items %s: one more is DMCP_E_LIMIT (%s; %s)", cases[i].fits + 1,
		     cases[i].unit, dmcp_rc_name(rc), err);
		o = text != NULL ? js_parse_trusted(text) : NULL;
		T_OK(o != NULL, "%zu items %s: js_parse_trusted takes it", cases[i].fits + 1,
		     cases[i].unit);
		json_object_put(o);
		free(text);
	}
	/* Commas inside strings are not values. */
	text = repeat_array("\",,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,\"", 1000);
	rc = text != NULL ? parse(text, err) : DMCP_E_NOMEM;
	T_EQ_INT(rc, DMCP_OK, "commas and brackets inside strings do not count");
	free(text);
	text = repeat_array("\"[[[[{{{{\\\"[[[[{{{{\"", JS_MAX_CONTAINERS);
	rc = text != NULL ? parse(text, err) : DMCP_E_NOMEM;
	T_EQ_INT(rc, DMCP_OK, "brackets after an escaped quote inside a string do not count");
	free(text);
	/* Counted before json-c parses anything: text that is not JSON either is refused for the
	 * count. */
	text = repeat_array("{", JS_MAX_CONTAINERS);
	rc = text != NULL ? parse(text, err) : DMCP_E_NOMEM;
	T_EQ_INT(rc, DMCP_E_LIMIT, "too many containers in text that is not JSON: the count wins");
	free(text);
}

static void test_trusted(void)
{
	json_object *o = js_parse_trusted("{\"type\":\"object\"}");

	T_OK(o != NULL && strcmp(js_str(o, "type"), "object") == 0, "js_parse_trusted parses");
	json_object_put(o);
	T_OK(js_parse_trusted(NULL) == NULL, "js_parse_trusted(NULL) is NULL");
	T_OK(js_parse_trusted("{") == NULL, "js_parse_trusted of bad text is NULL");
	T_OK(js_parse_trusted("\"\\u0000\"") == NULL, "js_parse_trusted refuses U+0000 too");
}

static void test_getters(void)
{
	char err[ERR_LEN];
	json_object *o = NULL, *arr = NULL;
	static const char text[] = "{\"s\":\"str\",\"i\":5,\"n\":null,\"o\":{},\"e\":\"\"}";
	dmcp_rc rc = js_parse(text, strlen(text), JS_MAX_DEPTH, &o, err, sizeof err);

	T_EQ_INT(rc, DMCP_OK, "getter fixture parses");
	T_EQ_STR(js_str(o, "s"), "str", "js_str of a string");
	T_EQ_STR(js_str(o, "e"), "", "js_str of an empty string");
	T_OK(js_str(o, "i") == NULL, "js_str of an integer is NULL (no coercion)");
	T_OK(js_str(o, "n") == NULL, "js_str of null is NULL");
	T_OK(js_str(o, "missing") == NULL, "js_str of a missing key is NULL");
	T_OK(js_get(o, "i", json_type_int) != NULL, "js_get with the right type");
	T_OK(js_get(o, "i", json_type_string) == NULL, "js_get with the wrong type is NULL");
	T_OK(js_get(o, "o", json_type_object) != NULL, "js_get of an object member");
	T_OK(js_has(o, "n"), "js_has sees a null member");
	T_OK(js_has(o, "i"), "js_has sees an integer member");
	T_OK(!js_has(o, "missing"), "js_has of a missing key");
	T_OK(js_get(NULL, "i", json_type_int) == NULL, "js_get(NULL) is NULL");
	T_OK(js_str(NULL, "s") == NULL, "js_str(NULL) is NULL");
	T_OK(!js_has(NULL, "s"), "js_has(NULL) is 0");
	rc = js_parse("[1]", 3, JS_MAX_DEPTH, &arr, err, sizeof err);
	T_OK(rc == DMCP_OK && js_get(arr, "0", json_type_int) == NULL && !js_has(arr, "0") &&
	     js_str(arr, "0") == NULL, "getters on an array are NULL/0");
	T_EQ_STR(js_text(NULL), "null", "js_text(NULL) is null");
	json_object_put(arr);
	json_object_put(o);

	o = json_object_new_string("a/b");
	T_EQ_STR(js_text(o), "\"a/b\"", "js_text does not escape slashes");
	json_object_put(o);
}

/* Parses text and runs js_int53 on it; returns its result and sets *v. */
static int int53(const char *text, int64_t *v)
{
	char err[ERR_LEN];
	json_object *o = NULL;
	int r;

	*v = -12345;
	if (js_parse(text, strlen(text), JS_MAX_DEPTH, &o, err, sizeof err) != DMCP_OK)
		return -1;
	r = js_int53(o, v);
	json_object_put(o);
	return r;
}

static void test_int53(void)
{
	int64_t v;
	int r;
	json_object *o;

	r = int53("9007199254740991", &v);
	T_OK(r == 1 && v == 9007199254740991LL, "2^53-1 accepted");
	r = int53("9007199254740992", &v);
	T_EQ_INT(r, 0, "2^53 refused");
	r = int53("-9007199254740991", &v);
	T_OK(r == 1 && v == -9007199254740991LL, "-(2^53-1) accepted");
	r = int53("-9007199254740992", &v);
	T_EQ_INT(r, 0, "-(2^53) refused");
	r = int53("0", &v);
	T_OK(r == 1 && v == 0, "0 accepted");
	r = int53("-0", &v);
	T_OK(r == 1 && v == 0, "-0 accepted as 0");
	r = int53("42", &v);
	T_OK(r == 1 && v == 42, "42 accepted");
	/* A double with an integral value counts as an integer (JSON has one number type). */
	r = int53("1.0", &v);
	T_OK(r == 1 && v == 1, "1.0 accepted as the integer 1");
	r = int53("1e2", &v);
	T_OK(r == 1 && v == 100, "1e2 accepted as 100");
	r = int53("-0.0", &v);
	T_OK(r == 1 && v == 0, "-0.0 accepted as 0");
	r = int53("9007199254740991.0", &v);
	T_OK(r == 1 && v == 9007199254740991LL, "2^53-1 as a double accepted");
	r = int53("9007199254740992.0", &v);
	T_EQ_INT(r, 0, "2^53 as a double refused");
	r = int53("1.5", &v);
	T_EQ_INT(r, 0, "1.5 refused");
	r = int53("-0.5", &v);
	T_EQ_INT(r, 0, "-0.5 refused");
	r = int53("1e-300", &v);
	T_EQ_INT(r, 0, "a tiny fraction refused");
	r = int53("1e300", &v);
	T_EQ_INT(r, 0, "1e300 refused");
	/* Integer literals beyond 64 bits never reach js_int53: json-c would clamp them
	 * silently, so js_parse refuses them (see test_big_integers). */
	r = int53("18446744073709551615", &v);
	T_EQ_INT(r, -1, "2^64-1 refused by the parser");
	r = int53("9223372036854775807", &v);
	T_EQ_INT(r, 0, "2^63-1 refused");
	r = int53("-9223372036854775808", &v);
	T_EQ_INT(r, 0, "-2^63 refused");
	r = int53("\"5\"", &v);
	T_EQ_INT(r, 0, "a string is not an integer");
	r = int53("true", &v);
	T_EQ_INT(r, 0, "true is not an integer");
	r = int53("null", &v);
	T_EQ_INT(r, 0, "null is not an integer");
	r = int53("[1]", &v);
	T_EQ_INT(r, 0, "an array is not an integer");
	T_EQ_INT(js_int53(NULL, &v), 0, "js_int53(NULL) is 0");
	o = json_object_new_double(INFINITY);
	T_EQ_INT(js_int53(o, &v), 0, "an infinite double (built, not parsed) is refused");
	json_object_put(o);
}

/* Parses two texts and compares them with js_equal. */
static int equal(const char *a, const char *b)
{
	char err[ERR_LEN];
	json_object *x = NULL, *y = NULL;
	int r;

	if (js_parse(a, strlen(a), JS_MAX_DEPTH, &x, err, sizeof err) != DMCP_OK ||
	    js_parse(b, strlen(b), JS_MAX_DEPTH, &y, err, sizeof err) != DMCP_OK) {
		json_object_put(x);
		return -1;
	}
	r = js_equal(x, y);
	if (r != js_equal(y, x))
		r = -2; /* must be symmetric */
	json_object_put(x);
	json_object_put(y);
	return r;
}

static void test_equal(void)
{
	T_EQ_INT(equal("1", "1.0"), 1, "1 equals 1.0");
	T_EQ_INT(equal("1", "1e0"), 1, "1 equals 1e0");
	T_EQ_INT(equal("100", "1E2"), 1, "100 equals 1E2");
	T_EQ_INT(equal("0", "-0.0"), 1, "0 equals -0.0");
	T_EQ_INT(equal("1", "2"), 0, "1 differs from 2");
	T_EQ_INT(equal("1", "1.5"), 0, "1 differs from 1.5");
	T_EQ_INT(equal("1", "\"1\""), 0, "a number differs from a string");
	T_EQ_INT(equal("1", "true"), 0, "1 differs from true");
	T_EQ_INT(equal("0", "false"), 0, "0 differs from false");
	T_EQ_INT(equal("0", "null"), 0, "0 differs from null");
	T_EQ_INT(equal("null", "null"), 1, "null equals null");
	T_EQ_INT(equal("true", "true"), 1, "true equals true");
	T_EQ_INT(equal("true", "false"), 0, "true differs from false");
	T_EQ_INT(equal("\"a\"", "\"a\""), 1, "equal strings");
	T_EQ_INT(equal("\"a\"", "\"ab\""), 0, "a prefix differs");
	T_EQ_INT(equal("\"\\u00e9\"", "\"\xc3\xa9\""), 1, "an escape equals its UTF-8");
	T_EQ_INT(equal("{\"a\":1,\"b\":2}", "{\"b\":2,\"a\":1}"), 1, "key order is irrelevant");
	T_EQ_INT(equal("{\"a\":1,\"b\":2}", "{\"a\":1}"), 0, "a missing key differs");
	T_EQ_INT(equal("{\"a\":1}", "{\"a\":1,\"b\":2}"), 0, "an extra key differs");
	T_EQ_INT(equal("{\"a\":1}", "{\"b\":1}"), 0, "a different key differs");
	T_EQ_INT(equal("{\"a\":null}", "{}"), 0, "a null member differs from no member");
	T_EQ_INT(equal("{\"a\":{\"x\":[1,{\"y\":2}]}}", "{\"a\":{\"x\":[1.0,{\"y\":2.0}]}}"), 1,
	         "deep equality with numbers by value");
	T_EQ_INT(equal("[1,2]", "[1,2]"), 1, "equal arrays");
	T_EQ_INT(equal("[1,2]", "[2,1]"), 0, "arrays are order-sensitive");
	T_EQ_INT(equal("[1,2]", "[1,2,3]"), 0, "array lengths differ");
	T_EQ_INT(equal("[]", "{}"), 0, "an empty array differs from an empty object");
	T_EQ_INT(equal("[]", "[]"), 1, "empty arrays");
	T_EQ_INT(equal("{}", "{}"), 1, "empty objects");
	/* numbers by exact value: never rounded through a double */
	T_EQ_INT(equal("9007199254740993", "9007199254740992.0"), 0,
	         "2^53+1 differs from the double 2^53 (equal once rounded to double)");
	T_EQ_INT(equal("9007199254740992", "9007199254740992.0"), 1, "2^53 equals 2^53 as a double");
	T_EQ_INT(equal("9223372036854775807", "9223372036854775806"), 0,
	         "two int64 near the top differ");
	T_EQ_INT(equal("9223372036854775807", "9223372036854775807.0"), 0,
	         "INT64_MAX differs from the double 2^63 it rounds to");
	T_EQ_INT(equal("-9223372036854775808", "-9223372036854775808.0"), 1,
	         "INT64_MIN equals its double");
	T_EQ_INT(equal("1e300", "1e300"), 1, "equal large doubles");
	T_EQ_INT(equal("0.1", "0.10"), 1, "0.1 equals 0.10");
	T_EQ_INT(equal("[1,[2,{\"a\":3}]]", "[1.0,[2e0,{\"a\":30e-1}]]"), 1,
	         "numbers by value at any depth");
}

/* Parsed text (NULL when js_parse refuses it); the caller puts it. */
static json_object *parsed(const char *text)
{
	char err[ERR_LEN];
	json_object *o = NULL;

	if (js_parse(text, strlen(text), JS_MAX_DEPTH, &o, err, sizeof err) != DMCP_OK)
		return NULL;
	return o;
}

/* js_hash agrees with js_equal: values that are equal hash alike. */
static void test_hash(void)
{
	static const char *const pairs[][2] = {
		{"1", "1.0"}, {"0", "-0.0"}, {"100", "1e2"}, {"-5", "-5.0"},
		{"9007199254740992", "9007199254740992.0"},
		{"-9223372036854775808", "-9223372036854775808.0"},
		{"{\"a\":1,\"b\":[2]}", "{\"b\":[2.0],\"a\":1.0}"},
		{"[true,null,\"x\"]", "[true,null,\"x\"]"},
	};
	json_object *x, *y;
	size_t i;

	for (i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
		x = parsed(pairs[i][0]);
		y = parsed(pairs[i][1]);
		T_OK(x != NULL && y != NULL && js_equal(x, y) && js_hash(x) == js_hash(y),
		     "%s and %s are equal and hash alike", pairs[i][0], pairs[i][1]);
		json_object_put(x);
		json_object_put(y);
	}
}

/* Integers above INT64_MAX: js_parse refuses them, but json-c holds them as uint64 in trees
 * built in C and in schema text (schema_new_text parses with json-c alone). */
static void test_uint64(void)
{
	json_object *big = json_object_new_uint64(UINT64_MAX);
	json_object *big2 = json_object_new_uint64(UINT64_MAX - 1);
	json_object *big3 = json_object_new_uint64(UINT64_MAX);
	json_object *top = json_object_new_int64(INT64_MAX);
	json_object *p63 = json_object_new_uint64((uint64_t)INT64_MAX + 1);
	json_object *d63 = json_object_new_double(9223372036854775808.0);

	T_EQ_INT(js_equal(big, big2), 0,
	         "two uint64 above INT64_MAX differ (json_object_get_int64 clamps both)");
	T_EQ_INT(js_equal(big, big3), 1, "equal uint64");
	T_EQ_INT(js_equal(top, p63), 0, "INT64_MAX differs from INT64_MAX + 1");
	T_EQ_INT(js_equal(top, d63), 0, "INT64_MAX differs from the double 2^63");
	T_OK(js_equal(p63, d63) && js_equal(d63, p63) && js_hash(p63) == js_hash(d63),
	     "2^63 as uint64 equals 2^63 as a double, both ways, and they hash alike");
	T_EQ_INT(js_num_cmp(js_num_of(big2), js_num_of(big)), -1, "UINT64_MAX - 1 < UINT64_MAX");
	T_EQ_INT(js_num_cmp(js_num_of(top), js_num_of(p63)), -1, "INT64_MAX < 2^63");
	json_object_put(big);
	json_object_put(big2);
	json_object_put(big3);
	json_object_put(top);
	json_object_put(p63);
	json_object_put(d63);
}

/* json-c clamps integer literals beyond 64 bits to the largest value without a word; the
 * parser refuses them instead, so a value never changes silently. */
/* Escaped surrogates must pair up: json-c would turn a lone one into U+FFFD silently. */
static void test_surrogates(void)
{
	static const char *const bad[] = {"\"\\ud800\"", "\"a\\udc00b\"", "\"\\ud800\\u0041\"",
	                                  "{\"\\udbff\":1}", "\"\\ud800x\""};
	static const char *const fine[] = {"\"\\ud83d\\ude00\"", "\"\\u00e9\\uffff\"",
	                                   "\"\\\\ud800\""};
	json_object *o = NULL;
	char err[200];
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		dmcp_rc rc = js_parse(bad[i], strlen(bad[i]), JS_MAX_DEPTH, &o, err, sizeof err);
		T_OK(rc == DMCP_E_INVALID_REQUEST && strstr(err, "surrogate") != NULL && o == NULL,
		     "lone surrogate escape refused: %s (%s)", bad[i], err);
		json_object_put(o);
		o = NULL;
	}
	for (i = 0; i < sizeof fine / sizeof fine[0]; i++) {
		dmcp_rc rc = js_parse(fine[i], strlen(fine[i]), JS_MAX_DEPTH, &o, err, sizeof err);
		T_OK(rc == DMCP_OK, "a pair, a BMP escape, an escaped backslash: %s", fine[i]);
		json_object_put(o);
		o = NULL;
	}
}

static void test_big_integers(void)
{
	static const char *const big[] = {"12345678901234567890123", "-12345678901234567890123",
	                                  "9223372036854775808", "-9223372036854775809",
	                                  "[1,99999999999999999999]", "{\"a\":18446744073709551616}"};
	static const char *const fine[] = {"9223372036854775807", "-9223372036854775808",
	                                   "12345678901234567890123.0", "1e30", "[0,-0]"};
	json_object *o = NULL;
	char err[200];
	size_t i;

	for (i = 0; i < sizeof big / sizeof big[0]; i++) {
		dmcp_rc rc = js_parse(big[i], strlen(big[i]), JS_MAX_DEPTH, &o, err, sizeof err);
		T_OK(rc == DMCP_E_INVALID_REQUEST && strstr(err, "64 bits") != NULL && o == NULL,
		     "integer beyond 64 bits refused: %s (%s)", big[i], err);
		json_object_put(o);
		o = NULL;
	}
	for (i = 0; i < sizeof fine / sizeof fine[0]; i++) {
		dmcp_rc rc = js_parse(fine[i], strlen(fine[i]), JS_MAX_DEPTH, &o, err, sizeof err);
		T_OK(rc == DMCP_OK, "within 64 bits, or not an integer literal: %s", fine[i]);
		json_object_put(o);
		o = NULL;
	}
}

/* The constructors never return NULL, and a failed json-c add is fatal, not a dropped
 * member. A real allocation failure cannot be provoked (json-c has no allocator hook), but
 * json-c also refuses to add an object to itself, which takes the same path: the process
 * must die by SIGABRT. */
static void test_building(void)
{
	json_object *o = js_new_object(), *a = js_new_array();
	int status = 0;
	pid_t pid;

	js_object_add(o, "s", js_new_string_len("a\0b", 3));
	js_object_add(o, "n", NULL);
	js_object_add(o, "i", js_new_int(-7));
	js_object_add(o, "j", js_new_int64(INT64_MIN));
	js_object_add(o, "b", js_new_boolean(1));
	js_object_add(o, "d", js_new_double(0.5));
	js_array_add(a, js_new_string("x"));
	js_array_add(a, NULL);
	js_object_add(o, "a", a);
	T_EQ_STR(js_text(o), "{\"s\":\"a\\u0000b\",\"n\":null,\"i\":-7,"
	         "\"j\":-9223372036854775808,\"b\":true,\"d\":0.5,\"a\":[\"x\",null]}",
	         "js_new_* and the adds build the tree json-c would (NULL is JSON null)");
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		if (freopen("/dev/null", "w", stderr) == NULL)
			_exit(2);
		js_object_add(o, "self", o);
		_exit(0);
	}
	T_OK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) &&
	     WTERMSIG(status) == SIGABRT, "a failed js_object_add aborts the process");
	json_object_put(o);
}

int main(void)
{
	test_big_integers();
	test_surrogates();
	test_valid();
	test_refused();
	test_utf8();
	test_nul();
	test_nonfinite();
	test_depth();
	test_counts();
	test_amplification();
	test_trusted();
	test_getters();
	test_int53();
	test_equal();
	test_hash();
	test_uint64();
	test_building();
	return t_done();
}
