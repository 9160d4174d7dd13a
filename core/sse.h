/* sse.h — Server-Sent Events framing and dmcp's event ids ("<run id>:<lsn>").
 * Knows nothing of HTTP or the database. WHATWG HTML §9.2 (event streams); MCP 2025-11-25
 * basic/transports (priming events, retry, resumability). */
#ifndef DMCP_SSE_H
#define DMCP_SSE_H

#include <stdint.h>
#include "buf.h"
#include "rnd.h"

/* Bytes of an event id: 32 hex + ':' + the LSN (at most 19 digits) + NUL. */
#define SSE_ID_MAX 56
/* Digits of an LSN in a Last-Event-ID: 18 always fit in an int64 without overflow, and a
 * run never receives near 10^18 events (DMCP_MAX_EVENTS_PER_RUN is at most 10^7). */
#define SSE_MAX_LSN_DIGITS 18

/* "id: <id>\n" (when id) "retry: <ms>\n" (when retry_ms >= 0) then data lines and a blank
 * line. data may hold newlines; each line becomes one data: field. */
dmcp_rc sse_event(struct buf *b, const char *id, int retry_ms, const char *data);
/* ": <text>\n\n" — a comment, for heartbeats; each line of a text with line breaks becomes
 * its own comment line. */
dmcp_rc sse_comment(struct buf *b, const char *text);
/* Format the event id for (run, lsn) into out[SSE_ID_MAX]. */
void sse_event_id(char *out, const char *run_id, int64_t lsn);
/* Parse a Last-Event-ID. 1 on success with run_id and *lsn set; 0 when malformed. */
int sse_parse_event_id(const char *s, rnd_hex_id run_id, int64_t *lsn);

#endif
