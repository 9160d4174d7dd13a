/* log.h — the server's own log on stderr (one line per message), with client bytes escaped.
 * Knows nothing of requests. Never logs Authorization headers or database passwords. */
#ifndef DMCP_LOG_H
#define DMCP_LOG_H

#include <stddef.h>
#include "dmcp.h"

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Messages below this level are dropped (DMCP_LOG_LEVEL: debug|info|warn|error). */
void log_set_level(enum log_level l);
void log_msg(enum log_level l, const char *fmt, ...) DMCP_PRINTF(2, 3);
/* Escape up to n bytes of untrusted s into out[outlen] (printable ASCII kept, the rest as
 * \xNN, cut with "..." when long). Returns out. */
const char *log_escape(char *out, size_t outlen, const char *s, size_t n);

#endif
