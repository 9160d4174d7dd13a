/* js.c — strict JSON parsing and typed getters (see js.h).
 * Knows nothing of the protocol. A scan of the text and a tree walk after parsing catch what
 * json-c's strict mode lets through: invalid UTF-8, raw control characters, loose numbers,
 * NaN/Infinity literals and U+0000 inside strings. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "js.h"
#include "utf8.h"

/* The largest integer a JSON number can carry exactly in every peer (JavaScript's). */
#define JS_INT53_MAX 9007199254740991LL

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

/* What json-c's strict mode lets through on text it parsed: invalid UTF-8 (overlong forms,
 * surrogates, beyond U+10FFFF), raw control characters in strings, and numbers outside the
 * RFC 8259 grammar. "-Infinity" is left to walk(), which refuses it as non-finite. */
static dmcp_rc strict_text(const char *p, size_t len, char *err, size_t errlen)
{
	const char *why = NULL;
	size_t i = 0, n;
	uint32_t cp;
	int in_string = 0, big = 0;

	while (i < len && why == NULL) {
		unsigned char c = (unsigned char)p[i];
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
		} else if (is_digit((char)c) || (c == '-' && i + 1 < len && is_digit(p[i + 1]))) {
			n = number_len(p + i, len - i, &big);
			if (n == 0)
				why = "malformed number";
			else if (big)
				why = "integer beyond 64 bits (send it as a string)";
		}
		if (why == NULL)
			i += n;
	}
	if (why != NULL) {
		/* big: the text is JSON, but a value it holds is refused (-32600, not -32700) */
		snprintf(err, errlen, "%s at byte %zu: %s", big ? "invalid request" : "parse error", i,
		         why);
		return big ? DMCP_E_INVALID_REQUEST : DMCP_E_PARSE;
	}
	return DMCP_OK;
}

/* Run the tokenizer over exactly len bytes; *o is the value on success. */
static dmcp_rc tokenize(struct json_tokener *tok, const char *data, size_t len, int max_depth,
                        json_object **o, char *err, size_t errlen)
{
	enum json_tokener_error jerr;

	*o = json_tokener_parse_ex(tok, data, (int)len);
	jerr = json_tokener_get_error(tok);
	if (jerr == json_tokener_continue && len > 0 && json_tokener_get_parse_end(tok) == len) {
		/* A bare number at the very end could still grow ("12" -> "123"): a NUL ends it.
		 * The value may be NULL: that is JSON null ("null" ends the same way). */
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
		snprintf(err, errlen, "parse error at byte %zu: %s", json_tokener_get_parse_end(tok),
		         json_tokener_error_desc(jerr));
		return DMCP_E_PARSE;
	}
	if (json_tokener_get_parse_end(tok) != len) {
		snprintf(err, errlen, "parse error at byte %zu: trailing bytes after the JSON value",
		         json_tokener_get_parse_end(tok));
		return DMCP_E_PARSE;
	}
	return DMCP_OK;
}

dmcp_rc js_parse(const char *data, size_t len, int max_depth, json_object **out,
                 char *err, size_t errlen)
{
	struct json_tokener *tok;
	json_object *o = NULL;
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
	/* json-c counts the innermost scalar as a level too; walk() counts containers only. */
	tok = json_tokener_new_ex(max_depth + 1);
	if (tok == NULL)
		return DMCP_E_NOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	rc = tokenize(tok, data, len, max_depth, &o, err, errlen);
	json_tokener_free(tok);
	if (rc == DMCP_OK)
		rc = strict_text(data, len, err, errlen);
	if (rc == DMCP_OK)
		rc = walk(o, 0, max_depth, err, errlen);
	if (rc != DMCP_OK) {
		json_object_put(o);
		return rc;
	}
	*out = o;
	return DMCP_OK;
}

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
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	                                         JSON_C_TO_STRING_NOSLASHESCAPE);
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
	if (js_parse(text, strlen(text), JS_MAX_DEPTH * 4, &o, err, sizeof err) != DMCP_OK)
		return NULL;
	return o;
}

static int num_equal(json_object *a, json_object *b)
{
	if (json_object_is_type(a, json_type_int) && json_object_is_type(b, json_type_int))
		return json_object_get_int64(a) == json_object_get_int64(b);
	return json_object_get_double(a) == json_object_get_double(b);
}

static int is_num(json_object *o)
{
	return json_object_is_type(o, json_type_int) || json_object_is_type(o, json_type_double);
}

int js_equal(json_object *a, json_object *b)
{
	size_t i, n;

	if (is_num(a) && is_num(b))
		return num_equal(a, b);
	if (json_object_get_type(a) != json_object_get_type(b))
		return 0;
	switch (json_object_get_type(a)) {
	case json_type_null:
		return 1;
	case json_type_boolean:
		return json_object_get_boolean(a) == json_object_get_boolean(b);
	case json_type_string:
		return json_object_get_string_len(a) == json_object_get_string_len(b) &&
		       memcmp(json_object_get_string(a), json_object_get_string(b),
		              (size_t)json_object_get_string_len(a)) == 0;
	case json_type_array:
		n = json_object_array_length(a);
		if (n != json_object_array_length(b))
			return 0;
		for (i = 0; i < n; i++)
			if (!js_equal(json_object_array_get_idx(a, i), json_object_array_get_idx(b, i)))
				return 0;
		return 1;
	case json_type_object: {
		if (json_object_object_length(a) != json_object_object_length(b))
			return 0;
		json_object_object_foreach(a, key, val) {
			json_object *w;
			if (!json_object_object_get_ex(b, key, &w) || !js_equal(val, w))
				return 0;
		}
		return 1;
	}
	default:
		return 0;
	}
}
