#!/usr/bin/env bats
# rp repro -j: stages at the same time, prefixed output, failures and
# --keep-going.

load helpers

@test "-j 2 runs two independent stages at the same time" {
	cp "$FIXTURES/r-pair.yaml" rp.yaml
	run rp repro -j 2
	assert_success
	assert_output --partial "[one] saw two"
	assert_output --partial "[two] saw one"
	assert_output --partial "3 ran, 0 restored, 0 from run-cache, 0 up to date, 0 failed"
	[ "$(cat together.out)" = "$(printf '1\n2')" ]
}

@test "--jobs=2 is the long form of -j 2" {
	cp "$FIXTURES/r-pair.yaml" rp.yaml
	run rp repro --jobs=2
	assert_success
	assert_output --partial "3 ran"
}

@test "every line a stage prints is prefixed with its name" {
	cat > rp.yaml <<-'YAML'
	stages:
	  alpha:
	    cmd: echo first; echo second >&2; printf 'no newline'
	  beta:
	    cmd: echo from-beta
	YAML
	run rp repro -j 2
	assert_success
	assert_line "[alpha] first"
	assert_line "[alpha] second"
	assert_line "[alpha] no newline"
	assert_line "[beta] from-beta"
	assert_line "[alpha] \$ echo first; echo second >&2; printf 'no newline'"
}

@test "a failing stage exits 1, names the stage and status, and blocks downstream stages" {
	cat > rp.yaml <<-'YAML'
	stages:
	  bad:
	    cmd: echo x >> runs-bad.log; exit 3
	    outs: [bad.out]
	  after:
	    cmd: echo x >> runs-after.log; cp bad.out after.out
	    deps: [bad.out]
	    outs: [after.out]
	YAML
	run rp repro -j 2
	assert_failure 1
	assert_output --partial "stage 'bad' failed: its command exited with status 3"
	assert_output --partial "1 failed, 1 not run (upstream failed)"
	[ "$(runs_of runs-bad.log)" -eq 1 ]
	[ "$(runs_of runs-after.log)" -eq 0 ]
	[ ! -e after.out ]
}

@test "without --keep-going a failure starts no further stages" {
	cat > rp.yaml <<-'YAML'
	stages:
	  bad:
	    cmd: exit 1
	  other:
	    cmd: echo x >> runs-other.log
	YAML
	run rp repro -j 1
	assert_failure 1
	[ "$(runs_of runs-other.log)" -eq 0 ]
}

@test "--keep-going still runs independent stages after a failure" {
	cat > rp.yaml <<-'YAML'
	stages:
	  bad:
	    cmd: exit 1
	    outs: [bad.out]
	  after:
	    cmd: echo x >> runs-after.log; cp bad.out after.out
	    deps: [bad.out]
	    outs: [after.out]
	  other:
	    cmd: echo x >> runs-other.log; echo o > other.out
	    outs: [other.out]
	YAML
	run rp repro -j 1 --keep-going
	assert_failure 1
	assert_output --partial "stage 'bad' failed"
	assert_output --partial "1 ran, 0 restored, 0 from run-cache, 0 up to date, 1 failed, 1 not run (upstream failed)"
	[ "$(runs_of runs-other.log)" -eq 1 ]
	[ "$(runs_of runs-after.log)" -eq 0 ]
	[ -e other.out ]
	grep -q '^  other:' rp.lock
	run rp repro -k
	assert_failure 1
	[ "$(runs_of runs-other.log)" -eq 1 ]
}
