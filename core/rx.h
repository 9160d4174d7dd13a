/* rx.h — regular expressions for JSON Schema "pattern" and "patternProperties": compiled once,
 * matched in time linear in the subject. Knows nothing of JSON or schemas. ECMA-262 (as JSON
 * Schema 2020-12 validation 6.3.3 asks), the subset below; matched over Unicode code points.
 *
 * Supported: literals, '.', classes ([a-z], [^...]), \d \w \s and their negations, \b \B,
 * ^ $, groups (capturing, (?:...), named (?<n>...)), '|', * + ? {n} {n,} {n,m} and their lazy
 * forms, escapes \t \n \v \f \r \0 \xHH \uHHHH (and surrogate pairs) \u{H...} \cX.
 * Refused (rx_compile fails and says why): backreferences, lookaround, \p{...} and other
 * letter escapes, octal escapes.
 *
 * A pattern compiles to a Thompson NFA that is simulated, never backtracked: a search costs
 * at most (subject code points + 1) x (instructions), and instructions are capped below, so
 * no pattern/subject pair can take exponential time (ReDoS). Not the module name "regex":
 * with -Icore a core/regex.h would shadow the system's <regex.h>. */
#ifndef DMCP_RX_H
#define DMCP_RX_H

#include <stddef.h>
#include "dmcp.h"

/* Longest pattern in bytes: far above real patterns, and it bounds compile memory. */
#define RX_MAX_LEN 4096
/* Instructions of one compiled pattern after counted repetition is expanded; a search costs
 * at most subject length x instructions (a{1000}{1000} would otherwise be a million). */
#define RX_MAX_INSNS 4096
/* Group nesting in one pattern: the parser recurses once per level. */
#define RX_MAX_NEST 32
/* Largest n or m in {n,m}: a larger count could not fit RX_MAX_INSNS anyway. */
#define RX_MAX_COUNT 1000

struct rx; /* a compiled pattern; immutable, so one may be searched from several threads */

/* Compiles pat[0..len) (not NUL-terminated; a NUL byte is a literal U+0000). DMCP_OK with
 * *out set (the caller owns it: rx_free); DMCP_E_PARAMS with *why set to a static one-line
 * reason when the pattern is malformed, outside the subset, or over a limit above;
 * DMCP_E_NOMEM. *out is NULL on failure. */
dmcp_rc rx_compile(const char *pat, size_t len, struct rx **out, const char **why) DMCP_MUST_CHECK;

/* Whether some substring of s[0..n) matches rx (patterns are not anchored: "^...$" anchors):
 * *found is 1 or 0. Malformed UTF-8 in s reads as U+FFFD per byte. DMCP_E_NOMEM (with
 * *found 0) when the thread lists cannot be allocated. */
dmcp_rc rx_search(const struct rx *rx, const char *s, size_t n, int *found) DMCP_MUST_CHECK;

/* Frees rx; NULL is fine. */
void rx_free(struct rx *rx);

#endif
