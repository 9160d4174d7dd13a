/* js.c — strict JSON parsing, typed getters, the tree constructors that carry the
 * out-of-memory policy, and JSON equality (see js.h). Knows nothing of the protocol.
 * One scan of the text before json-c sees it counts what json-c would allocate (the limits
 * refuse a body before it costs anything) and finds what json-c's strict mode lets through:
 * invalid UTF-8, raw control characters, loose numbers and U+0000 inside strings; a tree
 * walk after parsing catches NaN/Infinity and the depth. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "js.h"
#include "log.h"
#include "utf8.h"

/* The largest integer a JSON number can carry exactly in every peer (JavaScript's). */
#define JS_INT53_MAX 9007199254740991LL
/* Bytes of a double printed by js_new_number: %.17g needs at most 24. */
#define JS_NUM_TEXT 32

/* Check the parsed tree; level counts the arrays and objects around o. */
static dmcp_rc walk(json_object *o, int level, int max_depth, char *err, size_t errlen)
{
	size_t i, n;

	if ((json_object_is_type(o, json_type_array) || json_object_is_type(o, json_type_object)) &&
	    level >= max_depth) {
		snprintf(err, errlen, "JSON nesting deeper than %d levels", max_depth);
		return DMCP_E_LIMIT;
	}
	switch (json_object_get_type(o)) {
	case json_type_double:
		if (!isfinite(json_object_get_double(o))) {
			snprintf(err, errlen, "numbers must be finite (NaN and Infinity are not JSON)");
			return DMCP_E_INVALID_REQUEST;
		}
		return DMCP_OK;
	case json_type_array:
		n = json_object_array_length(o);
		for (i = 0; i < n; i++) {
			dmcp_rc rc = walk(json_object_array_get_idx(o, i), level + 1, max_depth, err,
			                  errlen);
			if (rc != DMCP_OK)
				return rc;
		}
		return DMCP_OK;
	case json_type_object: {
		json_object_object_foreach(o, key, val) {
			dmcp_rc rc = walk(val, level + 1, max_depth, err, errlen);
			(void)key;
			if (rc != DMCP_OK)
				return rc;
		}
		return DMCP_OK;
	}
	default:
		return DMCP_OK;
	}
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* 1 when the integer literal p[0..n) (optional '-', digits) is outside the 64-bit signed
 * range, which json-c would silently clamp instead of refusing. */
static int int64_overflow(const char *p, size_t n)
{
	int neg = p[0] == '-';
	const char *digits = p + neg;
	size_t nd = n - (size_t)neg;
	const char *limit = neg ? "9223372036854775808" : "9223372036854775807";

	if (nd != 19)
		return nd > 19;
	return memcmp(digits, limit, 19) > 0;
}

/* Bytes of the RFC 8259 number at p, -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, or 0 when
 * the number there breaks that grammar (json-c takes "1.", "1.e5" and "-01"). *big is set
 * for an integer literal beyond 64 bits. */
static size_t number_len(const char *p, size_t left, int *big)
{
	size_t i = 0, d;
	int integral = 1;

	if (i < left && p[i] == '-')
		i++;
	if (i < left && p[i] == '0')
		i++;
	else if (i < left && is_digit(p[i]))
		while (i < left && is_digit(p[i]))
			i++;
	else
		return 0;
	if (i < left && p[i] == '.') {
		integral = 0;
		for (d = ++i; i < left && is_digit(p[i]); i++)
			;
		if (i == d)
			return 0;
	}
	if (i < left && (p[i] == 'e' || p[i] == 'E')) {
		integral = 0;
		i++;
		if (i < left && (p[i] == '+' || p[i] == '-'))
			i++;
		for (d = i; i < left && is_digit(p[i]); i++)
			;
		if (i == d)
			return 0;
	}
	if (i < left && (is_digit(p[i]) || p[i] == '.' || p[i] == 'e' || p[i] == 'E' ||
	                 p[i] == '+' || p[i] == '-'))
		return 0;
	*big = integral && int64_overflow(p, i);
	return i;
}

static int hex4(const char *p, size_t left, unsigned *v)
{
	size_t i;

	*v = 0;
	if (left < 4)
		return 0;
	for (i = 0; i < 4; i++) {
		char c = p[i];
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
		      : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		if (d < 0)
			return 0;
		*v = *v * 16 + (unsigned)d;
	}
	return 1;
}

/* Bytes of the escape "\uXXXX" at p (or of a surrogate pair "\uD8xx\uDCxx"); 0 with *why
 * set for U+0000 and for a lone surrogate (json-c would silently turn it into U+FFFD). */
static size_t unicode_escape(const char *p, size_t left, const char **why)
{
	unsigned hi, lo;

	if (!hex4(p + 2, left - 2, &hi))
		return 2; /* malformed: the tokenizer reports it */
	if (hi == 0) {
		/* C tools take strings as C strings: a NUL would silently cut them. (json-c keeps
		 * keys as C strings too, so this must be caught in the text, not the tree.) */
		*why = "strings must not contain U+0000";
		return 0;
	}
	if (hi >= 0xdc00 && hi <= 0xdfff) {
		*why = "lone surrogate escape in a string";
		return 0;
	}
	if (hi < 0xd800 || hi > 0xdbff)
		return 6;
	if (left < 12 || p[6] != '\\' || p[7] != 'u' || !hex4(p + 8, left - 8, &lo) ||
	    lo < 0xdc00 || lo > 0xdfff) {
		*why = "lone surrogate escape in a string";
		return 0;
	}
	return 12;
}

/* What one pass over the text finds before json-c sees it. */
struct scan {
	size_t containers; /* '{' and '[' outside strings */
	size_t values;     /* commas outside strings + containers + 1: in valid JSON at least the
	                      values (members and items) it holds, exactly so when no container
	                      is empty */
	const char *why;   /* the first strictness problem, or NULL */
	size_t at;         /* its byte offset */
	int refused;       /* why names JSON that is refused (-32600), not a parse error */
};

/* The scan: counts what json-c would allocate (for the limits) and finds what json-c's
 * strict mode lets through: invalid UTF-8 (overlong forms, surrogates, beyond U+10FFFF), raw
 * control characters in strings, numbers outside the RFC 8259 grammar, and escapes it would
 * change silently (U+0000, lone surrogates). "-Infinity" is left to walk(), which refuses it
 * as non-finite. It reads every byte even after a problem, so that the counts are whole. */
static void scan_text(const char *p, size_t len, struct scan *s)
{
	const char *why;
	size_t i = 0, n, commas = 0;
	uint32_t cp;
	int in_string = 0, big;

	memset(s, 0, sizeof *s);
	while (i < len) {
		unsigned char c = (unsigned char)p[i];
		why = NULL;
		big = 0;
		n = 1;
		if (c >= 0x80) {
			n = utf8_decode(p + i, len - i, &cp);
			if (n == 0)
				why = "invalid UTF-8";
		} else if (in_string) {
			if (c < 0x20)
				why = "control character in a string (it must be escaped)";
			else if (c == '"')
				in_string = 0;
			else if (c == '\\' && i + 1 < len && p[i + 1] == 'u')
				big = (n = unicode_escape(p + i, len - i, &why)) == 0; /* JSON, refused */
			else if (c == '\\')
				n = 2;
		} else if (c == '"') {
			in_string = 1;
		} else if (c == '{' || c == '[') {
			s->containers++;
		} else if (c == ',') {
			commas++;
		} else if (is_digit((char)c) || (c == '-' && i + 1 < len && is_digit(p[i + 1]))) {
			n = number_len(p + i, len - i, &big);
			if (n == 0)
				why = "malformed number";
			else if (big)
				why = "integer beyond 64 bits (send it as a string)";
		}
		if (why != NULL && s->why == NULL) {
			s->why = why;
			s->at = i;
			s->refused = big;
		}
		i += n > 0 ? n : 1;
	}
	s->values = commas + s->containers + 1;
}

/* The limits of an untrusted message, before json-c allocates anything for it. */
static dmcp_rc scan_limits(const struct scan *s, char *err, size_t errlen)
{
	if (s->containers > JS_MAX_CONTAINERS) {
		snprintf(err, errlen, "invalid request: more than %d objects and arrays in one message",
		         JS_MAX_CONTAINERS);
		return DMCP_E_LIMIT;
	}
	if (s->values > JS_MAX_VALUES) {
		snprintf(err, errlen, "invalid request: more than %d JSON values in one message",
		         JS_MAX_VALUES);
		return DMCP_E_LIMIT;
	}
	return DMCP_OK;
}

/* The scan's strictness verdict, once json-c has found the text well-formed. */
static dmcp_rc scan_verdict(const struct scan *s, char *err, size_t errlen)
{
	if (s->why == NULL)
		return DMCP_OK;
	/* refused: the text is JSON, but a value it holds is refused (-32600, not -32700) */
	snprintf(err, errlen, "%s at byte %zu: %s", s->refused ? "invalid request" : "parse error",
	         s->at, s->why);
	return s->refused ? DMCP_E_INVALID_REQUEST : DMCP_E_PARSE;
}

/* Run the tokenizer over exactly len bytes; *o is the value on success. */
static dmcp_rc tokenize(struct json_tokener *tok, const char *data, size_t len, int max_depth,
                        json_object **o, char *err, size_t errlen)
{
	enum json_tokener_error jerr;
	size_t base = 0; /* where the chunk json-c reports offsets in starts */

	*o = json_tokener_parse_ex(tok, data, (int)len);
	jerr = json_tokener_get_error(tok);
	if (jerr == json_tokener_continue && len > 0 && json_tokener_get_parse_end(tok) == len) {
		/* A bare number at the very end could still grow ("12" -> "123"): a NUL ends it.
		 * The value may be NULL: that is JSON null ("null" ends the same way). */
		base = len;
		*o = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
		if (jerr == json_tokener_success)
			return DMCP_OK;
	}
	if (jerr == json_tokener_continue) {
		snprintf(err, errlen, "parse error: the message ends inside a JSON value");
		return DMCP_E_PARSE;
	}
	if (jerr == json_tokener_error_depth) {
		snprintf(err, errlen, "JSON nesting deeper than %d levels", max_depth);
		return DMCP_E_LIMIT;
	}
	if (jerr != json_tokener_success) {
		snprintf(err, errlen, "parse error at byte %zu: %s",
		         base + json_tokener_get_parse_end(tok), json_tokener_error_desc(jerr));
		return DMCP_E_PARSE;
	}
	if (json_tokener_get_parse_end(tok) != len) {
		snprintf(err, errlen, "parse error at byte %zu: trailing bytes after the JSON value",
		         json_tokener_get_parse_end(tok));
		return DMCP_E_PARSE;
	}
	return DMCP_OK;
}

/* js_parse with the count limits on (untrusted) or off (our own stored text). */
static dmcp_rc parse(const char *data, size_t len, int max_depth, int limited,
                     json_object **out, char *err, size_t errlen)
{
	struct json_tokener *tok;
	json_object *o = NULL;
	struct scan s;
	dmcp_rc rc;

	*out = NULL;
	if (len > (size_t)INT32_MAX) {
		snprintf(err, errlen, "message too large");
		return DMCP_E_LIMIT;
	}
	if (memchr(data, '\0', len) != NULL) {
		snprintf(err, errlen, "parse error: NUL byte in the message");
		return DMCP_E_PARSE;
	}
	scan_text(data, len, &s);
	if (limited) {
		rc = scan_limits(&s, err, errlen);
		if (rc != DMCP_OK)
			return rc;
	}
	/* json-c counts the innermost scalar as a level too; walk() counts containers only. */
	tok = json_tokener_new_ex(max_depth + 1);
	if (tok == NULL)
		return DMCP_E_NOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	rc = tokenize(tok, data, len, max_depth, &o, err, errlen);
	json_tokener_free(tok);
	/* json-c's own verdict first: text it cannot parse is -32700 whatever the scan found */
	if (rc == DMCP_OK)
		rc = scan_verdict(&s, err, errlen);
	if (rc == DMCP_OK)
		rc = walk(o, 0, max_depth, err, errlen);
	if (rc != DMCP_OK) {
		json_object_put(o);
		return rc;
	}
	*out = o;
	return DMCP_OK;
}

dmcp_rc js_parse(const char *data, size_t len, int max_depth, json_object **out,
                 char *err, size_t errlen)
{
	return parse(data, len, max_depth, 1, out, err, errlen);
}

/* ---- Building trees (the out-of-memory policy is in js.h) ------------------------------ */

/* The one place a json-c allocation failure ends up: log, then abort. */
__attribute__((noreturn)) static void oom(const char *what)
{
	log_msg(LOG_ERROR, "out of memory in json-c (%s): aborting rather than send a "
	        "half-built message", what);
	abort();
}

/* o, made by the json-c call named what; never NULL. */
static json_object *made(json_object *o, const char *what)
{
	if (o == NULL)
		oom(what);
	return o;
}

json_object *js_new_object(void)
{
	return made(json_object_new_object(), "json_object_new_object");
}

json_object *js_new_array(void)
{
	return made(json_object_new_array(), "json_object_new_array");
}

json_object *js_new_string(const char *s)
{
	return made(json_object_new_string(s), "json_object_new_string");
}

json_object *js_new_string_len(const char *s, int len)
{
	return made(json_object_new_string_len(s, len), "json_object_new_string_len");
}

json_object *js_new_int(int32_t v)
{
	return made(json_object_new_int(v), "json_object_new_int");
}

json_object *js_new_int64(int64_t v)
{
	return made(json_object_new_int64(v), "json_object_new_int64");
}

json_object *js_new_boolean(int b)
{
	return made(json_object_new_boolean(b), "json_object_new_boolean");
}

json_object *js_new_double(double d)
{
	return made(json_object_new_double(d), "json_object_new_double");
}

json_object *js_new_number(double d)
{
	char text[JS_NUM_TEXT];

	if (d == floor(d) && fabs(d) <= (double)JS_INT53_MAX)
		return js_new_int64((int64_t)d);
	snprintf(text, sizeof text, "%.15g", d);
	if (strtod(text, NULL) != d)
		snprintf(text, sizeof text, "%.17g", d);
	return made(json_object_new_double_s(d, text), "json_object_new_double_s");
}

/* json-c also refuses to add an object to itself; only a bug could ask that, and the
 * abort names the call. */
void js_object_add(json_object *obj, const char *key, json_object *val)
{
	if (json_object_object_add(obj, key, val) != 0)
		oom("json_object_object_add");
}

void js_array_add(json_object *arr, json_object *val)
{
	if (json_object_array_add(arr, val) != 0)
		oom("json_object_array_add");
}

/* ---- Getters ---------------------------------------------------------------------------- */

json_object *js_get(json_object *obj, const char *key, json_type t)
{
	json_object *v;

	if (obj == NULL || !json_object_is_type(obj, json_type_object))
		return NULL;
	if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, t))
		return NULL;
	return v;
}

const char *js_str(json_object *obj, const char *key)
{
	json_object *v = js_get(obj, key, json_type_string);

	return v != NULL ? json_object_get_string(v) : NULL;
}

int js_has(json_object *obj, const char *key)
{
	if (obj == NULL || !json_object_is_type(obj, json_type_object))
		return 0;
	return json_object_object_get_ex(obj, key, NULL) ? 1 : 0;
}

const char *js_text(json_object *o)
{
	const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	                                                     JSON_C_TO_STRING_NOSLASHESCAPE);

	if (text == NULL)
		oom("json_object_to_json_string_ext");
	return text;
}

int js_int53(json_object *o, int64_t *v)
{
	double d;

	if (json_object_is_type(o, json_type_int)) {
		int64_t x = json_object_get_int64(o);
		if (json_object_get_uint64(o) > (uint64_t)JS_INT53_MAX && x >= 0)
			return 0;
		if (x < -JS_INT53_MAX || x > JS_INT53_MAX)
			return 0;
		*v = x;
		return 1;
	}
	if (json_object_is_type(o, json_type_double)) {
		d = json_object_get_double(o);
		if (!isfinite(d) || d != floor(d) || fabs(d) > (double)JS_INT53_MAX)
			return 0;
		*v = (int64_t)d;
		return 1;
	}
	return 0;
}

json_object *js_parse_trusted(const char *text)
{
	json_object *o = NULL;
	char err[128];

	if (text == NULL)
		return NULL;
	if (parse(text, strlen(text), JS_MAX_DEPTH * 4, 0, &o, err, sizeof err) != DMCP_OK)
		return NULL;
	return o;
}

/* ---- Numbers and equality (JSON Schema 2020-12 core 4.2.2: numbers by value) ----------
 * Numbers are compared as json-c holds them (int64, uint64 or double), never rounded through
 * a double: two different 64-bit integers never compare equal. */

int js_is_num(json_object *o)
{
	json_type t = json_object_get_type(o);

	return t == json_type_int || t == json_type_double;
}

struct js_num js_num_of(json_object *o)
{
	struct js_num n = {JS_NUM_DOUBLE, 0, 0, 0.0};

	if (json_object_get_type(o) == json_type_double) {
		n.d = json_object_get_double(o);
		return n;
	}
	n.kind = JS_NUM_INT;
	n.i = json_object_get_int64(o);
	if (n.i == INT64_MAX && json_object_get_uint64(o) > (uint64_t)INT64_MAX) {
		n.kind = JS_NUM_UINT;
		n.u = json_object_get_uint64(o);
	}
	return n;
}

static int sign3(int lt, int gt)
{
	return lt ? -1 : gt ? 1 : 0;
}

/* -1, 0 or 1 as i <, == or > d, exactly, for every int64 and finite double. */
static int cmp_int_double(int64_t i, double d)
{
	double t;
	int64_t ti;

	if (d < -9223372036854775808.0)
		return 1;
	if (d >= 9223372036854775808.0)
		return -1;
	t = trunc(d);
	ti = (int64_t)t;
	if (i != ti)
		return sign3(i < ti, i > ti);
	return sign3(d > t, d < t);
}

/* The same for a uint64 above INT64_MAX. */
static int cmp_uint_double(uint64_t u, double d)
{
	double t;
	uint64_t tu;

	if (d < 9223372036854775808.0)
		return 1;
	if (d >= 18446744073709551616.0)
		return -1;
	t = trunc(d);
	tu = (uint64_t)t;
	if (u != tu)
		return sign3(u < tu, u > tu);
	return sign3(d > t, d < t);
}

int js_num_cmp(struct js_num a, struct js_num b)
{
	if (a.kind == JS_NUM_DOUBLE && b.kind == JS_NUM_DOUBLE)
		return sign3(a.d < b.d, a.d > b.d);
	if (a.kind == JS_NUM_DOUBLE)
		return -js_num_cmp(b, a);
	if (b.kind == JS_NUM_DOUBLE)
		return a.kind == JS_NUM_INT ? cmp_int_double(a.i, b.d) : cmp_uint_double(a.u, b.d);
	if (a.kind == JS_NUM_UINT && b.kind == JS_NUM_UINT)
		return sign3(a.u < b.u, a.u > b.u);
	if (a.kind != b.kind)
		return a.kind == JS_NUM_UINT ? 1 : -1;
	return sign3(a.i < b.i, a.i > b.i);
}

static int arrays_equal(json_object *a, json_object *b)
{
	size_t i, n = json_object_array_length(a);

	if (n != json_object_array_length(b))
		return 0;
	for (i = 0; i < n; i++)
		if (!js_equal(json_object_array_get_idx(a, i), json_object_array_get_idx(b, i)))
			return 0;
	return 1;
}

static int objects_equal(json_object *a, json_object *b)
{
	struct json_object_iterator it, end;
	json_object *w;

	if (json_object_object_length(a) != json_object_object_length(b))
		return 0;
	it = json_object_iter_begin(a);
	end = json_object_iter_end(a);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		if (!json_object_object_get_ex(b, json_object_iter_peek_name(&it), &w))
			return 0;
		if (!js_equal(json_object_iter_peek_value(&it), w))
			return 0;
	}
	return 1;
}

/* The recursion is as deep as the values nest, which their makers bound (js.h). */
int js_equal(json_object *a, json_object *b)
{
	json_type t = json_object_get_type(a);
	size_t n;

	if (js_is_num(a) && js_is_num(b))
		return js_num_cmp(js_num_of(a), js_num_of(b)) == 0;
	if (t != json_object_get_type(b))
		return 0;
	switch (t) {
	case json_type_null:
		return 1;
	case json_type_boolean:
		return !json_object_get_boolean(a) == !json_object_get_boolean(b);
	case json_type_string:
		n = (size_t)json_object_get_string_len(a);
		return n == (size_t)json_object_get_string_len(b) &&
		       memcmp(json_object_get_string(a), json_object_get_string(b), n) == 0;
	case json_type_array:
		return arrays_equal(a, b);
	case json_type_object:
		return objects_equal(a, b);
	default:
		return 0;
	}
}

static uint64_t hash_mix(uint64_t h)
{
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	return h ^ (h >> 31);
}

static uint64_t hash_bytes(const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* Equal numbers hash alike: every integral value below 2^64 hashes as its uint64 bits. */
static uint64_t hash_num(struct js_num n)
{
	uint64_t bits;

	if (n.kind == JS_NUM_INT)
		return hash_mix((uint64_t)n.i);
	if (n.kind == JS_NUM_UINT)
		return hash_mix(n.u);
	if (n.d == trunc(n.d) && n.d >= -9223372036854775808.0 && n.d < 9223372036854775808.0)
		return hash_mix((uint64_t)(int64_t)n.d);
	if (n.d == trunc(n.d) && n.d >= 0 && n.d < 18446744073709551616.0)
		return hash_mix((uint64_t)n.d);
	memcpy(&bits, &n.d, sizeof bits);
	return hash_mix(bits ^ 0x5555);
}

uint64_t js_hash(json_object *o)
{
	struct json_object_iterator it, end;
	uint64_t h;
	size_t i, n;

	switch (json_object_get_type(o)) {
	case json_type_boolean:
		return json_object_get_boolean(o) ? 2 : 1;
	case json_type_int:
	case json_type_double:
		return hash_num(js_num_of(o));
	case json_type_string:
		return hash_bytes(json_object_get_string(o), (size_t)json_object_get_string_len(o));
	case json_type_array:
		n = json_object_array_length(o);
		h = 3;
		for (i = 0; i < n; i++)
			h = hash_mix(h * 31 + js_hash(json_object_array_get_idx(o, i)));
		return h;
	case json_type_object:
		h = 4;
		it = json_object_iter_begin(o);
		end = json_object_iter_end(o);
		for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
			const char *k = json_object_iter_peek_name(&it);
			h += hash_mix(hash_bytes(k, strlen(k)) * 31 +
			              js_hash(json_object_iter_peek_value(&it)));
		}
		return h;
	default:
		return 0;
	}
}
