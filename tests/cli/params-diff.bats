load helpers
load fixtures/c-lib

# A git repository with the chunk pipeline and its params committed.
committed() {
	git_init
	use_chunk
	git_commit "pipeline and params"
}

@test "params diff shows a changed parameter with its old and new values" {
	committed
	set_size 25
	run rp params diff
	assert_success
	assert_line --regexp '^Path +Param +HEAD +Workspace$'
	assert_line --regexp '^params\.yaml +chunker\.size +10 +25$'
}

@test "params diff hides unchanged parameters" {
	committed
	set_size 25
	run rp params diff
	assert_success
	refute_output --partial "chunker.strategy"
	refute_output --partial "seed"
}

@test "params diff --all also shows unchanged parameters" {
	committed
	set_size 25
	run rp params diff --all
	assert_success
	assert_line --regexp '^params\.yaml +chunker\.size +10 +25$'
	assert_line --regexp '^params\.yaml +chunker\.strategy +fixed +fixed$'
	# seed is in params.yaml but no stage uses it
	refute_output --partial "seed"
}

@test "params diff compares with an explicit revision" {
	committed
	set_size 25
	git_commit "size 25"
	set_size 40
	run rp params diff HEAD~1
	assert_success
	assert_line --regexp '^Path +Param +HEAD~1 +Workspace$'
	assert_line --regexp '^params\.yaml +chunker\.size +10 +40$'
	run rp params diff
	assert_success
	assert_line --regexp '^params\.yaml +chunker\.size +25 +40$'
}

@test "params diff shows a parameter that was added since the revision" {
	committed
	sed -i 's/^  strategy: fixed/  strategy: fixed\n  overlap: 2/' params.yaml
	run rp params diff
	assert_success
	assert_line --regexp '^params\.yaml +chunker\.overlap +- +2$'
}

@test "params diff with nothing changed says so" {
	committed
	run rp params diff
	assert_success
	assert_output "No parameter changed since HEAD."
}

@test "params diff ignores a change to a parameter no stage uses" {
	committed
	sed -i 's/^seed: 7/seed: 8/' params.yaml
	run rp params diff
	assert_success
	assert_output --partial "No parameter changed"
}

@test "params diff against an unknown revision is a usage error" {
	committed
	run rp params diff no-such-rev
	assert_failure 2
	assert_output --partial "no-such-rev"
}

@test "params without diff prints the usage and is a usage error" {
	committed
	run rp params
	assert_failure 2
	assert_output --partial "usage: rp params diff"
	run rp params show
	assert_failure 2
	assert_output --partial "usage: rp params diff"
}
