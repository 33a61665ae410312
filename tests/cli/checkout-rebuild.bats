load helpers
load fixtures/c-lib

# prep makes upper.txt from input.txt; analyze (which sorts first in the
# lock) measures it.
two_stage_chain() {
	cat > rp.yaml <<'EOF'
stages:
  prep:
    cmd: echo x >> runs-prep.log && tr a-z A-Z < input.txt > upper.txt
    deps: [input.txt]
    outs: [upper.txt]
  analyze:
    cmd: echo x >> runs-analyze.log && wc -c < upper.txt > size.txt
    deps: [upper.txt]
    outs: [size.txt]
EOF
	echo "some input text" > input.txt
	rp repro >/dev/null
}

@test "checkout without --rebuild suggests it when an object is missing" {
	use_chunk
	rp repro >/dev/null
	drop_object "$(hash_of build/chunks.txt)"
	rm build/chunks.txt
	run rp checkout
	assert_failure 1
	assert_output --partial "rp checkout --rebuild"
	[ ! -e build/chunks.txt ]
}

@test "checkout --rebuild re-runs a stage whose output is in no store and restores the lock's bytes" {
	use_chunk
	rp repro >/dev/null
	want=$(hash_of build/chunks.txt)
	drop_object "$want"
	echo "not the chunks" > build/chunks.txt
	run rp checkout --rebuild --force
	assert_success
	assert_output --partial "Rebuilding stage 'chunk'"
	refute_output --partial "Rebuilding stage 'count'"
	assert_equal "$(hash_of build/chunks.txt)" "$want"
	# the rebuilt bytes went back into the store
	[ -f "$(object_of "$want")" ]
	rm build/chunks.txt
	run rp checkout
	assert_success
	assert_equal "$(hash_of build/chunks.txt)" "$want"
}

@test "checkout --rebuild runs the stage in a scratch copy, not in the workspace" {
	use_chunk
	rp repro >/dev/null
	drop_object "$(hash_of build/chunks.txt)"
	rm build/chunks.txt
	echo "my notes" > notes.txt
	run rp checkout --rebuild
	assert_success
	assert_output --partial "Rebuilding stage 'chunk' in '.rp/tmp/rebuild-"
	# the command appended to the scratch copy's log, not to ours
	assert_equal "$(runs_of runs-chunk.log)" 1
	assert_equal "$(cat notes.txt)" "my notes"
	# and the scratch copy is gone
	run find .rp/tmp -mindepth 1
	assert_output ""
}

@test "checkout --rebuild uses the lock's version of an input the user has modified" {
	use_chunk
	rp repro >/dev/null
	want=$(hash_of build/chunks.txt)
	drop_object "$want"
	rm build/chunks.txt
	echo "a brand new line that changes every chunk" >> corpus/a.txt
	edited=$(hash_of corpus/a.txt)
	# the edit is in no store: it is not overwritten, and nothing is rebuilt
	run rp checkout --rebuild
	assert_failure 1
	assert_output --partial "in no store"
	assert_line --regexp "^  corpus \(a source of stage '[a-z]+'\)$"
	refute_output --partial "Rebuilding"
	assert_equal "$(hash_of corpus/a.txt)" "$edited"
	[ ! -e build/chunks.txt ]
	# once it is saved, the rebuild uses the lock's version of the input in scratch
	run rp checkout --rebuild --force
	assert_success
	assert_equal "$(hash_of build/chunks.txt)" "$want"
}

@test "checkout --rebuild --rev rebuilds with that revision's params and leaves the user's params file alone" {
	two_commits
	drop_object "$OLD_CHUNKS"
	set_size 30
	cp params.yaml params.mine
	run rp checkout --rev HEAD~1 --rebuild
	assert_success
	assert_output --partial "fold -w 10"
	assert_equal "$(hash_of build/chunks.txt)" "$OLD_CHUNKS"
	run cmp params.yaml params.mine
	assert_success
}

@test "checkout --rebuild refuses params that differ from the lock's" {
	use_chunk
	rp repro >/dev/null
	drop_object "$(hash_of build/chunks.txt)"
	rm build/chunks.txt
	set_size 30
	run rp checkout --rebuild
	assert_failure 1
	assert_output --partial "chunk"
	assert_output --partial "--rev"
	[ ! -e build/chunks.txt ]
	grep -q "size: 30" params.yaml
}

@test "checkout --rebuild of a nondeterministic stage fails and names it" {
	cat > rp.yaml <<'EOF'
stages:
  stamp:
    cmd: date +%s%N > stamp.txt
    outs: [stamp.txt]
EOF
	rp repro >/dev/null
	drop_object "$(hash_of stamp.txt)"
	echo "mine" > stamp.txt
	run rp checkout --rebuild --force
	assert_failure 1
	assert_output --partial "nondeterministic"
	assert_output --partial "'stamp'"
	assert_equal "$(cat stamp.txt)" "mine"
	run find .rp/tmp -mindepth 1
	assert_output ""
}

@test "checkout --rebuild rebuilds a missing upstream output first" {
	two_stage_chain
	up=$(hash_of upper.txt)
	down=$(hash_of size.txt)
	drop_object "$up"
	drop_object "$down"
	rm upper.txt size.txt
	run rp checkout --rebuild
	assert_success
	assert_output --partial "Rebuilding stage 'prep'"
	assert_output --partial "Rebuilding stage 'analyze'"
	# prep's command ran before analyze's
	prep_at=$(grep -n '^\[rebuild prep\]' <<<"$output" | head -1 | cut -d: -f1)
	analyze_at=$(grep -n '^\[rebuild analyze\]' <<<"$output" | head -1 | cut -d: -f1)
	[ -n "$prep_at" ]
	[ -n "$analyze_at" ]
	[ "$prep_at" -lt "$analyze_at" ]
	assert_equal "$(hash_of upper.txt)" "$up"
	assert_equal "$(hash_of size.txt)" "$down"
}

@test "checkout --rebuild takes an upstream output from the store when it is there" {
	two_stage_chain
	up=$(hash_of upper.txt)
	down=$(hash_of size.txt)
	drop_object "$down"
	rm upper.txt size.txt
	run rp checkout --rebuild
	assert_success
	assert_output --partial "Rebuilding stage 'analyze'"
	refute_output --partial "Rebuilding stage 'prep'"
	assert_equal "$(hash_of upper.txt)" "$up"
	assert_equal "$(hash_of size.txt)" "$down"
}
