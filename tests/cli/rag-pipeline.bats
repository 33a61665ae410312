#!/usr/bin/env bats
# pipelines/rag end to end with `rp repro`, offline: extract -> chunk ->
# context (headings) -> embed (local model), and what a change re-runs.

load helpers

setup_file() {
	# PATH must reach rp-extract & co. next to rp: `rp NAME` runs rp-NAME
	export RP_PROGRESS=0
}

copy_rag() {
	cp -R "$RP_SRCDIR/pipelines/rag/." .
	chmod -R u+w .
	rm -rf build .rp rp.lock
}

stat_of() {  # stat_of KEY: a number from the embed stats
	python3 -c 'import json,sys; print(json.load(open("build/lexical/embed-stats.json"))[sys.argv[1]])' "$1"
}

@test "the RAG example runs end to end offline and a second run does nothing" {
	copy_rag
	run rp repro
	assert_success
	assert_output --partial "4 ran, 0 restored, 0 from run-cache, 0 up to date, 0 failed"
	assert_equal "$(wc -l < build/docs.jsonl)" 80
	chunks=$(wc -l < build/chunks.jsonl)
	[ "$chunks" -gt 200 ]
	assert_equal "$(wc -l < build/contextual.jsonl)" "$chunks"
	assert_equal "$(stat_of chunks)" "$chunks"
	assert_equal "$(stat_of hits)" 0
	# every vector is there, of the model and dimension asked for
	head -c 4 build/lexical/vectors.rpv | grep -q RPV1
	grep -q "rp-lexical-v1" build/lexical/vectors.rpv
	run rp repro
	assert_success
	assert_output --partial "0 ran, 0 restored, 0 from run-cache, 4 up to date, 0 failed"
	run rp status
	assert_success
}

@test "the RAG example is byte-deterministic" {
	copy_rag
	rp repro >/dev/null
	cp rp.lock first.lock
	rm -rf build .rp rp.lock
	rp repro >/dev/null
	# the embed stats hold a time: compare every other entry of the lock
	drop_stats() { awk '/embed-stats.json/ { skip = 3; next } skip { skip--; next } 1' "$1"; }
	diff <(drop_stats first.lock) <(drop_stats rp.lock)
	grep -q "vectors.rpv" rp.lock
}

@test "changing the chunk overlap re-embeds only the chunks whose text changed" {
	copy_rag
	rp repro >/dev/null
	sed -i 's/overlap: 100/overlap: 60/' params.yaml
	run rp status
	assert_failure 1
	assert_output --partial "param chunker"
	run rp repro
	assert_success
	assert_output --partial "3 ran"
	refute_output --partial "Running stage 'extract'"
	misses=$(stat_of misses)
	hits=$(stat_of hits)
	[ "$misses" -gt 0 ]
	[ "$hits" -gt "$misses" ]
	assert_equal "$(stat_of chunks)" "$((hits + misses))"
}

@test "editing one document re-embeds only that document's changed chunks" {
	copy_rag
	rp repro >/dev/null
	doc=$(ls corpus/rp/*.md | head -1)
	echo "One more sentence at the end of this document, about nothing else." >> "$doc"
	run rp repro
	assert_success
	assert_output --partial "4 ran"
	assert_equal "$(stat_of misses)" 1
}

@test "going back to the old parameters restores from the run-cache and embeds nothing" {
	copy_rag
	rp repro >/dev/null
	cp build/lexical/vectors.rpv first.rpv
	sed -i 's/size: 800/size: 500/' params.yaml
	rp repro >/dev/null
	sed -i 's/size: 500/size: 800/' params.yaml
	run rp repro
	assert_success
	assert_output --partial "Restored stage 'chunk' from the run-cache"
	assert_output --partial "Restored stage 'context' from the run-cache"
	# embed has an uncached metrics file (its stats hold a time), so it runs,
	# and every vector comes from the embedding cache
	assert_equal "$(stat_of hits)" "$(stat_of chunks)"
	assert_equal "$(stat_of misses)" 0
	cmp first.rpv build/lexical/vectors.rpv
}
