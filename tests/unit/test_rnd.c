/* test_rnd.c — TAP tests of core/rnd.c: ids are 32 lowercase hex digits, NUL-terminated,
 * accepted by rnd_id_ok, and not repeated. Knows nothing else. */
#include <string.h>
#include "http.h"
#include "rnd.h"
#include "t.h"

/* Ids drawn for the uniqueness and spread checks. */
#define DRAWS 200
/* Bytes of one id with its NUL. */
#define ID_SIZE sizeof(rnd_hex_id)

int main(void)
{
	static rnd_hex_id ids[DRAWS];
	char guard[ID_SIZE + 8];
	int i, j, dup = 0, shape = 0, seen[16] = {0}, digits = 0;
	dmcp_rc rc;

	memset(guard, 'Z', sizeof guard);
	rc = rnd_id(guard);
	T_EQ_INT(rc, DMCP_OK, "rnd_id succeeds");
	T_EQ_INT(strlen(guard), RND_ID_LEN, "RND_ID_LEN (32) characters");
	T_OK(guard[ID_SIZE] == 'Z', "writes exactly RND_ID_LEN + 1 bytes");
	T_OK(rnd_id_ok(guard), "the id has the shape rnd_id_ok accepts (%s)", guard);

	for (i = 0; i < DRAWS; i++) {
		rc = rnd_id(ids[i]);
		if (rc != DMCP_OK || !rnd_id_ok(ids[i]))
			shape++;
		for (j = 0; ids[i][j] != '\0'; j++) {
			char c = ids[i][j];
			if (c >= '0' && c <= '9')
				seen[c - '0']++;
			else if (c >= 'a' && c <= 'f')
				seen[c - 'a' + 10]++;
		}
	}
	T_EQ_INT(shape, 0, "every id is 32 lowercase hex digits");
	for (i = 0; i < DRAWS; i++)
		for (j = 0; j < i; j++)
			if (strcmp(ids[i], ids[j]) == 0)
				dup++;
	T_EQ_INT(dup, 0, "no two ids of 200 are equal");
	for (i = 0; i < 16; i++)
		if (seen[i] > 0)
			digits++;
	T_EQ_INT(digits, 16, "all 16 hex digits occur in 6400 random digits");
	return t_done();
}
