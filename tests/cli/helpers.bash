# helpers.bash - loaded by every CLI test (`load helpers`).
#
# Puts the freshly built rp first on PATH, loads bats-support and
# bats-assert, and runs each test in its own scratch workspace
# ($BATS_TEST_TMPDIR/ws), which bats removes afterwards.
#
# It also holds every fixture more than one .bats file uses, once: waiting
# for a file or a process, the stub servers (started here, stopped by the
# default teardown), and pipelines several files build on. A .bats file
# keeps only what is particular to it; a file that needs its own setup or
# teardown calls enter_ws or stop_stubs from it.

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

# enter_ws: makes the test's scratch workspace $WS and enters it (the
# default setup; a file with its own setup calls it first).
enter_ws() {
	WS="$BATS_TEST_TMPDIR/ws"
	mkdir -p "$WS"
	cd "$WS" || return 1
}

setup() {
	enter_ws
}

# The pids of the stub servers (and other background helpers) a test
# started; the default teardown stops them.
STUB_PIDS=()

teardown() {
	stop_stubs
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

# ---- waiting -----------------------------------------------------------

# wait_until SECONDS COMMAND [ARGS...]: runs COMMAND every 0.01 s until it
# succeeds, at most SECONDS; fails, saying what it waited for, when it never
# did. Every wait below is one of these. (crash-kill.bats kills at moments
# just after a file appears: the short poll keeps those moments early.)
wait_until() {
	local secs=$1 i
	shift
	for i in $(seq $((secs * 100))); do
		"$@" && return 0
		sleep 0.01
	done
	echo "waited ${secs} s in vain for: $*" >&2
	return 1
}

# wait_for FILE [SECONDS]: waits for FILE to exist, at most SECONDS (10).
wait_for() {
	wait_until "${2:-10}" test -e "$1"
}

# pid_gone PID: true when process PID no longer runs (or is a zombie it
# is up to the caller to reap).
pid_gone() {
	! kill -0 "$1" 2>/dev/null
}

# wait_pid_gone PID [SECONDS]: waits for process PID to be gone, at most
# SECONDS (5).
wait_pid_gone() {
	wait_until "${2:-5}" pid_gone "$1"
}

# wait_port_file FILE: waits up to 5 s for a stub server to write its port
# to FILE; fails, saying so, when none did.
wait_port_file() {
	wait_until 5 test -s "$1"
}

# ---- stub servers --------------------------------------------------------

# stop_stubs [PID...]: stops every process in STUB_PIDS and the PIDs given
# (the default teardown; a file with its own teardown calls it).
stop_stubs() {
	local p
	for p in "${STUB_PIDS[@]}" "$@"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	STUB_PIDS=()
}

# stop_stub: stops the stub started last (to start another, or to test a
# server that is gone); fails when it no longer ran.
stop_stub() {
	local p=${STUB_PIDS[-1]}
	unset 'STUB_PIDS[-1]'
	kill "$p" || return 1
	wait "$p" 2>/dev/null || true
}

# start_openai_stub NAME [ARGS...]: starts tests/servers/openai_stub.py on
# 127.0.0.1, expecting the key $KEY (when set), with ARGS; sets PORT, BASE
# (its /v1 URL) and STATS (its counters file, $BATS_TEST_TMPDIR/NAME.stats),
# and appends its pid to STUB_PIDS for the test's teardown to stop.
start_openai_stub() {
	local name=$1
	shift
	rm -f "$BATS_TEST_TMPDIR/$name.port"
	python3 "$RP_SRCDIR/tests/servers/openai_stub.py" --port-file "$BATS_TEST_TMPDIR/$name.port" \
		--stats-file "$BATS_TEST_TMPDIR/$name.stats" ${KEY:+--expect-key "$KEY"} "$@" 3>&- &
	STUB_PIDS+=($!)
	wait_port_file "$BATS_TEST_TMPDIR/$name.port" || return 1
	PORT=$(cat "$BATS_TEST_TMPDIR/$name.port")
	BASE="http://127.0.0.1:$PORT/v1"
	export BASE
	STATS="$BATS_TEST_TMPDIR/$name.stats"
}

# start_chat_stub NAME MODE [ARGS...]: starts tests/servers/chat_stub.py on
# 127.0.0.1 in MODE, with ARGS; sets CBASE (its /v1 URL, exported) and
# CCOUNT (the file it appends a line to per request,
# $BATS_TEST_TMPDIR/NAME.count), and appends its pid to STUB_PIDS.
start_chat_stub() {
	local name=$1
	shift
	rm -f "$BATS_TEST_TMPDIR/$name.port" "$BATS_TEST_TMPDIR/$name.count"
	python3 "$RP_SRCDIR/tests/servers/chat_stub.py" --port-file "$BATS_TEST_TMPDIR/$name.port" \
		--count-file "$BATS_TEST_TMPDIR/$name.count" --max-seconds 150 --mode "$@" \
		>/dev/null 2>&1 3>&- &
	STUB_PIDS+=($!)
	wait_port_file "$BATS_TEST_TMPDIR/$name.port" || return 1
	CBASE="http://127.0.0.1:$(cat "$BATS_TEST_TMPDIR/$name.port")/v1"
	export CBASE
	CCOUNT="$BATS_TEST_TMPDIR/$name.count"
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

# ---- pipelines and outputs -------------------------------------------------

# two_versions: the chunk pipeline of fixtures/c-lib (which the file loads)
# run with size 10, its lock kept as OLD.lock, then with size 20 (rp.lock);
# sets OLD_CHUNKS/OLD_COUNT and NEW_CHUNKS/NEW_COUNT, the outputs' hashes,
# and fails unless both outputs changed.
two_versions() {
	use_chunk
	rp repro >/dev/null
	cp rp.lock OLD.lock
	OLD_CHUNKS=$(hash_of build/chunks.txt)
	OLD_COUNT=$(hash_of build/count.txt)
	set_size 20
	rp repro >/dev/null
	NEW_CHUNKS=$(hash_of build/chunks.txt)
	NEW_COUNT=$(hash_of build/count.txt)
	[ "$OLD_CHUNKS" != "$NEW_CHUNKS" ]
	[ "$OLD_COUNT" != "$NEW_COUNT" ]
}

# two_commits: the workspace a git repository in which the chunk pipeline of
# fixtures/c-lib (which the file loads) was run and committed with size 10
# (HEAD~1), then with size 20 (HEAD); OLD_CHUNKS is the hash of the size 10
# chunks. Outputs and run counters are ignored by git.
two_commits() {
	git_init
	printf 'build/\nruns-*.log\n' > .gitignore
	use_chunk
	rp repro >/dev/null
	OLD_CHUNKS=$(hash_of build/chunks.txt)
	git_commit "size 10"
	set_size 20
	rp repro >/dev/null
	git_commit "size 20"
}

# ids FILE: the doc_ids of a JSONL file, one per line.
ids() {
	python3 -c 'import json,sys; [print(json.loads(l)["doc_id"]) for l in open(sys.argv[1])]' "$1"
}
