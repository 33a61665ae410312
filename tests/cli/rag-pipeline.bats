#!/usr/bin/env bats
# pipelines/rag end to end with `rp repro`, offline: extract -> chunk ->
# context (headings) -> embed and index for blue and green (the local model
# at two dimensions) -> eval of both, and what a change re-runs; then the
# blue-green drill: query, a promote gated by the eval, a rollback, and a
# green model change that rebuilds green alone and fails the gate.

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

stat_of() {  # stat_of KEY [FILE]: a number from green's embed stats (or FILE)
	python3 -c 'import json,sys; print(json.load(open(sys.argv[2]))[sys.argv[1]])' "$1" \
		"${2:-build/green/embed-stats.json}"
}

metric() {  # metric PYTHON-EXPR: a value of the eval's metrics (m)
	python3 -c 'import json,sys; m=json.load(open("build/eval/metrics.json")); v=eval(sys.argv[1]); print(json.dumps(v) if not isinstance(v,str) else v)' "$1"
}

@test "the RAG example runs end to end offline and a second run does nothing" {
	copy_rag
	run rp repro
	assert_success
	assert_output --partial "8 ran, 0 restored, 0 from run-cache, 0 up to date, 0 failed"
	assert_equal "$(wc -l < build/docs.jsonl)" 80
	chunks=$(wc -l < build/chunks.jsonl)
	[ "$chunks" -gt 200 ]
	assert_equal "$(wc -l < build/contextual.jsonl)" "$chunks"
	assert_equal "$(stat_of chunks)" "$chunks"
	assert_equal "$(stat_of hits)" 0
	# every vector is there, of the model and dimension asked for
	for m in blue green; do
		head -c 4 build/$m/vectors.rpv | grep -q RPV1
		grep -q "rp-lexical-v1" build/$m/vectors.rpv
		assert_equal "$(stat_of added build/$m/index-stats.json)" "$chunks"
	done
	assert_equal "$(rp index info build/blue/index --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["dim"])')" 256
	assert_equal "$(rp index info build/green/index --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["dim"])')" 384
	# both indexes evaluated on every question; green passes against blue
	assert_equal "$(metric 'm["queries"]')" "$(wc -l < eval/questions.jsonl)"
	assert_equal "$(metric 'm["verdict"]["pass"]')" true
	assert_equal "$(metric 'm["verdict"]["candidates"]')" '["green"]'
	run rp repro
	assert_success
	assert_output --partial "0 ran, 0 restored, 0 from run-cache, 8 up to date, 0 failed"
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
	assert_output --partial "7 ran"
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
	assert_output --partial "8 ran"
	assert_equal "$(stat_of misses)" 1
	# and each index rewrites that chunk alone
	for m in blue green; do
		assert_equal "$(stat_of updated build/$m/index-stats.json)" 1
		assert_equal "$(stat_of added build/$m/index-stats.json)" 0
		assert_equal "$(stat_of unchanged build/$m/index-stats.json)" "$(($(wc -l < build/chunks.jsonl) - 1))"
	done
}

@test "going back to the old parameters restores from the run-cache and embeds nothing" {
	copy_rag
	rp repro >/dev/null
	cp build/green/vectors.rpv first.rpv
	cp build/green/embed-stats.json first-stats.json
	cp build/eval/metrics.json first-metrics.json
	# (600: at 500, green falls 0.015 below blue on MRR and the eval fails)
	sed -i 's/size: 800/size: 600/' params.yaml
	rp repro >/dev/null
	sed -i 's/size: 600/size: 800/' params.yaml
	run rp repro
	assert_success
	assert_output --partial "Restored stage 'chunk' from the run-cache"
	assert_output --partial "Restored stage 'context' from the run-cache"
	# embed's stats hold no time: it comes back from the run-cache too, with
	# the stats of the run that made its vectors
	assert_output --partial "Restored stage 'embed@blue' from the run-cache"
	assert_output --partial "Restored stage 'embed@green' from the run-cache"
	cmp first-stats.json build/green/embed-stats.json
	cmp first.rpv build/green/vectors.rpv
	# the same vectors: each index comes back from the run-cache, and the
	# eval's numbers are those of the first run
	assert_output --partial "Restored stage 'index@blue' from the run-cache"
	assert_output --partial "Restored stage 'index@green' from the run-cache"
	cmp first-metrics.json build/eval/metrics.json
}

Q="what is a tombstone in the index"

# serves INDEX: alias live answers as INDEX does, and its history marks it
serves() {
	diff <(rp index query live "$Q" -k 5 --json) <(rp index query "$1" "$Q" -k 5 --json) || return 1
	rp index history --alias live | grep '^\*' | grep -q " $1 "
}

@test "blue-green: a query, a promote gated by the eval, a rollback" {
	copy_rag
	rp repro >/dev/null
	run rp index query build/blue/index "$Q" -k 5
	assert_success
	assert_output --partial "retrieval/tombstones-and-deletes.md"
	run rp index promote --alias live --to build/blue/index
	assert_success
	serves build/blue/index
	run rp index promote --alias live --to build/green/index --gate build/eval/metrics.json
	assert_success
	assert_output --partial "gate passed: build/eval/metrics.json"
	serves build/green/index
	run rp index rollback --alias live
	assert_success
	serves build/blue/index
	assert_equal "$(rp index history --alias live | wc -l)" 3
}

@test "blue-green: a new green model rebuilds green alone, fails the gate, and blue keeps serving" {
	copy_rag
	rp repro >/dev/null
	chunks=$(wc -l < build/chunks.jsonl)
	rp index promote --alias live --to build/blue/index >/dev/null
	# green at 64 dimensions: a different embedding space, rebuilt in full
	sed -i 's/dimensions: 384/dimensions: 64/' params.yaml
	run rp repro
	assert_failure 1
	assert_output --partial "2 ran, 0 restored, 0 from run-cache, 5 up to date, 1 failed"
	assert_output --partial "Running stage 'index@green'"
	refute_output --partial "Running stage 'index@blue'"
	refute_output --partial "Running stage 'embed@blue'"
	assert_output --partial "rp: error: stage 'eval' failed"
	assert_equal "$(stat_of added build/green/index-stats.json)" "$chunks"
	assert_equal "$(stat_of unchanged build/green/index-stats.json)" 0
	assert_equal "$(rp index info build/green/index --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["dim"])')" 64
	# the eval wrote its verdict before failing: green regressed against blue
	assert_equal "$(metric 'm["verdict"]["pass"]')" false
	assert_equal "$(metric 'sorted({r["index"] for r in m["verdict"]["regressions"]})')" '["green"]'
	run rp index promote --alias live --to build/green/index --gate build/eval/metrics.json
	assert_failure 1
	assert_output --partial "refuses"
	serves build/blue/index
	# back to 384: green from the embedding cache, the gate passes again
	sed -i 's/dimensions: 64/dimensions: 384/' params.yaml
	run rp repro
	assert_success
	assert_equal "$(metric 'm["verdict"]["pass"]')" true
	run rp index promote --alias live --to build/green/index --gate build/eval/metrics.json
	assert_success
	serves build/green/index
	run rp index rollback --alias live
	assert_success
	serves build/blue/index
}

@test "switching the context to an LLM is one parameter, with the prompt of params.yaml" {
	copy_rag
	unset OPENAI_API_KEY
	start_chat_stub ctx ok
	rp repro context >/dev/null
	chunks=$(wc -l < build/chunks.jsonl)
	printf 'llm:\n  base_url: %s\n' "$CBASE" > .rp/config
	sed -i 's/method: headings/method: llm/' params.yaml
	run rp repro context
	assert_success
	assert_output --partial "Running stage 'context'"
	assert_equal "$(wc -l < "$CCOUNT")" "$chunks"
	python3 - "$chunks" <<'PY'
import json, sys
rows = [json.loads(l) for l in open("build/contextual.jsonl")]
assert len(rows) == int(sys.argv[1]), len(rows)
for r in rows:
    assert r["context_method"] == "llm@1", r["context_method"]
    assert r["prompt_version"] == "v1" and r["llm_model"] == "gpt-4o-mini", r
    assert r["context"].startswith("Stub context "), r["context"]
    assert r["text"] == r["context"] + "\n\n" + r["original_text"]
PY
	# a new prompt version generates every context again
	sed -i 's/prompt_version: v1/prompt_version: v2/' params.yaml
	run rp repro context
	assert_success
	assert_equal "$(wc -l < "$CCOUNT")" "$((2 * chunks))"
	grep -q '"prompt_version":"v2"' build/contextual.jsonl
	# the prompt's text is read from params.yaml: a new text under the same
	# version reuses the cached contexts, with a warning
	sed -i 's/Give a short context/Give a brief context/' params.yaml
	run rp repro context
	assert_success
	assert_output --partial "the prompt text changed but its version 'v2' did not"
	assert_equal "$(wc -l < "$CCOUNT")" "$((2 * chunks))"
}

@test "a deleted document leaves both indexes with tombstones; checkout of the older lock brings it back" {
	copy_rag
	git_init
	printf 'build/\n.rp/\n' > .gitignore
	rp repro >/dev/null
	git_commit "the whole corpus"
	doc=retrieval/tombstones-and-deletes.md
	n=$(grep -c "\"doc_id\":\"$doc\"" build/chunks.jsonl)
	[ "$n" -gt 0 ]
	rp index query build/green/index "$Q" -k 5 --json > old.txt
	grep -q "\"doc_id\":\"$doc\"" old.txt
	rm "corpus/$doc"
	run rp repro
	assert_success
	for m in blue green; do
		assert_equal "$(stat_of deleted build/$m/index-stats.json)" "$n"
		assert_equal "$(stat_of added build/$m/index-stats.json)" 0
		assert_equal "$(rp index info build/$m/index --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["tombstones"])')" "$n"
		run rp index query build/$m/index "$Q" -k 20 --json
		assert_success
		refute_output --partial "\"doc_id\":\"$doc\""
	done
	run rp checkout --rev HEAD
	assert_success
	rp index query build/green/index "$Q" -k 5 --json | cmp - old.txt
}
