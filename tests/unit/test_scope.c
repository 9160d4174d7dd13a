/* test_scope.c — TAP tests of core/scope.c: normalizing scope lists (spaces, commas,
 * duplicates, the scope-token grammar, the size limit) and testing membership. */
#include <string.h>
#include "scope.h"
#include "t.h"

static const char *norm(const char *in, int commas)
{
	static char out[SCOPE_MAX_LIST + 1];

	if (scope_norm(in, strlen(in), commas, out, sizeof out) != DMCP_OK)
		return "(refused)";
	return out;
}

int main(void)
{
	char big[SCOPE_MAX_LIST + 10], small[8];
	size_t i;

	T_EQ_STR(norm("", 0), "", "the empty list");
	T_EQ_STR(norm("   ", 0), "", "spaces only: the empty list");
	T_EQ_STR(norm("mcp", 0), "mcp", "one scope");
	T_EQ_STR(norm("  read   write ", 0), "read write", "runs of spaces become one");
	T_EQ_STR(norm("read write read", 0), "read write", "duplicates dropped");
	T_EQ_STR(norm("read,write, admin", 1), "read write admin", "commas, with commas on");
	T_EQ_STR(norm("read,write", 0), "read,write", "a comma is a scope character otherwise");
	T_EQ_STR(norm("files:read https://x.example/y", 0), "files:read https://x.example/y",
	         "':' and '/' are scope characters");
	T_EQ_STR(norm("a\"b", 0), "(refused)", "'\"' is refused (RFC 6749 §3.3)");
	T_EQ_STR(norm("a\\b", 0), "(refused)", "'\\' is refused");
	T_EQ_STR(norm("a\tb", 0), "(refused)", "a tab is refused");
	T_EQ_STR(norm("caf\xc3\xa9", 0), "(refused)", "non-ASCII is refused");
	T_EQ_INT(scope_norm("abcdefgh", 8, 0, small, sizeof small), DMCP_E_LIMIT,
	         "8 bytes do not fit in 8 (the NUL)");
	T_EQ_INT(scope_norm("abcdefg", 7, 0, small, sizeof small), DMCP_OK, "7 bytes fit in 8");
	for (i = 0; i < sizeof big - 1; i++)
		big[i] = (char)('a' + i % 26);
	big[sizeof big - 1] = '\0';
	T_EQ_STR(norm(big, 0), "(refused)", "a list over SCOPE_MAX_LIST bytes is refused");

	T_OK(scope_has("read write", "write"), "has: the last one");
	T_OK(scope_has("read write", "read"), "has: the first one");
	T_OK(!scope_has("read write", "rea"), "has: a prefix is not a scope");
	T_OK(!scope_has("read write", "read write"), "has: two scopes are not one");
	T_OK(!scope_has("read write", ""), "has: the empty scope is never held");
	T_OK(!scope_has("", "read"), "has: nothing in the empty list");
	T_OK(scope_all("a b c", "c a"), "all: every one held, in any order");
	T_OK(!scope_all("a b", "a d"), "all: one missing");
	T_OK(scope_all("a b", ""), "all: nothing needed");
	T_OK(!scope_all("", "a"), "all: the empty list holds nothing");
	return t_done();
}
