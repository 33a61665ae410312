#!/usr/bin/env bats
# embed-http.bats - rp-embed --provider openai against tests/servers/openai_stub.py,
# a local server on 127.0.0.1 that speaks the OpenAI embeddings API, counts
# what it receives and can be told to fail.

bats_require_minimum_version 1.5.0
load helpers
load fixtures/embed-lib

KEY=sk-test-PLANTED-0123456789abcdef

setup() {
	enter_ws || return 1
	rp init >/dev/null
	export RP_TEST_KEY=$KEY
	export RP_HTTP_BACKOFF_MS=20
	allow_key RP_TEST_KEY 127.0.0.1
}

# start_stub NAME [ARGS...]: the OpenAI stub (start_openai_stub in helpers.bash)
start_stub() {
	start_openai_stub "$@"
}

# stub COUNTER: a counter of the last started stub.
stub() {
	json_get "$STATS" "$1"
}

# emb ARGS...: rp-embed against the last started stub.
emb() {
	rp-embed --provider openai --model m1 --base-url "$BASE" --api-key-env RP_TEST_KEY "$@"
}

@test "vectors come from the server, with the key as a bearer token" {
	start_stub s --shuffle
	gen_chunks chunks.jsonl 250
	run emb chunks.jsonl -o v.rpv --stats st.json
	assert_success
	assert_output --partial "rp embed: 250 chunks, 0 cache hits, 250 embedded in 3 requests, 0 retries"
	[ "$(stub requests)" = 3 ]
	[ "$(stub inputs)" = 250 ]
	[ "$(stub auth_ok)" = 3 ]
	[ "$(stub auth_bad)" = 0 ]
	[ "$(json_get st.json requests)" = 3 ]
	[ "$(json_get st.json tokens)" -gt 0 ]
	run rpv_info v.rpv
	assert_line --index 0 "1 16 250 openai m1"
	# the server shuffled data[]: vectors were matched by index (compare with its formula)
	python3 - <<'EOF'
import hashlib, json, struct, sys
sys.path.insert(0, __import__("os").environ["RP_SRCDIR"] + "/tests/servers")
from openai_stub import vector
b = open("v.rpv", "rb").read(); o = 20
for _ in range(2):
    (l,) = struct.unpack_from("<H", b, o); o += 2 + l
texts = [json.loads(l)["text"] for l in open("chunks.jsonl")]
for t in texts:
    (l,) = struct.unpack_from("<I", b, o); o += 4 + l + 32
    got = struct.unpack_from("<16f", b, o); o += 64
    assert list(got) == vector("m1", 16, t), t
EOF
}

@test "the second run makes 0 requests and reports 100% hits" {
	start_stub s
	gen_chunks chunks.jsonl 300
	run emb chunks.jsonl -o a.rpv
	assert_success
	[ "$(stub requests)" = 3 ]
	run emb chunks.jsonl -o b.rpv --stats st.json
	assert_success
	assert_output --partial "300 chunks, 300 cache hits, 0 embedded in 0 requests"
	[ "$(stub requests)" = 3 ]
	[ "$(json_get st.json hits)" = 300 ]
	[ "$(json_get st.json misses)" = 0 ]
	[ "$(json_get st.json requests)" = 0 ]
	[ "$(json_get st.json tokens)" = 0 ]
	cmp a.rpv b.rpv
}

@test "editing one line of one doc in 1,000 chunks sends exactly the changed chunk" {
	start_stub s
	gen_chunks chunks.jsonl 1000
	run emb chunks.jsonl -o a.rpv
	assert_success
	[ "$(stub inputs)" = 1000 ]
	gen_chunks chunks.jsonl 1000 421
	run emb chunks.jsonl -o b.rpv --stats st.json
	assert_success
	[ "$(stub inputs)" = 1001 ]
	[ "$(json_get st.json hits)" = 999 ]
	[ "$(json_get st.json embedded)" = 1 ]
	[ "$(json_get st.json requests)" = 1 ]
}

@test "changing the model, the dimensions or the input type misses every key" {
	start_stub s
	gen_chunks chunks.jsonl 40
	run emb chunks.jsonl -o a.rpv
	assert_success
	[ "$(stub inputs)" = 40 ]
	run rp-embed --provider openai --model m2 --base-url "$BASE" --api-key-env RP_TEST_KEY chunks.jsonl -o b.rpv
	assert_success
	[ "$(stub inputs)" = 80 ]
	run rpv_info b.rpv
	assert_line --index 0 "1 16 40 openai m2"
	run emb chunks.jsonl -o c.rpv --dimensions 8
	assert_success
	[ "$(stub inputs)" = 120 ]
	run rpv_info c.rpv
	assert_line --index 0 "1 8 40 openai m1"
	run emb chunks.jsonl -o d.rpv --input-type query
	assert_success
	[ "$(stub inputs)" = 160 ]
	# all four are cached now
	run emb chunks.jsonl -o d.rpv --input-type query
	run emb chunks.jsonl -o c2.rpv --dimensions 8
	[ "$(stub inputs)" = 160 ]
	cmp c.rpv c2.rpv
}

@test "only distinct misses are sent, in batches bounded by count and by tokens" {
	start_stub s
	gen_chunks chunks.jsonl 50
	run emb chunks.jsonl -o v.rpv --batch 7
	assert_success
	[ "$(stub requests)" = 8 ]
	[ "$(stub inputs)" = 50 ]
	# each text is ~400 bytes ~ 100 tokens: 250 tokens hold 2 texts
	run emb chunks.jsonl -o w.rpv --model m3 --max-batch-tokens 250
	assert_success
	[ "$(stub requests)" = 33 ]
	# duplicate texts go out once
	chunk_line a "same text" > dup.jsonl
	chunk_line b "same text" >> dup.jsonl
	chunk_line c "other text" >> dup.jsonl
	run emb dup.jsonl -o d.rpv
	assert_success
	[ "$(stub inputs)" = 102 ]
}

@test "requests run concurrently up to --concurrency" {
	# the server counts the requests it is answering at once (no timing here)
	start_stub s --delay-ms 400
	gen_chunks chunks.jsonl 80
	run emb chunks.jsonl -o v.rpv --batch 10 --concurrency 4
	assert_success
	[ "$(stub requests)" = 8 ]
	[ "$(stub max_inflight)" -ge 2 ]
	[ "$(stub max_inflight)" -le 4 ]
	start_stub one --delay-ms 50
	run emb chunks.jsonl -o v1.rpv --batch 10 --concurrency 1 --cache one.db
	assert_success
	[ "$(stub requests)" = 8 ]
	[ "$(stub max_inflight)" = 1 ]
	cmp v.rpv v1.rpv
}

@test "429 with Retry-After is retried and ends with the bytes of an undisturbed run" {
	start_stub calm
	gen_chunks chunks.jsonl 120
	run emb chunks.jsonl -o calm.rpv --cache calm.db
	assert_success
	start_stub busy --fail-429 3 --retry-after 0 --retry-after-ms 30
	run emb chunks.jsonl -o busy.rpv --cache busy.db --stats st.json
	assert_success
	assert_output --partial "3 retries"
	[ "$(stub requests)" = 5 ]
	[ "$(json_get st.json retries)" = 3 ]
	[ "$(json_get st.json requests)" = 2 ]
	cmp calm.rpv busy.rpv
}

@test "Retry-After in seconds is honoured" {
	start_stub s --fail-429 1 --retry-after 1
	gen_chunks chunks.jsonl 5
	start=$(date +%s%N)
	run emb chunks.jsonl -o v.rpv
	assert_success
	elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
	[ "$elapsed_ms" -ge 950 ]
	[ "$(stub requests)" = 2 ]
}

@test "500 is retried and ends with the bytes of an undisturbed run" {
	start_stub calm
	gen_chunks chunks.jsonl 120
	run emb chunks.jsonl -o calm.rpv --cache calm.db
	assert_success
	start_stub flaky --fail-500 2 --shuffle
	run emb chunks.jsonl -o flaky.rpv --cache flaky.db --concurrency 1
	assert_success
	[ "$(stub requests)" = 4 ]
	cmp calm.rpv flaky.rpv
}

@test "a server that keeps failing exhausts the retries: exit 1, no output" {
	start_stub s --fail-500 100
	gen_chunks chunks.jsonl 10
	run emb chunks.jsonl -o v.rpv --max-retries 2
	assert_failure 1
	assert_output --partial "answered HTTP 500 after 3 attempts: internal error"
	[ "$(stub requests)" = 3 ]
	[ ! -e v.rpv ]
}

@test "a permanent error exits 1 with no output; received vectors stay cached" {
	start_stub s --ok-then-400 3
	gen_chunks chunks.jsonl 100
	run emb chunks.jsonl -o v.rpv --batch 10 --concurrency 1 --stats st.json
	assert_failure 1
	assert_output --partial "answered HTTP 400: quota exceeded for this key"
	assert_output --partial "30 new vectors were received and cached"
	[ ! -e v.rpv ]
	[ "$(stub requests)" = 4 ]
	run sqlite3 .rp/embed-cache.db "SELECT count(*) FROM embeddings"
	assert_output 30
	# the re-run pays only for the rest: the same server, restarted (the
	# server's address is part of the cache key)
	stop_stub
	start_stub good --port "$PORT"
	run emb chunks.jsonl -o v.rpv --batch 10 --stats st.json
	assert_success
	[ "$(stub inputs)" = 70 ]
	[ "$(json_get st.json hits)" = 30 ]
	[ -f v.rpv ]
}

@test "wrong dimensions, too few vectors, bad JSON and non-finite numbers fail the run" {
	gen_chunks chunks.jsonl 12
	start_stub a --wrong-dims
	run emb chunks.jsonl -o v.rpv
	assert_failure 1
	assert_output --partial "has 15 dimensions, expected 16"
	start_stub b --too-few
	run emb chunks.jsonl -o v.rpv
	assert_failure 1
	assert_output --partial "the response has 11 embeddings for 12 inputs"
	start_stub c --bad-json
	run emb chunks.jsonl -o v.rpv
	assert_failure 1
	assert_output --partial "the response is not valid JSON"
	start_stub d --nan
	run emb chunks.jsonl -o v.rpv
	assert_failure 1
	assert_output --partial "is not a finite float32"
	[ ! -e v.rpv ]
	# nothing of a rejected answer was cached
	run sqlite3 .rp/embed-cache.db "SELECT count(*) FROM embeddings"
	assert_output 0
}

@test "a planted API key never appears in outputs, logs, the cache, stats or errors" {
	# a server that echoes the key in its error message
	start_stub echo --error-400 "Incorrect API key provided: {key}. Find your key at ..."
	gen_chunks chunks.jsonl 30
	run emb chunks.jsonl -o v.rpv --stats st1.json
	assert_failure 1
	assert_output --partial "Incorrect API key provided: [REDACTED]"
	refute_output --partial "$KEY"
	refute_output --partial "PLANTED"
	! grep -q PLANTED st1.json
	# and a successful run with retries
	start_stub s --fail-500 1 --fail-429 1
	RP_PROGRESS=1 run emb chunks.jsonl -o v.rpv --stats st2.json --cache c.db
	assert_success
	refute_output --partial PLANTED
	[ "$(stub auth_ok)" = 3 ]
	[ "$(stub last_body_has_key)" = false ]
	run grep -rl --binary-files=text PLANTED . "$HOME"
	assert_output ""
	# the cache files themselves (db and WAL), byte for byte
	run bash -c "cat c.db* .rp/embed-cache.db* | grep -c --binary-files=text PLANTED"
	assert_output 0
}

@test "the key comes only from the variable that --api-key-env names" {
	start_stub s
	gen_chunks chunks.jsonl 3
	run rp-embed --provider openai --model m1 --base-url "$BASE" --api-key-env NO_SUCH_VAR_RP chunks.jsonl -o v.rpv
	assert_failure 2
	assert_output --partial "'NO_SUCH_VAR_RP'"
	[ "$(stub requests)" = 0 ]
	# without any key variable, no Authorization header is sent
	OPENAI_API_KEY= run rp-embed --provider openai --model m1 --base-url "$BASE" chunks.jsonl -o v.rpv
	assert_success
	[ "$(stub auth_bad)" = 1 ]
}

@test ".rp/config says where to connect, never which provider; options win" {
	start_stub s
	gen_chunks chunks.jsonl 5
	printf 'embed:\n  provider: openai\n' > .rp/config
	run rp-embed --model m1 chunks.jsonl -o v.rpv
	assert_failure 2
	assert_output --partial ".rp/config:2:3: 'embed.provider' decides what a stage computes"
	assert_output --partial "pass --provider in the stage's command"
	printf 'embed:\n  base_url: %s\n  api_key_env: RP_TEST_KEY\n' "$BASE" > .rp/config
	run rp-embed --provider openai --model m1 chunks.jsonl -o v.rpv
	assert_success
	[ "$(stub auth_ok)" = 1 ]
	run rp-embed --provider local --model rp-lexical-v1 chunks.jsonl -o l.rpv
	assert_success
	run rpv_info l.rpv
	assert_line --index 0 "1 384 5 local rp-lexical-v1"
	[ "$(stub requests)" = 1 ]
}

@test "a server that cannot be reached fails after the retries" {
	start_stub s
	stop_stub
	gen_chunks chunks.jsonl 3
	run emb chunks.jsonl -o v.rpv --max-retries 1
	assert_failure 1
	assert_output --partial "cannot reach"
	[ ! -e v.rpv ]
}

@test "texts with escapes and non-ASCII reach the server intact, however the lines spell them" {
	start_stub s
	# the same chunks three times: compact UTF-8; flat with \u escapes (surrogate
	# pairs too) and escaped slashes; and nested extra fields, spaces, CRLF and a
	# blank line
	python3 - <<'EOF2'
import hashlib, json
texts = ['plain', 'a "quoted" \\ back/slash', 'line\nbreak\ttab\r\x01\x1f\x7f', 'caf\u00e9 \u20ac \U0001F600 \u2028',
         '\u65e5\u672c\u8a9e', '', ' ', '{"not": "an object"}']
with open('a.jsonl', 'w') as a, open('b.jsonl', 'w', newline='') as b, open('c.jsonl', 'w') as c:
    for i, t in enumerate(texts):
        h = hashlib.sha256(t.encode()).hexdigest()
        a.write(json.dumps({'chunk_id': 'c%d\u00e9' % i, 'content_hash': h, 'text': t},
                           ensure_ascii=False, separators=(',', ':')) + '\n')
        c.write(json.dumps({'text': t, 'doc_id': 'd', 'ordinal': -i, 'content_hash': h,
                            'chunk_id': 'c%d\u00e9' % i}).replace('/', '\\/') + '\n')
        b.write(' { "meta" : {"n": [1, 2.5]}, "text" : %s , "ordinal": 1234567890123456789,'
                ' "x": -0.5e3, "content_hash": "%s", "chunk_id": %s, "ok": true, "no": null }\r\n'
                % (json.dumps(t), h, json.dumps('c%d\u00e9' % i)))
        if i == 3:
            b.write('\t\r\n')
EOF2
	run emb a.jsonl -o a.rpv
	assert_success
	assert_output --partial "8 chunks, 0 cache hits, 8 embedded in 1 request"
	run emb b.jsonl -o b.rpv
	assert_success
	assert_output --partial "8 chunks, 8 cache hits, 0 embedded"
	cmp a.rpv b.rpv
	run emb c.jsonl -o c.rpv
	assert_success
	assert_output --partial "8 chunks, 8 cache hits, 0 embedded"
	cmp a.rpv c.rpv
	[ "$(stub inputs)" = 8 ]
	# the vectors are those of the exact texts (the stub's formula)
	python3 - <<'EOF2'
import json, os, struct, sys
sys.path.insert(0, os.environ["RP_SRCDIR"] + "/tests/servers")
from openai_stub import vector
b = open("a.rpv", "rb").read(); o = 20
for _ in range(2):
    (l,) = struct.unpack_from("<H", b, o); o += 2 + l
for line in open("a.jsonl", encoding="utf-8"):
    c = json.loads(line)
    (l,) = struct.unpack_from("<I", b, o)
    assert b[o + 4:o + 4 + l].decode() == c["chunk_id"]
    o += 4 + l + 32
    got = struct.unpack_from("<16f", b, o); o += 64
    assert list(got) == vector("m1", 16, c["text"]), c["text"]
EOF2
}
