/* auth.c — authentication of requests, challenges and the protected resource metadata (see
 * auth.h). Knows nothing of FastCGI or HTTP framing; the database only through store.h.
 * The key set is read from DMCP_JWKS_FILE at start and again when the file changes (looked
 * at, with stat, at most once per AUTH_JWKS_CHECK_MS); requests hold a reference to the set
 * they verify with, so a swap never frees keys in use. RFC 6750, 9728, 8707.
 *
 * Why no cache of dmcp tokens: a token is looked up by its hash on every request (one
 * indexed SELECT), so `token revoke` takes effect on the next request of any worker on any
 * host. A cache invalidated by NOTIFY would save that round trip but open a window where a
 * lost notification leaves a revoked token working; the session cache may trade a little
 * staleness for speed, a revocation may not. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include "auth.h"
#include "b64.h"
#include "js.h"
#include "jwt.h"
#include "log.h"

/* The well-known path of protected resource metadata (RFC 9728 §3). */
#define AUTH_WELL_KNOWN "/.well-known/oauth-protected-resource"
/* Bytes of the metadata URL and path we build (the resource URL plus the well-known part). */
#define AUTH_MAX_URL (CFG_URL_LEN + sizeof AUTH_WELL_KNOWN)
/* Bytes of the metadata document: a few URLs and scope lists. */
#define AUTH_MAX_METADATA (64u << 10)

/* A key set in use: freed when the last request holding it lets go. */
struct keyset {
	struct jwks *keys;
	int refs; /* guarded by auth.mu */
};

/* What identifies a version of the key file. */
struct file_id {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

struct auth {
	const struct cfg *cfg;         /* borrowed */
	int bearer;                    /* DMCP_AUTH lists token or jwt */
	char *metadata;                /* the document (owned), or NULL */
	char metadata_url[2 * AUTH_MAX_URL];
	char metadata_path[AUTH_MAX_URL]; /* with the resource's path; the bare one is implied */
	pthread_mutex_t mu;            /* guards keys, seen, checked_ms */
	struct keyset *keys;           /* the current key set (jwt), or NULL */
	struct file_id seen;           /* the file version last read (good or not) */
	long long checked_ms;          /* when the file was last looked at */
	int missing;                   /* the file could not be looked at (said once) */
};

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the key file ---------------------------------------------------------------------- */

static int same_file(const struct file_id *a, const struct file_id *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}

/* Read and parse the key file; *id receives the version read. */
static dmcp_rc read_keys(const char *path, struct jwks **out, struct file_id *id, char *err,
                         size_t errlen)
{
	struct stat sb;
	char *text = NULL;
	size_t got = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	dmcp_rc rc = DMCP_OK;

	*out = NULL;
	if (fd < 0 || fstat(fd, &sb) != 0) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return DMCP_E_PARAMS;
	}
	id->dev = sb.st_dev;
	id->ino = sb.st_ino;
	id->size = sb.st_size;
	id->mtime = sb.st_mtim;
	if (sb.st_size < 0 || (unsigned long long)sb.st_size > JWT_MAX_JWKS) {
		snprintf(err, errlen, "%s is larger than %u bytes", path, JWT_MAX_JWKS);
		close(fd);
		return DMCP_E_LIMIT;
	}
	text = malloc((size_t)sb.st_size + 1);
	if (text == NULL) {
		close(fd);
		return DMCP_E_NOMEM;
	}
	while (got < (size_t)sb.st_size) {
		n = read(fd, text + got, (size_t)sb.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (got != (size_t)sb.st_size) {
		snprintf(err, errlen, "cannot read %s: it changed or failed while read", path);
		rc = DMCP_E_PARAMS;
	}
	if (rc == DMCP_OK) {
		char why[200];
		rc = jwks_parse(text, got, out, why, sizeof why);
		if (rc != DMCP_OK)
			snprintf(err, errlen, "%s: %s", path, why);
	}
	free(text);
	return rc;
}

/* Let go of a key set (a.mu held). */
static void keyset_put_locked(struct keyset *k)
{
	if (k != NULL && --k->refs == 0) {
		jwks_free(k->keys);
		free(k);
	}
}

/* Look at the key file if it is time, and swap in a new set when it changed (a.mu held). A
 * file that became unreadable or bad is logged once per version; the keys read before stay
 * in use, so a half-written file never signs everybody out. */
static void refresh_locked(struct auth *a)
{
	struct file_id now_id;
	struct stat sb;
	struct jwks *keys = NULL;
	struct keyset *k;
	char err[300];
	long long now = mono_ms();

	if (now - a->checked_ms < AUTH_JWKS_CHECK_MS)
		return;
	a->checked_ms = now;
	if (stat(a->cfg->jwks_file, &sb) != 0) {
		if (!a->missing)
			log_msg(LOG_WARN, "DMCP_JWKS_FILE %s: %s; keeping the keys read before",
			        a->cfg->jwks_file, strerror(errno));
		a->missing = 1;
		return;
	}
	a->missing = 0;
	now_id.dev = sb.st_dev;
	now_id.ino = sb.st_ino;
	now_id.size = sb.st_size;
	now_id.mtime = sb.st_mtim;
	if (same_file(&now_id, &a->seen))
		return;
	if (read_keys(a->cfg->jwks_file, &keys, &now_id, err, sizeof err) != DMCP_OK) {
		a->seen = now_id;
		log_msg(LOG_ERROR, "DMCP_JWKS_FILE changed but is not usable (%s); keeping the key "
		        "set read before (%d keys)", err, a->keys != NULL ? jwks_count(a->keys->keys) : 0);
		return;
	}
	k = calloc(1, sizeof *k);
	if (k == NULL) {
		jwks_free(keys);
		return; /* seen unchanged: tried again at the next look */
	}
	k->keys = keys;
	k->refs = 1;
	keyset_put_locked(a->keys);
	a->keys = k;
	a->seen = now_id;
	log_msg(LOG_INFO, "DMCP_JWKS_FILE read again: %d usable keys", jwks_count(keys));
}

static struct keyset *keyset_get(struct auth *a)
{
	struct keyset *k;

	pthread_mutex_lock(&a->mu);
	refresh_locked(a);
	k = a->keys;
	if (k != NULL)
		k->refs++;
	pthread_mutex_unlock(&a->mu);
	return k;
}

static void keyset_put(struct auth *a, struct keyset *k)
{
	pthread_mutex_lock(&a->mu);
	keyset_put_locked(k);
	pthread_mutex_unlock(&a->mu);
}

/* ---- the metadata document ------------------------------------------------------------- */

/* The metadata URL and path from the resource URL (RFC 9728 §3.1: the well-known part goes
 * between the host and the path; a trailing slash of the path is dropped). */
static void metadata_where(struct auth *a, const char *resource)
{
	const char *host = strstr(resource, "://") + 3, *path = strchr(host, '/');
	size_t origin = path != NULL ? (size_t)(path - resource) : strlen(resource);
	size_t plen = path != NULL ? strlen(path) : 0;

	if (plen > 0 && path[plen - 1] == '/')
		plen--;
	snprintf(a->metadata_path, sizeof a->metadata_path, "%s%.*s", AUTH_WELL_KNOWN, (int)plen,
	         path != NULL ? path : "");
	snprintf(a->metadata_url, sizeof a->metadata_url, "%.*s%s", (int)origin, resource,
	         a->metadata_path);
}

/* A JSON array of the scopes of a normalized list. */
static json_object *scope_array(const char *list)
{
	json_object *arr = js_new_array();
	const char *p = list;

	while (*p != '\0') {
		size_t n = strcspn(p, " ");
		js_array_add(arr, js_new_string_len(p, (int)n));
		p += n;
		if (*p == ' ')
			p++;
	}
	return arr;
}

static char *metadata_text(const struct cfg *c)
{
	json_object *doc = js_new_object(), *as;
	char *text;
	int i;

	js_object_add(doc, "resource", js_new_string(c->resource));
	if (c->n_as > 0) {
		as = js_new_array();
		for (i = 0; i < c->n_as; i++)
			js_array_add(as, js_new_string(c->auth_servers[i]));
		js_object_add(doc, "authorization_servers", as);
	}
	if (c->scopes_supported[0] != '\0' || c->required_scopes[0] != '\0')
		js_object_add(doc, "scopes_supported",
		              scope_array(c->scopes_supported[0] ? c->scopes_supported
		                                                 : c->required_scopes));
	js_object_add(doc, "bearer_methods_supported", scope_array("header"));
	js_object_add(doc, "resource_name", js_new_string("dmcp"));
	text = strdup(js_text(doc));
	json_object_put(doc);
	return text;
}

const char *auth_metadata(const struct auth *a)
{
	return a->metadata;
}

const char *auth_metadata_url(const struct auth *a)
{
	return a->metadata_url;
}

/* 1 when path is want, or want and one "/". */
static int path_is(const char *path, const char *want)
{
	size_t n = strlen(want);

	return strncmp(path, want, n) == 0 && (path[n] == '\0' || (path[n] == '/' && !path[n + 1]));
}

int auth_metadata_path(const struct auth *a, const char *path)
{
	return a->metadata != NULL && path != NULL &&
	       (path_is(path, AUTH_WELL_KNOWN) || path_is(path, a->metadata_path));
}

/* ---- set-up ---------------------------------------------------------------------------- */

dmcp_rc auth_new(const struct cfg *cfg, struct auth **out, char *err, size_t errlen)
{
	struct auth *a = calloc(1, sizeof *a);
	struct jwks *keys = NULL;
	dmcp_rc rc = DMCP_OK;

	*out = NULL;
	if (a == NULL || pthread_mutex_init(&a->mu, NULL) != 0) {
		free(a);
		snprintf(err, errlen, "out of memory");
		return DMCP_E_NOMEM;
	}
	a->cfg = cfg;
	a->bearer = cfg_has_auth(cfg, CFG_AUTH_TOKEN) || cfg_has_auth(cfg, CFG_AUTH_JWT);
	if (a->bearer && cfg->resource != NULL) {
		metadata_where(a, cfg->resource);
		a->metadata = metadata_text(cfg);
		if (a->metadata == NULL)
			rc = DMCP_E_NOMEM;
	}
	if (rc == DMCP_OK && cfg_has_auth(cfg, CFG_AUTH_JWT)) {
		rc = read_keys(cfg->jwks_file, &keys, &a->seen, err, errlen);
		if (rc == DMCP_OK) {
			a->keys = calloc(1, sizeof *a->keys);
			if (a->keys == NULL) {
				jwks_free(keys);
				rc = DMCP_E_NOMEM;
			} else {
				a->keys->keys = keys;
				a->keys->refs = 1;
				a->checked_ms = mono_ms();
			}
		}
	}
	if (rc != DMCP_OK) {
		if (rc == DMCP_E_NOMEM)
			snprintf(err, errlen, "out of memory");
		auth_free(a);
		return rc;
	}
	*out = a;
	return DMCP_OK;
}

void auth_free(struct auth *a)
{
	if (a == NULL)
		return;
	if (a->keys != NULL) {
		jwks_free(a->keys->keys);
		free(a->keys);
	}
	free(a->metadata);
	pthread_mutex_destroy(&a->mu);
	free(a);
}

/* ---- tokens ---------------------------------------------------------------------------- */

dmcp_rc auth_token_new(char out[AUTH_TOKEN_LEN + 1])
{
	unsigned char raw[AUTH_TOKEN_BYTES];
	size_t p = sizeof AUTH_TOKEN_PREFIX - 1;
	dmcp_rc rc;

	if (RAND_bytes(raw, sizeof raw) != 1)
		return DMCP_E_INTERNAL;
	memcpy(out, AUTH_TOKEN_PREFIX, p);
	rc = b64url_encode(raw, sizeof raw, out + p, AUTH_TOKEN_LEN + 1 - p);
	OPENSSL_cleanse(raw, sizeof raw);
	return rc;
}

dmcp_rc auth_token_hash(const char *token, size_t n, char hex[AUTH_HASH_HEX + 1])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0, i;

	if (EVP_Digest(token, n, md, &len, EVP_sha256(), NULL) != 1 || len * 2 != AUTH_HASH_HEX)
		return DMCP_E_INTERNAL;
	for (i = 0; i < len; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[AUTH_HASH_HEX] = '\0';
	return DMCP_OK;
}

int auth_principal_ok(const char *name)
{
	size_t i, n;

	if (name == NULL)
		return 0;
	n = strnlen(name, ROW_MAX_PRINCIPAL + 1);
	if (n == 0 || n > ROW_MAX_PRINCIPAL)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return 0;
	return 1;
}

/* ---- the methods ----------------------------------------------------------------------- */

/* What a method made of the request. */
enum verdict {
	V_PASS,   /* nothing for this method: try the next */
	V_OK,     /* authenticated: res is filled */
	V_REFUSE, /* a credential of this method that is not good: 401, stop */
	V_ERROR   /* the method could not decide (database, memory): rc says */
};

/* A bearer credential: the token within the Authorization header. */
struct bearer {
	const char *token; /* borrowed from the header, or NULL when there is none */
	size_t len;
	int malformed;     /* "Bearer" with no token, or characters outside token68 */
};

/* token68 (RFC 7235 §2.1): what a bearer token is made of. */
static int token68(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && (strchr("-._~+/", s[i]) != NULL || (s[i] >= '0' && s[i] <= '9') ||
	                 ((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z')))
		i++;
	while (i < n && s[i] == '=')
		i++;
	return i == n && n > 0 && s[0] != '=';
}

static void parse_bearer(const char *h, struct bearer *b)
{
	size_t n;

	memset(b, 0, sizeof *b);
	if (h == NULL || strncasecmp(h, "Bearer", 6) != 0 || (h[6] != ' ' && h[6] != '\0'))
		return; /* no header, or another scheme (Basic, ...): not a bearer token */
	h += 6;
	while (*h == ' ')
		h++;
	n = strlen(h);
	while (n > 0 && h[n - 1] == ' ')
		n--;
	b->token = h;
	b->len = n;
	b->malformed = !token68(h, n);
}

static enum verdict by_remote_user(const struct auth_in *in, struct auth_result *res,
                                   dmcp_rc *rc)
{
	if (in->remote_user == NULL || in->remote_user[0] == '\0')
		return V_PASS;
	if (!auth_principal_ok(in->remote_user)) {
		*rc = DMCP_E_PARAMS;
		return V_ERROR;
	}
	snprintf(res->principal, sizeof res->principal, "%s", in->remote_user);
	return V_OK;
}

static enum verdict refuse(struct auth_result *res, const char *why)
{
	snprintf(res->why, sizeof res->why, "%s", why);
	return V_REFUSE;
}

/* A dmcp token: looked up by its hash; the stored hash compared again in constant time. */
static enum verdict by_token(struct store *st, const struct bearer *b, struct auth_result *res,
                             dmcp_rc *rc)
{
	struct token_row t;
	char hash[AUTH_HASH_HEX + 1];

	if (b->token == NULL || b->len <= sizeof AUTH_TOKEN_PREFIX - 1 ||
	    memcmp(b->token, AUTH_TOKEN_PREFIX, sizeof AUTH_TOKEN_PREFIX - 1) != 0)
		return V_PASS;
	if (b->len != AUTH_TOKEN_LEN)
		return refuse(res, "unknown token");
	*rc = auth_token_hash(b->token, b->len, hash);
	if (*rc != DMCP_OK)
		return V_ERROR;
	*rc = store_token_find(st, hash, &t);
	if (*rc == DMCP_E_NOT_FOUND || (*rc == DMCP_OK &&
	                                CRYPTO_memcmp(t.hash, hash, AUTH_HASH_HEX) != 0))
		return refuse(res, "unknown token");
	if (*rc != DMCP_OK)
		return V_ERROR;
	if (t.revoked)
		return refuse(res, "the token was revoked");
	if (t.expired)
		return refuse(res, "the token has expired");
	memcpy(res->principal, t.principal, sizeof res->principal);
	memcpy(res->scopes, t.scopes, sizeof res->scopes);
	return V_OK;
}

/* A JWT: three base64url parts (anything with two dots; the verifier says the rest). */
static enum verdict by_jwt(struct auth *a, const struct bearer *b, struct auth_result *res,
                           dmcp_rc *rc)
{
	struct jwt_policy p;
	struct jwt_claims c;
	struct keyset *k;
	char why[AUTH_WHY];
	const char *dot;

	if (b->token == NULL || (dot = memchr(b->token, '.', b->len)) == NULL ||
	    memchr(dot + 1, '.', b->len - (size_t)(dot + 1 - b->token)) == NULL)
		return V_PASS;
	k = keyset_get(a);
	if (k == NULL) {
		*rc = DMCP_E_INTERNAL;
		return V_ERROR;
	}
	p.issuer = a->cfg->jwt_issuer;
	p.audience = a->cfg->jwt_audience != NULL ? a->cfg->jwt_audience : a->cfg->resource;
	p.principal_claim = a->cfg->principal_claim != NULL ? a->cfg->principal_claim : "sub";
	p.now = (int64_t)time(NULL);
	*rc = jwt_verify(k->keys, b->token, b->len, &p, &c, why, sizeof why);
	keyset_put(a, k);
	if (*rc == DMCP_E_UNAUTHORIZED)
		return refuse(res, why);
	if (*rc != DMCP_OK)
		return V_ERROR;
	memcpy(res->principal, c.principal, sizeof res->principal);
	memcpy(res->scopes, c.scopes, sizeof res->scopes);
	return V_OK;
}

/* The outcome when no method authenticated the request. */
static dmcp_rc nobody(const struct auth *a, const struct bearer *b, struct auth_result *res)
{
	if (a->cfg->n_auth == 1 && a->cfg->auth[0] == CFG_AUTH_REMOTE_USER) {
		/* remote-user alone (the default): no REMOTE_USER is the principal "anonymous". */
		snprintf(res->principal, sizeof res->principal, "anonymous");
		return DMCP_OK;
	}
	if (b->token != NULL && a->bearer) {
		res->presented = 1;
		snprintf(res->why, sizeof res->why, "not a token this server accepts");
	} else {
		snprintf(res->why, sizeof res->why, "authentication required");
	}
	return DMCP_E_UNAUTHORIZED;
}

dmcp_rc auth_check(struct auth *a, struct store *st, const struct auth_in *in,
                   struct auth_result *res)
{
	struct bearer b;
	enum verdict v = V_PASS;
	enum cfg_auth by = CFG_AUTH_REMOTE_USER;
	dmcp_rc rc = DMCP_OK;
	int i;

	memset(res, 0, sizeof *res);
	memset(&b, 0, sizeof b);
	if (a->bearer && in->authorization != NULL) {
		if (strnlen(in->authorization, AUTH_MAX_CREDENTIAL + 1) > AUTH_MAX_CREDENTIAL) {
			res->presented = 1;
			snprintf(res->why, sizeof res->why, "the token is too long");
			return DMCP_E_UNAUTHORIZED;
		}
		parse_bearer(in->authorization, &b);
		if (b.token != NULL && b.malformed) {
			res->presented = 1;
			snprintf(res->why, sizeof res->why, "malformed bearer token");
			return DMCP_E_UNAUTHORIZED;
		}
	}
	for (i = 0; i < a->cfg->n_auth && v == V_PASS; i++) {
		by = a->cfg->auth[i];
		switch (by) {
		case CFG_AUTH_REMOTE_USER: v = by_remote_user(in, res, &rc); break;
		case CFG_AUTH_TOKEN: v = by_token(st, &b, res, &rc); break;
		case CFG_AUTH_JWT: v = by_jwt(a, &b, res, &rc); break;
		}
	}
	switch (v) {
	case V_PASS:
		return nobody(a, &b, res);
	case V_REFUSE:
		res->presented = 1;
		return DMCP_E_UNAUTHORIZED;
	case V_ERROR:
		return rc;
	case V_OK:
		break;
	}
	/* A bearer method authenticated: every required scope must be granted. */
	if (by != CFG_AUTH_REMOTE_USER && a->cfg->required_scopes[0] != '\0' &&
	    !scope_all(res->scopes, a->cfg->required_scopes)) {
		snprintf(res->why, sizeof res->why, "the token lacks a required scope");
		return DMCP_E_FORBIDDEN;
	}
	return DMCP_OK;
}

/* ---- challenges ------------------------------------------------------------------------ */

/* A quoted-string (RFC 9110 §5.6.4) of s: \ and " escaped, anything outside printable ASCII
 * written as a space. */
static void quoted(struct buf *b, const char *s)
{
	(void)buf_adds(b, "\"");
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '\\' || c == '"')
			(void)buf_add(b, "\\", 1);
		(void)buf_add(b, c >= 0x20 && c < 0x7f ? s : " ", 1);
	}
	(void)buf_adds(b, "\"");
}

void auth_challenge(const struct auth *a, dmcp_rc rc, const struct auth_result *res,
                    struct buf *b)
{
	const char *required = a->cfg->required_scopes;
	int sep = 0;

	(void)buf_adds(b, "WWW-Authenticate: Bearer ");
	if (rc == DMCP_E_FORBIDDEN || res->presented) {
		(void)buf_adds(b, rc == DMCP_E_FORBIDDEN ? "error=\"insufficient_scope\", "
		                                         : "error=\"invalid_token\", ");
		(void)buf_adds(b, "error_description=");
		quoted(b, res->why);
		sep = 1;
	}
	if (required[0] != '\0' && (rc == DMCP_E_FORBIDDEN || !res->presented)) {
		(void)buf_adds(b, sep ? ", scope=" : "scope=");
		quoted(b, required);
		sep = 1;
	}
	if (a->metadata_url[0] != '\0') {
		(void)buf_adds(b, sep ? ", resource_metadata=" : "resource_metadata=");
		quoted(b, a->metadata_url);
	} else if (!sep) {
		(void)buf_adds(b, "realm=\"dmcp\"");
	}
	(void)buf_adds(b, "\r\n");
}

char *auth_refusal_body(dmcp_rc rc, const struct auth_result *res)
{
	json_object *o = js_new_object();
	char *text;

	js_object_add(o, "error", js_new_string(rc == DMCP_E_FORBIDDEN ? "insufficient_scope"
	                                                               : "invalid_token"));
	js_object_add(o, "error_description", js_new_string(res->why));
	text = strdup(js_text(o));
	json_object_put(o);
	return text;
}
