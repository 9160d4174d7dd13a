#!/bin/sh
# bench.t — runs the benchmark harness once in its quick mode (bench/run --quick: every
# compared measure in three alternating pairs of one-second runs, wrk and the Node load
# generator, the CPU accounting, and every other item with tiny numbers: both servers, kill -9
# and resume, CGI), so that the harness cannot rot. Its numbers are noise; only its exit
# status counts here.
cd "$(dirname "$0")/.." || exit 2
out=$(mktemp "${TMPDIR:-/tmp}/dmcp-bench.XXXXXX") || exit 2
trap 'rm -f "$out"' EXIT
echo "1..1"
if timeout 600 bash bench/run --quick >"$out" 2>&1; then
	echo "ok 1 - bench/run --quick: every measure and item ran on dmcp and on the TypeScript SDK"
else
	echo "not ok 1 - bench/run --quick failed"
	tail -40 "$out" | sed 's/^/# /'
fi
