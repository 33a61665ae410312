load helpers
load fixtures/c-lib

# two_versions (helpers.bash): OLD.lock (size 10) and rp.lock (size 20).

store_files() {
	find .rp/cache -type f | sort
}

@test "gc --dry-run lists the old objects and deletes nothing" {
	two_versions
	before=$(store_files)
	run rp gc --dry-run
	assert_success
	assert_line "would delete $(object_of "$OLD_CHUNKS") ($(stat -c %s "$(object_of "$OLD_CHUNKS")") bytes)"
	assert_line --partial "would delete $(object_of "$OLD_COUNT") "
	refute_output --partial "$NEW_CHUNKS"
	assert_output --partial "would delete 2 objects"
	assert_output --partial "2 run-cache entries"
	assert_equal "$(store_files)" "$before"
}

@test "gc deletes the objects no lock uses and the current outputs still check out" {
	two_versions
	run rp gc --workspace
	assert_success
	assert_output --partial "deleted 2 objects"
	[ ! -e "$(object_of "$OLD_CHUNKS")" ]
	[ ! -e "$(object_of "$OLD_COUNT")" ]
	[ -f "$(object_of "$NEW_CHUNKS")" ]
	[ -f "$(object_of "$NEW_COUNT")" ]
	rm -rf build corpus
	run rp checkout
	assert_success
	assert_equal "$(hash_of build/chunks.txt)" "$NEW_CHUNKS"
	assert_equal "$(hash_of build/count.txt)" "$NEW_COUNT"
	run rp repro
	assert_success
	assert_output --partial "2 up to date"
	run rp status
	assert_success
	assert_output --partial "up to date"
}

@test "gc keeps the source data the lock saved" {
	two_versions
	run rp gc --workspace
	assert_success
	rm -rf corpus
	run rp checkout
	assert_success
	assert_equal "$(cat corpus/b.txt)" "$(cat "$FIXTURES/c-corpus/b.txt")"
}

@test "a second gc finds nothing to delete" {
	two_versions
	rp gc --workspace >/dev/null
	run rp gc --workspace
	assert_success
	assert_output --partial "deleted 0 objects (0 bytes) and 0 run-cache entries"
}

@test "gc --keep keeps what an older lock uses" {
	two_versions
	run rp gc --keep OLD.lock
	assert_success
	assert_output --partial "deleted 0 objects"
	run rp checkout OLD.lock
	assert_success
	assert_equal "$(hash_of build/chunks.txt)" "$OLD_CHUNKS"
	assert_equal "$(hash_of build/count.txt)" "$OLD_COUNT"
}

@test "after gc without --keep an older lock no longer checks out" {
	two_versions
	rp gc --workspace >/dev/null
	run rp checkout OLD.lock
	assert_failure 1
	assert_output --partial "build/chunks.txt"
	assert_equal "$(hash_of build/chunks.txt)" "$NEW_CHUNKS"
}

@test "gc --keep of a lock file that does not exist is a usage error and deletes nothing" {
	two_versions
	before=$(store_files)
	run rp gc --keep nope.lock
	assert_failure 2
	assert_output --partial "nope.lock"
	assert_equal "$(store_files)" "$before"
}

@test "gc --all-revs keeps the objects of every committed rp.lock" {
	two_commits
	set_size 30
	rp repro >/dev/null
	run rp gc --all-revs
	assert_success
	# the size 20 outputs are only in HEAD's rp.lock, not in the workspace's
	assert_output --partial "deleted 0 objects"
	run rp checkout --rev HEAD~1
	assert_success
	assert_equal "$(hash_of build/chunks.txt)" "$OLD_CHUNKS"
	run rp checkout --rev HEAD
	assert_success
	run rp gc --workspace
	assert_success
	assert_output --partial "deleted 4 objects"
	run rp checkout --rev HEAD~1
	assert_failure 1
}

@test "gc deletes the run-cache entries of dropped keys, so going back re-runs the stage" {
	two_versions
	run rp gc --workspace
	assert_success
	assert_output --partial "2 run-cache entries"
	set_size 10
	run rp repro
	assert_success
	refute_output --partial "from the run-cache"
	assert_output --partial "0 from run-cache"
	assert_equal "$(runs_of runs-chunk.log)" 3
	assert_equal "$(hash_of build/chunks.txt)" "$OLD_CHUNKS"
}

@test "gc keeps the run-cache entries of the kept locks" {
	two_versions
	run rp gc --keep OLD.lock
	assert_success
	assert_output --partial "0 run-cache entries"
	set_size 10
	run rp repro
	assert_success
	assert_output --partial "Restored stage 'chunk' from the run-cache"
	assert_equal "$(runs_of runs-chunk.log)" 2
}
