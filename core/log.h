/* log.h — the server's own log on stderr (one line per message), with client bytes escaped:
 * text (default) or one JSON object per line (DMCP_LOG_FORMAT=json), with journald priority
 * prefixes when stderr is the journal. Each thread carries the fields of what it works on
 * (request id, principal, session, run, tool), which every line it logs repeats.
 * Knows nothing of requests beyond those strings. Never logs Authorization headers or
 * database passwords. sd-daemon(3) for the "<N>" prefixes. */
#ifndef DMCP_LOG_H
#define DMCP_LOG_H

#include <stddef.h>
#include "dmcp.h"

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* How a line is written. */
enum log_format {
	LOG_FORMAT_TEXT, /* "2026-12-05T10:00:00.123Z dmcp info: message key=value ..." */
	LOG_FORMAT_JSON  /* {"time":..., "level":..., "message":..., fields...} */
};

/* The fields a thread sets while it works, in the order lines show them. */
enum log_field {
	LOG_F_REQUEST,   /* this process's id of the HTTP request: "<pid>-<n>" */
	LOG_F_PRINCIPAL, /* who is calling */
	LOG_F_SESSION,   /* the session the request names */
	LOG_F_RUN,       /* the run a step works on */
	LOG_F_TOOL,      /* that run's tool */
	LOG_F_COUNT
};

/* Bytes of a field's value kept (a principal is the longest: 256). */
#define LOG_FIELD_MAX 260
/* Bytes of one message once formatted (longer is cut). */
#define LOG_MESSAGE_MAX 1024
/* Bytes of one written line, escapes included: a line that would be longer has its values
 * cut, and stays one well-formed line. */
#define LOG_LINE_MAX 8192

/* Messages below this level are dropped (DMCP_LOG_LEVEL: debug|info|warn|error). */
void log_set_level(enum log_level l);
/* DMCP_LOG_FORMAT: text (default) or json. Set before threads start. */
void log_set_format(enum log_format f);
/* Whether stderr is the journal's stream now (JOURNAL_STREAM names its device and inode,
 * as systemd sets it for a service whose output goes to the journal): then every line starts
 * with its priority as "<N>", and text lines leave out the time (the journal keeps its own).
 * Call once stderr is final (after DMCP_LOG_FILE). Returns 1 when the prefixes are on. */
int log_detect_journal(void);

/* Set (a copy of value, cut to LOG_FIELD_MAX - 1 bytes) or, with NULL or "", clear field f
 * of the calling thread. */
void log_set(enum log_field f, const char *value);
/* Clear every field of the calling thread (the end of a request). */
void log_clear(void);

/* A field of one line only: a string (str not NULL) or a number. */
struct log_kv {
	const char *key;
	const char *str;
	long long num;
};

void log_msg(enum log_level l, const char *fmt, ...) DMCP_PRINTF(2, 3);
/* A line with n more fields after the thread's own. */
void log_line(enum log_level l, const struct log_kv *kv, int n, const char *fmt, ...)
	DMCP_PRINTF(4, 5);
/* Escape up to n bytes of untrusted s into out[outlen] (printable ASCII kept, the rest as
 * \xNN, cut with "..." when long). Returns out. */
const char *log_escape(char *out, size_t outlen, const char *s, size_t n);

#endif
