/* test_buf.c — TAP tests of core/buf.c: the cap, sticky failure, formatted appends on both
 * sides of the 256-byte fast path, buf_take and buf_reset. Knows nothing of JSON or HTTP. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "t.h"

/* The fast path of buf_vaddf formats into a stack buffer of this many bytes. */
#define SMALL_FORMAT 256
/* Bytes of the long strings built here: past the fast path, past the first allocation. */
#define LONG_LEN 1000

static void test_empty(void)
{
	struct buf b;
	dmcp_rc rc;

	buf_init(&b, 16);
	T_EQ_STR(buf_cstr(&b), "", "a new buffer reads as \"\"");
	T_EQ_INT(b.len, 0, "a new buffer is empty");
	T_EQ_INT(b.fail, DMCP_OK, "a new buffer has not failed");
	T_OK(b.data == NULL, "a new buffer allocates nothing");
	rc = buf_add(&b, NULL, 0);
	T_EQ_INT(rc, DMCP_OK, "adding 0 bytes (NULL pointer) is fine");
	T_EQ_STR(buf_cstr(&b), "", "still \"\" after adding nothing");
	buf_free(&b);
	T_OK(b.data == NULL && b.len == 0 && b.max == 16, "buf_free empties and keeps the cap");
	buf_free(&b); /* twice is harmless */
}

static void test_cap(void)
{
	struct buf b;
	dmcp_rc rc;

	buf_init(&b, 10);
	rc = buf_adds(&b, "01234");
	T_EQ_INT(rc, DMCP_OK, "5 of 10 bytes");
	rc = buf_adds(&b, "56789");
	T_EQ_INT(rc, DMCP_OK, "exactly to the cap");
	T_EQ_INT(b.len, 10, "len is the cap");
	T_EQ_STR(buf_cstr(&b), "0123456789", "contents at the cap");
	T_OK(b.cap <= b.max + 1, "never allocates more than the cap and a NUL");
	rc = buf_add(&b, "x", 1);
	T_EQ_INT(rc, DMCP_E_LIMIT, "one byte past the cap: DMCP_E_LIMIT");
	T_EQ_INT(b.fail, DMCP_E_LIMIT, "failure recorded");
	T_EQ_INT(b.len, 10, "a refused append changes nothing");
	T_EQ_STR(buf_cstr(&b), "0123456789", "contents kept after the refusal");
	rc = buf_add(&b, "", 0);
	T_EQ_INT(rc, DMCP_E_LIMIT, "sticky: even 0 bytes fail afterwards");
	rc = buf_addf(&b, "%d", 1);
	T_EQ_INT(rc, DMCP_E_LIMIT, "sticky for buf_addf too");
	buf_reset(&b);
	T_EQ_INT(b.fail, DMCP_OK, "buf_reset clears the failure");
	T_EQ_INT(b.len, 0, "buf_reset empties");
	T_EQ_STR(buf_cstr(&b), "", "reads \"\" after reset");
	rc = buf_adds(&b, "abc");
	T_EQ_INT(rc, DMCP_OK, "usable after reset");
	T_EQ_STR(buf_cstr(&b), "abc", "contents after reset");
	buf_free(&b);

	buf_init(&b, 10);
	rc = buf_adds(&b, "0123456789x");
	T_EQ_INT(rc, DMCP_E_LIMIT, "one append larger than the cap");
	T_EQ_INT(b.len, 0, "nothing of it kept");
	buf_free(&b);

	buf_init(&b, 0);
	rc = buf_add(&b, "", 0);
	T_EQ_INT(rc, DMCP_OK, "cap 0: empty append fine");
	rc = buf_add(&b, "a", 1);
	T_EQ_INT(rc, DMCP_E_LIMIT, "cap 0: one byte refused");
	buf_free(&b);

	buf_init(&b, 5);
	rc = buf_addf(&b, "%s", "12345");
	T_EQ_INT(rc, DMCP_OK, "buf_addf exactly to the cap");
	rc = buf_addf(&b, "%s", "");
	T_EQ_INT(rc, DMCP_OK, "an empty format at the cap");
	rc = buf_addf(&b, "%c", 'x');
	T_EQ_INT(rc, DMCP_E_LIMIT, "buf_addf past the cap");
	T_EQ_STR(buf_cstr(&b), "12345", "contents kept");
	buf_free(&b);
}

static void test_unbounded(void)
{
	struct buf b;
	dmcp_rc rc;

	/* The largest cap: max + 1 must not wrap to 0 in the growth arithmetic. */
	buf_init(&b, SIZE_MAX);
	rc = buf_adds(&b, "hello");
	T_EQ_INT(rc, DMCP_OK, "cap SIZE_MAX: append");
	T_EQ_STR(buf_cstr(&b), "hello", "cap SIZE_MAX: contents");
	T_OK(b.cap >= b.len + 1, "cap SIZE_MAX: room for the contents and the NUL");
	buf_free(&b);
}

static void test_addf(void)
{
	struct buf b;
	dmcp_rc rc;
	char big[LONG_LEN + 1];
	size_t n;

	memset(big, 'y', LONG_LEN);
	big[LONG_LEN] = '\0';
	buf_init(&b, 1u << 20);
	rc = buf_addf(&b, "%s-%d", "a", 42);
	T_EQ_INT(rc, DMCP_OK, "short format");
	T_EQ_STR(buf_cstr(&b), "a-42", "short format text");
	rc = buf_addf(&b, "[%s]", big);
	T_EQ_INT(rc, DMCP_OK, "a format past 256 bytes");
	T_EQ_INT(b.len, 4 + LONG_LEN + 2, "length after the long format");
	T_OK(b.data[4] == '[' && b.data[5] == 'y' && b.data[4 + LONG_LEN] == 'y' &&
	     b.data[4 + LONG_LEN + 1] == ']' && b.data[b.len] == '\0',
	     "long format text and terminating NUL");
	buf_free(&b);

	/* Both sides of the fast path boundary. */
	for (n = SMALL_FORMAT - 1; n <= SMALL_FORMAT + 1; n++) {
		char want[SMALL_FORMAT + 2];
		memset(want, 'z', n);
		want[n] = '\0';
		buf_init(&b, 1u << 20);
		rc = buf_addf(&b, "%s", want);
		T_EQ_INT(rc, DMCP_OK, "format of the fast path size +-1");
		T_EQ_INT(b.len, n, "length matches");
		T_EQ_STR(buf_cstr(&b), (const char *)&want[0], "text matches");
		buf_free(&b);
	}

	/* A long format that exceeds the cap. */
	buf_init(&b, LONG_LEN);
	rc = buf_addf(&b, "%s", big);
	T_EQ_INT(rc, DMCP_OK, "a long format exactly to the cap");
	T_EQ_INT(b.len, LONG_LEN, "length is the cap");
	buf_reset(&b);
	rc = buf_addf(&b, "%sx", big);
	T_EQ_INT(rc, DMCP_E_LIMIT, "a long format one past the cap");
	T_EQ_INT(b.len, 0, "nothing kept");
	T_EQ_INT(b.fail, DMCP_E_LIMIT, "failure recorded");
	buf_free(&b);

	/* Appending a long format after existing contents (growth with len > 0). */
	buf_init(&b, 1u << 20);
	rc = buf_adds(&b, "head:");
	T_EQ_INT(rc, DMCP_OK, "head");
	rc = buf_addf(&b, "%s", big);
	T_EQ_INT(rc, DMCP_OK, "long format after the head");
	T_EQ_INT(b.len, 5 + LONG_LEN, "length");
	T_OK(memcmp(b.data, "head:yyy", 8) == 0 && b.data[b.len] == '\0', "contents");
	buf_free(&b);
}

static void test_take(void)
{
	struct buf b;
	dmcp_rc rc;
	char *p;
	int i;

	buf_init(&b, 1u << 16);
	for (i = 0; i < 100; i++)
		(void)buf_adds(&b, "0123456789");
	T_EQ_INT(b.fail, DMCP_OK, "100 appends with growth");
	T_EQ_INT(b.len, 1000, "1000 bytes after growth");
	p = buf_take(&b);
	T_OK(p != NULL && strlen(p) == 1000 && memcmp(p, "0123456789", 10) == 0 &&
	     memcmp(p + 990, "0123456789", 10) == 0, "buf_take hands over the contents");
	free(p);
	T_OK(b.data == NULL && b.len == 0 && b.cap == 0 && b.fail == DMCP_OK,
	     "buf_take leaves the buffer empty");
	T_EQ_INT(b.max, 1u << 16, "buf_take keeps the cap");
	p = buf_take(&b);
	T_OK(p != NULL && p[0] == '\0', "buf_take of an empty buffer gives an owned \"\"");
	free(p);
	rc = buf_adds(&b, "again");
	T_EQ_INT(rc, DMCP_OK, "usable after buf_take");
	T_EQ_STR(buf_cstr(&b), "again", "contents after buf_take");
	buf_free(&b);

	buf_init(&b, 3);
	(void)buf_adds(&b, "abcd");
	p = buf_take(&b);
	T_OK(p != NULL && p[0] == '\0', "buf_take of a failed empty buffer gives \"\"");
	free(p);
	T_EQ_INT(b.fail, DMCP_OK, "buf_take clears the failure");
	buf_free(&b);
}

static void test_reset_keeps_memory(void)
{
	struct buf b;
	char *before;

	buf_init(&b, 100);
	(void)buf_adds(&b, "some text");
	before = b.data;
	buf_reset(&b);
	T_OK(b.data == before && b.data[0] == '\0', "buf_reset keeps the memory, NUL-terminated");
	buf_reset(&b);
	T_EQ_INT(b.len, 0, "reset twice");
	buf_free(&b);

	buf_init(&b, 100);
	buf_reset(&b); /* reset of a never-used buffer */
	T_OK(b.data == NULL && b.len == 0, "reset of an unused buffer");
	buf_free(&b);
}

int main(void)
{
	test_empty();
	test_cap();
	test_unbounded();
	test_addf();
	test_take();
	test_reset_keeps_memory();
	return t_done();
}
