/* rnd.c — secure random ids (see rnd.h). Knows nothing else. Never falls back to a weak
 * source: if the kernel will not give randomness, the request fails. */
#include <errno.h>
#include <sys/random.h>
#include "rnd.h"

dmcp_rc rnd_id(rnd_hex_id out)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[RND_ID_LEN / 2];
	size_t got = 0;
	int i;

	while (got < sizeof b) {
		ssize_t n = getrandom(b + got, sizeof b - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return DMCP_E_INTERNAL;
		got += (size_t)n;
	}
	for (i = 0; i < RND_ID_LEN / 2; i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
	out[RND_ID_LEN] = '\0';
	return DMCP_OK;
}

int rnd_id_ok(const char *s)
{
	size_t i;

	if (s == NULL)
		return 0;
	for (i = 0; i < RND_ID_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[RND_ID_LEN] == '\0';
}
