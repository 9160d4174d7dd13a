#!/bin/sh
# source-check.sh — the project's source rules, checked on the tree (`make check`):
#   1. core/, cgi/, examples/ and fuzz/ C files call none of: sprintf vsprintf strcpy strcat
#      gets atoi atol strtok system (comments and string literals are not looked at);
#   2. only core/store.c includes libpq-fe.h;
#   3. only files in cgi/ include fcgiapp.h, and nothing includes fcgi_stdio.h;
#   4. in core/, only core/js.c calls json-c's constructors, adds and serializer
#      (json_object_new_*, json_object_object_add, json_object_array_add,
#      json_object_to_json_string*): the rest goes through js.h, which carries the
#      out-of-memory policy (a failed json-c allocation aborts instead of leaving a null);
#   5. every function and macro that core/dmcp.h declares is named in its manual, man/dmcp.3;
#   6. every environment variable the programs read (the "DMCP_..." names of core/cfg.c and
#      cgi/) is in the program's manual, man/dmcp.fcgi.8, and in README.md.
# Prints each violation as file:line: text, and exits 1; prints "source-check: ok" otherwise.
set -u
LC_ALL=C
export LC_ALL
cd "$(dirname "$0")/../.." || exit 1

out=$(mktemp "${TMPDIR:-/tmp}/source-check.XXXXXX") || exit 1
trap 'rm -f "$out"' EXIT

# Every C file of the project (not build products, not node_modules, not var/).
all_c=$(find . \( -path ./.git -o -path ./build -o -path ./var -o -path ./tests/node \) -prune \
	-o -type f \( -name '*.c' -o -name '*.h' \) -print | sed 's|^\./||' | sort)

# 1 and 4. Banned functions. awk blanks comments, string and character literals (keeping
# line numbers), then looks for NAME( as a whole word.
banned_files=$(ls core/*.c core/*.h cgi/*.c cgi/*.h examples/*.c fuzz/*.c fuzz/*.h 2>/dev/null)
for f in $banned_files; do
	case $f in
	core/js.c | core/js.h) jsonc=0 ;;
	core/*) jsonc=1 ;;
	*) jsonc=0 ;;
	esac
	awk -v file="$f" -v jsonc="$jsonc" '
	BEGIN { inc = 0 }
	{
		line = $0; code = ""; i = 1; n = length(line)
		while (i <= n) {
			c = substr(line, i, 1); c2 = substr(line, i, 2)
			if (inc) {
				if (c2 == "*/") { inc = 0; i += 2; code = code "  " } else { i++; code = code " " }
				continue
			}
			if (c2 == "/*") { inc = 1; i += 2; code = code "  "; continue }
			if (c2 == "//") break
			if (c == "\"" || c == "\047") {
				q = c; i++; code = code " "
				while (i <= n) {
					c = substr(line, i, 1)
					if (c == "\\") { i += 2; code = code "  "; continue }
					i++; code = code " "
					if (c == q) break
				}
				continue
			}
			code = code c; i++
		}
		if (code ~ /(^|[^A-Za-z0-9_])(sprintf|vsprintf|strcpy|strcat|gets|atoi|atol|strtok|system)[ \t]*\(/)
			printf "%s:%d: banned function: %s\n", file, NR, $0
		if (jsonc && code ~ /(^|[^A-Za-z0-9_])(json_object_new_[a-z0-9_]+|json_object_object_add|json_object_array_add|json_object_to_json_string[a-z_]*)[ \t]*\(/)
			printf "%s:%d: json-c constructor outside core/js.c (use js_new_*, js_object_add, js_array_add, js_text): %s\n", file, NR, $0
	}' "$f" >>"$out"
done

# 2 and 3. Includes.
for f in $all_c; do
	grep -n -E '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]([^>"]*/)?(libpq-fe|fcgiapp|fcgi_stdio)\.h[>"]' "$f" |
		while IFS= read -r hit; do
			lineno=${hit%%:*}
			text=${hit#*:}
			case $text in
			*libpq-fe.h*)
				[ "$f" = core/store.c ] || echo "$f:$lineno: only core/store.c may include libpq-fe.h: $text" ;;
			*fcgi_stdio.h*)
				echo "$f:$lineno: fcgi_stdio.h must not be used (it redefines stdio): $text" ;;
			*fcgiapp.h*)
				case $f in
				cgi/*) ;;
				*) echo "$f:$lineno: only cgi/ may include fcgiapp.h: $text" ;;
				esac ;;
			esac
		done >>"$out"
done

# 5. The public API is documented: function names (dmcp_x followed by "(") and macro names
# (#define DMCP_X, but not the include guard) of dmcp.h must each appear in man/dmcp.3.
{
	grep -oE '\<dmcp_[a-z0-9_]+\(' core/dmcp.h | tr -d '('
	sed -n 's/^[[:space:]]*#[[:space:]]*define[[:space:]]\{1,\}\(DMCP_[A-Z0-9_]*\).*/\1/p' core/dmcp.h |
		grep -vx DMCP_H
} | sort -u | while IFS= read -r name; do
	grep -q -- "$name" man/dmcp.3 ||
		echo "core/dmcp.h: $name is not documented in man/dmcp.3"
done >>"$out"

# 6. The settings are documented where operators look.
grep -ho '"DMCP_[A-Z0-9_]*"' core/cfg.c cgi/*.c | tr -d '"' | sort -u | while IFS= read -r name; do
	for doc in man/dmcp.fcgi.8 README.md; do
		grep -q -- "$name" "$doc" || echo "$name (read by the programs) is not documented in $doc"
	done
done >>"$out"

if [ -s "$out" ]; then
	cat "$out"
	echo "source-check: $(wc -l <"$out") problem(s)" >&2
	exit 1
fi
echo "source-check: ok"
