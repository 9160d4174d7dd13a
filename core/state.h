/* state.h — requestState for the 2026-07-28 wire: the opaque string a client sends back with
 * its inputResponses is a signed, expiring pointer to a waiting run and to the point of its
 * log it was issued at. The run's row, not the string, holds the journal: a retry is applied
 * under a compare-and-set on that row, exactly once, on any worker. Knows nothing of HTTP or
 * the database. HMAC-SHA256 (RFC 2104) from OpenSSL; MCP 2026-07-28 server/tools
 * (multi-round-trip requests).
 *
 * Wire form: "v1.<run id>.<lsn>.<expiry>.<mac>", mac = base64url(HMAC-SHA256(key,
 * "v1.<run id>.<lsn>.<expiry>.<principal>")), so a state is only good for the principal it
 * was issued to, and only until expiry (seconds since the epoch). */
#ifndef DMCP_STATE_H
#define DMCP_STATE_H

#include <stddef.h>
#include <stdint.h>
#include "dmcp.h"
#include "rnd.h"

/* Bytes of a signing key (256 bits, as HMAC-SHA256 wants at least). */
#define STATE_KEY_LEN 32
/* Bytes of a requestState, NUL included ("v1." + 32 + "." + 19 + "." + 20 + "." + 43 + NUL). */
#define STATE_MAX 128

struct state_key {
	unsigned char k[STATE_KEY_LEN];
	int set; /* 1 once loaded */
};

/* Parse 64 hex digits into key. DMCP_E_PARAMS when hex is anything else. */
dmcp_rc state_key_hex(struct state_key *key, const char *hex) DMCP_MUST_CHECK;
/* A fresh random key as 64 hex digits into out[65] (OpenSSL's RAND_bytes). */
dmcp_rc state_key_new_hex(char out[65]) DMCP_MUST_CHECK;

/* The state for (run_id, lsn) issued to principal, valid until expiry, into out[STATE_MAX]. */
dmcp_rc state_make(const struct state_key *key, const char *run_id, int64_t lsn,
                   int64_t expiry, const char *principal, char out[STATE_MAX]) DMCP_MUST_CHECK;
/* Check text against key, principal and the time now (seconds since the epoch): on success
 * run_id[33] and *lsn are set. DMCP_E_PARAMS for anything malformed, forged, foreign or
 * expired (the caller answers all of them the same way). The MAC is compared in constant
 * time. */
dmcp_rc state_check(const struct state_key *key, const char *text, const char *principal,
                    int64_t now, rnd_hex_id run_id, int64_t *lsn) DMCP_MUST_CHECK;

#endif
