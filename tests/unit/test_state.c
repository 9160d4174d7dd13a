/* test_state.c — TAP tests of core/state.c: a requestState checks for the principal it was
 * issued to until it expires and gives back its run and LSN; it is refused for another
 * principal, under another key, after expiry, with a byte changed, and in any spelling
 * state_make does not give (a number past INT64_MAX, a 20-digit field, a leading sign). */
#include <stdio.h>
#include <string.h>
#include "state.h"
#include "t.h"

static const char run[] = "0123456789abcdef0123456789abcdef";

/* What state_check says of text for alice at time 1000 under key. */
static dmcp_rc check(const struct state_key *key, const char *text)
{
	rnd_hex_id id;
	int64_t lsn;

	return state_check(key, text, "alice", 1000, id, &lsn);
}

/* A text shaped like a state, with the fields spelled as given and a MAC-shaped last field,
 * into out[STATE_MAX]: what the parser meets before any MAC is compared (the sanitizer build
 * catches undefined arithmetic on the way). */
static void spelled(const char *lsn, const char *expiry, char *out)
{
	snprintf(out, STATE_MAX, "v1.%s.%s.%s.%s", run, lsn, expiry,
	         "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
}

int main(void)
{
	struct state_key key, other;
	char s[STATE_MAX], edit[STATE_MAX], hex[65];
	rnd_hex_id id;
	int64_t lsn = -1;
	size_t i, n;
	int bad = 0;

	T_OK(state_key_new_hex(hex) == DMCP_OK && strlen(hex) == 64, "a new key is 64 hex digits");
	T_OK(state_key_hex(&key, hex) == DMCP_OK, "a new key loads");
	T_OK(state_key_hex(&other, "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff") ==
	     DMCP_OK, "a fixed key loads");
	T_EQ_INT(state_key_hex(&other, "0011"), DMCP_E_PARAMS, "a short key is refused");
	T_EQ_INT(state_key_hex(&other, "zz112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"),
	         DMCP_E_PARAMS, "a key with a non-hex digit is refused");
	T_OK(state_key_hex(&other, "ff112233445566778899aabbccddeeff00112233445566778899aabbccddeeff") ==
	     DMCP_OK, "another key loads");

	T_OK(state_make(&key, run, 42, 2000, "alice", s) == DMCP_OK, "made: %s", s);
	T_OK(state_check(&key, s, "alice", 1000, id, &lsn) == DMCP_OK && strcmp(id, run) == 0 &&
	     lsn == 42, "checks for alice before expiry, run and LSN back");
	T_EQ_INT(state_check(&key, s, "alice", 2000, id, &lsn), DMCP_OK, "checks at its expiry");
	T_EQ_INT(state_check(&key, s, "alice", 2001, id, &lsn), DMCP_E_PARAMS, "refused after it");
	T_EQ_INT(state_check(&key, s, "bob", 1000, id, &lsn), DMCP_E_PARAMS, "refused for bob");
	T_EQ_INT(state_check(&key, s, "alic", 1000, id, &lsn), DMCP_E_PARAMS,
	         "refused for a prefix of the principal");
	T_EQ_INT(check(&other, s), DMCP_E_PARAMS, "refused under another key");
	n = strlen(s);
	for (i = 0; i < n; i++) {
		memcpy(edit, s, n + 1);
		edit[i] = (char)(edit[i] == '1' ? '2' : '1');
		if (check(&key, edit) != DMCP_E_PARAMS)
			bad++;
	}
	T_EQ_INT(bad, 0, "refused with any one byte changed");
	memcpy(edit, s, n + 1);
	edit[n - 1] = '\0';
	T_EQ_INT(check(&key, edit), DMCP_E_PARAMS, "refused with the MAC cut short");

	T_EQ_INT(state_make(&key, "0123", 1, 2, "alice", s), DMCP_E_PARAMS, "a bad run id is refused");
	T_EQ_INT(state_make(&key, run, -1, 2, "alice", s), DMCP_E_PARAMS, "a negative LSN is refused");
	T_OK(state_make(&key, run, INT64_MAX, INT64_MAX, "alice", s) == DMCP_OK &&
	     state_check(&key, s, "alice", 1000, id, &lsn) == DMCP_OK && lsn == INT64_MAX,
	     "LSN and expiry INT64_MAX round-trip");

	/* Spellings state_make never gives: refused by the parser. */
	spelled("9999999999999999999", "2000", s);
	T_EQ_INT(check(&key, s), DMCP_E_PARAMS, "an LSN past INT64_MAX (19 digits) is refused");
	spelled("1", "9223372036854775808", s);
	T_EQ_INT(check(&key, s), DMCP_E_PARAMS, "an expiry of INT64_MAX + 1 is refused");
	spelled("10000000000000000000", "2000", s);
	T_EQ_INT(check(&key, s), DMCP_E_PARAMS, "a 20-digit LSN is refused");
	spelled("-1", "2000", s);
	T_EQ_INT(check(&key, s), DMCP_E_PARAMS, "a signed LSN is refused");
	spelled("", "2000", s);
	T_EQ_INT(check(&key, s), DMCP_E_PARAMS, "an empty LSN is refused");
	T_EQ_INT(check(&key, "v1."), DMCP_E_PARAMS, "a bare prefix is refused");
	T_EQ_INT(check(&key, ""), DMCP_E_PARAMS, "an empty text is refused");
	return t_done();
}
