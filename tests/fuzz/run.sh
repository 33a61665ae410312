#!/bin/sh
# tests/fuzz/run.sh - build the libFuzzer targets and fuzz each for a while.
#
# usage: tests/fuzz/run.sh [--build-only] [BUILDDIR]
#
# Builds tests/fuzz/fuzz-*.c with clang (-fsanitize=fuzzer,address,undefined)
# against the librp sources they need, compiled with
# -fsanitize=fuzzer-no-link,address,undefined, into BUILDDIR (default: a
# temporary directory, removed at the end). Then runs every target for
# FUZZ_SECONDS seconds (default 60) on a scratch copy of its seed corpus
# tests/fuzz/corpus/<target>/ (the committed corpus never grows), with
# tests/fuzz/<target>.dict when there is one.
#
# Environment: FUZZ_SECONDS (default 60), FUZZ_TARGETS (space-separated
# names, default all: "pipeline lock interp doc toml jsonl vectors segment"), FUZZ_JOBS
# (targets run at the same time, default 1), CC (default clang).
#
# Prints "fuzz: ok TARGET: stats" or "fuzz: FAIL TARGET ..." per target.
# Exits 0 when no target found anything, 1 on any crash, leak, timeout or
# out-of-memory (the target is named and its input printed as hex and base64
# so that CI logs keep it), 2 when the toolchain is missing. It installs
# nothing: it says which Debian package to install.
set -eu

srcdir=$(cd "$(dirname "$0")/../.." && pwd)
fuzzdir="$srcdir/tests/fuzz"
: "${CC:=clang}"
: "${FUZZ_SECONDS:=60}"
: "${FUZZ_TARGETS:=pipeline lock interp doc toml jsonl vectors segment}"
: "${FUZZ_JOBS:=1}"

build_only=0
if [ "${1:-}" = --build-only ]; then
	build_only=1
	shift
fi

# the librp sources each target needs (link errors say when this grows)
# every librp module, as FOLDER/NAME (the archive lets each target link only
# the members it uses)
LIB_SRCS=$(cd "$srcdir/src/lib" && ls */*.c | sed 's/\.c$//')
LIBS="-lyaml -lcrypto -lsqlite3 -lcurl -larchive -ljansson -lpthread -lm"
# the version configure would define (AC_INIT's second argument)
version=$(sed -n 's/^AC_INIT(\[[^]]*\], *\[\([^]]*\)\].*/\1/p' "$srcdir/configure.ac")
SAN_CFLAGS="-D_GNU_SOURCE -DPACKAGE_VERSION=\"$version\" -g -O1 -fno-omit-frame-pointer -fno-sanitize-recover=all -std=gnu11 -Wall -Wno-unused-parameter -I$srcdir/src/lib"

# max_len per target: big enough for the seeds, small enough to stay fast
max_len() {
	case $1 in
	pipeline) echo 4096 ;;
	lock) echo 8192 ;;
	interp) echo 512 ;;
	doc) echo 4096 ;;
	toml) echo 4096 ;;
	jsonl) echo 4096 ;;
	vectors) echo 8192 ;;
	segment) echo 8192 ;;
	*) echo 4096 ;;
	esac
}

# extra link flags per target
target_ldflags() {
	case $1 in
	pipeline) echo "-Wl,--wrap=open" ;;  # the harness sandboxes open(), see fuzz-pipeline.c
	esac
}

die_toolchain() {
	echo "fuzz: $1" >&2
	echo "fuzz: on Debian 12 install the compiler and libFuzzer with:" >&2
	echo "fuzz:     apt-get install clang libclang-rt-$2-dev" >&2
	echo "fuzz: and the library headers with:" >&2
	echo "fuzz:     apt-get install libyaml-dev libssl-dev libsqlite3-dev libcurl4-openssl-dev libarchive-dev libjansson-dev" >&2
	exit 2
}

check_toolchain() {
	tmp=$1
	if ! command -v "$CC" >/dev/null 2>&1; then
		die_toolchain "'$CC' not found" 14
	fi
	major=$("$CC" -dumpversion 2>/dev/null | sed 's/\..*//')
	: "${major:=14}"
	printf '%s\n' '#include <stdint.h>' '#include <stddef.h>' \
		'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { return 0; }' \
		> "$tmp/probe.c"
	if ! "$CC" -fsanitize=fuzzer,address,undefined "$tmp/probe.c" -o "$tmp/probe" \
		> "$tmp/probe.log" 2>&1; then
		cat "$tmp/probe.log" >&2
		die_toolchain "'$CC' cannot link a libFuzzer target (libclang_rt.fuzzer is missing)" "$major"
	fi
	for h in yaml.h openssl/sha.h sqlite3.h curl/curl.h archive.h jansson.h; do
		if ! printf '#include <%s>\n' "$h" | "$CC" -E -x c - >/dev/null 2>&1; then
			die_toolchain "header <$h> not found" "$major"
		fi
	done
}

# build BUILDDIR: compiles the objects that are out of date and links every target
build() {
	out=$1
	mkdir -p "$out/obj"
	check_toolchain "$out"
	newest_h=$(ls -t "$srcdir"/src/lib/*/*.h | head -n 1)
	objs=
	for m in $LIB_SRCS; do
		src="$srcdir/src/lib/$m.c"
		obj="$out/obj/$(echo "$m" | tr / -).o"
		if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] || [ "$newest_h" -nt "$obj" ]; then
			echo "fuzz: CC   src/lib/$m.c"
			san=fuzzer-no-link,address,undefined
			case $m in
			# the SIMD search kernels: clang 14 takes minutes to instrument
			# their unrolled intrinsics for ASan (1 s without), and no
			# target parses input there; they keep coverage only
			index/topk-avx*) san=fuzzer-no-link ;;
			esac
			# shellcheck disable=SC2086
			"$CC" $SAN_CFLAGS -fsanitize=$san -c "$src" -o "$obj"
		fi
		objs="$objs $obj"
	done
	# an archive, so that each target links only the members it uses
	rm -f "$out/librp-fuzz.a"
	# shellcheck disable=SC2086
	ar rcs "$out/librp-fuzz.a" $objs
	for t in $FUZZ_TARGETS; do
		src="$fuzzdir/fuzz-$t.c"
		[ -f "$src" ] || { echo "fuzz: no target '$t' ($src)" >&2; exit 2; }
		echo "fuzz: LINK fuzz-$t"
		# shellcheck disable=SC2086
		"$CC" $SAN_CFLAGS -fsanitize=fuzzer,address,undefined "$src" "$out/librp-fuzz.a" \
			$(target_ldflags "$t") $LIBS -o "$out/fuzz-$t"
	done
}

# hexdump FILE: the bytes as hex (od is in coreutils, xxd may be missing)
show_input() {
	f=$1
	echo "---- $(basename "$f") ($(wc -c < "$f") bytes), hex:"
	od -An -tx1 -v "$f" | head -n 200
	echo "---- base64 (decode with: base64 -d > crash):"
	base64 "$f" | head -n 200
	echo "----"
}

# fuzz_one TARGET: fuzzes one target; 0, or 1 after printing what it found
fuzz_one() {
	t=$1
	corpus="$work/corpus/$t"
	art="$work/artifacts/$t"
	log="$work/fuzz-$t.log"
	rm -rf "$corpus" "$art"
	mkdir -p "$corpus" "$art" "$work/tmp/$t"
	if [ -d "$fuzzdir/corpus/$t" ]; then
		cp -R "$fuzzdir/corpus/$t/." "$corpus/"
	fi
	dict=
	if [ -f "$fuzzdir/$t.dict" ]; then
		dict="-dict=$fuzzdir/$t.dict"
	fi
	echo "fuzz: $t: ${FUZZ_SECONDS}s, max_len $(max_len "$t"), $(ls "$corpus" | wc -l) seeds"
	set +e
	# shellcheck disable=SC2086
	TMPDIR="$work/tmp/$t" "$build/fuzz-$t" -max_total_time="$FUZZ_SECONDS" \
		-max_len="$(max_len "$t")" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$art/" -print_final_stats=1 $dict \
		"$corpus" > "$log" 2>&1
	rc=$?
	set -e
	stats=$(grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)' "$log" |
		sed 's/^stat:://' | tr -s ' \n' ' ')
	if [ "$rc" -eq 0 ] && [ -z "$(ls "$art")" ]; then
		echo "fuzz: ok $t: $stats"
		return 0
	fi
	echo "fuzz: FAIL $t (exit $rc): $stats"
	echo "==== fuzz-$t log (last 80 lines)"
	tail -n 80 "$log"
	for f in "$art"/*; do
		[ -f "$f" ] && show_input "$f"
	done
	echo "fuzz: reproduce with: $build/fuzz-$t CRASHFILE; minimize with -minimize_crash=1 -runs=10000"
	return 1
}

if [ $# -ge 1 ]; then
	build=$1
	mkdir -p "$build"
	build=$(cd "$build" && pwd)
	cleanup_build=0
else
	build=$(mktemp -d "${TMPDIR:-/tmp}/rp-fuzz.XXXXXX")
	cleanup_build=1
fi
work="$build/run"
if [ "$cleanup_build" = 1 ]; then
	trap 'rm -rf "$build"' EXIT
fi

build "$build"
[ "$build_only" = 1 ] && exit 0

mkdir -p "$work"
failed=
if [ "$FUZZ_JOBS" -le 1 ]; then
	for t in $FUZZ_TARGETS; do
		fuzz_one "$t" || failed="$failed $t"
	done
else
	# a few at a time; each job's report is printed whole when it ends
	set -- $FUZZ_TARGETS
	while [ $# -gt 0 ]; do
		pids= names=
		i=0
		while [ $# -gt 0 ] && [ "$i" -lt "$FUZZ_JOBS" ]; do
			( fuzz_one "$1" > "$work/report-$1" 2>&1 ) &
			pids="$pids $!"
			names="$names $1"
			i=$((i + 1))
			shift
		done
		for t in $names; do
			p=${pids# }
			p=${p%% *}
			pids=${pids# }
			pids=${pids#"$p"}
			if ! wait "$p"; then failed="$failed $t"; fi
			cat "$work/report-$t"
		done
	done
fi
if [ -n "$failed" ]; then
	# again at the very end, where a CI log's tail shows it
	for t in $failed; do
		for f in "$work/artifacts/$t"/*; do
			[ -f "$f" ] || continue
			echo "fuzz: FAIL $t: $(basename "$f"), base64: $(base64 -w0 "$f" | head -c 8192)"
		done
	done
	echo "fuzz: FAILED:$failed (reproduce: base64 -d > crash, then fuzz-TARGET crash)"
	exit 1
fi
echo "fuzz: all targets ran ${FUZZ_SECONDS}s without a finding"
