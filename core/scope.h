/* scope.h — OAuth scope lists: "a b c", the form an access token's scope claim, a token's
 * --scope and DMCP_REQUIRED_SCOPES take. Knows nothing of where a list comes from.
 * RFC 6749 §3.3 (scope = scope-token *( SP scope-token ), scope-token = 1*( %x21 / %x23-5B
 * / %x5D-7E )). */
#ifndef DMCP_SCOPE_H
#define DMCP_SCOPE_H

#include <stddef.h>
#include "dmcp.h"

/* Bytes of a scope list dmcp keeps (a token's, a run's): enough for dozens of scopes; a
 * token that carries more is refused rather than cut, since a cut list would drop grants
 * without saying so. */
#define SCOPE_MAX_LIST 1024

/* Normalize the list in[0..n) into out[cap]: scope-tokens separated by any run of spaces
 * (and, when commas is 1, commas), written back with single spaces, duplicates dropped.
 * DMCP_E_PARSE when a token has a character the grammar forbids; DMCP_E_LIMIT when the
 * result does not fit. "" is a valid, empty list. */
dmcp_rc scope_norm(const char *in, size_t n, int commas, char *out, size_t cap) DMCP_MUST_CHECK;
/* 1 when the normalized list holds scope. */
int scope_has(const char *list, const char *scope);
/* 1 when the normalized list have holds every scope of the normalized list need. */
int scope_all(const char *have, const char *need);

#endif
