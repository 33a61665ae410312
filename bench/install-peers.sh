#!/bin/sh
# install-peers.sh - install the peers the benchmarks compare rp with, through
# apt, when their program is missing. Best effort: a package that fails to
# install (snakemake is heavy) is reported and skipped; the benchmark that
# needs it says so in its table.
#
#   bench/install-peers.sh [PROGRAM...]   (default: all of them)
#
# PROGRAM is one of: make ninja doit snakemake openssl sha256sum strace gdb
# faiss, and hyperfine (not installed by default: the scripts time runs
# themselves). faiss is the python3 module (python3-faiss, with OpenBLAS so
# that its batched search runs BLAS at full speed; index-search.py).

pkg_of() {
	case $1 in
	make) echo make ;;
	ninja) echo ninja-build ;;
	doit) echo python3-doit ;;
	snakemake) echo snakemake ;;
	hyperfine) echo hyperfine ;;
	openssl) echo openssl ;;
	sha256sum) echo coreutils ;;
	strace) echo strace ;;
	gdb) echo gdb ;;
	faiss) echo python3-faiss libopenblas0-pthread ;;
	*) echo "install-peers: unknown program '$1'" >&2; return 1 ;;
	esac
}

[ $# -gt 0 ] || set -- make ninja doit snakemake openssl sha256sum strace gdb faiss

# faiss is a python module, not a program (the Debian one is /usr/bin/python3's)
have() {
	case $1 in
	faiss) /usr/bin/python3 -c 'import faiss' >/dev/null 2>&1 && ldconfig -p | grep -q libopenblas ;;
	*) command -v "$1" >/dev/null 2>&1 ;;
	esac
}

missing=
for prog; do
	have "$prog" || missing="$missing $prog"
done
[ -n "$missing" ] || exit 0

if ! command -v apt-get >/dev/null 2>&1; then
	echo "install-peers: missing:$missing, and no apt-get to install them" >&2
	exit 0
fi
sudo=
[ "$(id -u)" = 0 ] || sudo=sudo
updated=
for prog in $missing; do
	pkg=$(pkg_of "$prog") || continue
	echo "install-peers: installing $pkg (for $prog)" >&2
	if [ -z "$updated" ]; then
		$sudo apt-get update -qq >&2 || true
		updated=1
	fi
	# shellcheck disable=SC2086 # $pkg may name two packages
	if ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $pkg >&2; then
		echo "install-peers: could not install $pkg; benchmarks that need $prog skip it" >&2
	fi
done
exit 0
