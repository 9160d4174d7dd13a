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
static inline int t_check(int ok, const char *file, int line, const char *fmt, ...)
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
/* Each argument is evaluated once (a call in an argument runs once). */
static inline int t_eq_int(long long a, long long b, const char *file, int line, const char *name)
{
	return t_check(a == b, file, line, "%s (got %lld, want %lld)", name, a, b);
}

static inline int t_eq_str(const char *a, const char *b, const char *file, int line, const char *name)
{
	return t_check(a != NULL && b != NULL && strcmp(a, b) == 0, file, line,
	               "%s (got '%s', want '%s')", name, a ? a : "(null)", b ? b : "(null)");
}

#define T_EQ_INT(a, b, name) t_eq_int((long long)(a), (long long)(b), __FILE__, __LINE__, name)
#define T_EQ_STR(a, b, name) t_eq_str((a), (b), __FILE__, __LINE__, name)

static inline int t_done(void)
{
	printf("1..%d\n", t_count);
	return t_failed ? 1 : 0;
}

#endif
