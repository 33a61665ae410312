#!/usr/bin/env bats
# security-stages.bats - hostile inputs to the stage programs are bounded
# (issue 9, sections 5, 4.3 and 3.3).
#
# rp-extract on archive bombs (a tar.zst of a sparse file, made here with
# tar --zstd), very long titles, NUL bytes and UTF-16; rp-embed and
# rp-context against tests/servers/openai_stub.py and chat_stub.py in modes
# that stall, ask for huge Retry-After waits, send gzip bombs, answer the
# wrong dimension or echo part of the key; and the -o/--stats targets that
# are not regular files (a FIFO, a character device, a /proc descriptor
# link), which are written in place and never replaced.
# Needs python3, tar, zstd and gzip; the device test needs root (mknod).

bats_require_minimum_version 1.5.0
load helpers
load fixtures/embed-lib

KEY=sk-test-PLANTED-0123456789abcdefWXYZ

setup() {
	WS="$BATS_TEST_TMPDIR/ws"
	mkdir -p "$WS"
	cd "$WS" || return 1
	export RP_TEST_KEY=$KEY
	export RP_HTTP_BACKOFF_MS=20
	# the user's consent to send RP_TEST_KEY to the local stub (userconfig.h)
	mkdir -p "$HOME/.config/rp" && printf 'credentials:\n  RP_TEST_KEY: [127.0.0.1]\n' > "$HOME/.config/rp/config"
	STUB_PIDS=()
	BG_PIDS=()
}

teardown() {
	local p
	for p in "${STUB_PIDS[@]}" "${BG_PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
}

# start_stub NAME ARGS...: starts openai_stub.py; sets BASE (its /v1 URL) and
# STATS (its counters file).
start_stub() {
	local name=$1 i
	shift
	rm -f "$BATS_TEST_TMPDIR/$name.port"
	python3 "$RP_SRCDIR/tests/servers/openai_stub.py" --port-file "$BATS_TEST_TMPDIR/$name.port" \
		--stats-file "$BATS_TEST_TMPDIR/$name.stats" --expect-key "$KEY" "$@" 3>&- &
	STUB_PIDS+=($!)
	for i in $(seq 100); do
		[ -s "$BATS_TEST_TMPDIR/$name.port" ] && break
		sleep 0.05
	done
	[ -s "$BATS_TEST_TMPDIR/$name.port" ] || { echo "stub did not start" >&2; return 1; }
	PORT=$(cat "$BATS_TEST_TMPDIR/$name.port")
	BASE="http://127.0.0.1:$PORT/v1"
	STATS="$BATS_TEST_TMPDIR/$name.stats"
}

# start_chat ARGS...: starts chat_stub.py; sets CBASE.
start_chat() {
	local i
	rm -f "$BATS_TEST_TMPDIR/chat.port"
	python3 "$RP_SRCDIR/tests/servers/chat_stub.py" --port-file "$BATS_TEST_TMPDIR/chat.port" "$@" 3>&- &
	STUB_PIDS+=($!)
	for i in $(seq 100); do
		[ -s "$BATS_TEST_TMPDIR/chat.port" ] && break
		sleep 0.05
	done
	[ -s "$BATS_TEST_TMPDIR/chat.port" ] || { echo "chat stub did not start" >&2; return 1; }
	CBASE="http://127.0.0.1:$(cat "$BATS_TEST_TMPDIR/chat.port")/v1"
}

# emb ARGS...: rp-embed against the last started stub, with the key.
emb() {
	rp-embed --provider openai --model m1 --base-url "$BASE" --api-key-env RP_TEST_KEY \
		--cache "$WS/cache.db" "$@"
}

# cached_rows: vectors in $WS/cache.db (0 when there is none).
cached_rows() {
	python3 -c 'import os, sqlite3
p = "cache.db"
if not os.path.exists(p): print(0); raise SystemExit
db = sqlite3.connect(p)
n = 0
for (t,) in db.execute("select name from sqlite_master where type = \"table\""):
    n += db.execute("select count(*) from \"%s\"" % t).fetchone()[0]
print(n)'
}

# docs: a docs.jsonl of one document, for rp-chunk.
docs() {
	printf '%s\n' '{"doc_id":"a.txt","sha256":"0","title":"A","text":"One two three. Four five six."}' > docs.jsonl
}

# ---- 4.3: -o and --stats targets that are not regular files ------------------

@test "an output that is a FIFO is written in place, not replaced" {
	docs
	mkfifo out.fifo
	timeout 20 cat out.fifo > got &
	BG_PIDS+=($!)
	run timeout 20 rp-chunk docs.jsonl -o out.fifo
	assert_success
	wait "${BG_PIDS[0]}"
	[ -p out.fifo ]
	run cat got
	assert_output --partial '"chunk_id":"a.txt#0"'
}

@test "an output that is a character device is written in place, not replaced" {
	[ "$(id -u)" = 0 ] || skip "needs root to make a device node"
	mknod "$BATS_TEST_TMPDIR/null" c 1 3 || skip "cannot make a device node here"
	docs
	run rp-chunk docs.jsonl -o "$BATS_TEST_TMPDIR/null"
	assert_success
	[ -c "$BATS_TEST_TMPDIR/null" ]
	start_stub s
	chunk_line c1 'hello' > chunks.jsonl
	run emb chunks.jsonl -o "$BATS_TEST_TMPDIR/null" --stats "$BATS_TEST_TMPDIR/null"
	assert_success
	[ -c "$BATS_TEST_TMPDIR/null" ]
}

@test "an output that is a link to a descriptor (like /dev/stdout) is written through, not replaced" {
	docs
	ln -s /proc/self/fd/1 out.link
	rp-chunk docs.jsonl -o out.link > got
	[ -L out.link ]
	[ "$(readlink out.link)" = /proc/self/fd/1 ]
	run cat got
	assert_output --partial '"chunk_id":"a.txt#0"'
	# through a pipe as well
	rp-chunk docs.jsonl -o out.link | cat > got2
	[ -L out.link ]
	cmp got got2
}

@test "an output that is a directory is refused with a clear error" {
	docs
	mkdir out.d
	run rp-chunk docs.jsonl -o out.d
	assert_failure 1
	assert_output --partial "'out.d': it is a directory, not a file"
	[ -d out.d ]
}
