#!/usr/bin/env bats
# stage-keys.bats - everything that decides a stage's results is in its key
# (rp(1), Stage keys): each result-defining setting, changed in turn, makes
# the stage dirty, and .rp/config, which is in no key, refuses them; a
# setting of where and how to connect leaves it clean; an algorithm version
# of rp's stage programs (played with RP_TEST_ALGO_VERSIONS, progver.h) is
# in the key of the stages that run it; embed's timings stay out of its
# cached metrics, so a forced re-run leaves rp.lock as it was.

bats_require_minimum_version 1.5.0
load helpers
load fixtures/embed-lib

setup() {
	enter_ws || return 1
	rp init >/dev/null
	unset RP_TEST_ALGO_VERSIONS
}

# embed_ws: an embed stage whose provider, model and dimensions are params,
# run once.
embed_ws() {
	gen_chunks chunks.jsonl 20
	cat > params.yaml <<'P'
embed:
  provider: local
  model: rp-lexical-v1
  dims: 64
P
	cat > rp.yaml <<'Y'
stages:
  embed:
    cmd: rp embed chunks.jsonl -o v.rpv --provider ${embed.provider} --model ${embed.model} --dimensions ${embed.dims}
    deps: [chunks.jsonl]
    params: [embed]
    outs: [v.rpv]
Y
	rp repro -q
	run rp status
	assert_success
}

# refused SECTION KEY VALUE OPTION: SECTION.KEY in .rp/config stops rp
# status with its line and the option that replaces it.
refused() {
	cp .rp/config config.orig
	printf '%s:\n  %s: %s\n' "$1" "$2" "$3" >> .rp/config
	local line
	line=$(grep -n "^  $2: $3\$" .rp/config | cut -d: -f1)
	run rp status
	assert_failure 2
	assert_output --partial ".rp/config:$line:3: '$1.$2' decides what a stage computes"
	assert_output --partial "pass $4 in the stage's command"
	refute_output --partial "up to date"
	cp config.orig .rp/config
}

@test "provider: a change in params makes the stage dirty, .rp/config refuses it" {
	embed_ws
	refused embed provider openai --provider
	sed -i 's/provider: local/provider: openai/' params.yaml
	run rp status
	assert_failure 1
	assert_output --partial "param embed.provider local -> openai"
}

@test "model: a change in params makes the stage dirty, .rp/config refuses it" {
	embed_ws
	refused embed model other-model --model
	refused llm model gpt-4o-mini --model
	sed -i 's/model: rp-lexical-v1/model: rp-lexical-v2/' params.yaml
	run rp status
	assert_failure 1
	assert_output --partial "param embed.model rp-lexical-v1 -> rp-lexical-v2"
}

@test "dimensions: a change in params makes the stage dirty, .rp/config refuses it" {
	embed_ws
	refused embed dimensions 128 --dimensions
	sed -i 's/dims: 64/dims: 128/' params.yaml
	run rp status
	assert_failure 1
	assert_output --partial "param embed.dims 64 -> 128"
}

@test "prompt version and context method version: each makes the context stage dirty" {
	printf '{"chunk_id":"a#0","doc_id":"a","ordinal":0,"text":"hello","content_hash":"x","headings":[],"title":"A"}\n' > c.jsonl
	cat > params.yaml <<'P'
context:
  prompt_version: v1
  prompt: "Situate {{chunk}} in {{document}}"
P
	cat > rp.yaml <<'Y'
stages:
  context:
    cmd: rp context c.jsonl -o x.jsonl --method headings --prompt-file params.yaml --prompt-key context.prompt --prompt-version ${context.prompt_version}
    deps: [c.jsonl]
    params: [context]
    outs: [x.jsonl]
Y
	run rp repro -q
	assert_success
	run rp status
	assert_success
	# rp-context's headings method at version 2, as a release would build it
	RP_TEST_ALGO_VERSIONS=context:headings=2 run rp status
	assert_failure 1
	assert_output --partial "rp context: headings@1 -> headings@2"
	RP_TEST_ALGO_VERSIONS=context:llm=2 run rp status
	assert_success
	sed -i 's/prompt_version: v1/prompt_version: v2/' params.yaml
	run rp status
	assert_failure 1
	assert_output --partial "param context.prompt_version v1 -> v2"
}

@test "chunker version as built: an upgrade runs the chunk stage once, with its reason" {
	printf '{"doc_id":"a","sha256":"x","text":"# T\\n\\nhello world, a first text\\n","title":"t"}\n' > docs.jsonl
	cat > rp.yaml <<'Y'
stages:
  chunk:
    cmd: rp chunk docs.jsonl -o chunks.jsonl --strategy markdown --size 100
    deps: [docs.jsonl]
    outs: [chunks.jsonl]
  copy:
    cmd: cp docs.jsonl copy.jsonl
    deps: [docs.jsonl]
    outs: [copy.jsonl]
Y
	rp repro -q
	grep -q '"markdown@1"' chunks.jsonl
	cp rp.lock before.lock
	# the version the programs apply, and rp's own
	run rp chunk --version
	assert_success
	assert_line --index 0 --regexp '^rp-chunk \(rp\) [0-9]'
	assert_line "markdown@1"
	export RP_TEST_ALGO_VERSIONS=chunk:markdown=2
	run rp chunk --version
	assert_line "markdown@2"
	run rp status
	assert_failure 1
	assert_output "chunk:
	rp chunk: markdown@1 -> markdown@2"
	run rp repro
	assert_success
	assert_output --partial "1 ran, 0 restored, 0 from run-cache, 1 up to date"
	grep -q '"markdown@2"' chunks.jsonl
	run rp status
	assert_success
	# the copy stage's entry, which runs no rp program, did not change
	assert_equal "$(sed -n '/^  copy:/,/^  [a-z]/p' rp.lock)" "$(sed -n '/^  copy:/,/^  [a-z]/p' before.lock)"
	# another strategy's bump does not touch it
	RP_TEST_ALGO_VERSIONS=chunk:markdown=2,chunk:fixed=5 run rp status
	assert_success
	unset RP_TEST_ALGO_VERSIONS
	run rp status
	assert_failure 1
	assert_output --partial "rp chunk: markdown@2 -> markdown@1"
}

@test "connection-only settings in .rp/config leave the stages clean" {
	embed_ws
	printf 'embed:\n  base_url: http://127.0.0.1:9/v1\n  api_key_env: SOME_KEY\nllm:\n  base_url: http://127.0.0.1:9/v1\n  api_key_env: OTHER_KEY\n' >> .rp/config
	run rp status
	assert_success
	assert_output "Everything is up to date."
	run rp repro
	assert_success
	assert_output --partial "0 ran, 0 restored, 0 from run-cache, 1 up to date"
}

@test "embed's timings stay out of its stats: a forced re-run leaves rp.lock byte-identical" {
	gen_chunks chunks.jsonl 30
	printf 'dims: 64\n' > params.yaml
	cat > rp.yaml <<'Y'
stages:
  embed:
    cmd: rp embed chunks.jsonl -o v.rpv --model rp-lexical-v1 --dimensions ${dims} --stats stats.json --timings timings.json
    deps: [chunks.jsonl]
    outs: [v.rpv]
    metrics: [stats.json]
Y
	# the vectors are in the embedding cache already (as after any run)
	rp-embed chunks.jsonl -o warm.rpv --model rp-lexical-v1 --dimensions 64 2>/dev/null
	rp repro -q
	cp rp.lock first.lock
	cp stats.json first-stats.json
	run jq -e 'has("seconds")' stats.json
	assert_failure
	run jq -e '.seconds >= 0' timings.json
	assert_success
	run rp repro -f
	assert_success
	assert_output --partial "1 ran"
	cmp first.lock rp.lock
	cmp first-stats.json stats.json
	# another dimension and back: restored from the run-cache, not run
	sed -i 's/dims: 64/dims: 32/' params.yaml
	rp repro -q
	sed -i 's/dims: 32/dims: 64/' params.yaml
	run rp repro
	assert_success
	assert_output --partial "Restored stage 'embed' from the run-cache"
	assert_output --partial "0 ran, 0 restored, 1 from run-cache"
	cmp first.lock rp.lock
}

@test "two servers that serve the same model name do not share vectors" {
	export RP_TEST_KEY=sk-test-0123456789 RP_HTTP_BACKOFF_MS=20
	allow_key RP_TEST_KEY 127.0.0.1
	gen_chunks chunks.jsonl 5
	start_openai_stub one --dims 8
	B1=$BASE S1=$STATS
	start_openai_stub two --dims 8
	B2=$BASE S2=$STATS
	rp-embed --provider openai --model m1 --base-url "$B1" --api-key-env RP_TEST_KEY chunks.jsonl -o a.rpv 2>/dev/null
	rp-embed --provider openai --model m1 --base-url "$B2" --api-key-env RP_TEST_KEY chunks.jsonl -o b.rpv --stats s.json 2>/dev/null
	[ "$(json_get s.json hits)" -eq 0 ]
	[ "$(json_get "$S2" requests)" -ge 1 ]
	# the same server again (written another way): every vector from the cache
	rp-embed --provider openai --model m1 --base-url "$B1/" --api-key-env RP_TEST_KEY chunks.jsonl -o c.rpv --stats s.json 2>/dev/null
	[ "$(json_get s.json hits)" -eq 5 ]
	# the local embedder's entries are found as before: its key has no server
	rp-embed --model rp-lexical-v1 chunks.jsonl -o l1.rpv 2>/dev/null
	rp-embed --model rp-lexical-v1 --base-url "$B2" chunks.jsonl -o l2.rpv --stats s.json 2>/dev/null
	[ "$(json_get s.json hits)" -eq 5 ]
}
