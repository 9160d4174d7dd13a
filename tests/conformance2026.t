#!/usr/bin/env bash
# conformance2026.t — runs the official MCP conformance suite 0.2.0-alpha.12 (pinned in
# tests/node/package.json as conformance-2026) against one dmcp behind nginx, twice on the
# same URL: --requirements 2026-07-28 (the sessionless wire) and --requirements 2025-11-25
# (the session wire). One TAP line per scenario each run scores, from the check files the
# suite writes; a few scenarios the suite runs but does not score are required too (listed
# below), the rest are reported as skipped.
#
# The package asks for Node 22 only because one subcommand (traceability) imports
# fs.globSync; the server runs never call it. So the suite runs on the system's Node (20)
# from a copy of its dist/index.js made here, in a temporary directory, with that import
# replaced by a stub; the package itself is not touched.
set -u
cd "$(dirname "$0")/.." || exit 2
. tests/lib/stack.sh

# The conformance fixtures' program where the build makes one per set of examples; else the
# one program that has them all.
if type stack_program >/dev/null 2>&1; then
	DMCP_BIN=$(stack_program dmcp-conformance.fcgi)
	export DMCP_BIN
fi

# Scenarios (and scenario:check ids, one per line) that wait for work in the run engine
# (multi-round-trip calls: input_required, requestState, -32021): each is reported with a TODO
# directive while listed. Empty now that the engine answers input_required; a scenario that
# regresses while such work is under way may be listed here again, never silently skipped.
MRTR_TODO=''

# Run but not scored by the suite, and required here all the same: the standard headers
# (SEP-2243, pending upstream), and on the 2025-11-25 wire what 0.1.16 already requires.
ALSO_REQUIRED_2026='http-header-validation'
ALSO_REQUIRED_2025='server-session-lifecycle json-schema-2020-12 server-sse-polling'

pkg=tests/node/node_modules/conformance-2026
dir=$(stack_mktemp)
trap 'stack_stop "$dir" >/dev/null 2>&1; rm -rf "$dir"' EXIT

node=$(command -v node)
if [ -z "$node" ] || [ ! -f "$pkg/dist/index.js" ] || [ ! -d "$pkg/requirements" ]; then
	echo "1..1"
	echo "not ok 1 - conformance 0.2.0-alpha.12 or node not installed (run: make deps)"
	exit 1
fi

# The copy: dist/index.js with the globSync import replaced, beside links to the package's
# requirements (the CLI reads ../requirements) and to the installed modules.
copy=$dir/suite
mkdir -p "$copy/dist"
ln -s "$(cd "$pkg" && pwd -P)/requirements" "$copy/requirements"
ln -s "$(cd tests/node/node_modules && pwd -P)" "$copy/node_modules"
cp "$pkg/package.json" "$copy/package.json"
sed -e '2s/globSync as a,//' -e '2s/^/const a=(p,o)=>[];/' "$pkg/dist/index.js" \
	>"$copy/dist/index.js"
if grep -q 'globSync' "$copy/dist/index.js"; then
	echo "1..1"
	echo "not ok 1 - the suite's fs.globSync import was not where expected; update the patch"
	exit 1
fi
cli=$copy/dist/index.js

if ! DMCP_SAMPLING_FALLBACK=none stack_start "$dir" >"$dir/stack.log" 2>&1; then
	cat "$dir/stack.log"
	echo "1..1"
	echo "not ok 1 - the stack did not start"
	exit 1
fi

# run REVISION — runs the suite; writes $dir/REVISION.{log,tsv,rc}: one line per scenario it
# ran, "scenario<TAB>scored|pending|extension|...<TAB>failed check ids (space separated)".
run() {
	local rev=$1 out=$dir/out-$1
	mkdir -p "$out"
	timeout 900 "$node" "$cli" server --url "$DMCP_URL" --requirements "$rev" -o "$out" \
		>"$dir/$rev.log" 2>&1
	echo $? >"$dir/$rev.rc"
	"$node" "$cli" list --server --requirements "$rev" >"$dir/$rev.list" 2>&1
	"$node" -e '
		const fs = require("fs");
		const [log, list] = process.argv.slice(1).map(f => fs.readFileSync(f, "utf8"));
		// Scored: the "Server scenarios" section; the rest: "- name [server]" under a kind.
		const kind = new Map();
		let section = "";
		for (const line of list.split("\n")) {
			if (/^Server scenarios/.test(line)) section = "scored";
			else if (/^Client scenarios/.test(line)) section = "";
			else if (/^\s+(\S+) \(\d+\):$/.test(line)) section = line.trim().split(" ")[0];
			const m = /^\s+- (\S+)( \[server\])?$/.exec(line);
			if (m && section === "scored") kind.set(m[1], "scored");
			else if (m && m[2] && section) kind.set(m[1], section);
		}
		const ran = new Map();
		let current = null;
		for (const line of log.split("\n")) {
			let m = /^=== Running scenario: (\S+) ===$/.exec(line);
			if (m) current = m[1];
			m = /^Results saved to (.*)$/.exec(line);
			if (m && current) ran.set(current, m[1]);
		}
		for (const [name, k] of kind) {
			if (!ran.has(name)) { console.log(`${name}\t${k}\tNOT-RUN`); continue; }
			let failed;
			try {
				const checks = JSON.parse(fs.readFileSync(ran.get(name) + "/checks.json", "utf8"));
				failed = checks.filter(c => c.status === "FAILURE").map(c => c.id);
			} catch (e) { failed = ["NO-CHECKS"]; }
			console.log(`${name}\t${k}\t${[...new Set(failed)].join(" ")}`);
		}
	' "$dir/$rev.log" "$dir/$rev.list" >"$dir/$rev.tsv" 2>&1
}

run 2026-07-28
run 2025-11-25

todo_has() { printf '%s\n' "$MRTR_TODO" | grep -qx -- "$1"; }
plan=$(( $(grep -c . "$dir/2026-07-28.tsv") + $(grep -c . "$dir/2025-11-25.tsv") + 5 ))
echo "1..$plan"
i=0

# report REVISION ALSO_REQUIRED — one line per scenario of the run.
report() {
	local rev=$1 also=$2 name kind failed left c todo_all why
	while IFS="$(printf '\t')" read -r name kind failed; do
		i=$((i + 1))
		if [ "$kind" != scored ] && ! printf ' %s ' "$also" | grep -q " $name "; then
			echo "ok $i - $rev $name # SKIP not scored by the suite ($kind)${failed:+; failing: $failed}"
			continue
		fi
		# Failed checks not waiting for MRTR.
		left=""
		for c in $failed; do
			todo_has "$name:$c" || left="$left $c"
		done
		todo_all=0
		todo_has "$name" && todo_all=1
		why=""
		[ "$kind" != scored ] && why=" (not scored upstream, required here)"
		if [ "$todo_all" = 1 ]; then
			if [ -z "$failed" ]; then
				echo "ok $i - $rev $name # TODO waiting for MRTR in the runtime (passes now, maybe only because nothing was exercised: look before dropping it from MRTR_TODO)"
			else
				echo "not ok $i - $rev $name: failed: $failed # TODO waiting for MRTR in the runtime"
			fi
		elif [ -n "$left" ]; then
			echo "not ok $i - $rev $name$why: failed:$left"
			sed -n "/Running scenario: $name ===/,/Results saved/p" "$dir/$rev.log" | head -20 |
				sed 's/^/# /'
		elif [ -n "$failed" ]; then
			echo "ok $i - $rev $name$why (only checks waiting for MRTR fail:$failed)"
		else
			echo "ok $i - $rev $name$why"
		fi
	done <"$dir/$rev.tsv"
}

report 2026-07-28 "$ALSO_REQUIRED_2026"
report 2025-11-25 "$ALSO_REQUIRED_2025"

# Each MRTR-dependent check of a scenario that otherwise passes, on its own line.
i=$((i + 1))
pending=$(for c in $MRTR_TODO; do
	case $c in *:*) grep -q "^${c%%:*}	.*${c#*:}" "$dir/2026-07-28.tsv" && printf ' %s' "$c" ;; esac
done)
if [ -n "$pending" ]; then
	echo "not ok $i - 2026-07-28 checks waiting for MRTR still fail:$pending # TODO waiting for MRTR in the runtime"
else
	echo "ok $i - 2026-07-28 no check listed in MRTR_TODO fails${MRTR_TODO:+ (its scenario:check entries can go)}"
fi

# Every scenario each revision requires ran.
i=$((i + 1))
missing=$(cat "$dir/2026-07-28.tsv" "$dir/2025-11-25.tsv" | awk -F'\t' '$3 == "NOT-RUN" { print $1 }')
n26=$(grep -c '	scored	' "$dir/2026-07-28.tsv")
n25=$(grep -c '	scored	' "$dir/2025-11-25.tsv")
if [ -z "$missing" ] && [ "$n26" -gt 30 ] && [ "$n25" -gt 25 ]; then
	echo "ok $i - every required scenario ran ($n26 for 2026-07-28, $n25 for 2025-11-25)"
else
	echo "not ok $i - scenarios did not run: ${missing:-none}; scored: $n26 and $n25"
	tail -30 "$dir/2026-07-28.log" "$dir/2025-11-25.log" | sed 's/^/# /'
fi

# The suite's own verdict: exit status 0 when every scored scenario passes.
i=$((i + 1))
if [ "$(cat "$dir/2025-11-25.rc")" = 0 ]; then
	echo "ok $i - the suite passes dmcp for 2025-11-25 (exit status 0)"
else
	echo "not ok $i - the suite's exit status for 2025-11-25 is $(cat "$dir/2025-11-25.rc")"
	sed -n '/=== SUMMARY ===/,$p' "$dir/2025-11-25.log" | sed 's/^/# /'
fi
i=$((i + 1))
if [ "$(cat "$dir/2026-07-28.rc")" = 0 ]; then
	echo "ok $i - the suite passes dmcp for 2026-07-28 (exit status 0)"
else
	echo "not ok $i - the suite's exit status for 2026-07-28 is $(cat "$dir/2026-07-28.rc")${MRTR_TODO:+ # TODO waiting for MRTR in the runtime}"
	sed -n '/=== SUMMARY ===/,$p' "$dir/2026-07-28.log" | sed 's/^/# /'
fi

# The program's log after a clean stop: no sanitizer report (with SAN=1 builds), no crash.
i=$((i + 1))
stack_stop "$dir" >/dev/null 2>&1
if report=$(stack_san_errors "$dir"); then
	echo "not ok $i - conformance 2026: the program's log has sanitizer reports"
	printf '%s\n' "$report" | head -40 | sed 's/^/# /'
else
	echo "ok $i - conformance 2026: no sanitizer reports in the program's log"
fi
