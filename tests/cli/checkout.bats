load helpers
load fixtures/c-lib

# two_versions (helpers.bash): OLD.lock (size 10) and rp.lock (size 20).

@test "checkout of an older lock brings back its outputs and rp.lock brings back the new ones" {
	two_versions
	run rp checkout OLD.lock
	assert_success
	assert_output --partial "2 paths restored"
	assert_equal "$(hash_of build/chunks.txt)" "$OLD_CHUNKS"
	assert_equal "$(hash_of build/count.txt)" "$OLD_COUNT"
	run rp checkout
	assert_success
	assert_equal "$(hash_of build/chunks.txt)" "$NEW_CHUNKS"
	assert_equal "$(hash_of build/count.txt)" "$NEW_COUNT"
	run rp status
	assert_success
	assert_output --partial "up to date"
}

@test "checkout runs no stage" {
	two_versions
	run rp checkout OLD.lock
	assert_success
	assert_equal "$(runs_of runs-chunk.log)" 2
	assert_equal "$(runs_of runs-count.log)" 2
}

@test "checkout of a workspace that matches the lock restores nothing" {
	two_versions
	run rp checkout
	assert_success
	assert_output --partial "0 paths restored, 3 already matched"
}

@test "checkout --rev restores the outputs of that git commit" {
	git_init
	printf 'build/\nruns-*.log\n' > .gitignore
	use_chunk
	rp repro >/dev/null
	old_chunks=$(hash_of build/chunks.txt)
	old_count=$(hash_of build/count.txt)
	git_commit "size 10"
	set_size 20
	rp repro >/dev/null
	git_commit "size 20"
	run git ls-files .rp
	assert_output ".rp/.gitignore"
	new_chunks=$(hash_of build/chunks.txt)
	[ "$new_chunks" != "$old_chunks" ]
	run rp checkout --rev HEAD~1
	assert_success
	assert_equal "$(hash_of build/chunks.txt)" "$old_chunks"
	assert_equal "$(hash_of build/count.txt)" "$old_count"
	run rp checkout --rev HEAD
	assert_success
	assert_equal "$(hash_of build/chunks.txt)" "$new_chunks"
}

@test "checkout restores source data that no stage produces" {
	use_chunk
	rp repro >/dev/null
	want=$(ws_digest)
	rm -rf corpus
	run rp checkout
	assert_success
	assert_output --partial "1 path restored"
	assert_equal "$(ws_digest)" "$want"
	echo "an edit" >> corpus/a.txt
	edited=$(ws_digest)
	run rp checkout
	assert_failure 1
	assert_output --partial "in no store; checking out would lose them"
	assert_line --regexp "^  corpus \(a source of stage '[a-z]+'\)$"
	assert_output --partial "Nothing was changed"
	assert_equal "$(ws_digest)" "$edited"
	run rp checkout --force
	assert_success
	assert_equal "$(ws_digest)" "$want"
}

@test "checkout overwrites an edited source once rp repro has saved the edit" {
	use_chunk
	rp repro >/dev/null
	cp rp.lock OLD.lock
	old_a=$(hash_of corpus/a.txt)
	old_chunks=$(hash_of build/chunks.txt)
	echo "an edit" >> corpus/a.txt
	rp repro >/dev/null
	run rp checkout OLD.lock
	assert_success
	assert_equal "$(hash_of corpus/a.txt)" "$old_a"
	assert_equal "$(hash_of build/chunks.txt)" "$old_chunks"
	# and the edit is not lost: the new lock brings it back
	run rp checkout
	assert_success
	grep -q "an edit" corpus/a.txt
}

@test "checkout with an object missing from the store lists it with its stage and changes nothing" {
	two_versions
	drop_object "$OLD_CHUNKS"
	echo "my edit" >> corpus/b.txt
	before=$(ws_digest)
	run rp checkout --force OLD.lock
	assert_failure 1
	assert_output --partial "nothing was changed"
	assert_line --partial "build/chunks.txt (${OLD_CHUNKS:0:12}), made by stage 'chunk'"
	refute_output --partial "build/count.txt ("
	# count's old object is there, but checkout touched nothing
	assert_equal "$(ws_digest)" "$before"
	assert_equal "$(hash_of build/count.txt)" "$NEW_COUNT"
}

@test "checkout lists every missing object, not only the first" {
	two_versions
	drop_object "$OLD_CHUNKS"
	drop_object "$OLD_COUNT"
	run rp checkout OLD.lock
	assert_failure 1
	assert_line --partial "build/chunks.txt (${OLD_CHUNKS:0:12}), made by stage 'chunk'"
	assert_line --partial "build/count.txt (${OLD_COUNT:0:12}), made by stage 'count'"
}

@test "checkout refuses a corrupt object and never serves its bytes" {
	two_versions
	obj=$(object_of "$OLD_COUNT")
	chmod u+w "$obj"
	echo "999 rotten" > "$obj"
	run rp checkout OLD.lock
	assert_failure 1
	assert_output --partial "corrupt"
	assert_output --partial "build/count.txt"
	run grep -q rotten build/count.txt
	assert_failure
	rm -f build/count.txt
	run rp checkout OLD.lock
	assert_failure 1
	assert_output --partial "corrupt"
	if [ -e build/count.txt ]; then
		run grep -q rotten build/count.txt
		assert_failure
	fi
}

@test "checkout of an unknown git revision is a usage error" {
	git_init
	use_chunk
	rp repro >/dev/null
	git_commit "one"
	run rp checkout --rev no-such-rev
	assert_failure 2
	assert_output --partial "no-such-rev"
}

@test "checkout of a lock file that does not exist is a usage error" {
	use_chunk
	rp repro >/dev/null
	run rp checkout missing.lock
	assert_failure 2
	assert_output --partial "no lock file 'missing.lock'"
}

@test "checkout without any rp.lock is a usage error" {
	use_chunk
	run rp checkout
	assert_failure 2
	assert_output --partial "rp.lock"
}

@test "a dep that is a directory of other stages' outputs is not taken for source data" {
	cat > rp.yaml <<'YAML'
stages:
  one:
    cmd: mkdir -p words && echo one > words/one.txt
    outs: [words/one.txt]
  two:
    cmd: mkdir -p words && echo two > words/two.txt
    outs: [words/two.txt]
  all:
    cmd: cat words/*.txt > all.txt
    deps: [words]
    outs: [all.txt]
YAML
	rp repro >/dev/null
	rm words/one.txt
	run rp checkout
	assert_success
	assert_equal "$(cat words/one.txt)" "one"
}
