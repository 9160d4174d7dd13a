/* token.c — `dmcp.fcgi token create|revoke|list` (see token.h).
 * Knows nothing of FastCGI or requests. The token is made here (auth_token_new), printed
 * once on the last line of `create`, and only its SHA-256 goes to the database; nothing
 * logs it. Subcommands are dispatched from a table. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include "auth.h"
#include "js.h"
#include "ops.h"
#include "scope.h"
#include "store.h"
#include "token.h"

/* Seconds a token may live, at most: a hundred years is "never" said in numbers, and keeps
 * every sum below int64's range. */
#define TOKEN_MAX_LIFETIME_S (100LL * 366 * 86400)
/* Rows `token list` shows. */
#define TOKEN_MAX_LIST 100000

const char token_usage[] =
	"       dmcp.fcgi token create --principal NAME [--expires DURATION|TIME] [--scope \"a b\"]\n"
	"       dmcp.fcgi token revoke TOKEN|ID\n"
	"       dmcp.fcgi token list [--json]\n";

/* ---- create ---------------------------------------------------------------------------- */

/* DURATION: digits and a unit, s m h d or w ("90d"). */
static int parse_duration(const char *s, int64_t *secs)
{
	static const struct { char unit; int64_t secs; } units[] = {
		{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 7 * 86400},
	};
	char *end = NULL;
	long long n;
	size_t i;

	if (s[0] < '0' || s[0] > '9')
		return 0;
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno != 0 || end == s || end[0] == '\0' || end[1] != '\0' || n <= 0)
		return 0;
	for (i = 0; i < sizeof units / sizeof units[0]; i++)
		if (units[i].unit == end[0] && n <= TOKEN_MAX_LIFETIME_S / units[i].secs) {
			*secs = (int64_t)n * units[i].secs;
			return 1;
		}
	return 0;
}

/* The expiry of --expires as seconds since the epoch. */
static int parse_expires(const char *s, int64_t *t)
{
	int64_t now = (int64_t)time(NULL), secs;
	long long at;

	if (parse_duration(s, &secs)) {
		*t = now + secs;
		return 1;
	}
	if (!ops_parse_time(s, &at))
		return 0;
	*t = (int64_t)at;
	return *t > now && *t - now <= TOKEN_MAX_LIFETIME_S;
}

/* 64 random bits as 16 lowercase hex digits. */
static int new_id(char out[ROW_TOKEN_ID + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[ROW_TOKEN_ID / 2];
	int i;

	if (RAND_bytes(b, sizeof b) != 1)
		return 0;
	for (i = 0; i < ROW_TOKEN_ID / 2; i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
	out[ROW_TOKEN_ID] = '\0';
	return 1;
}

/* Open the database for a command; NULL after a message. */
static struct store *open_db(const struct cfg *cfg)
{
	struct store *st = NULL;
	char err[400];

	if (store_open(cfg->database_url, &st, err, sizeof err) != DMCP_OK) {
		fprintf(stderr, "dmcp token: %s\n", err);
		return NULL;
	}
	if (store_ready(st) != DMCP_OK) {
		fprintf(stderr, "dmcp token: the database is not usable (has `dmcp.fcgi migrate` "
		        "run?)\n");
		store_close(st);
		return NULL;
	}
	return st;
}

/* Read create's options into t; 0 after a message. */
static int create_options(int argc, char **argv, struct token_row *t)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (v == NULL) {
			fprintf(stderr, "dmcp token create: %s needs a value\n", a);
			return 0;
		}
		i++;
		if (strcmp(a, "--principal") == 0 && auth_principal_ok(v)) {
			snprintf(t->principal, sizeof t->principal, "%s", v);
		} else if (strcmp(a, "--principal") == 0) {
			fprintf(stderr, "dmcp token create: --principal must be 1 to %d bytes without "
			        "control characters\n", ROW_MAX_PRINCIPAL);
			return 0;
		} else if (strcmp(a, "--expires") == 0 && !parse_expires(v, &t->expires)) {
			fprintf(stderr, "dmcp token create: --expires takes a duration (90d, 12h, 30m, "
			        "3600s, 2w) or a future time (2027-01-31, 2027-01-31T18:00:00Z, "
			        "2027-01-31T18:00+01:00; UTC when no zone is given)\n");
			return 0;
		} else if (strcmp(a, "--scope") == 0 &&
		           scope_norm(v, strlen(v), 1, t->scopes, sizeof t->scopes) != DMCP_OK) {
			fprintf(stderr, "dmcp token create: --scope takes OAuth scopes separated by "
			        "spaces or commas (at most %d bytes)\n", SCOPE_MAX_LIST);
			return 0;
		} else if (strcmp(a, "--principal") != 0 && strcmp(a, "--expires") != 0 &&
		           strcmp(a, "--scope") != 0) {
			fprintf(stderr, "dmcp token create: unknown option %s\n", a);
			return 0;
		}
	}
	if (t->principal[0] == '\0') {
		fprintf(stderr, "dmcp token create: --principal NAME is required\n");
		return 0;
	}
	return 1;
}

static int cmd_create(int argc, char **argv, const struct cfg *cfg)
{
	struct token_row t;
	struct store *st;
	char token[AUTH_TOKEN_LEN + 1], when[40];
	struct tm tm;
	time_t exp;
	dmcp_rc rc;

	memset(&t, 0, sizeof t);
	if (!create_options(argc, argv, &t))
		return 2;
	if (!new_id(t.id) || auth_token_new(token) != DMCP_OK ||
	    auth_token_hash(token, strlen(token), t.hash) != DMCP_OK) {
		fprintf(stderr, "dmcp token create: no randomness from OpenSSL\n");
		return 1;
	}
	st = open_db(cfg);
	rc = st != NULL ? store_token_insert(st, &t) : DMCP_E_DB;
	store_close(st);
	if (rc != DMCP_OK) {
		OPENSSL_cleanse(token, sizeof token);
		if (st != NULL)
			fprintf(stderr, "dmcp token create: the token could not be stored\n");
		return 1;
	}
	snprintf(when, sizeof when, "never");
	exp = (time_t)t.expires;
	if (t.expires > 0 && gmtime_r(&exp, &tm) != NULL)
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("token %s for principal %s, scopes \"%s\", expires %s\n", t.id, t.principal,
	       t.scopes, when);
	printf("%s\n", token);
	OPENSSL_cleanse(token, sizeof token);
	return fflush(stdout) == 0 ? 0 : 1;
}

/* ---- revoke ---------------------------------------------------------------------------- */

static int is_id(const char *s)
{
	size_t i;

	for (i = 0; i < ROW_TOKEN_ID; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[ROW_TOKEN_ID] == '\0';
}

static int cmd_revoke(int argc, char **argv, const struct cfg *cfg)
{
	const char *arg = argc == 2 ? argv[1] : NULL;
	char hash[AUTH_HASH_HEX + 1], id[ROW_TOKEN_ID + 1];
	int by_token = arg != NULL && strncmp(arg, AUTH_TOKEN_PREFIX,
	                                      sizeof AUTH_TOKEN_PREFIX - 1) == 0;
	struct store *st;
	dmcp_rc rc;

	if (arg == NULL || (!by_token && !is_id(arg))) {
		fprintf(stderr, "dmcp token revoke: give the token (%s...) or its id (%d hex "
		        "digits, from `token list`)\n", AUTH_TOKEN_PREFIX, ROW_TOKEN_ID);
		return 2;
	}
	if (by_token && auth_token_hash(arg, strlen(arg), hash) != DMCP_OK)
		return 1;
	st = open_db(cfg);
	if (st == NULL)
		return 1;
	rc = store_token_revoke(st, by_token ? NULL : arg, by_token ? hash : NULL, id);
	store_close(st);
	if (rc == DMCP_E_NOT_FOUND) {
		fprintf(stderr, "dmcp token revoke: no such token, or it was revoked already\n");
		return 1;
	}
	if (rc != DMCP_OK) {
		fprintf(stderr, "dmcp token revoke: database error (see the log above)\n");
		return 1;
	}
	printf("token %s revoked\n", id);
	return 0;
}

/* ---- list ------------------------------------------------------------------------------ */

/* The rows read, for the two output forms. */
struct listing {
	struct token_row *rows;
	int n, cap;
	int failed;
};

static void collect(void *arg, const struct token_row *t)
{
	struct listing *l = arg;
	struct token_row *more;

	if (l->failed || l->n == TOKEN_MAX_LIST) {
		l->failed = 1;
		return;
	}
	if (l->n == l->cap) {
		more = realloc(l->rows, (size_t)(l->cap ? l->cap * 2 : 16) * sizeof *more);
		if (more == NULL) {
			l->failed = 1;
			return;
		}
		l->rows = more;
		l->cap = l->cap ? l->cap * 2 : 16;
	}
	l->rows[l->n++] = *t;
}

static const char *status_of(const struct token_row *t)
{
	return t->revoked ? "revoked" : t->expired ? "expired" : "active";
}

static void list_json(const struct listing *l)
{
	json_object *arr = js_new_array();
	int i;

	for (i = 0; i < l->n; i++) {
		const struct token_row *t = &l->rows[i];
		json_object *o = js_new_object(), *scopes = js_new_array();
		const char *p = t->scopes;
		while (*p != '\0') {
			size_t n = strcspn(p, " ");
			js_array_add(scopes, js_new_string_len(p, (int)n));
			p += n + (p[n] == ' ');
		}
		js_object_add(o, "id", js_new_string(t->id));
		js_object_add(o, "principal", js_new_string(t->principal));
		js_object_add(o, "scopes", scopes);
		js_object_add(o, "status", js_new_string(status_of(t)));
		js_object_add(o, "created", js_new_string(t->created_at));
		js_object_add(o, "expires", t->expires_at[0] ? js_new_string(t->expires_at) : NULL);
		js_object_add(o, "revoked", t->revoked_at[0] ? js_new_string(t->revoked_at) : NULL);
		js_array_add(arr, o);
	}
	printf("%s\n", js_text(arr));
	json_object_put(arr);
}

static void list_table(const struct listing *l)
{
	int i, wp = (int)strlen("PRINCIPAL");

	for (i = 0; i < l->n; i++)
		if ((int)strlen(l->rows[i].principal) > wp)
			wp = (int)strlen(l->rows[i].principal);
	printf("%-16s  %-*s  %-7s  %-20s  %-20s  %s\n", "ID", wp, "PRINCIPAL", "STATUS", "CREATED",
	       "EXPIRES", "SCOPES");
	for (i = 0; i < l->n; i++) {
		const struct token_row *t = &l->rows[i];
		printf("%-16s  %-*s  %-7s  %-20s  %-20s  %s\n", t->id, wp, t->principal, status_of(t),
		       t->created_at, t->expires_at[0] ? t->expires_at : "never", t->scopes);
	}
}

static int cmd_list(int argc, char **argv, const struct cfg *cfg)
{
	struct listing l;
	struct store *st;
	int json = argc == 2 && strcmp(argv[1], "--json") == 0;
	dmcp_rc rc;

	if (argc > 2 || (argc == 2 && !json)) {
		fprintf(stderr, "usage:\n%s", token_usage);
		return 2;
	}
	st = open_db(cfg);
	if (st == NULL)
		return 1;
	memset(&l, 0, sizeof l);
	rc = store_token_list(st, collect, &l);
	store_close(st);
	if (rc != DMCP_OK || l.failed) {
		fprintf(stderr, "dmcp token list: %s\n", rc != DMCP_OK ? "database error"
		                                                     : "too many tokens to list");
		free(l.rows);
		return 1;
	}
	if (json)
		list_json(&l);
	else
		list_table(&l);
	free(l.rows);
	return fflush(stdout) == 0 ? 0 : 1;
}

/* ---- dispatch -------------------------------------------------------------------------- */

static const struct {
	const char *name;
	int (*run)(int argc, char **argv, const struct cfg *cfg);
} commands[] = {
	{"create", cmd_create},
	{"revoke", cmd_revoke},
	{"list", cmd_list},
};

int token_cli(int argc, char **argv, const struct cfg *cfg)
{
	size_t i;

	for (i = 0; argc > 0 && i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(argv[0], commands[i].name) == 0)
			return commands[i].run(argc, argv, cfg);
	fprintf(stderr, "usage:\n%s", token_usage);
	return 2;
}
