#!/usr/bin/env bats
# index-query.bats - rp-index query: exact, int8 and hybrid search of an
# index built by rp-index update, the JSON and batch outputs, and the model
# guard that refuses another embedding space before any distance.

bats_require_minimum_version 1.5.0
load helpers
load fixtures/embed-lib
load fixtures/index-lib

setup() {
	enter_ws || return 1
	rp init >/dev/null
	make_index idx 300
}

@test "rank 1 is the chunk that holds the query's exact sentence" {
	run rp-index query idx "$SENTENCE"
	assert_success
	assert_line --index 0 --regexp '^rank +score +chunk_id +doc_id +text$'
	assert_line --index 1 --regexp '^ +1  0\.[0-9]{4}  d0012#3 +d0012 +Doc 12 part 3: The lighthouse keeper counted forty seven gulls at dawn\.$'
	[ "${#lines[@]}" -eq 11 ]
	run rp-index query idx "$SENTENCE" -k 3
	assert_success
	[ "${#lines[@]}" -eq 4 ]
}

@test "--json prints one object per result, best first, with the whole text" {
	run rp-index query idx "river mountain ocean" -k 7 --json
	assert_success
	[ "${#lines[@]}" -eq 7 ]
	printf '%s\n' "${lines[@]}" > out.jsonl
	# exactly these keys, ranks 1..7, scores not increasing
	run jq -s -c '[.[] | keys] | unique' out.jsonl
	assert_output '[["chunk_id","doc_id","rank","score","text"]]'
	run jq -s -c '[.[].rank]' out.jsonl
	assert_output '[1,2,3,4,5,6,7]'
	run jq -s '[range(1; length) as $i | .[$i - 1].score >= .[$i].score] | all' out.jsonl
	assert_output true
	# the text is the chunk's, whole
	id=$(jq -r -s '.[0].chunk_id' out.jsonl)
	want=$(jq -r --arg id "$id" 'select(.chunk_id == $id) | .text' idx.chunks)
	got=$(jq -r -s '.[0].text' out.jsonl)
	[ "$got" = "$want" ]
	[ "${#got}" -gt 300 ]
}

@test "--batch answers every query line, one object per query, as single queries do" {
	jq -c -n --arg s "$SENTENCE" '{query: $s}, {query: "river mountain"}, {query: "piano violin guitar", relevant: ["d0001"]}' > q.jsonl
	run rp-index query idx --batch q.jsonl -k 4 --json --threads 2
	assert_success
	[ "${#lines[@]}" -eq 3 ]
	printf '%s\n' "${lines[@]}" > out.jsonl
	run jq -c '[.query, (.results | length)]' out.jsonl
	assert_line --index 0 "[\"$SENTENCE\",4]"
	assert_line --index 1 '["river mountain",4]'
	assert_line --index 2 '["piano violin guitar",4]'
	for i in 0 1 2; do
		q=$(jq -r -s ".[$i].query" out.jsonl)
		batch=$(jq -r -s ".[$i].results[].chunk_id" out.jsonl | tr '\n' ' ')
		[ "$batch" = "$(ids idx "$q" -k 4)" ]
	done
	[ "$(jq -r -s '.[0].results[0].chunk_id' out.jsonl)" = "d0012#3" ]
	# hybrid batches are fused on several threads, with the same answers
	jq -c -n --arg s "$SENTENCE" '{query: $s}, {query: "Doc 3 part 4"}, {query: "lighthouse 7"}, {query: "harbor 2 meadow"}, {query: "Doc 12"}' > h.jsonl
	rp-index query idx --batch h.jsonl -k 5 --json --hybrid --threads 1 > one.jsonl
	rp-index query idx --batch h.jsonl -k 5 --json --hybrid --threads 3 > three.jsonl
	[ "$(wc -l < one.jsonl)" -eq 5 ]
	cmp one.jsonl three.jsonl
	[ "$(jq -r -s '.[0].results[0].chunk_id' one.jsonl)" = "d0012#3" ]
	# the table form: a "query:" line before each query's table
	run rp-index query idx --batch q.jsonl -k 2
	assert_success
	[ "$(grep -c '^query: ' <<<"$output")" -eq 3 ]
}

@test "exact and --quantised return the same top-10" {
	make_index big 3000
	for i in $(seq 0 97 2999); do
		text=$(sed -n "$((i + 1))p" big.chunks | jq -r .text)
		q="${text:0:120}"
		exact=$(ids big "$q")
		quant=$(ids big "$q" --quantised)
		[ -n "$exact" ]
		[ "$exact" = "$quant" ] || { echo "query $i: $exact != $quant"; return 1; }
	done
	exact=$(ids big "winter bridge castle")
	[ "$exact" = "$(ids big "winter bridge castle" --quantised)" ]
}

@test "--hybrid fuses BM25 and vector ranks, and never returns a deleted row" {
	run rp-index query idx "lighthouse gulls" --hybrid --json -k 5
	assert_success
	[ "${#lines[@]}" -eq 5 ]
	printf '%s\n' "${lines[@]}" > out.jsonl
	[ "$(jq -r -s '.[0].chunk_id' out.jsonl)" = "d0012#3" ]
	# first in both lists: 1/61 + 1/61
	jq -e -s '.[0].score > 0.03278 and .[0].score < 0.03279' out.jsonl
	# every fused score is at most that
	jq -e -s 'all(.[]; .score <= 0.0327869)' out.jsonl
	# words that most rows hold weigh nothing in BM25 and are not searched:
	# the fused ranking is the vector ranking, scored 1/(60 + rank)
	[ "$(ids idx "river mountain" --hybrid)" = "$(ids idx "river mountain")" ]
	run rp-index query idx "river mountain" --hybrid --json -k 2
	[ "$(jq -r -s '[.[].score | tostring] | join(" ")' <<<"$output")" = "0.0163934 0.016129" ]
	# delete document d0012 (all its chunks): gone from both lists
	grep -v '"doc_id":"d0012"' idx.chunks > less.jsonl
	reindex idx less.jsonl
	run rp-index query idx "lighthouse gulls" --hybrid --json -k 50
	assert_success
	refute_output --partial 'd0012'
	run rp-index query idx "$SENTENCE" --json -k 50
	assert_success
	refute_output --partial 'd0012'
}

@test "--hybrid on an index without full-text tables is an input error" {
	make_index nofts 50 --no-fts
	run rp-index query nofts "river" --hybrid
	assert_failure 2
	assert_output --partial "nofts: the index has no full-text tables"
	run rp-index query nofts "river"
	assert_success
}

@test "another --model is refused before any embedding" {
	run rp-index query idx "river" --model other-model
	assert_failure 2
	assert_output --partial "idx: index built with rp-lexical-v1 (provider local, 384 dims), query model other-model (--model): different embedding spaces"
	# the right one is accepted
	run rp-index query idx "river" --model rp-lexical-v1 -k 1
	assert_success
}

@test "embed.provider in .rp/config is refused before any request" {
	# an unreachable server: a request would fail with a connection error
	printf 'embed:\n  provider: openai\n  base_url: http://127.0.0.1:9/v1\n' > .rp/config
	export OPENAI_API_KEY=sk-not-sent
	run rp-index query idx "river"
	assert_failure 2
	assert_output --partial ".rp/config:2:3: 'embed.provider' decides what a stage computes"
	refute_output --partial "connect"
	# --provider openai: another embedding space, and a live server receives nothing
	rm .rp/config
	start_openai_stub s
	run rp-index query idx "river" --provider openai --base-url "$BASE"
	assert_failure 2
	assert_output --partial "query provider openai (--provider): different embedding spaces"
	[ "$(json_get "$STATS" requests)" -eq 0 ]
}

# remote_setup: the OpenAI stub (24 dimensions) as the workspace's embed
# server, with the key allowed to go to it; r.chunks, 40 chunks.
remote_setup() {
	export RP_TEST_KEY=sk-test-0123456789
	allow_key RP_TEST_KEY 127.0.0.1
	start_openai_stub s --dims 24 "$@"
	printf 'embed:\n  base_url: %s\n  api_key_env: RP_TEST_KEY\n' "$BASE" > .rp/config
	gen_chunks r.chunks 40
}

# remote_embed IN OUT [rp-embed options...]: vectors of model m1 from the stub.
remote_embed() {
	local in=$1 out=$2
	shift 2
	rp-embed --provider openai --model m1 --base-url "$BASE" --api-key-env RP_TEST_KEY "$@" \
		"$in" -o "$out" 2>/dev/null
}

# asked: the requests the stub received.
asked() {
	json_get "$STATS" requests
}

# first INDEX TEXT: the chunk_id of the best result (and the exit status).
first() {
	rp-index query "$1" "$2" --json -k 1 | jq -r .chunk_id
}

@test "an index of a remote model is queried through its server and the cache" {
	remote_setup
	remote_embed r.chunks r.rpv
	rp-index update ridx --vectors r.rpv --chunks r.chunks >/dev/null
	before=$(asked)
	text=$(sed -n 8p r.chunks | jq -r .text)
	[ "$(first ridx "$text")" = "d0000#7" ]
	[ "$(asked)" -eq $((before + 1)) ]
	# the second time, the query vector comes from the embedding cache
	[ "$(first ridx "$text")" = "d0000#7" ]
	[ "$(asked)" -eq $((before + 1)) ]
	# a local query of a remote index: refused, the server not asked
	run rp-index query ridx "$text" --provider local
	assert_failure 2
	assert_output --partial "different embedding spaces"
	[ "$(asked)" -eq $((before + 1)) ]
}

@test "a remote index built with --dimensions N is queried with N dimensions" {
	remote_setup
	# the model's own 24 dimensions are not the index's space: asked again for 12
	remote_embed r.chunks r12.rpv --dimensions 12
	rp-index update r12 --vectors r12.rpv --chunks r.chunks >/dev/null
	before=$(asked)
	text=$(sed -n 13p r.chunks | jq -r .text)
	[ "$(first r12 "$text")" = "d0001#2" ]
	[ "$(asked)" -eq $((before + 2)) ]
	# cached under the keys of --dimensions 12: no request the second time
	[ "$(first r12 "$text")" = "d0001#2" ]
	[ "$(asked)" -eq $((before + 2)) ]
	chunk_line q "$text" > q.chunks
	remote_embed q.chunks q.rpv --dimensions 12 --input-type query --stats st.json
	[ "$(json_get st.json hits)" -eq 1 ]
	# a server that answers 24 dimensions whatever is asked: refused, nothing found
	stop_stubs
	start_openai_stub s2 --dims 24 --force-dims 24
	printf 'embed:\n  base_url: %s\n  api_key_env: RP_TEST_KEY\n' "$BASE" > .rp/config
	run rp-index query r12 "a text never asked"
	assert_failure
	assert_output --partial "24 dimensions"
	refute_output --partial "d00"
}

@test "query vectors share the embedding cache keys of rp-embed --input-type query" {
	run rp-index query idx "copper silver window" -k 1
	assert_success
	chunk_line q1 "copper silver window" > q.chunks
	run rp-embed q.chunks -o q.rpv --model rp-lexical-v1 --input-type query --stats st.json
	assert_success
	[ "$(json_get st.json hits)" -eq 1 ]
}

@test "-k beyond the live rows returns every live row once" {
	make_index small 12
	run rp-index query small "river" -k 100 --json
	assert_success
	[ "${#lines[@]}" -eq 12 ]
	[ "$(printf '%s\n' "${lines[@]}" | jq -r .chunk_id | sort -u | wc -l)" -eq 12 ]
}

@test "usage errors exit 2" {
	run rp-index query idx
	assert_failure 2
	assert_output --partial "usage: rp-index query"
	run rp-index query idx "a" "b"
	assert_failure 2
	run rp-index query idx "a" -k 0
	assert_failure 2
	run rp-index query idx --batch missing.jsonl
	assert_failure
	assert_output --partial "missing.jsonl"
	printf '{"q": "x"}\n' > bad.jsonl
	run rp-index query idx --batch bad.jsonl
	assert_failure 2
	assert_output --partial "bad.jsonl:1"
	run rp-index query no-such-index "a"
	assert_failure
}

@test "rp-index(1)'s SYNOPSIS is the usage of every subcommand" {
	usage=$(for c in update query info verify promote rollback history; do
		rp-index "$c" -h | sed -n '1,/^$/p' | sed '/^$/d; 1s/^usage: //'
	done)
	man=$(sed -n '/^\.SH SYNOPSIS/,/^\.fi/p' "$RP_SRCDIR/man/rp-index.1" | sed '1,2d;$d' | sed 's/\\-/-/g')
	assert_equal "$man" "$usage"
	# and every subcommand is in the dispatcher's list
	run rp-index --help
	assert_success
	for c in update query info verify promote rollback history; do
		assert_output --partial "  $c "
	done
}
