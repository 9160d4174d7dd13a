/* test_http.c — TAP tests of core/http.c: Accept lists, Content-Type, the Host and Origin
 * allowlists (DNS rebinding protection), protocol versions, Content-Length and id shapes.
 * Pure functions: no FastCGI, no database. */
#include <string.h>
#include "http.h"
#include "rnd.h"
#include "t.h"

#define JSON "application/json"
#define SSE "text/event-stream"

static void test_accepts(void)
{
	T_EQ_INT(http_accepts(NULL, JSON), 0, "NULL Accept admits nothing");
	T_EQ_INT(http_accepts("", JSON), 0, "empty Accept admits nothing");
	T_EQ_INT(http_accepts(" ", JSON), 0, "blank Accept admits nothing");
	T_EQ_INT(http_accepts(",,", JSON), 0, "only commas");
	T_EQ_INT(http_accepts(JSON, JSON), 1, "exact match");
	T_EQ_INT(http_accepts("application/json, text/event-stream", SSE), 1, "second of two");
	T_EQ_INT(http_accepts("text/event-stream, application/json", JSON), 1, "any order");
	T_EQ_INT(http_accepts("text/event-stream,application/json", JSON), 1, "no spaces");
	T_EQ_INT(http_accepts("  text/event-stream ,\t application/json  ", JSON), 1,
	         "spaces and tabs around items");
	T_EQ_INT(http_accepts("APPLICATION/JSON", JSON), 1, "case-insensitive");
	T_EQ_INT(http_accepts("Text/Event-Stream", SSE), 1, "mixed case");
	T_EQ_INT(http_accepts("text/html", JSON), 0, "another type");
	T_EQ_INT(http_accepts("application/jsonx", JSON), 0, "a longer subtype");
	T_EQ_INT(http_accepts("application/jso", JSON), 0, "a shorter subtype");
	T_EQ_INT(http_accepts("application/json-seq", JSON), 0, "json-seq is not json");
	T_EQ_INT(http_accepts("xapplication/json", JSON), 0, "a prefix before the type");
	T_EQ_INT(http_accepts("*/*", JSON), 1, "*/*");
	T_EQ_INT(http_accepts("*/*", SSE), 1, "*/* for SSE");
	T_EQ_INT(http_accepts("application/*", JSON), 1, "application/*");
	T_EQ_INT(http_accepts("application/*", SSE), 0, "application/* is not text/*");
	T_EQ_INT(http_accepts("text/*", SSE), 1, "text/*");
	T_EQ_INT(http_accepts("text/*", JSON), 0, "text/* is not application/*");
	T_EQ_INT(http_accepts("APPLICATION/*", JSON), 1, "type/* case-insensitive");
	T_EQ_INT(http_accepts("*/json", JSON), 0, "*/json is not a media range");
	T_EQ_INT(http_accepts("*", JSON), 0, "a lone * is not */*");
	T_EQ_INT(http_accepts("application", JSON), 0, "a type without subtype");
	T_EQ_INT(http_accepts("application/json;q=0.5", JSON), 1, "q=0.5");
	T_EQ_INT(http_accepts("application/json; q=1", JSON), 1, "q=1");
	T_EQ_INT(http_accepts("application/json;q=0.001", JSON), 1, "q=0.001 is still > 0");
	T_EQ_INT(http_accepts("application/json;q=0", JSON), 0, "q=0 refuses");
	T_EQ_INT(http_accepts("application/json;q=0.0", JSON), 0, "q=0.0 refuses");
	T_EQ_INT(http_accepts("application/json;q=0.000", JSON), 0, "q=0.000 refuses");
	T_EQ_INT(http_accepts("application/json; q=0 ", JSON), 0, "q=0 with spaces refuses");
	T_EQ_INT(http_accepts("application/json;Q=0", JSON), 0, "Q=0 refuses");
	T_EQ_INT(http_accepts("application/json;q=0.", JSON), 0, "q=0. refuses");
	T_EQ_INT(http_accepts("application/json;charset=utf-8;q=0", JSON), 0,
	         "q=0 after another parameter refuses");
	T_EQ_INT(http_accepts("application/json;charset=utf-8", JSON), 1, "a parameter without q");
	T_EQ_INT(http_accepts("application/json ; charset=utf-8 ; q=0.9", JSON), 1,
	         "parameters with spaces");
	T_EQ_INT(http_accepts("application/json;q=0, */*", JSON), 1,
	         "q=0 on one item, */* on another (any item with q > 0 admits)");
	T_EQ_INT(http_accepts("text/html;q=0.9, application/json;q=0", JSON), 0,
	         "only the refusing item matches");
	T_EQ_INT(http_accepts("*/*;q=0", JSON), 0, "*/*;q=0 refuses");
	T_EQ_INT(http_accepts("text/event-stream;q=0, application/json", SSE), 0,
	         "refused SSE, accepted JSON: SSE refused");
	T_EQ_INT(http_accepts("text/event-stream;q=0, application/json", JSON), 1,
	         "refused SSE, accepted JSON: JSON admitted");
	T_EQ_INT(http_accepts("application/json;q=", JSON), 1, "empty q is not q=0");
}

static void test_is_json(void)
{
	T_EQ_INT(http_is_json(NULL), 0, "NULL Content-Type");
	T_EQ_INT(http_is_json(""), 0, "empty Content-Type");
	T_EQ_INT(http_is_json(JSON), 1, "application/json");
	T_EQ_INT(http_is_json("application/json; charset=utf-8"), 1, "with charset");
	T_EQ_INT(http_is_json("application/json;charset=UTF-8"), 1, "charset without space");
	T_EQ_INT(http_is_json("APPLICATION/JSON"), 1, "upper case");
	T_EQ_INT(http_is_json("Application/Json ; charset=utf-8"), 1, "mixed case, space before ;");
	T_EQ_INT(http_is_json("  application/json  "), 1, "surrounding spaces");
	T_EQ_INT(http_is_json("application/json-seq"), 0, "application/json-seq refused");
	T_EQ_INT(http_is_json("application/jsonx"), 0, "application/jsonx refused");
	T_EQ_INT(http_is_json("application/jso"), 0, "application/jso refused");
	T_EQ_INT(http_is_json("application/json+x"), 0, "application/json+x refused");
	T_EQ_INT(http_is_json("text/json"), 0, "text/json refused");
	T_EQ_INT(http_is_json("application/problem+json"), 0, "a +json suffix refused");
	T_EQ_INT(http_is_json("text/plain"), 0, "text/plain refused");
	T_EQ_INT(http_is_json("application/json, text/plain"), 0, "a list refused");
	T_EQ_INT(http_is_json("multipart/form-data; boundary=application/json"), 0,
	         "application/json inside a parameter refused");
}

static void test_host(void)
{
	struct cfg c;
	char big[400];

	cfg_defaults(&c);
	T_EQ_INT(http_host_ok(&c, NULL), 1, "absent Host allowed");
	T_EQ_INT(http_host_ok(&c, ""), 1, "empty Host allowed (same as absent)");
	T_EQ_INT(http_host_ok(&c, "localhost"), 1, "localhost");
	T_EQ_INT(http_host_ok(&c, "localhost:3001"), 1, "localhost:3001");
	T_EQ_INT(http_host_ok(&c, "LOCALHOST"), 1, "LOCALHOST");
	T_EQ_INT(http_host_ok(&c, "LocalHost:80"), 1, "LocalHost:80");
	T_EQ_INT(http_host_ok(&c, "127.0.0.1"), 1, "127.0.0.1");
	T_EQ_INT(http_host_ok(&c, "127.0.0.1:1"), 1, "127.0.0.1:1");
	T_EQ_INT(http_host_ok(&c, "127.0.0.1:65535"), 1, "127.0.0.1:65535");
	T_EQ_INT(http_host_ok(&c, "[::1]"), 1, "[::1]");
	T_EQ_INT(http_host_ok(&c, "[::1]:8080"), 1, "[::1]:8080");
	T_EQ_INT(http_host_ok(&c, "evil.example.com"), 0, "evil.example.com refused");
	T_EQ_INT(http_host_ok(&c, "evil.example.com:80"), 0, "evil.example.com:80 refused");
	T_EQ_INT(http_host_ok(&c, "localhost.evil.com"), 0, "localhost.evil.com refused");
	T_EQ_INT(http_host_ok(&c, "evil.localhost"), 0, "evil.localhost refused");
	T_EQ_INT(http_host_ok(&c, "localhostx"), 0, "localhostx refused");
	T_EQ_INT(http_host_ok(&c, "localhos"), 0, "localhos refused");
	T_EQ_INT(http_host_ok(&c, "127.0.0.1:"), 0, "127.0.0.1: (empty port) refused");
	T_EQ_INT(http_host_ok(&c, "127.0.0.1:123456"), 0, "a six-digit port refused");
	T_EQ_INT(http_host_ok(&c, "127.0.0.1:80a"), 0, "a port with a letter refused");
	T_EQ_INT(http_host_ok(&c, "127.0.0.1:-1"), 0, "a negative port refused");
	T_EQ_INT(http_host_ok(&c, "127.0.0.1:80:80"), 0, "two ports refused");
	T_EQ_INT(http_host_ok(&c, "127.0.0.1 "), 0, "a trailing space refused");
	T_EQ_INT(http_host_ok(&c, "127.0.0.2"), 0, "127.0.0.2 refused");
	T_EQ_INT(http_host_ok(&c, "[::1"), 0, "[::1 (unclosed) refused");
	T_EQ_INT(http_host_ok(&c, "[::1]x"), 0, "[::1]x refused");
	T_EQ_INT(http_host_ok(&c, "[::1]:"), 0, "[::1]: (empty port) refused");
	T_EQ_INT(http_host_ok(&c, "::1"), 0, "::1 without brackets refused");
	T_EQ_INT(http_host_ok(&c, "[::2]"), 0, "[::2] refused");
	T_EQ_INT(http_host_ok(&c, ":80"), 0, "a port without a name refused");
	T_EQ_INT(http_host_ok(&c, "localhost@evil.com"), 0, "userinfo trick refused");
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	T_EQ_INT(http_host_ok(&c, big), 0, "a 399-byte host refused");
	memcpy(big, "localhost:", 10);
	T_EQ_INT(http_host_ok(&c, big), 0, "a long localhost:... refused");

	/* An entry with a port allows only that port. */
	c.n_hosts = 1;
	snprintf(c.hosts[0], CFG_ALLOW_LEN, "mcp.example.com:8443");
	T_EQ_INT(http_host_ok(&c, "mcp.example.com:8443"), 1, "entry with port: that port");
	T_EQ_INT(http_host_ok(&c, "MCP.example.com:8443"), 1, "entry with port: name any case");
	T_EQ_INT(http_host_ok(&c, "mcp.example.com:443"), 0, "entry with port: another port");
	T_EQ_INT(http_host_ok(&c, "mcp.example.com:84430"), 0, "entry with port: a longer port");
	T_EQ_INT(http_host_ok(&c, "mcp.example.com:844"), 0, "entry with port: a shorter port");
	T_EQ_INT(http_host_ok(&c, "mcp.example.com"), 0, "entry with port: no port");
	T_EQ_INT(http_host_ok(&c, "localhost"), 0, "the defaults are replaced");
	snprintf(c.hosts[0], CFG_ALLOW_LEN, "[::1]:3001");
	T_EQ_INT(http_host_ok(&c, "[::1]:3001"), 1, "IPv6 entry with port: that port");
	T_EQ_INT(http_host_ok(&c, "[::1]:3002"), 0, "IPv6 entry with port: another port");
	T_EQ_INT(http_host_ok(&c, "[::1]"), 0, "IPv6 entry with port: no port");
	c.n_hosts = 0;
	T_EQ_INT(http_host_ok(&c, "localhost"), 0, "an empty allowlist refuses every Host");
	T_EQ_INT(http_host_ok(&c, NULL), 1, "... but an absent Host is still fine");

	/* "*" allows every Host, even malformed ones. */
	c.allow_any_host = 1;
	T_EQ_INT(http_host_ok(&c, "evil.example.com"), 1, "* allows any host");
	T_EQ_INT(http_host_ok(&c, "[::1"), 1, "* allows even a malformed host");
	cfg_free(&c);
}

static void test_origin(void)
{
	struct cfg c;
	char big[400];

	cfg_defaults(&c);
	T_EQ_INT(http_origin_ok(&c, NULL), 1, "absent Origin allowed");
	T_EQ_INT(http_origin_ok(&c, ""), 1, "empty Origin allowed");
	T_EQ_INT(http_origin_ok(&c, "null"), 0, "Origin null refused");
	T_EQ_INT(http_origin_ok(&c, "http://localhost"), 1, "http://localhost");
	T_EQ_INT(http_origin_ok(&c, "http://localhost:5173"), 1, "http://localhost:5173");
	T_EQ_INT(http_origin_ok(&c, "https://localhost:3001"), 1, "https://localhost:3001");
	T_EQ_INT(http_origin_ok(&c, "https://127.0.0.1"), 1, "https://127.0.0.1");
	T_EQ_INT(http_origin_ok(&c, "http://[::1]:8080"), 1, "http://[::1]:8080");
	T_EQ_INT(http_origin_ok(&c, "HTTP://LOCALHOST"), 1, "scheme and host any case");
	T_EQ_INT(http_origin_ok(&c, "http://evil.example.com"), 0, "http://evil.example.com");
	T_EQ_INT(http_origin_ok(&c, "http://localhost.evil.com"), 0, "http://localhost.evil.com");
	T_EQ_INT(http_origin_ok(&c, "http://evil.com:80"), 0, "http://evil.com:80");
	T_EQ_INT(http_origin_ok(&c, "localhost"), 0, "no scheme refused");
	T_EQ_INT(http_origin_ok(&c, "localhost:5173"), 0, "host:port without scheme refused");
	T_EQ_INT(http_origin_ok(&c, "://localhost"), 0, "empty scheme refused");
	T_EQ_INT(http_origin_ok(&c, "http://"), 0, "empty host refused");
	T_EQ_INT(http_origin_ok(&c, "http://localhost/"), 0, "a trailing slash refused");
	T_EQ_INT(http_origin_ok(&c, "http://localhost/path"), 0, "an origin with a path refused");
	T_EQ_INT(http_origin_ok(&c, "http://localhost:"), 0, "an empty port refused");
	T_EQ_INT(http_origin_ok(&c, "http://localhost:99999999"), 0, "a long port refused");
	T_EQ_INT(http_origin_ok(&c, "ftp://localhost"), 0, "another scheme refused");
	T_EQ_INT(http_origin_ok(&c, "httpx://localhost"), 0, "a longer scheme refused");
	T_EQ_INT(http_origin_ok(&c, "http://user@localhost"), 0, "userinfo refused");
	T_EQ_INT(http_origin_ok(&c, "file://"), 0, "file:// refused");
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	memcpy(big, "http://localhost:", 17);
	T_EQ_INT(http_origin_ok(&c, big), 0, "a 399-byte origin refused");

	/* An entry with a port allows only that port; "*" allows all. */
	c.n_origins = 1;
	snprintf(c.origins[0], CFG_ALLOW_LEN, "https://app.example.com:8443");
	T_EQ_INT(http_origin_ok(&c, "https://app.example.com:8443"), 1, "entry with port");
	T_EQ_INT(http_origin_ok(&c, "https://app.example.com"), 0, "entry with port: none given");
	T_EQ_INT(http_origin_ok(&c, "http://app.example.com:8443"), 0,
	         "entry with port: another scheme");
	T_EQ_INT(http_origin_ok(&c, "http://localhost"), 0, "the defaults are replaced");
	snprintf(c.origins[0], CFG_ALLOW_LEN, "not an origin");
	T_EQ_INT(http_origin_ok(&c, "http://localhost"), 0, "a malformed entry matches nothing");
	c.allow_any_origin = 1;
	T_EQ_INT(http_origin_ok(&c, "http://evil.example.com"), 1, "* allows any origin");
	T_EQ_INT(http_origin_ok(&c, "null"), 1, "* allows even null");
	cfg_free(&c);
}

static void test_versions(void)
{
	T_EQ_INT(http_version_ok("2025-11-25"), 1, "2025-11-25 spoken");
	T_EQ_INT(http_version_ok("2025-06-18"), 1, "2025-06-18 spoken");
	T_EQ_INT(http_version_ok("2025-03-26"), 1, "2025-03-26 spoken");
	T_EQ_INT(http_version_ok("2024-11-05"), 0, "2024-11-05 not spoken");
	T_EQ_INT(http_version_ok("2025-11-25 "), 0, "a trailing space");
	T_EQ_INT(http_version_ok("2025-11-2"), 0, "a prefix");
	T_EQ_INT(http_version_ok(""), 0, "empty");
	T_EQ_INT(http_version_ok(NULL), 0, "NULL");
	T_EQ_STR(http_version_negotiate("2025-06-18"), "2025-06-18", "a supported version kept");
	T_EQ_STR(http_version_negotiate("2025-03-26"), "2025-03-26", "the oldest kept");
	T_EQ_STR(http_version_negotiate("2025-11-25"), "2025-11-25", "the latest kept");
	T_EQ_STR(http_version_negotiate("2099-01-01"), "2025-11-25", "unknown: the latest");
	T_EQ_STR(http_version_negotiate("2024-11-05"), "2025-11-25", "old unknown: the latest");
	T_EQ_STR(http_version_negotiate(""), "2025-11-25", "empty: the latest");
	T_EQ_STR(http_version_negotiate(NULL), "2025-11-25", "NULL: the latest");
	T_EQ_INT(http_version_primes("2025-11-25"), 1, "2025-11-25 primes streams");
	T_EQ_INT(http_version_primes("2025-06-18"), 0, "2025-06-18 does not");
	T_EQ_INT(http_version_primes("2025-03-26"), 0, "2025-03-26 does not");
	T_EQ_INT(http_version_primes(NULL), 0, "NULL does not");
}

/* http_content_length on s: the result code, and *out when it succeeds. */
static dmcp_rc clen(const char *s, size_t *out)
{
	*out = 777;
	return http_content_length(s, out);
}

static void test_content_length(void)
{
	size_t n;
	dmcp_rc rc;

	rc = clen("0", &n);
	T_OK(rc == DMCP_OK && n == 0, "0");
	rc = clen("1048576", &n);
	T_OK(rc == DMCP_OK && n == 1048576, "1048576");
	rc = clen("007", &n);
	T_OK(rc == DMCP_OK && n == 7, "leading zeros are digits");
	rc = clen("999999999999999999", &n);
	T_OK(rc == DMCP_OK && n == 999999999999999999ULL, "18 digits");
	rc = clen("1000000000000000000", &n);
	T_OK(rc == DMCP_E_PARAMS && n == 777, "19 digits refused, *out untouched");
	rc = clen("18446744073709551616", &n);
	T_EQ_INT(rc, DMCP_E_PARAMS, "2^64 refused");
	rc = clen("99999999999999999999999999", &n);
	T_EQ_INT(rc, DMCP_E_PARAMS, "26 digits refused");
	rc = clen("", &n);
	T_OK(rc == DMCP_E_PARAMS && n == 777, "empty refused");
	rc = clen(NULL, &n);
	T_EQ_INT(rc, DMCP_E_PARAMS, "NULL refused");
	rc = clen("-1", &n);
	T_EQ_INT(rc, DMCP_E_PARAMS, "-1 refused");
	rc = clen("+5", &n);
	T_EQ_INT(rc, DMCP_E_PARAMS, "+5 refused");
	rc = clen(" 5", &n);
	T_EQ_INT(rc, DMCP_E_PARAMS, "leading space refused");
	rc = clen("5 ", &n);
	T_EQ_INT(rc, DMCP_E_PARAMS, "trailing space refused");
	rc = clen("5,5", &n);
	T_EQ_INT(rc, DMCP_E_PARAMS, "a list refused");
	rc = clen("0x10", &n);
	T_EQ_INT(rc, DMCP_E_PARAMS, "hex refused");
	rc = clen("1e3", &n);
	T_EQ_INT(rc, DMCP_E_PARAMS, "exponent refused");
	rc = clen("5\n", &n);
	T_EQ_INT(rc, DMCP_E_PARAMS, "a newline refused");
}

static void test_id_ok(void)
{
	T_EQ_INT(rnd_id_ok("0123456789abcdef0123456789abcdef"), 1, "32 lowercase hex");
	T_EQ_INT(rnd_id_ok("ffffffffffffffffffffffffffffffff"), 1, "all f");
	T_EQ_INT(rnd_id_ok("0123456789ABCDEF0123456789abcdef"), 0, "upper case refused");
	T_EQ_INT(rnd_id_ok("0123456789abcdef0123456789abcde"), 0, "31 characters refused");
	T_EQ_INT(rnd_id_ok("0123456789abcdef0123456789abcdef0"), 0, "33 characters refused");
	T_EQ_INT(rnd_id_ok("0123456789abcdef0123456789abcdeg"), 0, "g refused");
	T_EQ_INT(rnd_id_ok("0123456789abcdef-123456789abcdef"), 0, "a dash refused");
	T_EQ_INT(rnd_id_ok("0123456789abcdef0123456789abcde "), 0, "a space refused");
	T_EQ_INT(rnd_id_ok(""), 0, "empty refused");
	T_EQ_INT(rnd_id_ok(NULL), 0, "NULL refused");
	T_EQ_INT(rnd_id_ok("../../../../../../etc/passwd/xx"), 0, "a path refused");
}

int main(void)
{
	test_accepts();
	test_is_json();
	test_host();
	test_origin();
	test_versions();
	test_content_length();
	test_id_ok();
	return t_done();
}
