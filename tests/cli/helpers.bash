# helpers.bash - loaded by every CLI test (`load helpers`).
#
# Puts the freshly built rp first on PATH, loads bats-support and
# bats-assert, and runs each test in its own scratch workspace
# ($BATS_TEST_TMPDIR/ws), which bats removes afterwards.

bats_load_library bats-support 2>/dev/null || load /usr/lib/bats/bats-support/load
bats_load_library bats-assert 2>/dev/null || load /usr/lib/bats/bats-assert/load

: "${RP_BUILDDIR:=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}"
: "${RP_SRCDIR:=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}"
export RP_BUILDDIR RP_SRCDIR
FIXTURES="$RP_SRCDIR/tests/cli/fixtures"
export FIXTURES
PATH="$RP_BUILDDIR:$PATH"
export PATH
# deterministic, quiet git for tests that commit
export GIT_AUTHOR_NAME=rp-test GIT_AUTHOR_EMAIL=rp-test@example.invalid
export GIT_COMMITTER_NAME=rp-test GIT_COMMITTER_EMAIL=rp-test@example.invalid
export GIT_CONFIG_NOSYSTEM=1 HOME="$BATS_TEST_TMPDIR"

setup() {
	WS="$BATS_TEST_TMPDIR/ws"
	mkdir -p "$WS"
	cd "$WS" || return 1
}

# git_init: make the workspace a git repository with one branch, main.
git_init() {
	git init -q -b main .
}

# git_commit MSG: commit everything in the workspace.
git_commit() {
	git add -A . && git commit -q -m "$1"
}

# runs_of FILE: how many times a stage appended to FILE (a run counter).
runs_of() {
	if [ -f "$1" ]; then wc -l < "$1" | tr -d ' '; else echo 0; fi
}
