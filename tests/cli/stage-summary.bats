#!/usr/bin/env bats
# stage-summary.bats - every stage program ends a successful run with one
# summary line on standard error, "rp NAME: counts" (the label of its
# progress line, util/progress.h), singular and plural right, and prints
# none with -q (rp-eval: --quiet, as -q is --queries). Standard output
# carries no summary.

load helpers

# Two docs (one of two chunks, one of one) in docs.jsonl.
docs() {
	printf '%s\n' \
		'{"doc_id":"a","sha256":"x","text":"alpha beta gamma delta epsilon zeta","title":"A"}' \
		'{"doc_id":"b","sha256":"y","text":"one","title":"B"}' > docs.jsonl
}

# Runs "$@" with stdout and stderr apart; the summary must be all of stderr.
summary_is() {
	local want=$1
	shift
	run --separate-stderr "$@"
	assert_success
	assert_equal "$stderr" "$want"
}

quiet_is_silent() {
	run --separate-stderr "$@"
	assert_success
	assert_equal "$stderr" ""
}

@test "rp extract: docs and inputs, singular and plural" {
	mkdir c
	echo hello > c/one.txt
	summary_is "rp extract: 1 doc from 1 input" rp extract c -o docs.jsonl
	echo world > c/two.md
	mkdir d
	echo more > d/x.txt
	summary_is "rp extract: 3 docs from 2 inputs" rp extract c d -o docs.jsonl
	quiet_is_silent rp extract -q c -o docs.jsonl
}

@test "rp chunk: chunks from docs" {
	docs
	summary_is "rp chunk: 3 chunks from 2 docs" rp chunk docs.jsonl -o chunks.jsonl \
		--strategy fixed --unit words --size 3
	[ "$(wc -l < chunks.jsonl)" -eq 3 ]
	head -1 docs.jsonl > one.jsonl
	summary_is "rp chunk: 1 chunk from 1 doc" rp chunk one.jsonl -o c1.jsonl --size 1000
	quiet_is_silent rp chunk -q docs.jsonl -o chunks.jsonl
	quiet_is_silent rp chunk --quiet docs.jsonl -o chunks.jsonl
}

@test "rp context: chunks and method" {
	docs
	rp chunk docs.jsonl -o chunks.jsonl --strategy fixed --unit words --size 3 2>/dev/null
	summary_is "rp context: 3 chunks, method headings@1" rp context chunks.jsonl -o ctx.jsonl
	quiet_is_silent rp context -q chunks.jsonl -o ctx.jsonl
}

@test "rp embed: chunks, cache hits, embedded" {
	docs
	rp chunk docs.jsonl -o chunks.jsonl --strategy fixed --unit words --size 3 2>/dev/null
	run --separate-stderr rp embed chunks.jsonl -o v.rpv --model rp-lexical-v1
	assert_success
	[[ "$stderr" =~ ^"rp embed: 3 chunks, 0 cache hits, 3 embedded locally, "[0-9]+\.[0-9]s$ ]]
	head -1 chunks.jsonl > c1.jsonl
	run --separate-stderr rp embed c1.jsonl -o v1.rpv --model rp-lexical-v1
	assert_success
	[[ "$stderr" =~ ^"rp embed: 1 chunk, 1 cache hit, 0 embedded locally, "[0-9]+\.[0-9]s$ ]]
	quiet_is_silent rp embed -q chunks.jsonl -o v.rpv --model rp-lexical-v1
}

@test "rp index update: the counts on stderr, nothing on stdout" {
	docs
	rp chunk docs.jsonl -o chunks.jsonl --strategy fixed --unit words --size 3 2>/dev/null
	rp embed chunks.jsonl -o v.rpv --model rp-lexical-v1 2>/dev/null
	summary_is "rp index update: added 3, updated 0, deleted 0, unchanged 0" \
		rp index update IDX --vectors v.rpv --chunks chunks.jsonl
	assert_output ""
	quiet_is_silent rp index update -q IDX --vectors v.rpv --chunks chunks.jsonl
	assert_output ""
}

@test "rp eval: queries and indexes; --quiet prints none, the table stays" {
	docs
	rp chunk docs.jsonl -o chunks.jsonl --strategy fixed --unit words --size 3 2>/dev/null
	rp embed chunks.jsonl -o v.rpv --model rp-lexical-v1 2>/dev/null
	rp index update IDX --vectors v.rpv --chunks chunks.jsonl 2>/dev/null
	echo '{"query":"alpha beta","relevant":["a"]}' > q.jsonl
	summary_is "rp eval: 1 query, 1 index, k 2" rp eval -q q.jsonl --index blue=IDX -k 2 -o m.json
	assert_line --index 0 "1 query, k 2"
	echo '{"query":"one","relevant":["b"]}' >> q.jsonl
	summary_is "rp eval: 2 queries, 2 indexes, k 2, verdict pass" \
		rp eval -q q.jsonl --index blue=IDX --index green=IDX -k 2 -o m.json --baseline blue
	quiet_is_silent rp eval --quiet -q q.jsonl --index blue=IDX -k 2 -o m.json
	assert_line --index 0 "2 queries, k 2"
}

@test "rp features historical, materialize and check-skew" {
	cat > features.yaml <<'YAML'
entities:
  user: {join_keys: [user_id]}
sources:
  clicks: {path: clicks.jsonl, timestamp: ts}
views:
  user:
    entity: user
    source: clicks
    features:
      clicks_2h: {agg: count, window: 2h}
YAML
	echo '{"user_id":"u1","ts":"2026-12-01T10:00:00Z"}' > clicks.jsonl
	echo '{"user_id":"u1","event_timestamp":"2026-12-01T11:00:00Z"}' > rows.jsonl
	run --separate-stderr rp features historical --defs features.yaml --entities rows.jsonl -o out.jsonl
	assert_success
	[[ "$stderr" =~ ^"rp features historical: 1 row, 1 feature, 1 event, nulls: 0 NOT_FOUND, 0 EXPIRED, "[0-9.]+" s"$ ]]
	quiet_is_silent rp features historical -q --defs features.yaml --entities rows.jsonl -o out.jsonl
	run --separate-stderr rp features materialize --defs features.yaml --online o.db --at 2026-12-01T11:00:00Z
	assert_success
	[[ "$stderr" =~ ^"rp features materialize: 1 entity, 1 recomputed, 1 record written, "[0-9.]+" s"$ ]]
	quiet_is_silent rp features materialize -q --defs features.yaml --online o.db --at 2026-12-01T11:00:00Z
	summary_is "rp features check-skew: 1 entity, 1 value compared at 2026-12-01T11:00:00Z, 0 differences" \
		rp features check-skew --defs features.yaml --online o.db
	quiet_is_silent rp features check-skew -q --defs features.yaml --online o.db
}
