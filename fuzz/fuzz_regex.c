/* fuzz_regex.c — libFuzzer target: the regular expressions of "pattern" and
 * "patternProperties": the engine (core/rx.h) and the schema keywords that use it.
 * Knows nothing of how the engine works inside. Two modes, by the first byte:
 *  - raw: a pattern up to the first NUL and a subject after it, any bytes (sizes bounded);
 *    properties: rx_compile, "pattern" and "patternProperties" accept the same patterns, and
 *    a subject matches by each exactly when it matches by the others.
 *  - differential: the input drives a generator of ECMA-262 patterns inside the supported
 *    subset (literals, ., classes, \d \w \s and negations, ^ $ \b \B, groups, |, * + ? {n,m}
 *    greedy and lazy) and of subjects over a small alphabet (with line terminators, a 2-byte,
 *    a 3-byte and a 4-byte character); property: the engine (a Thompson NFA over code points)
 *    finds a match exactly when a reference written here does (the set of end positions each
 *    part can reach, computed over the generated tree, never over the text). */
#include <string.h>
#include "fuzz.h"
#include "rx.h"
#include "schema.h"

/* Bytes of a raw pattern and of a raw subject: a pattern is refused past 4096 bytes anyway,
 * and a match costs subject length x instructions. */
#define RAW_PATTERN_MAX 4200
#define RAW_SUBJECT_MAX 1024
/* Tree nodes of a generated pattern, children of one node, nesting, and the longest
 * generated subject in code points (end positions are bits of a 32-bit set). */
#define GEN_NODES 64
#define GEN_KIDS 4
#define GEN_DEPTH 5
#define GEN_SUBJECT 24
/* Bytes of a rendered pattern: a node renders to at most about 60. */
#define GEN_TEXT 8192
/* Bytes of the one-line messages. */
#define ERR_LEN 256

/* ---- The engine, through schemas ------------------------------------------------------- */

/* schema {"pattern": p} or {"patternProperties": {p: false}}; NULL when refused (err says
 * why). Owned. */
static struct schema *compile(const char *p, size_t len, int as_names, char *err)
{
	json_object *root = json_object_new_object(), *pp;
	struct schema *s = NULL;
	char *key;

	if (!as_names) {
		json_object_object_add(root, "pattern", json_object_new_string_len(p, (int)len));
	} else {
		key = strndup(p, len);
		FUZZ_CHECK(key != NULL, "out of memory");
		pp = json_object_new_object();
		json_object_object_add(pp, key, json_object_new_boolean(0));
		json_object_object_add(root, "patternProperties", pp);
		free(key);
	}
	if (schema_new(root, &s, err, ERR_LEN) != DMCP_OK)
		s = NULL;
	json_object_put(root);
	return s;
}

/* 1 when subject matches the compiled pattern of s (valid against "pattern", or invalid
 * against "patternProperties": {p: false}). */
static int matches(const struct schema *s, const char *subject, size_t len, int as_names)
{
	json_object *x;
	char err[ERR_LEN], *key;
	dmcp_rc rc;

	if (!as_names) {
		x = json_object_new_string_len(subject, (int)len);
	} else {
		key = strndup(subject, len);
		FUZZ_CHECK(key != NULL, "out of memory");
		x = json_object_new_object();
		json_object_object_add(x, key, json_object_new_int(0));
		free(key);
	}
	rc = schema_validate(s, x, err, sizeof err);
	json_object_put(x);
	FUZZ_CHECK(rc == DMCP_OK || rc == DMCP_E_VALIDATION, "schema_validate gave %s",
	           dmcp_rc_name(rc));
	return as_names ? rc != DMCP_OK : rc == DMCP_OK;
}

/* rx_search's answer (it fails only when out of memory). */
static int search(const struct rx *rx, const char *s, size_t n)
{
	int found = -1;

	FUZZ_CHECK(rx_search(rx, s, n, &found) == DMCP_OK && (found == 0 || found == 1),
	           "rx_search failed");
	return found;
}

static void raw_mode(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t plen = nul != NULL ? (size_t)(nul - data) : size, slen;
	const char *subject = nul != NULL ? (const char *)nul + 1 : "", *why = NULL;
	struct schema *a, *b;
	struct rx *rx = NULL;
	char err[ERR_LEN];
	int found;

	slen = nul != NULL ? size - plen - 1 : 0;
	if (plen > RAW_PATTERN_MAX)
		plen = RAW_PATTERN_MAX;
	if (slen > RAW_SUBJECT_MAX)
		slen = RAW_SUBJECT_MAX;
	if (memchr(subject, '\0', slen) != NULL)
		slen = strlen(subject); /* names are C strings */
	a = compile((const char *)data, plen, 0, err);
	b = compile((const char *)data, plen, 1, err);
	FUZZ_CHECK((a == NULL) == (b == NULL), "pattern and patternProperties disagree on a "
	           "pattern: %s", err);
	FUZZ_CHECK((a == NULL) == (rx_compile((const char *)data, plen, &rx, &why) != DMCP_OK),
	           "rx_compile and the schema disagree on a pattern");
	if (a != NULL) {
		found = search(rx, subject, slen);
		FUZZ_CHECK(matches(a, subject, slen, 0) == found, "pattern and rx_search disagree");
		FUZZ_CHECK(matches(b, subject, slen, 1) == found,
		           "patternProperties and rx_search disagree");
	}
	rx_free(rx);
	schema_free(a);
	schema_free(b);
}

/* ---- The generator and the reference ---------------------------------------------------- */

/* The subjects' characters: word characters, a dash, every kind of space and line break the
 * escapes care about, é (2 bytes), U+2028 LINE SEPARATOR (3), U+1F600 (4). */
static const uint32_t alphabet[] = {'a', 'b', 'c', '_', '1', 'Z', '-', ' ', '\t', '\n', '\r',
                                    0xa0, 0xe9, 0x2028, 0x1f600};
#define NALPHA (sizeof alphabet / sizeof alphabet[0])

enum kind { K_CHAR, K_ANY, K_CLASS, K_ESC, K_BOL, K_EOL, K_WB, K_NWB, K_CAT, K_ALT, K_REP };

struct node {
	enum kind kind;
	uint32_t cp;          /* K_CHAR: the character */
	char esc;             /* K_ESC: d D w W s S; K_CLASS: one class escape inside, or 0 */
	int negate;           /* K_CLASS: [^...] */
	uint32_t lo[2], hi[2]; /* K_CLASS: up to two ranges (a single character is lo == hi) */
	int nranges;          /* K_CLASS: how many */
	int kids[GEN_KIDS];   /* K_CAT, K_ALT: the parts; K_REP: kids[0] */
	int nkids;            /* how many */
	int min, max;         /* K_REP: counts, max -1 for no limit */
	int lazy;             /* K_REP: the ? suffix */
	int style;            /* how a character is written (raw, \u, \u{}) */
};

struct gen {
	const uint8_t *p, *end; /* the input bytes left */
	struct node nodes[GEN_NODES];
	int n;
};

static unsigned take(struct gen *g)
{
	return g->p < g->end ? *g->p++ : 0;
}

static int add(struct gen *g, enum kind k)
{
	struct node *nd = &g->nodes[g->n];

	FUZZ_CHECK(g->n < GEN_NODES, "the generator made too many nodes");
	memset(nd, 0, sizeof *nd);
	nd->kind = k;
	return g->n++;
}

static int gen_node(struct gen *g, int depth)
{
	unsigned k = take(g) % 16, i;
	int me;

	/* Past the threshold only characters: each of the at most GEN_DEPTH parents still
	 * open then adds at most GEN_KIDS of them and itself. */
	if (g->n >= GEN_NODES - (GEN_DEPTH + 1) * (GEN_KIDS + 1) || (depth >= GEN_DEPTH && k >= 10))
		k = 0;
	if (k <= 3) {
		me = add(g, K_CHAR);
		g->nodes[me].cp = alphabet[take(g) % NALPHA];
		g->nodes[me].style = (int)(take(g) % 3);
	} else if (k == 4) {
		me = add(g, K_ANY);
	} else if (k == 5) {
		me = add(g, K_CLASS);
		g->nodes[me].negate = take(g) & 1;
		g->nodes[me].nranges = (int)(take(g) % 3);
		for (i = 0; i < (unsigned)g->nodes[me].nranges; i++) {
			uint32_t a = alphabet[take(g) % NALPHA], b = alphabet[take(g) % NALPHA];
			g->nodes[me].lo[i] = a < b ? a : b;
			g->nodes[me].hi[i] = a < b ? b : a;
		}
		g->nodes[me].esc = (take(g) & 1) ? "dDwWsS"[take(g) % 6] : 0;
	} else if (k == 6) {
		me = add(g, K_ESC);
		g->nodes[me].esc = "dDwWsS"[take(g) % 6];
	} else if (k <= 9) {
		me = add(g, k == 7 ? K_BOL : k == 8 ? K_EOL : (take(g) & 1) ? K_WB : K_NWB);
		if (k == 7 && (take(g) & 1))
			g->nodes[me].kind = K_EOL;
	} else if (k <= 13) {
		int kids[GEN_KIDS], nk = (int)(take(g) % (k <= 11 ? 4 : 3)) + (k <= 11 ? 0 : 2), j;
		for (j = 0; j < nk; j++)
			kids[j] = gen_node(g, depth + 1);
		me = add(g, k <= 11 ? K_CAT : K_ALT);
		memcpy(g->nodes[me].kids, kids, sizeof kids);
		g->nodes[me].nkids = nk;
	} else {
		int kid = gen_node(g, depth + 1), q = (int)(take(g) % 7);
		me = add(g, K_REP);
		g->nodes[me].kids[0] = kid;
		g->nodes[me].nkids = 1;
		g->nodes[me].lazy = take(g) & 1;
		g->nodes[me].min = q == 1 ? 1 : q >= 3 ? (int)(take(g) % 4) : 0;
		g->nodes[me].max = q <= 1 ? -1 : q == 2 ? 1 : q == 3 ? g->nodes[me].min
		                 : q == 4 ? -1 : g->nodes[me].min + (int)(take(g) % 3);
		g->nodes[me].style = q;
	}
	return me;
}

struct text {
	char s[GEN_TEXT];
	size_t n;
};

static void put(struct text *t, const char *s)
{
	size_t k = strlen(s);

	FUZZ_CHECK(t->n + k < sizeof t->s, "pattern text too long");
	memcpy(t->s + t->n, s, k);
	t->n += k;
}

static void put_utf8(struct text *t, uint32_t cp)
{
	char b[5] = {0};

	if (cp < 0x80) {
		b[0] = (char)cp;
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | cp >> 6);
		b[1] = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | cp >> 12);
		b[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
	} else {
		b[0] = (char)(0xf0 | cp >> 18);
		b[1] = (char)(0x80 | (cp >> 12 & 0x3f));
		b[2] = (char)(0x80 | (cp >> 6 & 0x3f));
		b[3] = (char)(0x80 | (cp & 0x3f));
	}
	put(t, b);
}

/* A character as a pattern writes it, in a class or not; style picks among the spellings. */
static void put_char(struct text *t, uint32_t cp, int style, int in_class)
{
	char b[32];

	if (cp == '-' && in_class) {
		put(t, "\\-");
	} else if (cp == '\t' || cp == '\n' || cp == '\r') {
		put(t, cp == '\t' ? "\\t" : cp == '\n' ? "\\n" : "\\r");
	} else if (style == 1 && cp < 0x10000) {
		snprintf(b, sizeof b, "\\u%04X", (unsigned)cp);
		put(t, b);
	} else if (style == 1) { /* a surrogate pair */
		snprintf(b, sizeof b, "\\u%04x\\u%04x", (unsigned)(0xd800 + ((cp - 0x10000) >> 10)),
		         (unsigned)(0xdc00 + ((cp - 0x10000) & 0x3ff)));
		put(t, b);
	} else if (style == 2 && cp >= 0x80) {
		snprintf(b, sizeof b, "\\u{%x}", (unsigned)cp);
		put(t, b);
	} else {
		put_utf8(t, cp);
	}
}

static int atomic(const struct node *nd)
{
	return nd->kind == K_CHAR || nd->kind == K_ANY || nd->kind == K_CLASS || nd->kind == K_ESC;
}

static void render(const struct gen *g, int i, struct text *t)
{
	const struct node *nd = &g->nodes[i];
	char b[32];
	int j;

	switch (nd->kind) {
	case K_CHAR: put_char(t, nd->cp, nd->style, 0); return;
	case K_ANY: put(t, "."); return;
	case K_ESC: snprintf(b, sizeof b, "\\%c", nd->esc); put(t, b); return;
	case K_BOL: put(t, "^"); return;
	case K_EOL: put(t, "$"); return;
	case K_WB: put(t, "\\b"); return;
	case K_NWB: put(t, "\\B"); return;
	case K_CLASS:
		put(t, nd->negate ? "[^" : "[");
		for (j = 0; j < nd->nranges; j++) {
			put_char(t, nd->lo[j], 0, 1);
			if (nd->hi[j] != nd->lo[j]) {
				put(t, "-");
				put_char(t, nd->hi[j], 2, 1);
			}
		}
		if (nd->esc != 0) {
			snprintf(b, sizeof b, "\\%c", nd->esc);
			put(t, b);
		}
		put(t, "]");
		return;
	case K_CAT:
	case K_ALT:
		for (j = 0; j < nd->nkids; j++) {
			int group = g->nodes[nd->kids[j]].kind == K_ALT;
			if (j > 0 && nd->kind == K_ALT)
				put(t, "|");
			put(t, group ? "(?:" : "");
			render(g, nd->kids[j], t);
			put(t, group ? ")" : "");
		}
		return;
	case K_REP: {
		const struct node *kid = &g->nodes[nd->kids[0]];
		put(t, atomic(kid) ? "" : (nd->style & 1) ? "(" : "(?:");
		render(g, nd->kids[0], t);
		put(t, atomic(kid) ? "" : ")");
		if (nd->style <= 1 && nd->max < 0)
			put(t, nd->min == 0 ? "*" : "+");
		else if (nd->style == 2)
			put(t, "?");
		else if (nd->max == nd->min)
			snprintf(b, sizeof b, "{%d}", nd->min), put(t, b);
		else if (nd->max < 0)
			snprintf(b, sizeof b, "{%d,}", nd->min), put(t, b);
		else
			snprintf(b, sizeof b, "{%d,%d}", nd->min, nd->max), put(t, b);
		put(t, nd->lazy ? "?" : "");
		return;
	}
	}
}

/* ECMA-262 character sets, from the specification's lists. */
static int ref_word(uint32_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

static int ref_line_terminator(uint32_t c)
{
	return c == '\n' || c == '\r' || c == 0x2028 || c == 0x2029;
}

static int ref_space(uint32_t c) /* WhiteSpace and LineTerminator */
{
	return c == '\t' || c == 0x0b || c == 0x0c || c == ' ' || c == 0xa0 || c == 0xfeff ||
	       c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x202f || c == 0x205f ||
	       c == 0x3000 || ref_line_terminator(c);
}

static int ref_escape(char e, uint32_t c)
{
	switch (e) {
	case 'd': return c >= '0' && c <= '9';
	case 'D': return !(c >= '0' && c <= '9');
	case 'w': return ref_word(c);
	case 'W': return !ref_word(c);
	case 's': return ref_space(c);
	default: return !ref_space(c);
	}
}

struct ref {
	const struct gen *g;
	const uint32_t *s; /* the subject's code points */
	int n;             /* how many */
	uint32_t memo[GEN_NODES][GEN_SUBJECT + 1]; /* end positions + 1 bit for "known" */
};

/* Bit j set: node i can match from position at to position j. */
static uint32_t reach(struct ref *r, int i, int at);

static uint32_t step(struct ref *r, int i, uint32_t from)
{
	uint32_t to = 0;
	int j;

	for (j = 0; j <= r->n; j++)
		if (from >> j & 1)
			to |= reach(r, i, j);
	return to;
}

static uint32_t reach_node(struct ref *r, const struct node *nd, int at)
{
	uint32_t c = at < r->n ? r->s[at] : 0, here = 1u << at, next = 1u << (at + 1), set, all;
	int j, in, wb;

	switch (nd->kind) {
	case K_CHAR: return at < r->n && c == nd->cp ? next : 0;
	case K_ANY: return at < r->n && !ref_line_terminator(c) ? next : 0;
	case K_ESC: return at < r->n && ref_escape(nd->esc, c) ? next : 0;
	case K_CLASS:
		if (at >= r->n)
			return 0;
		in = nd->esc != 0 && ref_escape(nd->esc, c);
		for (j = 0; j < nd->nranges; j++)
			in |= c >= nd->lo[j] && c <= nd->hi[j];
		return in != nd->negate ? next : 0;
	case K_BOL: return at == 0 ? here : 0;
	case K_EOL: return at == r->n ? here : 0;
	case K_WB:
	case K_NWB:
		wb = (at > 0 && ref_word(r->s[at - 1])) != (at < r->n && ref_word(c));
		return wb == (nd->kind == K_WB) ? here : 0;
	case K_CAT:
		set = here;
		for (j = 0; j < nd->nkids; j++)
			set = step(r, nd->kids[j], set);
		return set;
	case K_ALT:
		for (set = 0, j = 0; j < nd->nkids; j++)
			set |= reach(r, nd->kids[j], at);
		return set;
	case K_REP:
		set = here;
		for (j = 0; j < nd->min; j++)
			set = step(r, nd->kids[0], set);
		all = set;
		for (j = nd->min; nd->max < 0 || j < nd->max; j++) {
			set = step(r, nd->kids[0], set);
			if ((set & ~all) == 0 && nd->max < 0)
				break;
			all |= set;
		}
		return all;
	}
	return 0;
}

static uint32_t reach(struct ref *r, int i, int at)
{
	if (r->memo[i][at] == 0)
		r->memo[i][at] = reach_node(r, &r->g->nodes[i], at) << 1 | 1;
	return r->memo[i][at] >> 1;
}

static void differential(const uint8_t *data, size_t size)
{
	static struct gen g;
	static struct ref r;
	static struct text pat, subj;
	uint32_t s[GEN_SUBJECT];
	struct schema *a, *b;
	struct rx *rx = NULL;
	const char *why = NULL;
	char err[ERR_LEN];
	int n, i, root, want;

	g.p = data;
	g.end = data + size;
	g.n = 0;
	n = (int)(take(&g) % (GEN_SUBJECT + 1));
	subj.n = 0;
	for (i = 0; i < n; i++) {
		s[i] = alphabet[take(&g) % NALPHA];
		put_utf8(&subj, s[i]);
	}
	root = gen_node(&g, 0);
	pat.n = 0;
	render(&g, root, &pat);
	memset(&r, 0, sizeof r);
	r.g = &g;
	r.s = s;
	r.n = n;
	for (want = 0, i = 0; i <= n && !want; i++)
		want = reach(&r, root, i) != 0;

	if (rx_compile(pat.s, pat.n, &rx, &why) != DMCP_OK) {
		/* The generator stays inside the supported subset: only size may be refused. */
		FUZZ_CHECK(strstr(why, "too complex") != NULL || strstr(why, "nested too deeply"),
		           "a supported pattern /%.*s/ refused: %s", (int)pat.n, pat.s, why);
		return;
	}
	FUZZ_CHECK(search(rx, subj.s, subj.n) == want, "/%.*s/ on \"%.*s\": the reference says "
	           "%s", (int)pat.n, pat.s, (int)subj.n, subj.s, want ? "match" : "no match");
	rx_free(rx);
	/* and through a schema, once in a while (it costs more) */
	if (size % 8 == 0) {
		a = compile(pat.s, pat.n, 0, err);
		b = compile(pat.s, pat.n, 1, err);
		FUZZ_CHECK(a != NULL && b != NULL && matches(a, subj.s, subj.n, 0) == want &&
		           matches(b, subj.s, subj.n, 1) == want,
		           "the schema keywords disagree with rx on /%.*s/", (int)pat.n, pat.s);
		schema_free(a);
		schema_free(b);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] & 1)
		differential(data + 1, size - 1);
	else
		raw_mode(data + 1, size - 1);
	return 0;
}
