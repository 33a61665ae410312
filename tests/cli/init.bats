load helpers
load fixtures/c-lib

@test "init creates .rp/config and .rp/.gitignore" {
	run rp init
	assert_success
	assert_output --partial "Initialized rp workspace in .rp/"
	[ -f .rp/config ]
	[ -f .rp/.gitignore ]
	grep -q '^cache:' .rp/config
}

@test "the config init writes is valid and uses the defaults" {
	rp init >/dev/null
	use_chunk
	run rp repro
	assert_success
	[ -d .rp/cache/objects ]
	# default copy mode: a plain writable file, not a link
	[ ! -L build/chunks.txt ]
	assert_equal "$(stat -c %h build/chunks.txt)" 1
}

@test "the .gitignore init writes keeps the store and state.db out of git" {
	git_init
	rp init >/dev/null
	use_chunk
	rp repro >/dev/null
	run git check-ignore -q .rp/cache
	assert_success
	run git check-ignore -q .rp/state.db
	assert_success
	run git check-ignore -q .rp/config
	assert_failure 1
	git_commit "init"
	run git ls-files .rp
	assert_output - <<'EOF2'
.rp/.gitignore
.rp/config
EOF2
}

@test "a .gitignore an older rp wrote is brought up to date, and one the user wrote is kept" {
	git_init
	mkdir .rp
	printf '# written by rp: what in .rp/ is local, not for git\n/cache\n/state.db\n/state.db-*\n/lock\n/lock.journal\n/tmp\n' > .rp/.gitignore
	use_chunk
	rp repro >/dev/null
	run git check-ignore -q .rp/lock.snap
	assert_success
	run git check-ignore -q .rp/parsed
	assert_success
	run git status --porcelain --untracked-files=all .rp
	assert_output "?? .rp/.gitignore"
	# a file of the user's own is left alone
	printf '/cache\n' > .rp/.gitignore
	rm .rp/lock.snap
	rp repro >/dev/null
	assert_equal "$(cat .rp/.gitignore)" "/cache"
}

@test "a second init is a usage error and keeps the config" {
	rp init >/dev/null
	printf 'cache:\n  type: copy\n' > .rp/config
	run rp init
	assert_failure 2
	assert_output --partial "already exists"
	assert_output --partial "--force"
	assert_equal "$(cat .rp/config)" "$(printf 'cache:\n  type: copy')"
}

@test "init --force rewrites the config" {
	rp init >/dev/null
	cp .rp/config fresh.config
	printf 'cache:\n  type: copy\n' > .rp/config
	run rp init --force
	assert_success
	run cmp .rp/config fresh.config
	assert_success
}

@test "init keeps the store it finds" {
	use_chunk
	rp repro >/dev/null
	h=$(hash_of build/chunks.txt)
	run rp init
	assert_success
	[ -f "$(object_of "$h")" ]
}

@test "init --help prints the usage and succeeds" {
	run rp init --help
	assert_success
	assert_output --partial "usage: rp init"
	[ ! -e .rp ]
}

@test "init with an unexpected argument is a usage error" {
	run rp init somewhere
	assert_failure 2
	assert_output --partial "usage: rp init"
	[ ! -e .rp ]
}
