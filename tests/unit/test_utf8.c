/* test_utf8.c — TAP tests of core/utf8.c: well-formed sequences at every length boundary,
 * each kind of malformed input refused by utf8_decode and read as U+FFFD by utf8_next, and
 * utf8_count. Knows nothing else. */
#include <stdint.h>
#include <string.h>
#include "t.h"
#include "utf8.h"

/* One decoding case: bytes, how many of them the decoder may see, and what it must say. */
struct dcase {
	const char *bytes; /* the input */
	size_t n;          /* bytes the decoder is given */
	size_t len;        /* utf8_decode's result: bytes used, 0 when malformed */
	uint32_t cp;       /* the code point it gives */
	const char *what;  /* the test's name */
};

/* Hostile input first: each must be refused (0) and read as U+FFFD. */
static const struct dcase bad[] = {
	{"\x80", 1, 0, UTF8_REPLACEMENT, "a lone continuation byte"},
	{"\xbf", 1, 0, UTF8_REPLACEMENT, "the last continuation byte alone"},
	{"\xc0\x80", 2, 0, UTF8_REPLACEMENT, "overlong NUL (C0 80)"},
	{"\xc1\xbf", 2, 0, UTF8_REPLACEMENT, "overlong U+007F (C1 BF)"},
	{"\xe0\x80\x80", 3, 0, UTF8_REPLACEMENT, "overlong three-byte NUL"},
	{"\xe0\x9f\xbf", 3, 0, UTF8_REPLACEMENT, "overlong U+07FF in three bytes"},
	{"\xf0\x80\x80\x80", 4, 0, UTF8_REPLACEMENT, "overlong four-byte NUL"},
	{"\xf0\x8f\xbf\xbf", 4, 0, UTF8_REPLACEMENT, "overlong U+FFFF in four bytes"},
	{"\xed\xa0\x80", 3, 0, UTF8_REPLACEMENT, "a high surrogate (U+D800)"},
	{"\xed\xbf\xbf", 3, 0, UTF8_REPLACEMENT, "a low surrogate (U+DFFF)"},
	{"\xf4\x90\x80\x80", 4, 0, UTF8_REPLACEMENT, "U+110000, past the last code point"},
	{"\xf5\x80\x80\x80", 4, 0, UTF8_REPLACEMENT, "lead byte F5"},
	{"\xff", 1, 0, UTF8_REPLACEMENT, "byte FF"},
	{"\xc3", 1, 0, UTF8_REPLACEMENT, "a two-byte sequence cut after its lead"},
	{"\xe2\x82", 2, 0, UTF8_REPLACEMENT, "a three-byte sequence cut short"},
	{"\xf0\x9f\x98\x80", 3, 0, UTF8_REPLACEMENT, "a four-byte sequence cut by n"},
	{"\xc3(", 2, 0, UTF8_REPLACEMENT, "a lead byte followed by ASCII"},
	{"\xe2\x28\xa1", 3, 0, UTF8_REPLACEMENT, "ASCII in the middle of a sequence"},
};

static const struct dcase good[] = {
	{"A", 1, 1, 'A', "ASCII"},
	{"\0", 1, 1, 0, "U+0000 is a code point (callers refuse it themselves)"},
	{"\x7f", 1, 1, 0x7f, "U+007F, the last one-byte code point"},
	{"\xc2\x80", 2, 2, 0x80, "U+0080, the first two-byte code point"},
	{"\xc3\xa9", 2, 2, 0xe9, "U+00E9"},
	{"\xdf\xbf", 2, 2, 0x7ff, "U+07FF, the last two-byte code point"},
	{"\xe0\xa0\x80", 3, 3, 0x800, "U+0800, the first three-byte code point"},
	{"\xed\x9f\xbf", 3, 3, 0xd7ff, "U+D7FF, just below the surrogates"},
	{"\xee\x80\x80", 3, 3, 0xe000, "U+E000, just above the surrogates"},
	{"\xef\xbf\xbd", 3, 3, 0xfffd, "U+FFFD itself"},
	{"\xef\xbf\xbf", 3, 3, 0xffff, "U+FFFF, the last three-byte code point"},
	{"\xf0\x90\x80\x80", 4, 4, 0x10000, "U+10000, the first four-byte code point"},
	{"\xf0\x9f\x90\xb2", 4, 4, 0x1f432, "U+1F432 (an astral character)"},
	{"\xf4\x8f\xbf\xbf", 4, 4, 0x10ffff, "U+10FFFF, the last code point"},
	{"\xc3\xa9xyz", 5, 2, 0xe9, "only the first code point is read"},
};

static void run(const struct dcase *c, size_t count)
{
	uint32_t cp;
	size_t i, len;

	for (i = 0; i < count; i++) {
		cp = 0x12345;
		len = utf8_decode(c[i].bytes, c[i].n, &cp);
		T_OK(len == c[i].len && cp == c[i].cp, "utf8_decode: %s (got %zu bytes, U+%04X)",
		     c[i].what, len, (unsigned)cp);
		cp = 0x12345;
		len = utf8_next(c[i].bytes, c[i].n, &cp);
		T_OK(len == (c[i].len > 0 ? c[i].len : 1) && cp == c[i].cp,
		     "utf8_next: %s (got %zu bytes, U+%04X)", c[i].what, len, (unsigned)cp);
	}
}

/* utf8_next walks any bytes: a malformed byte is one U+FFFD, and the walk goes on. */
static void test_walk(void)
{
	static const char s[] = "a\xc3\xa9\xff\xe2\x82z\xf0\x9f\x90\xb2";
	static const uint32_t want[] = {'a', 0xe9, UTF8_REPLACEMENT, UTF8_REPLACEMENT,
	                                UTF8_REPLACEMENT, 'z', 0x1f432};
	size_t i = 0, k = 0, n = sizeof s - 1;
	uint32_t cp;
	int ok = 1;

	while (i < n && k < sizeof want / sizeof want[0]) {
		i += utf8_next(s + i, n - i, &cp);
		ok &= cp == want[k++];
	}
	T_OK(ok && i == n && k == sizeof want / sizeof want[0],
	     "utf8_next walks mixed bytes: each malformed byte reads as one U+FFFD");
}

static void test_count(void)
{
	T_EQ_INT(utf8_count("", 0), 0, "an empty string has no code points");
	T_EQ_INT(utf8_count("abc", 3), 3, "ASCII: one per byte");
	T_EQ_INT(utf8_count("\xe6\x97\xa5\xe6\x9c\xac", 6), 2, "two three-byte characters");
	T_EQ_INT(utf8_count("\xf0\x9f\x90\xb2\xf0\x9f\x90\x89", 8), 2,
	         "astral characters count once each (not as UTF-16 pairs)");
	T_EQ_INT(utf8_count("a\0b", 3), 3, "U+0000 counts (n, not the NUL, ends the string)");
	T_EQ_INT(utf8_count("\xff\xfe", 2), 2, "each malformed byte counts as one");
	T_EQ_INT(utf8_count("\xe2\x82", 2), 2, "a cut sequence counts as its bytes");
	T_EQ_INT(utf8_count("\xed\xa0\x80", 3), 3, "an encoded surrogate counts as three");
}

int main(void)
{
	run(bad, sizeof bad / sizeof bad[0]);
	run(good, sizeof good / sizeof good[0]);
	test_walk();
	test_count();
	return t_done();
}
