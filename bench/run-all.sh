#!/bin/sh
# run-all.sh - run every rp benchmark and write bench/RESULTS.md.
#
#   bench/run-all.sh [RP]          (make bench runs it with the built rp)
#
# RP is the rp binary (default: rp on PATH). Peers are installed through apt
# when missing (install-peers.sh). Each benchmark also runs alone:
#   python3 bench/runner.py RP, python3 bench/parallel.py RP, python3 bench/hashing.py RP
#
# Environment:
#   BENCH_ONLY="runner hashing"   run only these benchmarks
#   BENCH_SIZES=10,100,1000       pipeline sizes of runner.py (default 10,100,1000,5000)
#   BENCH_TMP=/path               scratch space (default /tmp; hashing needs ~2.5 GiB)
#   BENCH_RESULTS=/path/file.md   where to write (default: RESULTS.md next to this script)
#   BENCH_INDEX_CHUNKS=100000     index size of index-update.py's one-chunk update
#   BENCH_INDEX_DOCS=10000        corpus size of index-update.py's rp repro
#
# embedding (rp-embed: cache lookups, HTTP throughput against a local stub)
# finds rp-embed next to RP. To add a benchmark (the index, the feature store),
# write bench/NAME.py on the model of parallel.py: it takes RP, --md and
# --targets, prints its section and writes its targets; then add NAME to
# BENCHES below.
set -u

here=$(cd "$(dirname "$0")" && pwd)
rp=${1:-$(command -v rp || true)}
if [ -z "$rp" ] || [ ! -x "$rp" ]; then
	echo "run-all: no rp binary (pass its path, or put rp on PATH)" >&2
	exit 2
fi
case $rp in /*) ;; *) rp=$(pwd)/$rp ;; esac

BENCHES=${BENCH_ONLY:-"runner parallel hashing embedding index-search index-update"}
results=${BENCH_RESULTS:-$here/RESULTS.md}
out=$(mktemp -d "${TMPDIR:-/tmp}/rp-bench-results.XXXXXX")
trap 'rm -rf "$out"' EXIT INT TERM

sh "$here/install-peers.sh"

start=$(date +%s)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
i=0 failed=
for b in $BENCHES; do
	i=$((i + 1))
	echo "run-all: $b" >&2
	n=$(printf %02d $i)
	if ! python3 "$here/$b.py" "$rp" --md "$out/$n-$b.md" --targets "$out/$n-$b.targets"; then
		echo "run-all: benchmark $b failed" >&2
		failed="$failed $b"
		printf '## %s\n\nThis benchmark failed; see the output of `bench/run-all.sh`.\n' "$b" > "$out/$n-$b.md"
	fi
done
elapsed=$(( $(date +%s) - start ))
PYTHONDONTWRITEBYTECODE=1 python3 "$here/benchlib.py" report --rp "$rp" --out "$results" --elapsed "$elapsed" \
	--load-start "$load_start" "$out"
[ -z "$failed" ] || { echo "run-all: failed:$failed" >&2; exit 1; }
