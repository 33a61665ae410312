#!/usr/bin/env bats
# rp repro: what an up-to-date pipeline does (nothing), restoring deleted
# outputs from the store, and a stage whose cmd is a list.

load helpers

@test "a second repro runs nothing and reports every stage up to date" {
	cp "$FIXTURES/r-chain.yaml" rp.yaml
	echo hello > src.txt
	run rp repro
	assert_success
	assert_output --partial "3 ran, 0 restored, 0 from run-cache, 0 up to date, 0 failed"
	run rp repro
	assert_success
	assert_output --partial "0 ran, 0 restored, 0 from run-cache, 3 up to date, 0 failed"
	refute_output --partial "Running stage"
	[ "$(runs_of runs-a.log)" -eq 1 ]
	[ "$(runs_of runs-b.log)" -eq 1 ]
	[ "$(runs_of runs-c.log)" -eq 1 ]
}

@test "touching a dep without changing its bytes reruns nothing" {
	cp "$FIXTURES/r-chain.yaml" rp.yaml
	echo hello > src.txt
	run rp repro
	assert_success
	touch -d '+1 hour' src.txt a.txt
	run rp repro
	assert_success
	assert_output --partial "3 up to date"
	[ "$(runs_of runs-a.log)" -eq 1 ]
	[ "$(runs_of runs-b.log)" -eq 1 ]
}

@test "rewriting a dep with the same bytes reruns nothing" {
	cp "$FIXTURES/r-chain.yaml" rp.yaml
	echo hello > src.txt
	run rp repro
	assert_success
	rm src.txt
	echo hello > src.txt
	run rp repro
	assert_success
	assert_output --partial "3 up to date"
	[ "$(runs_of runs-a.log)" -eq 1 ]
}

@test "a deleted output is restored from the store without running its stage" {
	cp "$FIXTURES/r-chain.yaml" rp.yaml
	echo hello > src.txt
	run rp repro
	assert_success
	want=$(cat b.txt)
	rm b.txt
	run rp repro
	assert_success
	assert_output --partial "Restored"
	assert_output --partial "out 'b.txt' missing"
	assert_output --partial "0 ran, 1 restored, 0 from run-cache, 2 up to date, 0 failed"
	[ "$(cat b.txt)" = "$want" ]
	[ "$(runs_of runs-b.log)" -eq 1 ]
	[ "$(runs_of runs-c.log)" -eq 1 ]
}

@test "a modified output is put back from the store without running its stage" {
	cp "$FIXTURES/r-chain.yaml" rp.yaml
	echo hello > src.txt
	run rp repro
	assert_success
	want=$(cat c.txt)
	echo scribble > c.txt
	run rp repro
	assert_success
	assert_output --partial "out 'c.txt' modified"
	assert_output --partial "1 restored"
	[ "$(cat c.txt)" = "$want" ]
	[ "$(runs_of runs-c.log)" -eq 1 ]
}

@test "a cmd given as a list runs its commands in order" {
	cat > rp.yaml <<-'YAML'
	stages:
	  s:
	    cmd:
	    - echo one >> order.log
	    - echo two >> order.log
	    - cat order.log > s.out
	    outs: [s.out]
	YAML
	run rp repro
	assert_success
	assert_output --partial "1 ran"
	[ "$(cat s.out)" = "$(printf 'one\ntwo')" ]
}

@test "a cmd given as a list stops at the first failing command" {
	cat > rp.yaml <<-'YAML'
	stages:
	  s:
	    cmd:
	    - echo one >> order.log
	    - exit 4
	    - echo three >> order.log
	YAML
	run rp repro
	assert_failure 1
	assert_output --partial "stage 's' failed: its command exited with status 4"
	assert_output --partial "1 failed"
	[ "$(cat order.log)" = one ]
}

@test "-q leaves out the stage reasons, the command lines and the summary" {
	cp "$FIXTURES/r-chain.yaml" rp.yaml
	echo hello > src.txt
	run rp -q repro
	assert_success
	refute_output --partial "Running stage"
	assert_output ""
	[ "$(wc -l < runs-a.log)" -eq 1 ]
	rm b.txt
	run rp -q repro
	assert_success
	assert_output ""
	[ -f b.txt ]
}
