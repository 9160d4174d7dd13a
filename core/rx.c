/* rx.c — the pattern engine (see rx.h): a recursive-descent parser into a node tree, code
 * generation into a Thompson NFA (SET, SPLIT, JMP, assertions, MATCH), and a simulation that
 * keeps one thread per instruction. Knows nothing of JSON or schemas.
 * Interface: rx_compile, rx_search, rx_free. Lazy quantifiers and capture groups parse but
 * change nothing: a yes/no search needs neither a preferred match nor its groups. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "rx.h"
#include "utf8.h"

#define RX_NONE 0xffffffffu /* "no code point": before the start or after the end */

struct rx_range {
	uint32_t lo; /* first code point */
	uint32_t hi; /* last code point, inclusive */
};

struct rx_class {
	size_t first; /* its first range in rx ranges */
	size_t count; /* ranges */
	int negate;   /* matches what is outside the ranges */
};

enum rx_op { RX_SET, RX_SPLIT, RX_JMP, RX_BOL, RX_EOL, RX_WORDB, RX_NWORDB, RX_MATCH };

struct rx_insn {
	enum rx_op op; /* what the instruction does */
	int x;         /* RX_SET: class; RX_SPLIT, RX_JMP: target */
	int y;         /* RX_SPLIT: second target */
};

struct rx {
	struct rx_insn *code;     /* the program, ending with RX_MATCH */
	int ncode;                /* instructions */
	struct rx_class *classes; /* the classes RX_SET tests */
	struct rx_range *ranges;  /* the classes' ranges */
};

enum rx_kind { RXN_SET, RXN_ASSERT, RXN_CAT, RXN_ALT, RXN_REP };

/* A node of the parsed pattern. Concatenations and alternations are lists linked by next. */
struct rx_node {
	enum rx_kind kind; /* what the node is */
	int a;             /* RXN_SET: class; RXN_ASSERT: rx_op; CAT, ALT: first child; REP: child */
	int next;          /* the next node in the parent's list, or -1 */
	int min;           /* RXN_REP: fewest repetitions */
	int max;           /* RXN_REP: most repetitions, -1 for no limit */
};

struct rx_build {
	const char *p;           /* next pattern byte */
	const char *end;         /* end of the pattern */
	const char *why;         /* what is wrong with the pattern, or NULL */
	int nest;                /* group nesting at p */
	struct rx_node *nodes;   /* parsed nodes */
	int nnodes;              /* nodes in use */
	int capnodes;            /* nodes allocated */
	struct rx_class *classes; /* classes */
	int nclasses;            /* classes in use */
	int capclasses;          /* classes allocated */
	struct rx_range *ranges; /* ranges of all classes */
	size_t nranges;          /* ranges in use */
	size_t capranges;        /* ranges allocated */
	struct rx_insn *code;    /* the program being emitted */
	int ncode;               /* instructions in use (RX_MAX_INSNS allocated) */
};

static const struct rx_range rx_digit[] = {{'0', '9'}};
static const struct rx_range rx_word[] = {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}};
static const struct rx_range rx_space[] = {
	{0x09, 0x0d}, {0x20, 0x20}, {0xa0, 0xa0}, {0x1680, 0x1680}, {0x2000, 0x200a},
	{0x2028, 0x2029}, {0x202f, 0x202f}, {0x205f, 0x205f}, {0x3000, 0x3000}, {0xfeff, 0xfeff}};
static const struct rx_range rx_newline[] = {{0x0a, 0x0a}, {0x0d, 0x0d}, {0x2028, 0x2029}};

static int rx_fail(struct rx_build *b, const char *why)
{
	if (b->why == NULL)
		b->why = why;
	return -1;
}

static int rx_node(struct rx_build *b, enum rx_kind kind, int a)
{
	struct rx_node *n;

	if (b->nnodes >= b->capnodes)
		return rx_fail(b, "pattern too complex");
	n = &b->nodes[b->nnodes];
	n->kind = kind;
	n->a = a;
	n->next = -1;
	n->min = 0;
	n->max = 0;
	return b->nnodes++;
}

static int rx_add_range(struct rx_build *b, uint32_t lo, uint32_t hi)
{
	if (b->nranges >= b->capranges)
		return rx_fail(b, "pattern too complex");
	b->ranges[b->nranges].lo = lo;
	b->ranges[b->nranges].hi = hi;
	b->nranges++;
	b->classes[b->nclasses - 1].count++;
	return 0;
}

/* Adds a sorted range table to the open class, or its complement. */
static int rx_add_table(struct rx_build *b, const struct rx_range *t, size_t n, int negate)
{
	uint32_t next = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!negate && rx_add_range(b, t[i].lo, t[i].hi) < 0)
			return -1;
		if (negate && t[i].lo > next && rx_add_range(b, next, t[i].lo - 1) < 0)
			return -1;
		next = t[i].hi + 1;
	}
	if (negate && next <= UTF8_MAX_CP)
		return rx_add_range(b, next, UTF8_MAX_CP);
	return 0;
}

/* Opens a new class; its ranges follow with rx_add_*. Returns its RXN_SET node. */
static int rx_open_class(struct rx_build *b, int negate)
{
	if (b->nclasses >= b->capclasses)
		return rx_fail(b, "pattern too complex");
	b->classes[b->nclasses].first = b->nranges;
	b->classes[b->nclasses].count = 0;
	b->classes[b->nclasses].negate = negate;
	b->nclasses++;
	return rx_node(b, RXN_SET, b->nclasses - 1);
}

/* \d \D \w \W \s \S into the open class; 1 when c was one of them. */
static int rx_class_escape(struct rx_build *b, char c, int *bad)
{
	const struct rx_range *t;
	size_t n;

	switch (c) {
	case 'd': case 'D':
		t = rx_digit;
		n = sizeof rx_digit / sizeof rx_digit[0];
		break;
	case 'w': case 'W':
		t = rx_word;
		n = sizeof rx_word / sizeof rx_word[0];
		break;
	case 's': case 'S':
		t = rx_space;
		n = sizeof rx_space / sizeof rx_space[0];
		break;
	default:
		return 0;
	}
	*bad = rx_add_table(b, t, n, c == 'D' || c == 'W' || c == 'S') < 0;
	return 1;
}

static int rx_hex(struct rx_build *b, int digits, uint32_t *out)
{
	uint32_t v = 0;
	int i, d;

	for (i = 0; i < digits; i++) {
		if (b->p >= b->end)
			return rx_fail(b, "bad hexadecimal escape");
		d = *b->p >= '0' && *b->p <= '9' ? *b->p - '0' :
		    *b->p >= 'a' && *b->p <= 'f' ? *b->p - 'a' + 10 :
		    *b->p >= 'A' && *b->p <= 'F' ? *b->p - 'A' + 10 : -1;
		if (d < 0)
			return rx_fail(b, "bad hexadecimal escape");
		v = v * 16 + (uint32_t)d;
		b->p++;
	}
	*out = v;
	return 0;
}

/* \u{...}, \uXXXX and a \uXXXX\uXXXX surrogate pair; p is after the 'u'. */
static int rx_unicode(struct rx_build *b, uint32_t *cp)
{
	uint32_t lo;
	int digits = 0;

	if (b->p < b->end && *b->p == '{') {
		b->p++;
		*cp = 0;
		while (b->p < b->end && *b->p != '}' && digits++ < 6) {
			if (rx_hex(b, 1, &lo) < 0)
				return -1;
			*cp = *cp * 16 + lo;
		}
		if (b->p >= b->end || *b->p != '}' || digits == 0 || *cp > UTF8_MAX_CP)
			return rx_fail(b, "bad \\u{...} escape");
		b->p++;
		return 0;
	}
	if (rx_hex(b, 4, cp) < 0)
		return -1;
	if (*cp < 0xd800 || *cp > 0xdbff || b->end - b->p < 6 || b->p[0] != '\\' || b->p[1] != 'u')
		return 0;
	b->p += 2;
	if (rx_hex(b, 4, &lo) < 0)
		return -1;
	if (lo < 0xdc00 || lo > 0xdfff)
		return rx_fail(b, "unpaired surrogate");
	*cp = 0x10000 + ((*cp - 0xd800) << 10) + (lo - 0xdc00);
	return 0;
}

/* A character escape (after the backslash, p at the letter): its code point in *cp. */
static int rx_char_escape(struct rx_build *b, uint32_t *cp)
{
	char c = *b->p++;

	switch (c) {
	case 't': *cp = '\t'; return 0;
	case 'n': *cp = '\n'; return 0;
	case 'v': *cp = '\v'; return 0;
	case 'f': *cp = '\f'; return 0;
	case 'r': *cp = '\r'; return 0;
	case 'x': return rx_hex(b, 2, cp);
	case 'u': return rx_unicode(b, cp);
	case 'c':
		if (b->p >= b->end || !((*b->p >= 'a' && *b->p <= 'z') || (*b->p >= 'A' && *b->p <= 'Z')))
			return rx_fail(b, "bad \\c escape");
		*cp = (uint32_t)(*b->p++ % 32);
		return 0;
	case '0':
		if (b->p < b->end && *b->p >= '0' && *b->p <= '9')
			return rx_fail(b, "octal escapes are not supported");
		*cp = 0;
		return 0;
	default:
		break;
	}
	if (c >= '1' && c <= '9')
		return rx_fail(b, "backreferences are not supported");
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return rx_fail(b, "unsupported escape (\\p, \\k and the like)");
	b->p--;
	b->p += utf8_next(b->p, (size_t)(b->end - b->p), cp);
	return 0;
}

/* One class member: a code point in *cp (returns 0), or a \d-like set added (returns 1). */
static int rx_class_atom(struct rx_build *b, uint32_t *cp)
{
	int bad = 0;

	if (*b->p != '\\') {
		b->p += utf8_next(b->p, (size_t)(b->end - b->p), cp);
		return 0;
	}
	b->p++;
	if (b->p >= b->end)
		return rx_fail(b, "pattern ends with a backslash");
	if (rx_class_escape(b, *b->p, &bad)) {
		b->p++;
		return bad ? -1 : 1;
	}
	if (*b->p == 'b') {
		b->p++;
		*cp = '\b';
		return 0;
	}
	if (*b->p == '-') {
		b->p++;
		*cp = '-';
		return 0;
	}
	return rx_char_escape(b, cp);
}

/* [...] with p after the '['. */
static int rx_bracket(struct rx_build *b)
{
	int node, kind;
	uint32_t lo, hi;

	node = rx_open_class(b, b->p < b->end && *b->p == '^');
	if (node >= 0 && b->p < b->end && *b->p == '^')
		b->p++;
	while (node >= 0 && b->p < b->end && *b->p != ']') {
		kind = rx_class_atom(b, &lo);
		if (kind != 0) {
			if (kind < 0 || (b->p < b->end && *b->p == '-' && b->end - b->p > 1 && b->p[1] != ']'))
				return kind < 0 ? -1 : rx_fail(b, "a class escape cannot start a range");
			continue;
		}
		hi = lo;
		if (b->end - b->p > 1 && *b->p == '-' && b->p[1] != ']') {
			b->p++;
			kind = rx_class_atom(b, &hi);
			if (kind != 0)
				return kind < 0 ? -1 : rx_fail(b, "a class escape cannot end a range");
			if (hi < lo)
				return rx_fail(b, "range out of order in character class");
		}
		if (rx_add_range(b, lo, hi) < 0)
			return -1;
	}
	if (node < 0)
		return -1;
	if (b->p >= b->end)
		return rx_fail(b, "missing ]");
	b->p++;
	return node;
}

static int rx_alt(struct rx_build *b);

/* Skips "?<name>" of a named group; the name is not needed for a yes/no match. */
static const char *rx_skip_name(const char *p, const char *end)
{
	while (p < end && *p != '>')
		p++;
	return p < end ? p + 1 : p;
}

/* (...) with p after the '('. */
static int rx_group(struct rx_build *b)
{
	int inner;

	if (b->p < b->end && *b->p == '?') {
		if (b->end - b->p > 1 && b->p[1] == ':')
			b->p += 2;
		else if (b->end - b->p > 2 && b->p[1] == '<' && b->p[2] != '=' && b->p[2] != '!')
			b->p = rx_skip_name(b->p, b->end);
		else
			return rx_fail(b, "lookaround is not supported");
	}
	b->nest++;
	if (b->nest > RX_MAX_NEST)
		return rx_fail(b, "groups nested too deeply");
	inner = rx_alt(b);
	b->nest--;
	if (inner < 0)
		return -1;
	if (b->p >= b->end || *b->p != ')')
		return rx_fail(b, "missing )");
	b->p++;
	return inner;
}

/* A single code point as a one-range class. */
static int rx_literal(struct rx_build *b, uint32_t cp)
{
	int node = rx_open_class(b, 0);

	if (node < 0 || rx_add_range(b, cp, cp) < 0)
		return -1;
	return node;
}

/* An escape outside a class, p after the backslash. */
static int rx_escape(struct rx_build *b)
{
	uint32_t cp;
	int node, bad = 0;

	if (b->p >= b->end)
		return rx_fail(b, "pattern ends with a backslash");
	if (*b->p == 'b' || *b->p == 'B')
		return rx_node(b, RXN_ASSERT, *b->p++ == 'b' ? RX_WORDB : RX_NWORDB);
	if (*b->p != '\0' && strchr("dDwWsS", *b->p) != NULL) {
		node = rx_open_class(b, 0);
		if (node < 0)
			return -1;
		rx_class_escape(b, *b->p++, &bad);
		return bad ? -1 : node;
	}
	if (rx_char_escape(b, &cp) < 0)
		return -1;
	return rx_literal(b, cp);
}

/* Reads decimal digits from q into *v, which stops growing past RX_MAX_COUNT. */
static const char *rx_digits(const char *q, const char *end, long *v)
{
	*v = 0;
	for (; q < end && *q >= '0' && *q <= '9'; q++)
		if (*v <= RX_MAX_COUNT)
			*v = *v * 10 + (*q - '0');
	return q;
}

/* Parses {n}, {n,} or {n,m} at p; 0 (p unmoved) when the brace is a literal. */
static int rx_braces(struct rx_build *b, int *min, int *max)
{
	const char *q = b->p + 1;
	long n = 0, m = -1;

	if (q >= b->end || *q < '0' || *q > '9')
		return 0;
	q = rx_digits(q, b->end, &n);
	if (q < b->end && *q == ',') {
		q++;
		m = q < b->end && *q >= '0' && *q <= '9' ? 0 : -2;
		if (m == 0)
			q = rx_digits(q, b->end, &m);
	} else {
		m = n;
	}
	if (q >= b->end || *q != '}')
		return 0;
	if (n > RX_MAX_COUNT || m > RX_MAX_COUNT)
		return rx_fail(b, "repetition count too large");
	b->p = q + 1;
	*min = (int)n;
	*max = m == -2 ? -1 : (int)m;
	return 1;
}

static int rx_atom(struct rx_build *b, int *bare_assert)
{
	uint32_t cp;
	int min, max;
	char c = *b->p++;

	*bare_assert = c == '^' || c == '$' ||
	               (c == '\\' && b->p < b->end && (*b->p == 'b' || *b->p == 'B'));
	switch (c) {
	case '(': return rx_group(b);
	case '[': return rx_bracket(b);
	case '.': {
		int node = rx_open_class(b, 1);

		if (node < 0)
			return -1;
		return rx_add_table(b, rx_newline, sizeof rx_newline / sizeof rx_newline[0], 0) < 0 ? -1 : node;
	}
	case '^': return rx_node(b, RXN_ASSERT, RX_BOL);
	case '$': return rx_node(b, RXN_ASSERT, RX_EOL);
	case '\\': return rx_escape(b);
	case '*': case '+': case '?':
		return rx_fail(b, "nothing to repeat");
	case '{':
		b->p--;
		if (rx_braces(b, &min, &max) != 0)
			return rx_fail(b, "nothing to repeat");
		b->p++;
		return rx_literal(b, '{');
	default:
		b->p--;
		b->p += utf8_next(b->p, (size_t)(b->end - b->p), &cp);
		return rx_literal(b, cp);
	}
}

/* An atom and its quantifier. */
static int rx_term(struct rx_build *b)
{
	int atom, bare, rep, min = -1, max = -1, q;

	atom = rx_atom(b, &bare);
	if (atom < 0 || b->p >= b->end)
		return atom;
	if (*b->p == '*' || *b->p == '+' || *b->p == '?') {
		min = *b->p == '+' ? 1 : 0;
		max = *b->p == '?' ? 1 : -1;
		b->p++;
	} else if (*b->p == '{') {
		q = rx_braces(b, &min, &max);
		if (q <= 0)
			return q < 0 ? -1 : atom;
	} else {
		return atom;
	}
	if (bare)
		return rx_fail(b, "nothing to repeat");
	if (max >= 0 && min > max)
		return rx_fail(b, "numbers out of order in {} quantifier");
	if (b->p < b->end && *b->p == '?')
		b->p++; /* lazy: a yes/no match does not care */
	rep = rx_node(b, RXN_REP, atom);
	if (rep >= 0) {
		b->nodes[rep].min = min;
		b->nodes[rep].max = max;
	}
	return rep;
}

static int rx_cat(struct rx_build *b)
{
	int cat = rx_node(b, RXN_CAT, -1), last = -1, t;

	while (cat >= 0 && b->p < b->end && *b->p != '|' && *b->p != ')') {
		t = rx_term(b);
		if (t < 0)
			return -1;
		if (last < 0)
			b->nodes[cat].a = t;
		else
			b->nodes[last].next = t;
		last = t;
	}
	return cat;
}

static int rx_alt(struct rx_build *b)
{
	int first = rx_cat(b), last = first, alt, next;

	if (first < 0 || b->p >= b->end || *b->p != '|')
		return first;
	alt = rx_node(b, RXN_ALT, first);
	while (alt >= 0 && b->p < b->end && *b->p == '|') {
		b->p++;
		next = rx_cat(b);
		if (next < 0)
			return -1;
		b->nodes[last].next = next;
		last = next;
	}
	return alt;
}

static int rx_emit(struct rx_build *b, enum rx_op op, int x, int y)
{
	if (b->ncode >= RX_MAX_INSNS)
		return rx_fail(b, "pattern too complex");
	b->code[b->ncode].op = op;
	b->code[b->ncode].x = x;
	b->code[b->ncode].y = y;
	return b->ncode++;
}

static int rx_gen(struct rx_build *b, int n);

/* Jump lists: targets not yet known are chained through x and patched to the current end. */
static void rx_patch(struct rx_build *b, int list, int use_y)
{
	int next;

	while (list >= 0) {
		next = use_y ? b->code[list].y : b->code[list].x;
		if (use_y)
			b->code[list].y = b->ncode;
		else
			b->code[list].x = b->ncode;
		list = next;
	}
}

static int rx_gen_alt(struct rx_build *b, const struct rx_node *n)
{
	int c, s, jumps = -1;

	for (c = n->a; c >= 0; c = b->nodes[c].next) {
		s = b->nodes[c].next >= 0 ? rx_emit(b, RX_SPLIT, b->ncode + 1, -1) : -2;
		if (s == -1 || rx_gen(b, c) < 0)
			return -1;
		if (s == -2)
			continue;
		jumps = rx_emit(b, RX_JMP, jumps, 0);
		if (jumps < 0)
			return -1;
		b->code[s].y = b->ncode;
	}
	rx_patch(b, jumps, 0);
	return 0;
}

static int rx_gen_rep(struct rx_build *b, const struct rx_node *n)
{
	int i, s, splits = -1;

	for (i = 0; i < n->min; i++)
		if (rx_gen(b, n->a) < 0)
			return -1;
	if (n->max < 0) {
		s = rx_emit(b, RX_SPLIT, b->ncode + 1, -1);
		if (s < 0 || rx_gen(b, n->a) < 0 || rx_emit(b, RX_JMP, s, 0) < 0)
			return -1;
		b->code[s].y = b->ncode;
		return 0;
	}
	for (i = n->min; i < n->max; i++) {
		s = rx_emit(b, RX_SPLIT, b->ncode + 1, splits);
		if (s < 0 || rx_gen(b, n->a) < 0)
			return -1;
		splits = s;
	}
	rx_patch(b, splits, 1);
	return 0;
}

static int rx_gen(struct rx_build *b, int idx)
{
	const struct rx_node *n = &b->nodes[idx];
	int c;

	switch (n->kind) {
	case RXN_SET:
		return rx_emit(b, RX_SET, n->a, 0) < 0 ? -1 : 0;
	case RXN_ASSERT:
		return rx_emit(b, (enum rx_op)n->a, 0, 0) < 0 ? -1 : 0;
	case RXN_CAT:
		for (c = n->a; c >= 0; c = b->nodes[c].next)
			if (rx_gen(b, c) < 0)
				return -1;
		return 0;
	case RXN_ALT:
		return rx_gen_alt(b, n);
	case RXN_REP:
		return rx_gen_rep(b, n);
	}
	return rx_fail(b, "internal error");
}

void rx_free(struct rx *rx)
{
	if (rx == NULL)
		return;
	free(rx->code);
	free(rx->classes);
	free(rx->ranges);
	free(rx);
}

/* Allocates the builder's arrays, sized from the pattern length: a pattern byte makes at
 * most three nodes, one class and (as \S) eleven ranges. */
static dmcp_rc rx_build_init(struct rx_build *b, const char *pat, size_t len)
{
	memset(b, 0, sizeof *b);
	b->p = pat;
	b->end = pat + len;
	b->capnodes = (int)len * 4 + 8;
	b->capclasses = (int)len + 2;
	b->capranges = len * 12 + 16;
	b->nodes = malloc((size_t)b->capnodes * sizeof *b->nodes);
	b->classes = malloc((size_t)b->capclasses * sizeof *b->classes);
	b->ranges = malloc(b->capranges * sizeof *b->ranges);
	b->code = malloc((RX_MAX_INSNS + 1) * sizeof *b->code);
	if (b->nodes == NULL || b->classes == NULL || b->ranges == NULL || b->code == NULL)
		return DMCP_E_NOMEM;
	return DMCP_OK;
}

dmcp_rc rx_compile(const char *pat, size_t len, struct rx **out, const char **why)
{
	struct rx_build b;
	struct rx *rx = NULL;
	dmcp_rc rc;
	int root;

	*out = NULL;
	*why = "pattern too long";
	if (len > RX_MAX_LEN)
		return DMCP_E_PARAMS;
	rc = rx_build_init(&b, pat, len);
	if (rc != DMCP_OK)
		goto done;
	root = rx_alt(&b);
	if (root >= 0 && b.p < b.end)
		root = rx_fail(&b, "unmatched )");
	if (root < 0 || rx_gen(&b, root) < 0 || rx_emit(&b, RX_MATCH, 0, 0) < 0) {
		*why = b.why != NULL ? b.why : "invalid pattern";
		rc = DMCP_E_PARAMS;
		goto done;
	}
	rx = calloc(1, sizeof *rx);
	if (rx == NULL) {
		rc = DMCP_E_NOMEM;
		goto done;
	}
	rx->code = b.code;
	rx->ncode = b.ncode;
	rx->classes = b.classes;
	rx->ranges = b.ranges;
	b.code = NULL;
	b.classes = NULL;
	b.ranges = NULL;
	*out = rx;
done:
	free(b.nodes);
	free(b.classes);
	free(b.ranges);
	free(b.code);
	return rc;
}

static int rx_in_class(const struct rx *rx, int cls, uint32_t cp)
{
	const struct rx_class *c = &rx->classes[cls];
	size_t i;

	for (i = 0; i < c->count; i++)
		if (cp >= rx->ranges[c->first + i].lo && cp <= rx->ranges[c->first + i].hi)
			return !c->negate;
	return c->negate;
}

static int rx_is_word(uint32_t cp)
{
	return cp != RX_NONE && cp < 0x80 && (cp == '_' || (cp >= '0' && cp <= '9') ||
	                                       ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z'));
}

/* The thread lists of one NFA simulation. */
struct rx_run {
	const struct rx *rx; /* the program */
	int *cur;            /* threads (RX_SET pcs) at this position */
	int *nxt;            /* threads at the next position */
	int *stack;          /* work stack of the closure */
	size_t *mark;        /* the generation in which each pc was last added */
	size_t gen;          /* the current generation */
};

static int rx_assert_ok(enum rx_op op, uint32_t prev, uint32_t next)
{
	switch (op) {
	case RX_BOL: return prev == RX_NONE;
	case RX_EOL: return next == RX_NONE;
	case RX_WORDB: return rx_is_word(prev) != rx_is_word(next);
	case RX_NWORDB: return rx_is_word(prev) == rx_is_word(next);
	default: return 0;
	}
}

/* Adds pc0 and everything reachable from it without input to list; 1 on reaching MATCH. */
static int rx_add(struct rx_run *r, int *list, int *n, int pc0, uint32_t prev, uint32_t next)
{
	const struct rx_insn *in;
	int sp = 0, pc, targets[2], nt, i;

	if (r->mark[pc0] == r->gen)
		return 0;
	r->mark[pc0] = r->gen;
	r->stack[sp++] = pc0;
	while (sp > 0) {
		pc = r->stack[--sp];
		in = &r->rx->code[pc];
		nt = 0;
		if (in->op == RX_MATCH)
			return 1;
		if (in->op == RX_SET)
			list[(*n)++] = pc;
		else if (in->op == RX_JMP)
			targets[nt++] = in->x;
		else if (in->op == RX_SPLIT) {
			targets[nt++] = in->x;
			targets[nt++] = in->y;
		} else if (rx_assert_ok(in->op, prev, next))
			targets[nt++] = pc + 1;
		for (i = 0; i < nt; i++) {
			if (r->mark[targets[i]] != r->gen) {
				r->mark[targets[i]] = r->gen;
				r->stack[sp++] = targets[i];
			}
		}
	}
	return 0;
}

static uint32_t rx_peek(const char *s, size_t n, size_t off, size_t *len)
{
	uint32_t cp;

	*len = 0;
	if (off >= n)
		return RX_NONE;
	*len = utf8_next(s + off, n - off, &cp);
	return cp;
}

/* The simulation proper: found is 1 when some substring of s matches. */
static int rx_scan(struct rx_run *r, const char *s, size_t n)
{
	size_t off = 0, len, alen;
	uint32_t prev = RX_NONE, next, after;
	int ncur = 0, nnxt, i, hit, *tmp;

	next = rx_peek(s, n, 0, &len);
	r->gen = 1;
	hit = rx_add(r, r->cur, &ncur, 0, prev, next);
	while (!hit && next != RX_NONE) {
		r->gen++;
		nnxt = 0;
		after = rx_peek(s, n, off + len, &alen);
		for (i = 0; i < ncur && !hit; i++)
			if (rx_in_class(r->rx, r->rx->code[r->cur[i]].x, next))
				hit = rx_add(r, r->nxt, &nnxt, r->cur[i] + 1, next, after);
		if (!hit)
			hit = rx_add(r, r->nxt, &nnxt, 0, next, after);
		tmp = r->cur;
		r->cur = r->nxt;
		r->nxt = tmp;
		ncur = nnxt;
		prev = next;
		next = after;
		off += len;
		len = alen;
	}
	return hit;
}

dmcp_rc rx_search(const struct rx *rx, const char *s, size_t n, int *found)
{
	struct rx_run r;
	size_t count = (size_t)rx->ncode;
	int *block;

	*found = 0;
	block = malloc(count * (3 * sizeof(int) + sizeof(size_t)));
	if (block == NULL)
		return DMCP_E_NOMEM;
	r.rx = rx;
	r.mark = (size_t *)(void *)block;
	r.cur = (int *)(void *)(r.mark + count);
	r.nxt = r.cur + count;
	r.stack = r.nxt + count;
	memset(r.mark, 0, count * sizeof(size_t));
	*found = rx_scan(&r, s, n);
	free(block);
	return DMCP_OK;
}
