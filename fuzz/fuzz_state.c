/* fuzz_state.c — libFuzzer target: the requestState of the 2026-07-28 wire (core/state.c) and
 * the base64 codecs under it (core/b64.c).
 * Knows nothing of HTTP or the database. The input is a mode byte, then:
 *   mode even: text. It is read as a requestState (the key, principal and clock fixed here)
 *     and as base64url. Properties: a state accepted is exactly the one state_make gives for
 *     the fields read back (one spelling per state); base64url text accepted re-encodes to the
 *     same text without its padding, and no byte beyond the decoded count is written.
 *   mode odd: fields. 16 bytes make the run id, 8 the LSN, 8 the expiry, 8 the clock, 1 a
 *     position and 1 a byte value; the rest is the principal (up to a NUL). Properties: the
 *     state made checks for its principal while it has not expired, and gives back the run
 *     id and LSN; it is refused for another principal, under another key, after its expiry,
 *     and with any one byte changed, removed or added; bytes re-encoded by base64url decode
 *     back to themselves. */
#include <stdlib.h>
#include <string.h>
#include "b64.h"
#include "fuzz.h"
#include "rnd.h"
#include "state.h"

/* Bytes of the principal the fields mode uses: the state signs any length. */
#define PRINCIPAL_MAX 256
/* Bytes of the base64url text the text mode decodes. */
#define TEXT_MAX 8192

static const char key_hex[] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
static const char other_hex[] = "ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

/* A 64-bit unsigned number from 8 bytes, big-endian. */
static uint64_t be64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* base64url of an arbitrary text: what is accepted is canonical. */
static void text_b64(const char *s, size_t n)
{
	unsigned char out[B64_DECODED_MAX(TEXT_MAX) + 16];
	char again[B64_ENCODED_SIZE(B64_DECODED_MAX(TEXT_MAX))];
	size_t got = 0, bare = n, i;

	memset(out, 0xa5, sizeof out);
	if (b64url_decode(s, n, out, B64_DECODED_MAX(n), &got) != DMCP_OK)
		return;
	FUZZ_CHECK(got <= B64_DECODED_MAX(n), "%zu bytes from %zu characters", got, n);
	for (i = got; i < sizeof out; i++)
		FUZZ_CHECK(out[i] == 0xa5, "byte %zu written past the %zu decoded", i, got);
	while (bare > 0 && s[bare - 1] == '=')
		bare--;
	FUZZ_CHECK(b64url_encode(out, got, again, sizeof again) == DMCP_OK, "re-encode refused");
	FUZZ_CHECK(strlen(again) == bare && memcmp(again, s, bare) == 0,
	           "\"%.*s\" re-encodes as \"%s\"", (int)n, s, again);
}

/* Standard base64 of an arbitrary text: accepted only when the same text in the url
 * alphabet decodes to the same bytes (the two decoders share their rules). */
static void text_std(const char *s, size_t n)
{
	static unsigned char out[B64_DECODED_MAX(TEXT_MAX)], url[B64_DECODED_MAX(TEXT_MAX)];
	static char t[TEXT_MAX + 1];
	size_t got = 0, got_url = 0, i;

	if (b64_decode(s, n, out, sizeof out, &got) != DMCP_OK)
		return;
	FUZZ_CHECK(n % 4 == 0 && got == n / 4 * 3 - (n > 0 && s[n - 1] == '=') -
	           (n > 1 && s[n - 2] == '='), "%zu bytes from %zu characters", got, n);
	for (i = 0; i < n; i++) {
		FUZZ_CHECK(s[i] != '-' && s[i] != '_', "url alphabet accepted as standard");
		t[i] = s[i] == '+' ? '-' : s[i] == '/' ? '_' : s[i];
	}
	FUZZ_CHECK(b64url_decode(t, n, url, sizeof url, &got_url) == DMCP_OK && got_url == got &&
	           memcmp(url, out, got) == 0, "\"%.*s\" decodes otherwise as base64url", (int)n, s);
}

/* A text read as a requestState: accepted only in the spelling state_make gives. */
static void text_state(const struct state_key *key, const char *s)
{
	rnd_hex_id run;
	char made[STATE_MAX];
	int64_t lsn = -1, expiry;
	const char *p;

	if (state_check(key, s, "alice", 1000, run, &lsn) != DMCP_OK)
		return;
	/* Only a text signed with the key passes: the fuzzer reaches here from a seed. */
	p = s + 36;
	while (*p != '.')
		p++;
	expiry = strtoll(p + 1, NULL, 10);
	FUZZ_CHECK(state_make(key, run, lsn, expiry, "alice", made) == DMCP_OK, "remake refused");
	FUZZ_CHECK(strcmp(made, s) == 0, "\"%s\" accepted, but made as \"%s\"", s, made);
}

/* A state made from fields: checks exactly where it should. */
static void fields_state(const struct state_key *key, const struct state_key *other,
                         const uint8_t *d, size_t size)
{
	static const char digits[] = "0123456789abcdef";
	char principal[PRINCIPAL_MAX + 1], who[PRINCIPAL_MAX + 2], made[STATE_MAX],
		edit[STATE_MAX + 1];
	rnd_hex_id run, back;
	int64_t lsn, expiry, now, lsn_back = -1;
	size_t i, len, n, pos;
	dmcp_rc rc;

	for (i = 0; i < 16; i++) {
		run[2 * i] = digits[d[i] >> 4];
		run[2 * i + 1] = digits[d[i] & 15];
	}
	run[32] = '\0';
	lsn = (int64_t)(be64(d + 16) >> 1);
	expiry = (int64_t)(be64(d + 24) >> 1);
	now = (int64_t)(be64(d + 32) >> 1);
	pos = d[40];
	len = strnlen((const char *)d + 42, size - 42);
	if (len > PRINCIPAL_MAX)
		len = PRINCIPAL_MAX;
	memcpy(principal, d + 42, len);
	principal[len] = '\0';

	rc = state_make(key, run, lsn, expiry, principal, made);
	if (rc != DMCP_OK) {
		/* The only refusal for fields in range: the principal does not fit the signed text. */
		FUZZ_CHECK(rc == DMCP_E_LIMIT || rc == DMCP_E_INTERNAL, "make: %d", (int)rc);
		return;
	}
	FUZZ_CHECK(strlen(made) < STATE_MAX, "state too long");
	rc = state_check(key, made, principal, now, back, &lsn_back);
	FUZZ_CHECK((rc == DMCP_OK) == (expiry >= now), "check %d at %lld, expiry %lld", (int)rc,
	           (long long)now, (long long)expiry);
	if (rc == DMCP_OK)
		FUZZ_CHECK(strcmp(back, run) == 0 && lsn_back == lsn, "fields changed");
	if (expiry < now)
		return;
	FUZZ_CHECK(state_check(other, made, principal, now, back, &lsn_back) != DMCP_OK,
	           "another key's state accepted");
	memcpy(who, principal, len + 1);
	if (len > 0)
		who[len - 1] ^= 1;
	else
		memcpy(who, "x", 2);
	FUZZ_CHECK(state_check(key, made, who, now, back, &lsn_back) != DMCP_OK,
	           "another principal's state accepted");
	n = strlen(made);
	pos %= n;
	/* One byte changed (to any other value but NUL), removed, or added. */
	memcpy(edit, made, n + 1);
	edit[pos] = (char)(d[41] == 0 || d[41] == (uint8_t)made[pos] ? made[pos] ^ 0x40 : d[41]);
	if (edit[pos] != '\0')
		FUZZ_CHECK(state_check(key, edit, principal, now, back, &lsn_back) != DMCP_OK,
		           "changed byte %zu accepted: %s", pos, edit);
	memcpy(edit, made, pos);
	memcpy(edit + pos, made + pos + 1, n - pos);
	FUZZ_CHECK(state_check(key, edit, principal, now, back, &lsn_back) != DMCP_OK,
	           "removed byte %zu accepted", pos);
	memcpy(edit, made, pos);
	edit[pos] = (char)(d[41] ? d[41] : '0');
	memcpy(edit + pos + 1, made + pos, n - pos + 1);
	FUZZ_CHECK(state_check(key, edit, principal, now, back, &lsn_back) != DMCP_OK,
	           "added byte at %zu accepted", pos);
}

/* Bytes re-encoded by base64url decode back to themselves. */
static void bytes_b64(const uint8_t *d, size_t n)
{
	char text[B64_ENCODED_SIZE(TEXT_MAX)];
	unsigned char back[TEXT_MAX + 2];
	size_t got = 0;

	if (n > TEXT_MAX)
		n = TEXT_MAX;
	FUZZ_CHECK(b64url_encode(d, n, text, sizeof text) == DMCP_OK, "encode refused");
	FUZZ_CHECK(b64url_decode(text, strlen(text), back, sizeof back, &got) == DMCP_OK,
	           "own encoding refused: %s", text);
	FUZZ_CHECK(got == n && memcmp(back, d, n) == 0, "round trip changed %zu bytes", n);
	if (n > 0)
		FUZZ_CHECK(b64url_encode(d, n, text, B64_ENCODED_SIZE(n) - 1) == DMCP_E_LIMIT,
		           "encode wrote past its room");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct state_key key, other;
	char text[TEXT_MAX + 1], *exact;
	size_t n;

	if (!key.set && (state_key_hex(&key, key_hex) != DMCP_OK ||
	                 state_key_hex(&other, other_hex) != DMCP_OK))
		abort();
	if (size < 1)
		return 0;
	if ((data[0] & 1) == 0) {
		n = size - 1 > TEXT_MAX ? TEXT_MAX : size - 1;
		memcpy(text, data + 1, n);
		text[n] = '\0';
		text_b64(text, n);
		text_std(text, n);
		exact = malloc(strlen(text) + 1);
		if (exact == NULL)
			abort();
		memcpy(exact, text, strlen(text) + 1);
		text_state(&key, exact); /* on the heap, to its NUL: a read past it is reported */
		free(exact);
		return 0;
	}
	if (size < 43)
		return 0;
	fields_state(&key, &other, data + 1, size - 1);
	bytes_b64(data + 43, size - 43);
	return 0;
}
