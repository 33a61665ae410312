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
	enter_ws || return 1
	export RP_TEST_KEY=$KEY
	export RP_HTTP_BACKOFF_MS=20
	allow_key RP_TEST_KEY 127.0.0.1
	BG_PIDS=()
}

teardown() {
	stop_stubs "${BG_PIDS[@]}"
}

# start_stub NAME [ARGS...]: the OpenAI stub (start_openai_stub in helpers.bash)
start_stub() {
	start_openai_stub "$@"
}

# start_chat MODE: the chat stub in MODE (start_chat_stub in helpers.bash); sets CBASE.
start_chat() {
	start_chat_stub chat "$1"
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
print(sqlite3.connect(p).execute("select count(*) from embeddings").fetchone()[0])'
}

# bounded SECONDS FUNCTION ARGS...: runs a function of this file under timeout(1).
bounded() {
	local secs=$1
	shift
	timeout "$secs" bash -c "$(declare -f emb ctx_llm); \"\$@\"" bash "$@"
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

# ---- 5.1: archive bombs are bounded -----------------------------------------------

# bomb NAME SIZE: NAME.tar.zst holding big.txt, a file of SIZE zero bytes
# (sparse on disk, some KB once compressed), and small.txt.
bomb() {
	mkdir -p "$BATS_TEST_TMPDIR/bomb"
	truncate -s "$2" "$BATS_TEST_TMPDIR/bomb/big.txt"
	echo 'A small file next to the bomb.' > "$BATS_TEST_TMPDIR/bomb/small.txt"
	tar --zstd -C "$BATS_TEST_TMPDIR/bomb" -cf "$1.tar.zst" big.txt small.txt
	rm -rf "$BATS_TEST_TMPDIR/bomb"
}

@test "a tar.zst that expands to 2 GiB is read in bounded memory, its big member skipped and counted" {
	command -v zstd >/dev/null || skip "no zstd"
	bomb corpus 2G
	[ "$(stat -c %s corpus.tar.zst)" -lt 1000000 ]
	# the member alone is 2 GiB: a peak RSS under 200 MB means it was never held
	# (no ulimit -v: an ASan build reserves terabytes of address space)
	run /usr/bin/time -f "maxrss=%M" rp-extract corpus.tar.zst -o docs.jsonl
	assert_success
	assert_output --partial "1 doc from 1 input (1 skipped: 1 too large"
	rss=$(printf '%s\n' "$output" | sed -n 's/^maxrss=//p')
	[ "$rss" -lt 200000 ]
	run ids docs.jsonl
	assert_output "corpus.tar.zst/small.txt"
	run rp-extract corpus.tar.zst -o docs.jsonl --verbose
	assert_output --partial "skipped 'corpus.tar.zst:big.txt': too large, 2147483648 bytes, over --max-file-size 67108864"
}

@test "--max-file-size and --max-total-size take suffixes; --strict makes a skipped big file an error" {
	printf 'x%.0s' $(seq 3000) > a.txt
	printf 'short\n' > b.txt
	printf 'also short\n' > c.txt
	run rp-extract a.txt b.txt -o docs.jsonl --max-file-size 2K
	assert_success
	assert_output --partial "1 doc from 2 inputs (1 skipped: 1 too large"
	run rp-extract b.txt c.txt -o docs.jsonl --max-total-size 8 --verbose
	assert_success
	assert_output --partial "skipped 'c.txt': too large, 11 bytes would pass --max-total-size 8"
	rm -f docs.jsonl
	run rp-extract a.txt b.txt -o docs.jsonl --max-file-size 2k --strict
	assert_failure 1
	assert_output --partial "skipped 'a.txt': too large"
	[ ! -e docs.jsonl ]
	run rp-extract a.txt -o docs.jsonl --max-file-size 2X
	assert_failure 2
	assert_output --partial "'--max-file-size': '2X' is not a size"
}

@test "a .txt that is an endless device is read no further than --max-file-size" {
	ln -s /dev/zero zero.txt
	run timeout 60 rp-extract zero.txt -o docs.jsonl --max-file-size 1M --verbose
	assert_success
	assert_output --partial "skipped 'zero.txt': too large, more than 1048576 bytes"
}

# ---- 5.2: titles are bounded ---------------------------------------------------------

# title_of FILE: "<code points> <last 12 characters>" of the first line's title.
title_of() {
	python3 -c 'import json,sys; t = json.loads(open(sys.argv[1]).readline())["title"]; print(len(t), t[-12:])' "$1"
}

@test "a .txt title is clipped to 200 characters at a word boundary" {
	python3 -c 'print(" ".join("word%d" % i for i in range(400))); print("body")' > para.txt
	run rp-extract para.txt -o docs.jsonl
	assert_success
	run title_of docs.jsonl
	assert_output "193 rd27 word28…"
	# a 240 KB line without blanks is cut at a code point boundary
	python3 -c 'print("é" * 240000)' > wide.txt
	rp-extract wide.txt -o docs.jsonl
	run title_of docs.jsonl
	assert_output "200 ééééééééééé…"
	# markdown headings and html titles too
	python3 -c 'print("# " + "h" * 5000); print(); print("text")' > long.md
	rp-extract long.md -o docs.jsonl
	run title_of docs.jsonl
	assert_output "200 hhhhhhhhhhh…"
}

@test "rp-context clips a chunk's title and headings in its context" {
	python3 - <<'PY'
import hashlib, json
t = "Some text of the chunk."
title = " ".join("t%d" % i for i in range(60000))
rec = {"chunk_id": "d#0", "doc_id": "d", "ordinal": 0, "text": t, "title": title,
       "headings": ["h" * 3000] + ["s%d" % i for i in range(10)],
       "content_hash": hashlib.sha256(t.encode()).hexdigest()}
open("chunks.jsonl", "w").write(json.dumps(rec) + "\n")
PY
	run rp-context chunks.jsonl -o ctx.jsonl
	assert_success
	run python3 -c 'import json; c = json.loads(open("ctx.jsonl").readline())["context"]; print(len(c)); print(c[-60:])'
	assert_line --index 1 --partial "Section: s4 > s5 > s6 > s7 > s8 > s9."
	[ "${lines[0]}" -lt 500 ]
}

# ---- 5.3: NUL bytes and UTF-16 ----------------------------------------------------

@test "UTF-16 text is decoded and files with NUL bytes are skipped as binary, with a count" {
	printf '\xff\xfeh\0i\0 \0\x3d\xd8\x00\xde\n\0' > le.txt
	printf '\xfe\xff\0B\0E\0\n' > be.md
	printf 'text\0with a NUL\n' > nul.txt
	printf '<p>a\0b</p>' > nul.html
	run rp-extract le.txt be.md nul.txt nul.html -o docs.jsonl --verbose
	assert_success
	assert_output --partial "skipped 'nul.txt': binary, it holds NUL bytes"
	assert_output --partial "2 docs from 4 inputs (2 skipped: 2 binary)"
	run grep -c 'u0000' docs.jsonl
	assert_output 0
	run python3 -c 'import json; [print(json.loads(l)["doc_id"], json.loads(l)["text"].strip()) for l in open("docs.jsonl")]'
	assert_line --index 0 "be.md BE"
	assert_line --index 1 "le.txt hi 😀"
	# what was written is read back by rp's own next stage
	run rp-chunk docs.jsonl -o chunks.jsonl
	assert_success
	run rp-extract nul.txt -o docs.jsonl --strict
	assert_failure 1
}

# ---- 5.4: every HTTP stage has a per-request timeout and a total deadline ------------

# ctx_llm ARGS...: rp-context --method llm against the chat stub, with the key.
ctx_llm() {
	printf '%s\n' '{"doc_id":"d","sha256":"1","title":"T","text":"Some text."}' > docs.jsonl
	rp-chunk docs.jsonl -o chunks.jsonl
	rp-context chunks.jsonl -o ctx.jsonl --method llm --docs docs.jsonl --model m \
		--base-url "$CBASE" --api-key-env RP_TEST_KEY --cache cache-ctx.db "$@"
}

@test "rp-embed gives up on a stalled server after --timeout, and at --deadline whatever the retries" {
	start_stub s --stall
	chunk_line c1 'hello' > chunks.jsonl
	run timeout 60 rp-embed --provider openai --model m1 --base-url "$BASE" --cache cache.db \
		chunks.jsonl -o v.rpv --timeout 1 --max-retries 0
	assert_failure 1
	assert_output --regexp "cannot reach .*: Operation timed out after 1[0-9]{3} milliseconds"
	[ ! -e v.rpv ]
	run bounded 60 emb chunks.jsonl -o v.rpv --timeout 1 --max-retries 100 --deadline 3
	assert_failure 1
	assert_output --partial "gave up: the deadline of 3 s passed, with 0 of 1 requests answered"
	run rp-embed --help
	assert_output --partial "--timeout SECONDS    limit of one request, 1..86400 (default 60)"
}

@test "rp-context refuses --timeout 0 and gives up on a stalled server" {
	start_chat stall
	run bounded 30 ctx_llm --timeout 0
	assert_failure 2
	assert_output --partial "--timeout '0' is not a number of seconds in 1..86400"
	run bounded 60 ctx_llm --timeout 1 --max-retries 0
	assert_failure 1
	assert_output --partial "Operation timed out after 1"
	run bounded 60 ctx_llm --timeout 1 --max-retries 100 --deadline 3
	assert_failure 1
	assert_output --partial "gave up: the deadline of 3 s passed"
}

@test "a Retry-After over the cap is waited for as the cap, not ignored" {
	# the cap (60 s) is past a 5 s deadline: the run fails at once, saying why,
	# instead of retrying after a short backoff as if no wait had been asked
	start_stub s --fail-429 5 --retry-after 100000
	chunk_line c1 'hello' > chunks.jsonl
	run bounded 60 emb chunks.jsonl -o v.rpv --deadline 5
	assert_failure 1
	assert_output --partial "the server asked to wait 100000 s before retrying (Retry-After, capped at 60 s), past the deadline of 5 s"
	[ "$(json_get "$STATS" requests)" = 1 ]
	start_chat 429-huge
	run bounded 60 ctx_llm --deadline 5
	assert_failure 1
	assert_output --partial "capped at 60 s), past the deadline of 5 s"
}

@test "a gzip bomb answer is refused past 64 MiB decompressed, in bounded memory" {
	start_stub s --gzip-bomb 300
	chunk_line c1 'hello' > chunks.jsonl
	run timeout 120 /usr/bin/time -f "maxrss=%M" rp-embed --provider openai --model m1 \
		--base-url "$BASE" --cache cache.db chunks.jsonl -o v.rpv --max-retries 0
	assert_failure 1
	assert_output --partial "the response is larger than 64 MiB (decompressed); refused"
	rss=$(printf '%s\n' "$output" | sed -n 's/^maxrss=//p')
	[ "$rss" -lt 200000 ]
}

# ---- 5.5: a wrong dimension is refused and nothing of it is cached ---------------------

@test "an answer of another dimension than --dimensions is refused and not cached" {
	start_stub s --force-dims 16
	gen_chunks chunks.jsonl 30
	run emb chunks.jsonl -o v.rpv --dimensions 8 --batch 10 --concurrency 1
	assert_failure 1
	assert_output --partial "has 16 dimensions, expected 8"
	assert_output --partial "nothing of this answer was cached"
	[ "$(cached_rows)" = 0 ]
	[ ! -e v.rpv ]
}

@test "without --dimensions, an answer of another dimension than the run's first is refused" {
	start_stub s --force-dims 12 --force-dims-after 1
	gen_chunks chunks.jsonl 30
	run emb chunks.jsonl -o v.rpv --batch 10 --concurrency 1
	assert_failure 1
	assert_output --partial "has 12 dimensions, expected 16"
	# only the first answer's 10 vectors are cached
	[ "$(cached_rows)" = 10 ]
	[ ! -e v.rpv ]
}

# ---- 3.3: secrets never leak, also in part ------------------------------------------------

@test "a server's partial or masked echo of the key is never printed" {
	start_stub a --error-400 'Incorrect API key provided: {keymask}. You can find your key at x.'
	chunk_line c1 'hello' > chunks.jsonl
	run emb chunks.jsonl -o v.rpv
	assert_failure 1
	assert_output --partial "Incorrect API key provided: [REDACTED]"
	refute_output --partial "sk-test"
	refute_output --partial "WXYZ"
	refute_output --partial "****"
	start_stub b --error-400 'key {keyhalf} is not valid'
	run emb chunks.jsonl -o v.rpv
	assert_failure 1
	assert_output --partial "key [REDACTED] is not valid"
	refute_output --partial "PLANTED"
}

@test "a key that crosses the cut of a long error message is redacted before the cut" {
	start_stub a --error-400 "$(printf 'x%.0s' $(seq 490)) {key} trailing"
	chunk_line c1 'hello' > chunks.jsonl
	run emb chunks.jsonl -o v.rpv
	assert_failure 1
	refute_output --partial "sk-test"
	refute_output --partial "PLANTED"
	assert_output --partial "[RED"
}

@test "credentials in a base URL are never printed" {
	start_stub s --stall
	chunk_line c1 'hello' > chunks.jsonl
	# a closed port: the error names the URL
	run emb chunks.jsonl -o v.rpv --base-url "http://alice:hunter2pass@127.0.0.1:1/v1" --max-retries 0 \
		--stats st.json
	assert_failure 1
	assert_output --partial "http://[REDACTED]@127.0.0.1:1/v1/embeddings"
	refute_output --partial "hunter2"
	refute_output --partial "alice"
	run cat st.json
	refute_output --partial "hunter2"
	start_chat stall
	run bounded 60 ctx_llm --timeout 1 --max-retries 0 --base-url "http://alice:hunter2pass@${CBASE#http://}"
	assert_failure 1
	refute_output --partial "hunter2"
	refute_output --partial "alice:"
}

@test "rp repro does not echo the credentials of a URL in a stage's command" {
	rp init >/dev/null
	cat > rp.yaml <<'YAML'
stages:
  fetch:
    cmd: echo https://alice:hunter2pass@example.invalid/v1 > url.txt
    outs: [url.txt]
YAML
	run rp repro
	assert_success
	assert_output --partial "https://[REDACTED]@example.invalid/v1"
	refute_output --partial "hunter2"
	# the command itself ran unchanged
	run cat url.txt
	assert_output "https://alice:hunter2pass@example.invalid/v1"
}
