#!/usr/bin/env bats
# `rp NAME ARGS` runs the program rp-NAME from PATH, as git runs git-NAME.

load helpers

# make_tool NAME: an executable rp-NAME in $BATS_TEST_TMPDIR/bin (first on
# PATH) that prints its name and arguments, one per line, and exits 5 when
# its first argument is "fail".
make_tool() {
	mkdir -p "$BATS_TEST_TMPDIR/bin"
	cat > "$BATS_TEST_TMPDIR/bin/rp-$1" <<-'SH'
	#!/bin/sh
	echo "name=$(basename "$0")"
	for a in "$@"; do echo "arg=$a"; done
	[ "$1" = fail ] && exit 5
	exit 0
	SH
	chmod +x "$BATS_TEST_TMPDIR/bin/rp-$1"
	PATH="$BATS_TEST_TMPDIR/bin:$PATH"
}

@test "rp NAME runs rp-NAME from PATH with the arguments" {
	make_tool hello
	run rp hello one "two words" --flag
	assert_success
	assert_line "name=rp-hello"
	assert_line "arg=one"
	assert_line "arg=two words"
	assert_line "arg=--flag"
}

@test "rp NAME works with global options before it" {
	make_tool hello
	run rp -q hello x
	assert_success
	assert_line "arg=x"
}

@test "rp NAME exits with the program's exit status" {
	make_tool hello
	run rp hello fail
	assert_failure 5
	assert_line "arg=fail"
}

@test "rp NAME does not need a pipeline file" {
	make_tool hello
	[ ! -e rp.yaml ]
	run rp hello
	assert_success
	assert_line "name=rp-hello"
	[ ! -e .rp ]
}

@test "an unknown command exits 2 and says it is not an rp command" {
	run rp no-such-thing arg
	assert_failure 2
	assert_output --partial "'no-such-thing' is not an rp command"
	assert_output --partial "'rp-no-such-thing'"
}

@test "a built-in command wins over a program of the same name" {
	make_tool status
	echo 'stages: {a: {cmd: echo}}' > rp.yaml
	run rp status
	refute_output --partial "name=rp-status"
	assert_output --partial "a:"
}
