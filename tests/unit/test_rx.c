/* test_rx.c — TAP tests of core/rx.c: what the engine matches, what it refuses and why, its
 * limits at and one past each bound, and its linear-time guarantee (patterns that take a
 * backtracking engine exponential time finish here at once). Knows nothing of JSON Schema;
 * tests/schema/2020-12/patterns.json covers "pattern" through the validator. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "log.h"
#include "rx.h"
#include "t.h"

/* Bytes of a pattern or subject shown in a check's name. */
#define SHOW_LEN 80
/* Subject length for the pathological searches: 2^LONG_SUBJECT steps would never end. */
#define LONG_SUBJECT 20000
/* Subject length for the search at the instruction limit: cost is length x instructions. */
#define WORST_SUBJECT 2000
/* Seconds one pathological search may take. Linear searches take milliseconds; the bound is
 * loose so that valgrind and the sanitizers pass, and tight next to exponential time. */
#define SLOW_SECONDS 5.0

/* s made printable for a TAP line. Static; two buffers, so two may appear in one line. */
static const char *show(const char *s, size_t len)
{
	static char out[2][SHOW_LEN];
	static int which;

	which = !which;
	return log_escape(out[which], sizeof out[which], s, len);
}

/* 1 or 0 as pat (compiled) finds a match in subj[0..n); -1 when pat does not compile, -2
 * when the search fails. */
static int search_n(const char *pat, const char *subj, size_t n)
{
	const char *why = NULL;
	struct rx *rx = NULL;
	int found = 0;

	if (rx_compile(pat, strlen(pat), &rx, &why) != DMCP_OK)
		return -1;
	if (rx_search(rx, subj, n, &found) != DMCP_OK)
		found = -2;
	rx_free(rx);
	return found;
}

static int search(const char *pat, const char *subj)
{
	return search_n(pat, subj, strlen(subj));
}

/* One match case: a pattern, a subject and whether some substring matches. */
struct mcase {
	const char *pat;  /* the pattern */
	const char *subj; /* the subject */
	int found;        /* 1 when it matches */
};

static const struct mcase matches[] = {
	/* literals; patterns are not anchored */
	{"abc", "xxabcxx", 1},
	{"abc", "ab", 0},
	{"", "", 1},
	{"", "anything", 1},
	{"^abc$", "abc", 1},
	{"^abc$", "abcd", 0},
	{"^abc$", "xabc", 0},
	{"b$", "ab", 1},
	{"^$", "", 1},
	{"^$", "x", 0},
	/* '.' is one code point, never a line break */
	{"^.$", "\xc3\xa9", 1},
	{"^.$", "\xf0\x9f\x90\xb2", 1},
	{"^.$", "\n", 0},
	{"^.$", "\r", 0},
	{"^.$", "\xe2\x80\xa8", 0},
	{"^..$", "\xf0\x9f\x90\xb2", 0},
	/* classes */
	{"^[a-c]+$", "abcab", 1},
	{"^[a-c]+$", "abd", 0},
	{"^[^a-c]$", "d", 1},
	{"^[^a-c]$", "b", 0},
	{"^[a-z0-9-]+$", "a-1", 1},
	{"^[-a]+$", "-a-", 1},
	{"^[\\-]$", "-", 1},
	{"^[\\]]$", "]", 1},
	{"^[\\b]$", "\b", 1},
	{"^[\\d.]+$", "3.14", 1},
	{"^[\\w]+$", "a_Z9", 1},
	{"^[\\s]$", " ", 1},
	{"^[\\S]$", " ", 0},
	{"^[\xc3\xa0-\xc3\xbf]$", "\xc3\xa9", 1},
	{"^[\xf0\x9f\x90\x80-\xf0\x9f\x90\xbf]$", "\xf0\x9f\x90\xb2", 1},
	/* class escapes */
	{"^\\d+$", "0123456789", 1},
	{"^\\d$", "\xd9\xa3", 0},
	{"^\\D$", "a", 1},
	{"^\\w+$", "snake_Case09", 1},
	{"^\\w$", "\xc3\xa9", 0},
	{"^\\W$", "\xc3\xa9", 1},
	{"^\\s$", "\t", 1},
	{"^\\s$", "\xc2\xa0", 1},
	{"^\\s$", "\xe3\x80\x80", 1},
	{"^\\s$", "\xef\xbb\xbf", 1},
	{"^\\S+$", "a\xc3\xa9", 1},
	/* word boundaries */
	{"\\bcat\\b", "a cat sat", 1},
	{"\\bcat\\b", "concatenate", 0},
	{"\\Bcat\\B", "concatenate", 1},
	{"^\\b$", "", 0},
	{"\\b", "a", 1},
	/* groups and alternation */
	{"^(a|bc)+$", "abca", 1},
	{"^(a|bc)+$", "abd", 0},
	{"^(?:ab)+$", "abab", 1},
	{"^(?<year>\\d{4})-(?<m>\\d\\d)$", "2025-11", 1},
	{"^(|a)$", "", 1},
	{"^(a|)$", "a", 1},
	{"cat|dog", "hotdog", 1},
	{"^cat|dog$", "catalog", 1},
	{"^(?:cat|dog)$", "catalog", 0},
	/* quantifiers */
	{"^a*$", "", 1},
	{"^a+$", "", 0},
	{"^a?b$", "b", 1},
	{"^a?b$", "aab", 0},
	{"^a{3}$", "aaa", 1},
	{"^a{3}$", "aaaa", 0},
	{"^a{2,}$", "aaaaa", 1},
	{"^a{2,}$", "a", 0},
	{"^a{2,3}$", "aaa", 1},
	{"^a{2,3}$", "aaaa", 0},
	{"^a{0}$", "", 1},
	{"^a*?b+?c??$", "aabb", 1},
	{"^a{1,2}?$", "aa", 1},
	{"^\xf0\x9f\x90\xb2{2}$", "\xf0\x9f\x90\xb2\xf0\x9f\x90\xb2", 1},
	/* a brace that is no quantifier is a literal */
	{"^a{$", "a{", 1},
	{"^a{,2}$", "a{,2}", 1},
	{"^{x}$", "{x}", 1},
	/* character escapes */
	{"^\\t\\n\\v\\f\\r$", "\t\n\v\f\r", 1},
	{"^\\x41$", "A", 1},
	{"^\\u00e9$", "\xc3\xa9", 1},
	{"^\\u{1F432}$", "\xf0\x9f\x90\xb2", 1},
	{"^\\ud83d\\udc32$", "\xf0\x9f\x90\xb2", 1},
	{"^\\cJ$", "\n", 1},
	{"^\\.$", ".", 1},
	{"^\\.$", "x", 0},
	{"^\\$\\^\\(\\)\\[\\]\\{\\}\\|\\*\\+\\?\\\\\\/$", "$^()[]{}|*+?\\/", 1},
	/* no flags: case matters */
	{"abc", "ABC", 0},
	/* malformed subject bytes read as U+FFFD, one per byte */
	{"^.$", "\xff", 1},
	{"^..$", "\xe2\x82", 1},
	{"^\\ufffd$", "\xc0", 1},
};

static void test_matches(void)
{
	size_t i;
	int got;

	for (i = 0; i < sizeof matches / sizeof matches[0]; i++) {
		const struct mcase *c = &matches[i];

		got = search(c->pat, c->subj);
		T_OK(got == c->found, "/%s/ %s \"%s\" (got %d)", show(c->pat, strlen(c->pat)),
		     c->found ? "matches" : "does not match", show(c->subj, strlen(c->subj)), got);
	}
}

/* Subjects and patterns are byte counts, not C strings: U+0000 is an ordinary code point. */
static void test_nul(void)
{
	const char *why = NULL;
	struct rx *rx = NULL;
	int found = 0;

	T_EQ_INT(search_n("^a\\0b$", "a\0b", 3), 1, "\\0 matches U+0000 inside the subject");
	T_EQ_INT(search_n("^a.b$", "a\0b", 3), 1, "'.' matches U+0000");
	T_EQ_INT(search_n("b", "a\0b", 3), 1, "the search goes on past U+0000");
	T_OK(rx_compile("a\0b", 3, &rx, &why) == DMCP_OK &&
	     rx_search(rx, "xa\0by", 5, &found) == DMCP_OK && found == 1,
	     "a NUL byte in the pattern is a literal U+0000");
	rx_free(rx);
	rx_free(NULL); /* harmless */
}

/* One refused pattern and a word its reason must contain. */
struct rcase {
	const char *pat; /* the pattern */
	const char *why; /* a substring of rx_compile's reason */
};

static const struct rcase refused[] = {
	{"(a)\\1", "backreferences"},
	{"(?=a)", "lookaround"},
	{"(?!a)", "lookaround"},
	{"(?<=a)b", "lookaround"},
	{"(?<!a)b", "lookaround"},
	{"\\p{L}", "unsupported escape"},
	{"\\k<n>", "unsupported escape"},
	{"\\01", "octal"},
	{"*a", "nothing to repeat"},
	{"a**", "nothing to repeat"},
	{"+", "nothing to repeat"},
	{"{2}", "nothing to repeat"},
	{"^*", "nothing to repeat"},
	{"\\b+", "nothing to repeat"},
	{"a{3,2}", "out of order"},
	{"[z-a]", "out of order"},
	{"[\\d-z]", "class escape"},
	{"[a-\\d]", "class escape"},
	{"(a", "missing )"},
	{"a)", "unmatched )"},
	{"[ab", "missing ]"},
	{"a\\", "backslash"},
	{"\\x4", "hexadecimal"},
	{"\\xzz", "hexadecimal"},
	{"\\u12", "hexadecimal"},
	{"\\u{110000}", "\\u{...}"},
	{"\\u{}", "\\u{...}"},
	{"\\ud83d\\u0041", "surrogate"},
	{"\\c1", "\\c"},
	{"a{1001}", "too large"},
};

static void test_refused(void)
{
	const char *why;
	struct rx *rx;
	dmcp_rc rc;
	size_t i;

	for (i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		const struct rcase *c = &refused[i];

		why = NULL;
		rx = (struct rx *)&why; /* must come back NULL */
		rc = rx_compile(c->pat, strlen(c->pat), &rx, &why);
		T_OK(rc == DMCP_E_PARAMS && rx == NULL && why != NULL && strstr(why, c->why) != NULL,
		     "/%s/ is refused: %s (got %s: %s)", show(c->pat, strlen(c->pat)), c->why,
		     dmcp_rc_name(rc), why != NULL ? why : "(no reason)");
		if (rc == DMCP_OK)
			rx_free(rx);
	}
}

/* rx_compile on pat: DMCP_OK or DMCP_E_PARAMS (reason in *why); frees what it compiled. */
static dmcp_rc compiles(const char *pat, size_t len, const char **why)
{
	struct rx *rx = NULL;
	dmcp_rc rc;

	*why = "";
	rc = rx_compile(pat, len, &rx, why);
	rx_free(rx);
	return rc;
}

/* s = prefix, then unit n times, then suffix; NULL when it does not fit cap. */
static char *repeat(char *s, size_t cap, const char *prefix, const char *unit, int n,
                    const char *suffix)
{
	size_t len = strlen(prefix), u = strlen(unit), x = strlen(suffix);
	int i;

	if (len + u * (size_t)n + x + 1 > cap)
		return NULL;
	memcpy(s, prefix, len);
	for (i = 0; i < n; i++, len += u)
		memcpy(s + len, unit, u);
	memcpy(s + len, suffix, x + 1);
	return s;
}

/* Each limit: at the bound compiles, one past it is refused with a reason. */
static void test_limits(void)
{
	static char pat[RX_MAX_LEN * 2 + 64];
	char count[32];
	const char *why;
	dmcp_rc rc;

	/* A class is one instruction however long, so the length is the limit that bites. */
	repeat(pat, sizeof pat, "[", "a", RX_MAX_LEN - 2, "]");
	rc = compiles(pat, RX_MAX_LEN, &why);
	T_EQ_INT(rc, DMCP_OK, "a pattern of RX_MAX_LEN bytes compiles");
	repeat(pat, sizeof pat, "[", "a", RX_MAX_LEN - 1, "]");
	rc = compiles(pat, RX_MAX_LEN + 1, &why);
	T_OK(rc == DMCP_E_PARAMS && strstr(why, "too long") != NULL,
	     "one byte more is refused: %s", why);
	memset(pat, 'a', RX_MAX_INSNS);
	rc = compiles(pat, RX_MAX_INSNS, &why);
	T_OK(rc == DMCP_E_PARAMS && strstr(why, "too complex") != NULL,
	     "RX_MAX_INSNS literals and MATCH are one instruction too many: %s", why);
	rc = compiles(pat, RX_MAX_INSNS - 1, &why);
	T_EQ_INT(rc, DMCP_OK, "RX_MAX_INSNS - 1 literals and MATCH compile");

	repeat(pat, sizeof pat, "", "(", RX_MAX_NEST, "");
	repeat(pat + RX_MAX_NEST, sizeof pat - RX_MAX_NEST, "a", ")", RX_MAX_NEST, "");
	rc = compiles(pat, strlen(pat), &why);
	T_EQ_INT(rc, DMCP_OK, "groups nested RX_MAX_NEST deep compile");
	repeat(pat, sizeof pat, "", "(", RX_MAX_NEST + 1, "");
	repeat(pat + RX_MAX_NEST + 1, sizeof pat - RX_MAX_NEST - 1, "a", ")", RX_MAX_NEST + 1, "");
	rc = compiles(pat, strlen(pat), &why);
	T_OK(rc == DMCP_E_PARAMS && strstr(why, "nested") != NULL,
	     "one level deeper is refused: %s", why);

	snprintf(count, sizeof count, "a{%d}", RX_MAX_COUNT);
	T_EQ_INT(compiles(count, strlen(count), &why), DMCP_OK, "a{RX_MAX_COUNT} compiles");
	snprintf(count, sizeof count, "a{0,%d}", RX_MAX_COUNT + 1);
	rc = compiles(count, strlen(count), &why);
	T_OK(rc == DMCP_E_PARAMS && strstr(why, "too large") != NULL,
	     "a{0,RX_MAX_COUNT+1} is refused: %s", why);
	rc = compiles("a{99999999999999999999}", 23, &why);
	T_OK(rc == DMCP_E_PARAMS && strstr(why, "too large") != NULL,
	     "a count past any integer type is refused, not wrapped: %s", why);

	/* One SET per 'a': (?:a{1000}){4} is 4000 instructions and MATCH; {5} is 5000. */
	rc = compiles("(?:a{1000}){4}", 14, &why);
	T_EQ_INT(rc, DMCP_OK, "4001 instructions (under RX_MAX_INSNS) compile");
	rc = compiles("(?:a{1000}){5}", 14, &why);
	T_OK(rc == DMCP_E_PARAMS && strstr(why, "too complex") != NULL,
	     "5001 instructions are refused: %s", why);
	rc = compiles("a{1000}{1000}", 13, &why);
	T_OK(rc == DMCP_E_PARAMS, "a{1000}{1000} (a million instructions) is refused: %s", why);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Patterns on which a backtracking engine takes time exponential (or a high power) in the
 * subject's length, searched in subjects that almost match (ReDoS). */
static const struct {
	const char *pat;    /* the pattern */
	const char *unit;   /* the subject: unit, LONG_SUBJECT times (or count)... */
	int count;          /* ...this many times instead when > 0... */
	const char *suffix; /* ...then this */
	int found;          /* whether it matches */
} evil[] = {
	{"^(a+)+$", "a", 0, "b", 0},
	{"^(a|a)*$", "a", 0, "!", 0},
	{"^(a|aa)+$", "a", 0, "b", 0},
	{"^(a*)*b$", "a", 0, "", 0},
	{"^(\\w+\\s?)*$", "a", 0, "!", 0},
	{"^([a-z]+)*[0-9]$", "x", 0, "", 0},
	{"(.*a){12}$", "a", 0, "b", 0},
	{"^(a+)+$", "a", 0, "", 1},
	{"^(a?){500}a{500}$", "a", 500, "", 1},
	{"^(a?){500}a{500}$", "a", 499, "", 0},
};

static void test_linear_time(void)
{
	static char subj[LONG_SUBJECT + 64];
	double t0, took;
	size_t i;
	int got, n;

	for (i = 0; i < sizeof evil / sizeof evil[0]; i++) {
		n = evil[i].count > 0 ? evil[i].count : LONG_SUBJECT;
		repeat(subj, sizeof subj, "", evil[i].unit, n, evil[i].suffix);
		t0 = now();
		got = search(evil[i].pat, subj);
		took = now() - t0;
		T_OK(got == evil[i].found && took < SLOW_SECONDS,
		     "/%s/ on %d x \"%s\" + \"%s\": %s in %.3f s", evil[i].pat, n, evil[i].unit,
		     show(evil[i].suffix, strlen(evil[i].suffix)),
		     got == 1 ? "match" : got == 0 ? "no match" : "error", took);
	}
}

/* The worst the limits allow: the most instructions over a long subject stays bounded. */
static void test_worst_case(void)
{
	static char subj[WORST_SUBJECT + 1];
	double t0, took;
	int got;

	memset(subj, 'a', WORST_SUBJECT);
	subj[WORST_SUBJECT] = '\0';
	t0 = now();
	got = search("(?:(?:a?){1000}){2}b", subj);
	took = now() - t0;
	T_OK(got == 0 && took < SLOW_SECONDS,
	     "4002 instructions over %d code points: no match in %.3f s", WORST_SUBJECT, took);
}

int main(void)
{
	test_matches();
	test_nul();
	test_refused();
	test_limits();
	test_linear_time();
	test_worst_case();
	return t_done();
}
