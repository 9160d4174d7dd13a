/* t.h — a tiny TAP producer for the unit test programs (one binary per core module).
 * Each check prints "ok N - name" or "not ok N - name"; t_done() prints the plan and
 * gives the exit status. Included by one translation unit per test program. */
#ifndef DMCP_T_H
#define DMCP_T_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int t_count;  /* checks run */
static int t_failed; /* checks failed */

__attribute__((format(printf, 4, 5)))
static int t_check(int ok, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	t_count++;
	if (!ok)
		t_failed++;
	printf("%sok %d - ", ok ? "" : "not ", t_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!ok)
		printf("#   failed at %s:%d\n", file, line);
	fflush(stdout);
	return ok;
}

#define T_OK(cond, ...) t_check((cond) ? 1 : 0, __FILE__, __LINE__, __VA_ARGS__)
#define T_EQ_INT(a, b, name) \
	t_check((long long)(a) == (long long)(b), __FILE__, __LINE__, "%s (got %lld, want %lld)", \
	        name, (long long)(a), (long long)(b))
#define T_EQ_STR(a, b, name) \
	t_check((a) != NULL && (b) != NULL && strcmp((a), (b)) == 0, __FILE__, __LINE__, \
	        "%s (got '%s', want '%s')", name, (a) ? (a) : "(null)", (b) ? (b) : "(null)")

static int t_done(void)
{
	printf("1..%d\n", t_count);
	return t_failed ? 1 : 0;
}

#endif
