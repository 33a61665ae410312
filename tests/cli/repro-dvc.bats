#!/usr/bin/env bats
# rp repro on a pipeline written for DVC (dvc.yaml): it runs as is, rp keeps
# its own rp.lock and never touches dvc.lock.

load helpers

# dvc_workspace: dvc.yaml, params.yaml, the raw data and a dvc.lock that rp
# must leave alone.
dvc_workspace() {
	cp "$FIXTURES/r-dvc.yaml" dvc.yaml
	printf 'prepare:\n  split: 0.2\n' > params.yaml
	echo raw > raw.txt
	echo 'schema: "2.0"  # written by dvc' > dvc.lock
	cp dvc.lock dvc.lock.orig
}

@test "rp repro runs dvc.yaml when there is no rp.yaml" {
	dvc_workspace
	run rp repro
	assert_success
	assert_output --partial "3 ran, 0 restored, 0 from run-cache, 0 up to date, 0 failed"
	assert_output --partial "Running stage 'evaluate@train'"
	[ "$(cat data/prepared.txt)" = "prepared raw" ]
	[ "$(cat eval-test.json)" = '{"split":0.2,"set":"test"}' ]
	[ -e data/scratch.txt ]
	grep -qx '  prepare:' rp.lock
	grep -qx '  evaluate@test:' rp.lock
	cmp dvc.lock dvc.lock.orig
	run rp repro
	assert_success
	assert_output --partial "3 up to date"
}

@test "rp -f dvc.yaml repro runs it too" {
	dvc_workspace
	run rp -f dvc.yaml repro
	assert_success
	assert_output --partial "3 ran"
	[ -e rp.lock ]
	cmp dvc.lock dvc.lock.orig
}

@test "rp.yaml wins over dvc.yaml when both exist" {
	dvc_workspace
	printf 'stages:\n  mine:\n    cmd: echo x >> runs-mine.log\n' > rp.yaml
	run rp repro
	assert_success
	assert_output --partial "1 ran"
	[ "$(runs_of runs-mine.log)" -eq 1 ]
	[ "$(runs_of runs-prepare.log)" -eq 0 ]
}

@test "an out with cache: false is recorded as such and not stored" {
	dvc_workspace
	run rp repro
	assert_success
	grep -A3 'path: data/scratch.txt' rp.lock | grep -q 'cache: false'
	grep -A3 'path: eval-train.json' rp.lock | grep -q 'cache: false'
	! grep -A3 'path: data/prepared.txt' rp.lock | grep -q 'cache: false'
}

@test "a dvc.yaml param change reruns its stages and their downstream" {
	dvc_workspace
	run rp repro
	assert_success
	printf 'prepare:\n  split: 0.3\n' > params.yaml
	run rp status
	assert_failure 1
	assert_output --partial "param prepare.split 0.2 -> 0.3"
	run rp repro
	assert_success
	[ "$(runs_of runs-prepare.log)" -eq 2 ]
	[ "$(runs_of runs-evaluate.log)" -eq 4 ]
	[ "$(cat eval-train.json)" = '{"split":0.3,"set":"train"}' ]
	cmp dvc.lock dvc.lock.orig
}
