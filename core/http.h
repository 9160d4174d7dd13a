/* http.h — the Streamable HTTP transport's header rules as pure functions: Accept,
 * Content-Type, Host/Origin allowlists, protocol versions, Content-Length, session ids.
 * Knows nothing of FastCGI or the database. MCP 2025-11-25 basic/transports. */
#ifndef DMCP_HTTP_H
#define DMCP_HTTP_H

#include <stddef.h>
#include "cfg.h"
#include "dmcp.h"

/* Bytes of any single request header dmcp reads; a longer value is refused with 400
 * (nginx allows 8 KiB per header line by default; none of ours needs more than 300). */
#define HTTP_MAX_HEADER 4096
/* Digits of a Content-Length: 18 never overflow a size_t, and far exceed DMCP_MAX_BODY. */
#define HTTP_MAX_LENGTH_DIGITS 18

/* 1 when the Accept list admits media type (type/subtype), by exact match, type/" *" or
 * "* / *", with q > 0. Order and spacing do not matter. NULL or "" admits nothing. */
int http_accepts(const char *accept, const char *type);
/* 1 when Content-Type is application/json (any parameters, any case). */
int http_is_json(const char *content_type);
/* 1 when Host is allowed (absent Host is allowed: it cannot be a rebinding). */
int http_host_ok(const struct cfg *c, const char *host);
/* 1 when Origin is absent or allowed. "null" and malformed origins are refused. */
int http_origin_ok(const struct cfg *c, const char *origin);
/* 1 when v is a protocol version dmcp speaks. */
int http_version_ok(const char *v);
/* The version to answer initialize with: v when supported, else the latest. Static. */
const char *http_version_negotiate(const char *v);
/* 1 when version v has the 2025-11-25 stream rules (priming events, polling). */
int http_version_primes(const char *v);
/* Parse a CONTENT_LENGTH value: digits only, no overflow. DMCP_E_PARAMS otherwise. */
dmcp_rc http_content_length(const char *s, size_t *out) DMCP_MUST_CHECK;

#endif
