/* test_log.c — TAP tests of core/log.c: log_escape on hostile bytes and every buffer size,
 * log_msg's level filter and line shape, the JSON format (every line parses strictly, hostile
 * and oversized fields included), the thread's fields, and journald's prefixes (stderr
 * captured in a temporary file). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "js.h"
#include "log.h"
#include "t.h"

/* Output buffers tried for the size sweep; the guard bytes after them must stay intact. */
#define MAX_OUT 64
#define GUARD 16
/* One captured log line. */
#define LINE_LEN 2048

static const char *esc(char *out, size_t outlen, const char *s)
{
	return log_escape(out, outlen, s, s != NULL ? strlen(s) : 0);
}

static void test_escape(void)
{
	char out[256];
	static const char hostile[] = "a\nb\r\x1b[31m\\\x7f\xff\"";

	T_EQ_STR(esc(out, sizeof out, "plain text"), "plain text", "printable ASCII kept");
	T_EQ_STR(esc(out, sizeof out, ""), "", "empty input");
	T_EQ_STR(log_escape(out, sizeof out, NULL, 5), "", "NULL input gives \"\"");
	T_EQ_STR(esc(out, sizeof out, hostile), "a\\x0ab\\x0d\\x1b[31m\\x5c\\x7f\\xff\"",
	         "newline, CR, escape, backslash, DEL and high bytes as \\xNN");
	T_EQ_STR(log_escape(out, sizeof out, "a\0b", 3), "a\\x00b", "a NUL inside n bytes");
	T_EQ_STR(log_escape(out, sizeof out, "abcdef", 3), "abc", "only n bytes are read");
	T_EQ_STR(esc(out, sizeof out, "\xc3\xa9"), "\\xc3\\xa9", "UTF-8 is escaped byte by byte");
}

static void test_cut(void)
{
	char out[MAX_OUT + GUARD], big[200];
	size_t outlen, i;
	int overflow = 0, bad_cut = 0, lost = 0;

	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	T_EQ_STR(esc(out, 10, big), "xxxxxx...", "long input is cut with ... within outlen");
	T_EQ_STR(esc(out, 10, "abcdefghi"), "abcdefghi", "input that just fits is not cut");
	T_EQ_STR(esc(out, 10, "abcdefghij"), "abcdef...", "one byte more is cut");
	T_EQ_STR(esc(out, 8, "a"), "a", "a short input in a small buffer is kept whole");
	T_EQ_STR(esc(out, 8, "\n"), "\\x0a", "an escape that fits is kept");
	T_EQ_STR(esc(out, 4, "\n"), "...", "an escape that does not fit is cut");
	T_EQ_STR(esc(out, 1, "abc"), "", "outlen 1: just the NUL");
	T_EQ_STR(esc(out, 2, "abc"), "", "outlen 2: no room for ..., nothing written past it");
	T_EQ_STR(esc(out, 3, "abc"), "", "outlen 3: no room for ...");
	T_EQ_STR(esc(out, 4, "abc"), "abc", "outlen 4: abc fits");
	T_EQ_STR(esc(out, 4, "abcd"), "...", "outlen 4: abcd is cut to ...");
	memset(out, 'Q', sizeof out);
	T_OK(log_escape(out, 0, "abc", 3) == out && out[0] == 'Q', "outlen 0 writes nothing");

	/* Every size from 1 to MAX_OUT, with plain and escaped input: never a byte past outlen,
	 * always NUL-terminated, whole when the escaped text fits, else ending in "...". */
	for (outlen = 1; outlen <= MAX_OUT; outlen++) {
		static const struct {
			const char *s;
			size_t escaped; /* length once escaped */
		} inputs[] = {
			{"abcdefghijklmnopqrstuvwxyz0123456789", 36},          /* 36 x 1 */
			{"\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d", 52}, /* 13 x 4 */
			{"ab\ncd\nef\ngh\nij\nkl\nmn\nop", 44},                 /* 16 x 1 + 7 x 4 */
		};
		for (i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
			size_t k, len;
			memset(out, 'Q', sizeof out);
			esc(out, outlen, inputs[i].s);
			for (k = outlen; k < sizeof out; k++)
				if (out[k] != 'Q')
					overflow++;
			len = strnlen(out, outlen);
			if (len == outlen)
				overflow++;
			else if (inputs[i].escaped < outlen && len != inputs[i].escaped)
				lost++;
			else if (inputs[i].escaped >= outlen && outlen >= 4 &&
			         (len < 3 || strcmp(out + len - 3, "...") != 0))
				bad_cut++;
			else if (inputs[i].escaped >= outlen && outlen < 4 && len != 0)
				bad_cut++;
		}
	}
	T_EQ_INT(overflow, 0, "no size writes past outlen or leaves no NUL");
	T_EQ_INT(bad_cut, 0, "every cut output ends in ...");
	T_EQ_INT(lost, 0, "text that fits is never cut");
}

/* Runs log_msg with stderr sent to a temporary file; returns the captured text in line. */
static void capture(enum log_level l, const char *text, char *line, size_t linelen)
{
	FILE *f = tmpfile();
	int saved;
	size_t n = 0;

	line[0] = '\0';
	if (f == NULL)
		return;
	fflush(stderr);
	saved = dup(2);
	dup2(fileno(f), 2);
	log_msg(l, "%s", text);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(f);
	n = fread(line, 1, linelen - 1, f);
	fclose(f);
	line[n] = '\0';
}

static void test_msg(void)
{
	char buf[LINE_LEN];
	char long_text[LINE_LEN];
	const char *line = buf;

	log_set_level(LOG_WARN);
	capture(LOG_INFO, "dropped", buf, sizeof buf);
	T_EQ_STR(line, "", "below the level: nothing written");
	capture(LOG_WARN, "kept", buf, sizeof buf);
	T_OK(strstr(line, " dmcp warn: kept\n") != NULL, "at the level: written");
	T_OK(strlen(line) > 24 && line[4] == '-' && line[10] == 'T' && line[23] == 'Z',
	     "the line starts with an ISO 8601 UTC time with milliseconds");
	capture(LOG_ERROR, "bad", buf, sizeof buf);
	T_OK(strstr(line, " dmcp error: bad\n") != NULL, "above the level: written");
	log_set_level(LOG_DEBUG);
	capture(LOG_DEBUG, "dbg", buf, sizeof buf);
	T_OK(strstr(line, " dmcp debug: dbg\n") != NULL, "debug when the level is debug");
	memset(long_text, 'L', sizeof long_text - 1);
	long_text[sizeof long_text - 1] = '\0';
	capture(LOG_INFO, long_text, buf, sizeof buf);
	T_OK(strlen(line) < sizeof long_text - 1 && line[strlen(line) - 1] == '\n',
	     "a long message is cut to one line");
	log_set_level(LOG_INFO);
}

/* Runs fn with stderr sent to a temporary file; the captured text into line. */
static void grab(void (*fn)(void), char *line, size_t linelen)
{
	FILE *f = tmpfile();
	int saved;
	size_t n;

	line[0] = '\0';
	if (f == NULL)
		return;
	fflush(stderr);
	saved = dup(2);
	dup2(fileno(f), 2);
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(f);
	n = fread(line, 1, linelen - 1, f);
	fclose(f);
	line[n] = '\0';
}

/* The captured line (without its newline) as JSON, strictly; NULL when it is not. */
static json_object *parsed(const char *line)
{
	json_object *o = NULL;
	char err[200];
	size_t n = strlen(line);

	if (n == 0 || line[n - 1] != '\n' || memchr(line, '\n', n - 1) != NULL)
		return NULL;
	if (js_parse(line, n - 1, JS_MAX_DEPTH, &o, err, sizeof err) != DMCP_OK)
		return NULL;
	return o;
}

static void call_line(void)
{
	struct log_kv kv[] = {{.key = "status", .str = "completed"}, {.key = "steps", .num = 3}};

	log_line(LOG_INFO, kv, 2, "tool call finished");
}

static void hostile_line(void)
{
	log_msg(LOG_WARN, "say \"%s\"", "q\\\x01");
}

static char big[LOG_MESSAGE_MAX * 2];

static void big_line(void)
{
	struct log_kv kv[] = {{.key = "extra", .str = big}};

	log_line(LOG_ERROR, kv, 1, "%s", big);
}

static void test_json(void)
{
	char line[LINE_LEN * 8], quotes[LOG_FIELD_MAX + 10];
	json_object *o;

	log_set_format(LOG_FORMAT_JSON);
	log_set(LOG_F_REQUEST, "12-7");
	log_set(LOG_F_RUN, "0123456789abcdef0123456789abcdef");
	log_set(LOG_F_TOOL, "echo");
	grab(call_line, line, sizeof line);
	o = parsed(line);
	T_OK(o != NULL, "a JSON line parses strictly");
	T_EQ_STR(js_str(o, "message"), "tool call finished", "message");
	T_EQ_STR(js_str(o, "level"), "info", "level");
	T_OK(js_str(o, "time") != NULL && strlen(js_str(o, "time")) == 24, "time, UTC with ms");
	T_EQ_STR(js_str(o, "request_id"), "12-7", "the thread's request id");
	T_EQ_STR(js_str(o, "tool"), "echo", "the thread's tool");
	T_OK(!js_has(o, "session") && !js_has(o, "principal"), "fields not set are left out");
	T_EQ_STR(js_str(o, "status"), "completed", "a string field of the line");
	T_OK(js_get(o, "steps", json_type_int) != NULL &&
	     json_object_get_int(js_get(o, "steps", json_type_int)) == 3, "a number field");
	json_object_put(o);

	/* Hostile bytes: quotes, backslashes, control characters, invalid UTF-8. */
	log_set(LOG_F_PRINCIPAL, "a\"b\\c\nd\x7f\xff\xc3\xa9");
	grab(hostile_line, line, sizeof line);
	o = parsed(line);
	T_OK(o != NULL, "hostile values still make one parsable line");
	T_OK(js_str(o, "principal") != NULL && strcmp(js_str(o, "principal"),
	     "a\"b\\c\nd\x7f\xef\xbf\xbd\xc3\xa9") == 0,
	     "escaped, valid UTF-8 kept, an invalid byte as U+FFFD");
	T_OK(js_str(o, "message") != NULL && strcmp(js_str(o, "message"), "say \"q\\\x01\"") == 0,
	     "the message escaped too");
	json_object_put(o);

	/* The longest values, every byte escaped: the line is cut, stays one object. */
	memset(quotes, '"', sizeof quotes - 1);
	quotes[sizeof quotes - 1] = '\0';
	log_set(LOG_F_PRINCIPAL, quotes);
	log_set(LOG_F_SESSION, quotes);
	log_set(LOG_F_TOOL, quotes);
	memset(big, 1, sizeof big - 1);
	grab(big_line, line, sizeof line);
	o = parsed(line);
	T_OK(o != NULL && strlen(line) <= LOG_LINE_MAX, "an oversized line is cut to %zu bytes "
	     "and parses", strlen(line));
	T_OK(o != NULL && strlen(js_str(o, "principal")) == LOG_FIELD_MAX - 1,
	     "a field is kept to LOG_FIELD_MAX - 1 bytes");
	json_object_put(o);

	log_clear();
	grab(call_line, line, sizeof line);
	o = parsed(line);
	T_OK(o != NULL && !js_has(o, "request_id") && !js_has(o, "tool"), "log_clear clears");
	json_object_put(o);
	log_set_format(LOG_FORMAT_TEXT);
}

static void text_fields(void)
{
	log_set(LOG_F_REQUEST, "1-2");
	log_set(LOG_F_PRINCIPAL, "Jo Doe\n");
	log_msg(LOG_INFO, "hello");
	log_clear();
}

static void test_text_fields(void)
{
	char line[LINE_LEN];

	grab(text_fields, line, sizeof line);
	T_OK(strstr(line, " dmcp info: hello request_id=1-2 principal=\"Jo Doe\\x0a\"\n") != NULL,
	     "text: key=value after the message, quoted and escaped when needed");
}

static char stream_id[64];

static void journal_lines(void)
{
	struct stat st;

	if (fstat(2, &st) == 0)
		snprintf(stream_id, sizeof stream_id, "%llu:%llu", (unsigned long long)st.st_dev,
		         (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", stream_id, 1);
	if (log_detect_journal())
		log_msg(LOG_WARN, "to the journal");
	setenv("JOURNAL_STREAM", "1:2", 1);
	if (!log_detect_journal())
		log_msg(LOG_WARN, "elsewhere");
	unsetenv("JOURNAL_STREAM");
	(void)log_detect_journal();
}

static void test_journal(void)
{
	char line[LINE_LEN];

	grab(journal_lines, line, sizeof line);
	T_OK(strncmp(line, "<4>dmcp warn: to the journal\n", 29) == 0,
	     "stderr is the journal: a priority prefix, no time");
	T_OK(strstr(line, "Z dmcp warn: elsewhere\n") != NULL && strstr(line, "<4>dmcp warn: "
	     "elsewhere") == NULL, "another stream: no prefix");
}

int main(void)
{
	test_escape();
	test_cut();
	test_msg();
	test_json();
	test_text_fields();
	test_journal();
	return t_done();
}
