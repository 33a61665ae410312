#!/usr/bin/env bats
# embed.bats - rp-embed with the local provider: the cache, the .rpv output,
# input checks. (The HTTP provider is in embed-http.bats.)

bats_require_minimum_version 1.5.0
load helpers
load fixtures/embed-lib

setup() {
	enter_ws || return 1
	rp init >/dev/null
}

M=rp-lexical-v1

@test "-h prints the synopsis; a bad option is a usage error" {
	run rp-embed -h
	assert_success
	assert_line --index 0 --partial "usage: rp-embed CHUNKS.jsonl -o VECTORS.rpv --model ID"
	run rp-embed --no-such-option
	assert_failure 2
	run rp-embed chunks.jsonl --model $M
	assert_failure 2
	assert_output --partial "-o FILE is required"
	run rp-embed chunks.jsonl -o v.rpv --model $M --batch 0
	assert_failure 2
	# the retry-delay knob goes through the same number parser: no silent 0
	gen_chunks chunks.jsonl 1
	RP_HTTP_BACKOFF_MS=abc run rp-embed chunks.jsonl -o v.rpv --model $M
	assert_failure 2
	assert_output --partial "'RP_HTTP_BACKOFF_MS': 'abc' is not a whole number in 0..3600000"
	[ ! -e v.rpv ]
}

@test "rp embed runs rp-embed and writes every chunk in input order" {
	gen_chunks chunks.jsonl 30
	run rp embed chunks.jsonl -o build/vectors.rpv --model $M
	assert_success
	assert_output --partial "rp embed: 30 chunks, 0 cache hits, 30 embedded locally"
	run rpv_info build/vectors.rpv
	assert_success
	assert_line --index 0 "1 384 30 local rp-lexical-v1"
	# ids in the input's order, each with the sha256 of its text
	python3 -c 'import json
for l in open("chunks.jsonl"): r=json.loads(l); print(r["chunk_id"], r["content_hash"])' > want
	rpv_info build/vectors.rpv | tail -n +2 | cut -d' ' -f1,2 > got
	run diff want got
	assert_success
}

@test "the second run makes no embedding, hits 100% and writes the same bytes" {
	gen_chunks chunks.jsonl 200
	run rp-embed chunks.jsonl -o a.rpv --model $M --stats s1.json
	assert_success
	[ "$(json_get s1.json hits)" = 0 ]
	[ "$(json_get s1.json misses)" = 200 ]
	[ "$(json_get s1.json embedded)" = 200 ]
	run rp-embed chunks.jsonl -o b.rpv --model $M --stats s2.json
	assert_success
	assert_output --partial "200 chunks, 200 cache hits, 0 embedded"
	[ "$(json_get s2.json chunks)" = 200 ]
	[ "$(json_get s2.json hits)" = 200 ]
	[ "$(json_get s2.json misses)" = 0 ]
	[ "$(json_get s2.json requests)" = 0 ]
	cmp a.rpv b.rpv
	[ -f .rp/embed-cache.db ]
}

@test "editing one chunk of 1,000 embeds exactly that chunk" {
	gen_chunks chunks.jsonl 1000
	run rp-embed chunks.jsonl -o a.rpv --model $M
	assert_success
	gen_chunks chunks.jsonl 1000 537
	run rp-embed chunks.jsonl -o b.rpv --model $M --stats s.json
	assert_success
	[ "$(json_get s.json hits)" = 999 ]
	[ "$(json_get s.json embedded)" = 1 ]
	# only record 537 differs
	rpv_info a.rpv > ia
	rpv_info b.rpv > ib
	run bash -c "diff ia ib | grep -c '^<'"
	assert_output 1
	run bash -c "diff ia ib | grep '^>'"
	assert_output --partial "d0053#7"
}

@test "the key is the text, not the position: moved and duplicate texts are hits" {
	chunk_line a#0 "the quick brown fox" > chunks.jsonl
	chunk_line a#1 "jumps over the lazy dog" >> chunks.jsonl
	chunk_line a#2 "the quick brown fox" >> chunks.jsonl
	run rp-embed chunks.jsonl -o a.rpv --model $M --stats s.json
	assert_success
	[ "$(json_get s.json embedded)" = 2 ]
	# same texts under other ids and positions
	chunk_line z#9 "jumps over the lazy dog" > moved.jsonl
	chunk_line b#0 "the quick brown fox" >> moved.jsonl
	run rp-embed moved.jsonl -o b.rpv --model $M --stats s.json
	assert_success
	[ "$(json_get s.json hits)" = 2 ]
	[ "$(json_get s.json embedded)" = 0 ]
}

@test "changing the dimensions or the input type misses every key" {
	gen_chunks chunks.jsonl 50
	run rp-embed chunks.jsonl -o a.rpv --model $M
	assert_success
	run rp-embed chunks.jsonl -o b.rpv --model $M --dimensions 128 --stats s.json
	assert_success
	[ "$(json_get s.json hits)" = 0 ]
	run rpv_info b.rpv
	assert_line --index 0 "1 128 50 local rp-lexical-v1"
	run rp-embed chunks.jsonl -o c.rpv --model $M --input-type query --stats s.json
	assert_success
	[ "$(json_get s.json hits)" = 0 ]
	# and each is cached on its own
	run rp-embed chunks.jsonl -o d.rpv --model $M --dimensions 128 --stats s.json
	assert_success
	[ "$(json_get s.json hits)" = 50 ]
	cmp b.rpv d.rpv
}

@test "an unknown local model is a usage error that lists the valid ids" {
	gen_chunks chunks.jsonl 3
	run rp-embed chunks.jsonl -o v.rpv --model text-embedding-3-small
	assert_failure 2
	assert_output --partial "unknown model 'text-embedding-3-small' for provider 'local' (valid: 'rp-lexical-v1')"
	[ ! -e v.rpv ]
}

@test "a wrong content_hash is invalid input named by file and line" {
	gen_chunks chunks.jsonl 5
	sed -i '3s/"text":"Doc 0 part 2/"text":"Doc 0 part 2 edited/' chunks.jsonl
	run rp-embed chunks.jsonl -o v.rpv --model $M
	assert_failure 2
	assert_output --partial "chunks.jsonl:3:1: chunk 'd0000#2': content_hash"
	[ ! -e v.rpv ]
}

@test "missing fields, bad JSON and duplicate ids are invalid input with their line" {
	gen_chunks chunks.jsonl 3
	echo '{"chunk_id":"x","content_hash":"00"}' >> chunks.jsonl
	run rp-embed chunks.jsonl -o v.rpv --model $M
	assert_failure 2
	assert_output --partial "chunks.jsonl:4:1: field 'text' is missing"
	gen_chunks chunks.jsonl 3
	echo '{"chunk_id": ' >> chunks.jsonl
	run rp-embed chunks.jsonl -o v.rpv --model $M
	assert_failure 2
	assert_output --partial "chunks.jsonl:4:"
	gen_chunks chunks.jsonl 3
	head -1 chunks.jsonl >> chunks.jsonl
	run rp-embed chunks.jsonl -o v.rpv --model $M
	assert_failure 2
	assert_output --partial "chunks.jsonl:4:1: chunk_id 'd0000#0' also appears on line 1"
	run rp-embed missing.jsonl -o v.rpv --model $M
	assert_failure 2
	[ ! -e v.rpv ]
}

@test "--cache shares one cache between workspaces; .rp/config embed.cache sets the default" {
	gen_chunks chunks.jsonl 40
	run rp-embed chunks.jsonl -o v.rpv --model $M --cache "$BATS_TEST_TMPDIR/shared.db"
	assert_success
	[ ! -e .rp/embed-cache.db ]
	mkdir ../ws2 && cd ../ws2 && rp init >/dev/null
	cp ../ws/chunks.jsonl .
	printf 'embed:\n  cache: ../shared.db\n' >> .rp/config
	run rp-embed chunks.jsonl -o v.rpv --model $M --stats s.json
	assert_success
	[ "$(json_get s.json hits)" = 40 ]
	cmp v.rpv ../ws/v.rpv
}

@test "the cache records provider, model and dimension of every vector" {
	gen_chunks chunks.jsonl 10
	run rp-embed chunks.jsonl -o v.rpv --model $M
	assert_success
	run sqlite3 .rp/embed-cache.db "SELECT provider, model, dims, length(vector), length(key), count(*) FROM embeddings GROUP BY 1, 2, 3"
	assert_output "local|rp-lexical-v1|384|1536|32|10"
	run sqlite3 .rp/embed-cache.db "PRAGMA journal_mode"
	assert_output wal
}

@test "two processes sharing one cache at once both succeed and leave it sound" {
	gen_chunks a.jsonl 3000
	gen_chunks b.jsonl 3000 5 "something else entirely"
	rp-embed a.jsonl -o a.rpv --model $M --cache shared.db 2>a.err &
	pa=$!
	rp-embed b.jsonl -o b.rpv --model $M --cache shared.db 2>b.err &
	pb=$!
	wait $pa
	wait $pb
	run sqlite3 shared.db "PRAGMA integrity_check"
	assert_output ok
	run sqlite3 shared.db "SELECT count(*) FROM embeddings"
	assert_output 3001
	run rp-embed b.jsonl -o b2.rpv --model $M --cache shared.db --stats s.json
	assert_success
	[ "$(json_get s.json hits)" = 3000 ]
	cmp b.rpv b2.rpv
}

@test "similar texts are close and unrelated texts far apart" {
	chunk_line q "how do I cache embedding vectors between pipeline runs" > c.jsonl
	chunk_line near "caching the embedding vectors of a pipeline between runs" >> c.jsonl
	chunk_line far "the orchestra played a violin concerto in the old castle" >> c.jsonl
	run rp-embed c.jsonl -o v.rpv --model $M
	assert_success
	run python3 - <<'EOF'
import struct
b = open("v.rpv", "rb").read()
dim, count = struct.unpack_from("<IQ", b, 8)
o = 20
for _ in range(2):
    (l,) = struct.unpack_from("<H", b, o); o += 2 + l
vs = []
for _ in range(count):
    (l,) = struct.unpack_from("<I", b, o); o += 4 + l + 32
    vs.append(struct.unpack_from("<%df" % dim, b, o)); o += 4 * dim
cos = lambda a, b: sum(x * y for x, y in zip(a, b))
near, far = cos(vs[0], vs[1]), cos(vs[0], vs[2])
print("near %.3f far %.3f" % (near, far))
assert near > 0.3 and far < 0.1 and near > 3 * far
EOF
	assert_success
}

@test "progress shows on a terminal only; the summary is one line" {
	gen_chunks chunks.jsonl 20
	run --separate-stderr rp-embed chunks.jsonl -o v.rpv --model $M
	assert_success
	[ -z "$output" ]
	[ "$(printf '%s\n' "$stderr" | wc -l)" = 1 ]
	rm -f .rp/embed-cache.db*
	RP_PROGRESS=1 run rp-embed chunks.jsonl -o v.rpv --model $M
	assert_success
	assert_output --partial "rp embed: 20/20 (100%)"
	assert_output --partial "cache hits"
}

@test "an empty input writes an empty vectors file" {
	: > chunks.jsonl
	run rp-embed chunks.jsonl -o v.rpv --model $M --stats s.json
	assert_success
	run rpv_info v.rpv
	assert_output "1 384 0 local rp-lexical-v1"
	[ "$(json_get s.json chunks)" = 0 ]
}

@test "a file that is not a workspace uses the user cache" {
	rm -rf .rp
	gen_chunks chunks.jsonl 4
	run rp-embed chunks.jsonl -o v.rpv --model $M
	assert_success
	[ -f "$HOME/.cache/rp/embed-cache.db" ]
}
