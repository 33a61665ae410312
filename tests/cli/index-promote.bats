#!/usr/bin/env bats
# index-promote.bats - blue-green serving: rp-index promote, rollback and
# history of an alias, `rp-index query ALIAS`, the gate on rp-eval's
# METRICS.json, and aliases that may point only inside the workspace.

bats_require_minimum_version 1.5.0
load helpers
load fixtures/embed-lib
load fixtures/index-lib

setup() {
	enter_ws || return 1
	rp init >/dev/null
	make_index build/blue/index 300
	BLUE=$(digest_of build/blue/index)
}

# metrics FILE PASS DIGEST: a METRICS.json as rp-eval writes it, evaluating
# blue (this test's) and green (DIGEST), with verdict PASS (true/false).
metrics() {
	local regs='[]'
	[ "$2" = true ] || regs='[{"index":"green","metric":"recall@10","baseline":0.9,"value":0.5}]'
	cat > "$1" <<EOF
{"baseline":"blue","indexes":{"blue":{"digest":"$BLUE","model":"rp-lexical-v1","path":"build/blue/index","recall@10":0.9,"mrr":0.8,"ndcg@10":0.85},"green":{"digest":"$3","model":"rp-lexical-v1","path":"build/green/index","recall@10":0.9,"mrr":0.8,"ndcg@10":0.85}},"k":10,"max_drop":0.01,"queries":50,"verdict":{"pass":$2,"baseline":"blue","candidates":["green"],"regressions":$regs}}
EOF
}

# green: a green index of another configuration (256 dimensions) of a
# corpus without document d0005.
green() {
	mkdir -p build/green
	grep -v '"doc_id":"d0005"' build/blue/index.chunks > build/green/chunks.jsonl
	rp-embed build/green/chunks.jsonl -o build/green/vectors.rpv --model rp-lexical-v1 \
		--dimensions 256 2>/dev/null
	rp-index update build/green/index --rebuild --vectors build/green/vectors.rpv \
		--chunks build/green/chunks.jsonl >/dev/null
	GREEN=$(digest_of build/green/index)
}

@test "promote serves an index through an alias that query follows" {
	run rp-index promote --alias live --to build/blue/index
	assert_success
	assert_output --regexp "^promoted build/blue/index to alias 'live' \(model rp-lexical-v1, digest ${BLUE:0:16}, copy [0-9a-f]{16}\)$"
	[ "$(ids live "$SENTENCE")" = "$(ids build/blue/index "$SENTENCE")" ]
	[ "$(ids live "$SENTENCE" | cut -d' ' -f1)" = "d0012#3" ]
	# the served copy is inside the alias's directory, named by `current`
	copy=$(cat .rp/index/live/current)
	[[ "$copy" =~ ^[0-9a-f]{16}$ ]]
	[ -f ".rp/index/live/$copy/MANIFEST.json" ]
	cmp ".rp/index/live/$copy/MANIFEST.json" build/blue/index/MANIFEST.json
}

@test "a green rebuild while blue serves, promote, rollback brings blue back, history lists both" {
	rp-index promote --alias live --to build/blue/index >/dev/null
	ids live "Doc 5 part 1" -k 10 > blue.ids
	grep -q 'd0005#1' blue.ids
	# green is built beside blue: live keeps serving blue
	green
	[ "$GREEN" != "$BLUE" ]
	[ "$(ids live "Doc 5 part 1" -k 10)" = "$(cat blue.ids)" ]
	# blue's own directory rebuilt in place: live still serves what was promoted
	grep -v '"doc_id":"d0012"' build/blue/index.chunks > edited.jsonl
	reindex build/blue/index edited.jsonl
	[ "$(ids build/blue/index "$SENTENCE" -k 50 | grep -c d0012)" -eq 0 ]
	[ "$(ids live "$SENTENCE" -k 1)" = "d0012#3 " ]
	[ "$(ids live "Doc 5 part 1" -k 10)" = "$(cat blue.ids)" ]
	# promote green: live now serves it (256 dimensions, no d0005)
	run rp-index promote --alias live --to build/green/index
	assert_success
	run rp-index query live "Doc 5 part 1" -k 50 --json
	assert_success
	refute_output --partial 'd0005'
	[ "$(ids live "Doc 5 part 1" -k 10)" = "$(ids build/green/index "Doc 5 part 1" -k 10)" ]
	# rollback: blue, as promoted, serves again
	run rp-index rollback --alias live
	assert_success
	assert_output --partial "rolled alias 'live' back to build/blue/index (model rp-lexical-v1, digest ${BLUE:0:16}"
	[ "$(ids live "Doc 5 part 1" -k 10)" = "$(cat blue.ids)" ]
	# history: both promotes and the rollback, the rollback current
	run rp-index history --alias live
	assert_success
	[ "${#lines[@]}" -eq 3 ]
	assert_line --index 0 --regexp "^  [0-9T:Z-]+  promote   build/blue/index  model rp-lexical-v1  digest ${BLUE:0:16}$"
	assert_line --index 1 --regexp "^  [0-9T:Z-]+  promote   build/green/index  model rp-lexical-v1  digest ${GREEN:0:16}$"
	assert_line --index 2 --regexp "^\* [0-9T:Z-]+  rollback  build/blue/index  model rp-lexical-v1  digest ${BLUE:0:16}$"
	run rp-index history --alias live --json
	assert_success
	[ "$(printf '%s\n' "${lines[@]}" | jq -r '[.action, .target, .digest] | join(" ")' | tr '\n' '|')" = \
	  "promote build/blue/index $BLUE|promote build/green/index $GREEN|rollback build/blue/index $BLUE|" ]
	# nothing left to roll back to
	run rp-index rollback --alias live
	assert_failure 1
	assert_output --partial "alias 'live': nothing to roll back to"
}

@test "promote is refused by a gate whose verdict fails" {
	rp-index promote --alias live --to build/blue/index >/dev/null
	green
	metrics METRICS.json false "$GREEN"
	before=$(cat .rp/index/live/current)
	run rp-index promote --alias live --to build/green/index --gate METRICS.json
	assert_failure 1
	assert_output --partial "gate 'METRICS.json' refuses: the verdict does not pass"
	[ "$(cat .rp/index/live/current)" = "$before" ]
	[ "$(wc -l < .rp/index/live/history.jsonl)" -eq 1 ]
	[ "$(ids live "Doc 5 part 1" -k 3)" = "$(ids build/blue/index "Doc 5 part 1" -k 3)" ]
	# a passing verdict lets it through, and the history names the gate
	metrics METRICS.json true "$GREEN"
	run rp-index promote --alias live --to build/green/index --gate METRICS.json
	assert_success
	assert_output --partial "gate passed: METRICS.json"
	[ "$(tail -n 1 .rp/index/live/history.jsonl | jq -r .gate)" = METRICS.json ]
	[ "$(tail -n 1 .rp/index/live/history.jsonl | jq -r .digest)" = "$GREEN" ]
}

@test "promote is refused by a gate that evaluated another index" {
	green
	# passes, but for an index of another digest
	metrics METRICS.json true "$(printf '%064d' 7)"
	run rp-index promote --alias live --to build/green/index --gate METRICS.json
	assert_failure 1
	assert_output --partial "gate 'METRICS.json' refuses: the index being promoted (digest ${GREEN:0:16}...) is not one that the metrics evaluated and passed"
	[ ! -e .rp/index/live/current ]
	# a regression named for it refuses it too, even with pass true
	metrics METRICS.json true "$GREEN"
	jq -c '.verdict.regressions = [{"index":"green","metric":"mrr","baseline":0.8,"value":0.1}]' METRICS.json > M2.json
	run rp-index promote --alias live --to build/green/index --gate M2.json
	assert_failure 1
	# no verdict at all, and a file that is not JSON
	jq -c '.verdict = null' METRICS.json > M3.json
	run rp-index promote --alias live --to build/green/index --gate M3.json
	assert_failure 1
	assert_output --partial "the metrics have no verdict"
	echo 'not json' > M4.json
	run rp-index promote --alias live --to build/green/index --gate M4.json
	assert_failure 2
	assert_output --partial "M4.json:1:"
	[ ! -e .rp/index/live/current ]
}

@test "the same chunks at another dimension have another digest, which the gate tells apart" {
	# the same chunks and model name as blue (384 dimensions), at 256
	mkdir -p build/narrow
	rp-embed build/blue/index.chunks -o build/narrow/vectors.rpv --model rp-lexical-v1 \
		--dimensions 256 2>/dev/null
	rp-index update build/narrow/index --vectors build/narrow/vectors.rpv \
		--chunks build/blue/index.chunks >/dev/null
	NARROW=$(digest_of build/narrow/index)
	[ "$(rp-index info build/narrow/index --json | jq -r '[.model, .dim] | join(" ")')" = "rp-lexical-v1 256" ]
	[ "$NARROW" != "$BLUE" ]
	# metrics that evaluated (and passed) blue only: narrow may not pass as it
	metrics METRICS.json true "$BLUE"
	run rp-index promote --alias live --to build/narrow/index --gate METRICS.json
	assert_failure 1
	assert_output --partial "gate 'METRICS.json' refuses: the index being promoted (digest ${NARROW:0:16}...) is not one that the metrics evaluated and passed"
	[ ! -e .rp/index/live/current ]
	# metrics made for narrow let it through
	metrics METRICS.json true "$NARROW"
	run rp-index promote --alias live --to build/narrow/index --gate METRICS.json
	assert_success
}

@test "info, verify and rp-eval follow an alias as query does" {
	rp-index promote --alias live --to build/blue/index >/dev/null
	copy=$(cat .rp/index/live/current)
	run rp-index info live
	assert_success
	assert_line "digest:      $BLUE"
	assert_line "chunks:      300"
	[ "$(rp-index info live --json | jq -r .digest)" = "$BLUE" ]
	run rp-index verify live --chunks build/blue/index.chunks
	assert_success
	assert_output "live: ok: 300 chunks of 30 documents in 1 segment, digest $BLUE, in step with build/blue/index.chunks"
	printf '{"query":"%s","relevant":["d0012#3"]}\n' "$SENTENCE" > q.jsonl
	run rp-eval --queries q.jsonl --index cand=live --index blue=build/blue/index -o M.json
	assert_success
	[ "$(jq -r .indexes.cand.digest M.json)" = "$BLUE" ]
	[ "$(jq -r .indexes.cand.mrr M.json)" = "$(jq -r .indexes.blue.mrr M.json)" ]
	# a directory of that name holding an index wins over the alias
	make_index live 20
	[ "$(digest_of live)" != "$BLUE" ]
	[ "$(rp-index verify live | cut -d' ' -f1-3)" = "live: ok: 20" ]
	rm -rf live live.chunks live.rpv
	# a served copy that is gone: every command names the alias and the copy
	chmod -R u+w ".rp/index/live/$copy"
	rm -rf ".rp/index/live/$copy"
	for cmd in "info live" "verify live" "query live river"; do
		run rp-index $cmd
		assert_failure 2
		assert_output --partial "alias 'live' resolves to '$PWD/.rp/index/live/$copy', which does not exist"
	done
	run rp-eval --queries q.jsonl --index cand=live -o M.json
	assert_failure 2
	assert_output --partial "alias 'live' resolves to '$PWD/.rp/index/live/$copy', which does not exist"
}

@test "an alias may point only inside the workspace" {
	# a target outside the workspace, directly or through a symlink
	make_index "$BATS_TEST_TMPDIR/outside/index" 20
	run rp-index promote --alias live --to "$BATS_TEST_TMPDIR/outside/index"
	assert_failure 2
	assert_output --partial "is outside the workspace"
	ln -s "$BATS_TEST_TMPDIR/outside/index" link
	run rp-index promote --alias live --to link
	assert_failure 2
	assert_output --partial "is outside the workspace"
	[ ! -e .rp/index/live/current ]
	# a hostile `current`: a path out of the alias, or a symlink
	rp-index promote --alias live --to build/blue/index >/dev/null
	printf '../../../../outside/index\n' > .rp/index/live/current
	run rp-index query live "river"
	assert_failure 2
	assert_output --partial "alias 'live': '$PWD/.rp/index/live/current' points to '../../../../outside/index', which is not a served copy of the alias"
	rm .rp/index/live/current
	ln -s "$BATS_TEST_TMPDIR/outside/index/MANIFEST.json" .rp/index/live/current
	run rp-index query live "river"
	assert_failure 2
	assert_output --partial "is not a regular file naming a served copy: refused"
	# a served copy that is a symlink out of the alias
	rm .rp/index/live/current
	ln -s "$BATS_TEST_TMPDIR/outside/index" .rp/index/live/0123456789abcdef
	echo 0123456789abcdef > .rp/index/live/current
	run rp-index query live "river"
	assert_failure 2
	assert_output --partial "is a symlink, not a directory: refused"
}

@test "aliases need a workspace and a valid name" {
	run rp-index promote --alias 'a/b' --to build/blue/index
	assert_failure 2
	assert_output --partial "'a/b' is not a valid alias name"
	run rp-index promote --alias .. --to build/blue/index
	assert_failure 2
	run rp-index history --alias nosuch
	assert_failure 2
	assert_output --partial "no alias 'nosuch' in this workspace"
	mkdir "$BATS_TEST_TMPDIR/plain"
	cp -R build "$BATS_TEST_TMPDIR/plain/"
	cd "$BATS_TEST_TMPDIR/plain"
	run rp-index promote --alias live --to build/blue/index
	assert_failure 2
	assert_output --partial "not inside an rp workspace"
	run rp-index promote --alias live
	assert_failure 2
	assert_output --partial "--to INDEX is required"
}

@test "served copies and alias history stay out of git" {
	git_init
	rp-index promote --alias live --to build/blue/index >/dev/null
	run git check-ignore -q .rp/index/live/current
	assert_success
	run git status --porcelain --untracked-files=all .rp
	assert_output "?? .rp/.gitignore
?? .rp/config"
}
