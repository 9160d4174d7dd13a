/* log.c — stderr logging (see log.h). Knows nothing of requests: the fields are strings a
 * thread sets. One write per line, so lines from several threads do not interleave; the line
 * is built in a fixed buffer, so logging never allocates. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "log.h"
#include "utf8.h"

static enum log_level min_level = LOG_INFO;
static enum log_format format = LOG_FORMAT_TEXT;
static int journal; /* stderr is the journal: "<N>" prefixes, no time in text lines */

/* What the calling thread works on (log_set). */
static _Thread_local char fields[LOG_F_COUNT][LOG_FIELD_MAX];

static const char *const level_names[] = {"debug", "info", "warn", "error"};
/* syslog priorities of the levels, for the journal: debug, info, warning, err. */
static const int level_prio[] = {7, 6, 4, 3};
static const char *const field_names[LOG_F_COUNT] = {"request_id", "principal", "session",
                                                     "run", "tool"};

void log_set_level(enum log_level l)
{
	min_level = l;
}

void log_set_format(enum log_format f)
{
	format = f;
}

int log_detect_journal(void)
{
	const char *s = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char *end;

	journal = 0;
	if (s == NULL || *s == '\0')
		return 0;
	dev = strtoull(s, &end, 10);
	if (end == s || *end != ':')
		return 0;
	s = end + 1;
	ino = strtoull(s, &end, 10);
	if (end == s || *end != '\0' || fstat(STDERR_FILENO, &st) != 0)
		return 0;
	journal = (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
	return journal;
}

void log_set(enum log_field f, const char *value)
{
	if ((int)f < 0 || f >= LOG_F_COUNT)
		return;
	fields[f][0] = '\0';
	if (value != NULL)
		snprintf(fields[f], sizeof fields[f], "%s", value);
}

void log_clear(void)
{
	int i;

	for (i = 0; i < LOG_F_COUNT; i++)
		fields[i][0] = '\0';
}

/* ---- building a line ------------------------------------------------------------------- */

/* A line under construction: never more than cap bytes (room for the end is kept apart). */
struct line {
	char data[LOG_LINE_MAX];
	size_t len;
	size_t cap; /* LOG_LINE_MAX less what the line's end needs */
};

static void put(struct line *o, const char *s, size_t n)
{
	if (n > o->cap - o->len)
		n = o->cap - o->len;
	memcpy(o->data + o->len, s, n);
	o->len += n;
}

static void puts_(struct line *o, const char *s)
{
	put(o, s, strlen(s));
}

/* s as a JSON string: quotes, backslashes and control characters escaped, well-formed UTF-8
 * kept, any other byte as U+FFFD. Cut (still quoted) when the line is full. */
static void put_json(struct line *o, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = strlen(s), i = 0, k;
	char e[8];

	put(o, "\"", 1);
	while (i < n && o->len + 7 <= o->cap) { /* the longest escape, and the closing quote */
		unsigned char c = (unsigned char)s[i];
		uint32_t cp;
		if (c == '"' || c == '\\') {
			e[0] = '\\';
			e[1] = (char)c;
			put(o, e, 2);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			memcpy(e, "\\u00", 4);
			e[4] = hex[c >> 4];
			e[5] = hex[c & 15];
			put(o, e, 6);
			i++;
		} else if (c < 0x80) {
			put(o, s + i, 1);
			i++;
		} else {
			k = utf8_decode(s + i, n - i, &cp);
			if (k == 0) {
				put(o, "\\ufffd", 6);
				i++;
			} else {
				put(o, s + i, k);
				i += k;
			}
		}
	}
	put(o, "\"", 1); /* the loop left room for it */
}

/* s as a text value: as it is when it is printable ASCII without spaces, quotes or
 * backslashes, else in double quotes with those escaped (\xNN). */
static void put_text(struct line *o, const char *s)
{
	char esc[LOG_FIELD_MAX * 4];
	size_t n = strlen(s), i;
	int plain = n > 0;

	for (i = 0; i < n && plain; i++)
		plain = s[i] > 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\';
	if (plain) {
		put(o, s, n);
		return;
	}
	log_escape(esc, sizeof esc, s, n);
	put(o, "\"", 1);
	for (i = 0; esc[i] != '\0'; i++) {
		if (esc[i] == '"')
			put(o, "\\x22", 4);
		else
			put(o, esc + i, 1);
	}
	put(o, "\"", 1);
}

static void put_kv(struct line *o, const char *key, const char *str, long long num)
{
	char v[32];

	/* A field that cannot fit whole is left out (the line stays well-formed). */
	if (o->cap - o->len < strlen(key) + 32)
		return;
	if (str == NULL)
		snprintf(v, sizeof v, "%lld", num);
	if (format == LOG_FORMAT_JSON) {
		puts_(o, ",");
		put_json(o, key);
		puts_(o, ":");
		if (str != NULL)
			put_json(o, str);
		else
			puts_(o, v);
	} else {
		puts_(o, " ");
		puts_(o, key);
		puts_(o, "=");
		put_text(o, str != NULL ? str : v);
	}
}

static void put_time(struct line *o)
{
	struct timespec ts;
	struct tm tm;
	char t[64];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(t, sizeof t, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
	         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
	if (format == LOG_FORMAT_JSON) {
		puts_(o, "\"time\":");
		put_json(o, t);
	} else if (!journal) {
		puts_(o, t);
		puts_(o, " ");
	}
}

static void vline(enum log_level l, const struct log_kv *kv, int n, const char *fmt, va_list ap)
{
	struct line o;
	char msg[LOG_MESSAGE_MAX], prio[8];
	int i;

	o.len = 0;
	o.cap = sizeof o.data - 3; /* "}\n" and a NUL always fit */
	vsnprintf(msg, sizeof msg, fmt, ap);
	if (journal) {
		snprintf(prio, sizeof prio, "<%d>", level_prio[l]);
		puts_(&o, prio);
	}
	if (format == LOG_FORMAT_JSON) {
		puts_(&o, "{");
		put_time(&o);
		puts_(&o, ",\"level\":");
		put_json(&o, level_names[l]);
		puts_(&o, ",\"message\":");
		put_json(&o, msg);
	} else {
		put_time(&o);
		puts_(&o, "dmcp ");
		puts_(&o, level_names[l]);
		puts_(&o, ": ");
		puts_(&o, msg);
	}
	for (i = 0; i < LOG_F_COUNT; i++)
		if (fields[i][0] != '\0')
			put_kv(&o, field_names[i], fields[i], 0);
	for (i = 0; i < n; i++)
		put_kv(&o, kv[i].key, kv[i].str, kv[i].num);
	if (format == LOG_FORMAT_JSON)
		o.data[o.len++] = '}';
	o.data[o.len++] = '\n';
	(void)fwrite(o.data, 1, o.len, stderr);
}

void log_msg(enum log_level l, const char *fmt, ...)
{
	va_list ap;

	if (l < min_level)
		return;
	va_start(ap, fmt);
	vline(l, NULL, 0, fmt, ap);
	va_end(ap);
}

void log_line(enum log_level l, const struct log_kv *kv, int n, const char *fmt, ...)
{
	va_list ap;

	if (l < min_level)
		return;
	va_start(ap, fmt);
	vline(l, kv, n, fmt, ap);
	va_end(ap);
}

/* Bytes c takes once escaped: printable ASCII as itself, the rest as \xNN. */
static size_t escaped_width(unsigned char c)
{
	return c >= 0x20 && c < 0x7f && c != '\\' ? 1 : 4;
}

const char *log_escape(char *out, size_t outlen, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0, need = 0;
	int cut;

	if (outlen == 0)
		return out;
	for (i = 0; s != NULL && i < n; i++)
		need += escaped_width((unsigned char)s[i]);
	cut = need >= outlen; /* then keep room for "..." (when outlen has it at all) */
	for (i = 0; s != NULL && i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		size_t w = escaped_width(c);
		if (cut && o + w + 3 >= outlen) {
			if (o + 3 < outlen) {
				memcpy(out + o, "...", 3);
				o += 3;
			}
			break;
		}
		if (w == 1) {
			out[o++] = (char)c;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
	return out;
}
