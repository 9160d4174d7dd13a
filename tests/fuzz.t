#!/bin/sh
# fuzz.t — the fuzzing smoke run, as TAP: builds the libFuzzer targets of fuzz/ with clang,
# AddressSanitizer and UndefinedBehaviorSanitizer (make fuzz-build), then runs each over its
# seed corpus (fuzz/corpus/<target>) and FUZZ_SMOKE_RUNS more inputs (default 20000) with a
# fixed seed, so that a target that no longer builds, or a seed that crashes, fails
# `make test`. The long runs are `make fuzz`. Skips, and only then, when clang is missing.
cd "$(dirname "$0")/.." || exit 2
FUZZ_CC=${FUZZ_CC:-clang}
runs=${FUZZ_SMOKE_RUNS:-20000}
targets="json http schema regex sse state"

if ! command -v "$FUZZ_CC" >/dev/null 2>&1; then
	echo "1..0 # SKIP $FUZZ_CC is not installed (make deps installs it)"
	exit 0
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/dmcp-fuzz.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT

echo "1..7"
if ${MAKE:-make} --no-print-directory FUZZ_CC="$FUZZ_CC" fuzz-build >"$tmp/build.log" 2>&1; then
	echo "ok 1 - the fuzz targets build (clang, -fsanitize=fuzzer,address,undefined)"
else
	echo "not ok 1 - the fuzz targets build"
	sed 's/^/#   /' "$tmp/build.log" | tail -n 30
fi
i=1
for t in $targets; do
	i=$((i + 1))
	if out=$(sh fuzz/run.sh -n "$runs" -s 1 -w "$tmp/runs" "$t"); then
		echo "ok $i - $out"
	else
		echo "not ok $i - $out"
		grep -E -A 12 '^(property failed|==[0-9]+==ERROR)' "$tmp/runs/$t.log" | head -n 30 |
			sed 's/^/#   /'
		input=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$tmp/runs/$t.log" | tail -n 1)
		[ -n "$input" ] && [ -f "$input" ] && od -c "$input" | head -n 20 | sed 's/^/#   /'
	fi
done
exit 0
