#!/bin/sh
# tests/fuzz/regress.sh - run every kept crasher, and the seed corpora, once.
#
# usage: tests/fuzz/regress.sh [BUILDDIR]
#
# Builds the fuzz targets with run.sh --build-only (into BUILDDIR, default a
# temporary directory) and runs each file of tests/fuzz/regressions/<target>/
# and tests/fuzz/corpus/<target>/ through its target once (libFuzzer runs
# files given as arguments without fuzzing). Each regression file is an input
# that once crashed, leaked or hung: it must now pass. Exits 0 when all pass,
# 1 naming the target and file otherwise, 2 when clang or libFuzzer is
# missing (run.sh says which package to install).
set -eu

srcdir=$(cd "$(dirname "$0")/../.." && pwd)
fuzzdir="$srcdir/tests/fuzz"
: "${FUZZ_TARGETS:=pipeline lock interp doc toml jsonl vectors segment}"

if [ $# -ge 1 ]; then
	build=$1
	mkdir -p "$build"
	build=$(cd "$build" && pwd)
else
	build=$(mktemp -d "${TMPDIR:-/tmp}/rp-fuzz-regress.XXXXXX")
	trap 'rm -rf "$build"' EXIT
fi

FUZZ_TARGETS=$FUZZ_TARGETS "$fuzzdir/run.sh" --build-only "$build" > "$build/build.log" 2>&1 || {
	rc=$?
	cat "$build/build.log" >&2
	exit "$rc"
}

failed=
count=0
for t in $FUZZ_TARGETS; do
	for kind in regressions corpus; do
		d="$fuzzdir/$kind/$t"
		[ -d "$d" ] || continue
		for f in "$d"/*; do
			[ -f "$f" ] || continue
			count=$((count + 1))
			mkdir -p "$build/tmp"
			if ! TMPDIR="$build/tmp" "$build/fuzz-$t" -timeout=10 -rss_limit_mb=2048 \
				-runs=1 "$f" > "$build/regress.log" 2>&1; then
				echo "fuzz-regress: $t: FAILED on ${f#"$srcdir"/}"
				tail -n 60 "$build/regress.log"
				failed="$failed $t:${f##*/}"
			fi
		done
	done
done
if [ -n "$failed" ]; then
	echo "fuzz-regress: FAILED:$failed"
	exit 1
fi
echo "fuzz-regress: $count inputs passed"
