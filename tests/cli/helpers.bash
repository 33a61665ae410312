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
# the user's own settings are $HOME/.config/rp/config (userconfig.h), never
# the caller's
unset XDG_CONFIG_HOME RP_USER_CONFIG

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

# wait_port_file FILE: waits up to 5 s for a stub server to write its port
# to FILE; fails, saying so, when none did.
wait_port_file() {
	local i
	for i in $(seq 100); do
		[ -s "$1" ] && return 0
		sleep 0.05
	done
	echo "no server wrote its port to '$1'" >&2
	return 1
}

# start_openai_stub NAME [ARGS...]: starts tests/servers/openai_stub.py on
# 127.0.0.1, expecting the key $KEY, with ARGS; sets PORT, BASE (its /v1
# URL) and STATS (its counters file, $BATS_TEST_TMPDIR/NAME.stats), and
# appends its pid to STUB_PIDS for the test's teardown to stop.
start_openai_stub() {
	local name=$1
	shift
	rm -f "$BATS_TEST_TMPDIR/$name.port"
	python3 "$RP_SRCDIR/tests/servers/openai_stub.py" --port-file "$BATS_TEST_TMPDIR/$name.port" \
		--stats-file "$BATS_TEST_TMPDIR/$name.stats" --expect-key "$KEY" "$@" 3>&- &
	STUB_PIDS+=($!)
	wait_port_file "$BATS_TEST_TMPDIR/$name.port" || return 1
	PORT=$(cat "$BATS_TEST_TMPDIR/$name.port")
	BASE="http://127.0.0.1:$PORT/v1"
	export BASE
	STATS="$BATS_TEST_TMPDIR/$name.stats"
}

# user_config TEXT: writes the user's own settings, $HOME/.config/rp/config
# (rp(1), FILES), owner-only as rp requires.
user_config() {
	mkdir -p "$HOME/.config/rp"
	printf '%s\n' "$1" > "$HOME/.config/rp/config"
	chmod 600 "$HOME/.config/rp/config"
}

# allow_key VAR HOST: the user's consent that the value of VAR may be sent
# to HOST ("host" or "host:port").
allow_key() {
	user_config "$(printf 'credentials:\n  %s: ["%s"]' "$1" "$2")"
}
