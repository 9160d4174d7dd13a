#!/bin/sh
# fuzz/run.sh — runs the libFuzzer targets that `make fuzz-build` puts in build/fuzz, each in
# turn (one CPU each, under nice), and sums up each run in one line.
#   fuzz/run.sh [-t SECONDS | -n RUNS] [-s SEED] [-w DIR] TARGET...
#   -t  fuzz each target for SECONDS (default 600)      -n  or for RUNS executions instead
#   -s  a fixed random seed (default: libFuzzer picks)  -w  working directory (default
#       build/fuzz): the corpus grows in DIR/corpus/TARGET (kept, so a later run goes on
#       from there), crash inputs go to DIR/crash/TARGET-*, the log to DIR/TARGET.log.
# The seeds are fuzz/corpus/TARGET (read, never written); fuzz/TARGET.dict is used when it
# exists. One line per target:
#   fuzz_json: 12345678 runs in 601 s (20541/s), corpus 2345 inputs, 0 crashes
# A crash, a sanitizer report, a unit slower than 25 s or a failed property check ends that
# target's run; its line then says why and where the input is, and the exit status is 1.
set -u
cd "$(dirname "$0")/.." || exit 2

seconds=600 runs='' seed='' work=build/fuzz
while getopts t:n:s:w: opt; do
	case $opt in
	t) seconds=$OPTARG ;;
	n) runs=$OPTARG ;;
	s) seed=$OPTARG ;;
	w) work=$OPTARG ;;
	*) echo "usage: fuzz/run.sh [-t SECONDS | -n RUNS] [-s SEED] [-w DIR] TARGET..." >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || { echo "fuzz/run.sh: no target named" >&2; exit 2; }

# max_len: the JSON target needs room for texts that reach the count limits (4096
# containers, 32768 values); the others' inputs are header values, schemas and patterns.
max_len() {
	case $1 in
	json) echo 70000 ;;
	schema) echo 16384 ;;
	*) echo 8192 ;;
	esac
}

status=0
for t in "$@"; do
	bin=build/fuzz/fuzz_$t
	if [ ! -x "$bin" ]; then
		echo "fuzz_$t: not built (make fuzz-build)"
		status=1
		continue
	fi
	mkdir -p "$work/corpus/$t" "$work/crash"
	log=$work/$t.log
	set -- -print_final_stats=1 -timeout=25 -rss_limit_mb=2048 -max_len="$(max_len "$t")" \
		-artifact_prefix="$work/crash/$t-"
	if [ -n "$runs" ]; then set -- "$@" -runs="$runs"; else set -- "$@" -max_total_time="$seconds"; fi
	[ -n "$seed" ] && set -- "$@" -seed="$seed"
	[ -f "fuzz/$t.dict" ] && set -- "$@" -dict="fuzz/$t.dict"
	start=$(date +%s)
	rc=0
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} nice -n 10 "$bin" "$@" "$work/corpus/$t" \
		"fuzz/corpus/$t" >"$log" 2>&1 || rc=$?
	secs=$(($(date +%s) - start))
	n=$(awk '/^stat::number_of_executed_units:/ { print $2 }' "$log")
	n=${n:-0}
	inputs=$(ls "$work/corpus/$t" | wc -l)
	rate=$((n / (secs > 0 ? secs : 1)))
	if [ "$rc" -eq 0 ]; then
		echo "fuzz_$t: $n runs in $secs s ($rate/s), corpus $inputs inputs, 0 crashes"
	else
		why=$(grep -m 1 -E '^(property failed|SUMMARY|==[0-9]+==ERROR)' "$log")
		input=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
		echo "fuzz_$t: FAILED after $n runs in $secs s: ${why:-exit status $rc}; input: ${input:-none}; log: $log"
		status=1
	fi
done
exit $status
