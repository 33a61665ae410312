#!/usr/bin/env bats
# rp.lock: sorted and deterministic; one rp at a time per workspace; a killed
# or failed run keeps the stages that finished.

load helpers

BG_PID=
SLOW_PGID=

teardown() {
	# no process may outlive its test: the background rp, then the stage
	# it started (its own process group, whose leader wrote slow.pid)
	[ -f release ] || touch release 2>/dev/null || true
	if [ -n "$BG_PID" ]; then
		kill "$BG_PID" 2>/dev/null || true
		wait "$BG_PID" 2>/dev/null || true
	fi
	if [ -f "$WS/slow.pid" ]; then
		kill -KILL -- "-$(cat "$WS/slow.pid")" 2>/dev/null || true
	fi
}

# slow_pipeline: `fast` finishes at once; `slow` (after it) writes its pgid
# to slow.pid, touches slow.started, then waits (at most 10 s) for `release`.
slow_pipeline() {
	cat > rp.yaml <<-'YAML'
	stages:
	  fast:
	    cmd: echo x >> runs-fast.log; echo fast > fast.out
	    outs: [fast.out]
	  slow:
	    cmd: >-
	      echo x >> runs-slow.log; echo $$ > slow.pid; touch slow.started;
	      i=0; while [ ! -e release ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done;
	      cat fast.out > slow.out
	    deps: [fast.out]
	    outs: [slow.out]
	YAML
}

@test "rp.lock lists stages sorted by name" {
	cat > rp.yaml <<-'YAML'
	stages:
	  zeta:
	    cmd: echo z > z.out
	    outs: [z.out]
	  alpha:
	    cmd: cat z.out > a.out
	    deps: [z.out]
	    outs: [a.out]
	  mid:
	    cmd: echo m > m.out
	    outs: [m.out]
	YAML
	run rp repro
	assert_success
	head -2 rp.lock | grep -qx 'schema: rp.lock/1'
	names=$(grep -E '^  [^ ]+:$' rp.lock | tr -d ' :' | tr '\n' ' ')
	[ "$names" = "alpha mid zeta " ]
}

@test "rp.lock is the same bytes when rebuilt from scratch" {
	cp "$FIXTURES/r-params.yaml" rp.yaml
	cp "$FIXTURES/r-params.params.yaml" params.yaml
	cat "$FIXTURES/r-chain.yaml" | sed '1,2d' >> rp.yaml
	echo hello > src.txt
	run rp repro -j 4
	assert_success
	cp rp.lock first.lock
	rm -rf .rp rp.lock ./*.out a.txt b.txt c.txt
	run rp repro -j 1
	assert_success
	assert_output --partial "6 ran"
	cmp rp.lock first.lock
	run rp repro
	assert_success
	cmp rp.lock first.lock
}

@test "a second repro while one is running fails at once" {
	slow_pipeline
	rp repro -j 1 > bg.log 2>&1 3>&- &
	BG_PID=$!
	wait_for slow.started
	SECONDS=0
	run rp repro
	assert_failure 1
	assert_output --partial "another rp process (pid $BG_PID) is running in this workspace"
	[ "$SECONDS" -lt 3 ]
	touch release
	wait "$BG_PID"
	BG_PID=
	grep -q '2 ran' bg.log
	[ "$(runs_of runs-slow.log)" -eq 1 ]
}

@test "a run killed with SIGKILL keeps the stages that finished" {
	slow_pipeline
	rp repro -j 1 > bg.log 2>&1 3>&- &
	BG_PID=$!
	wait_for slow.started
	kill -KILL "$BG_PID"
	wait "$BG_PID" || true
	BG_PID=
	# the stage died with rp (exec.h); kill what might be left all the same
	kill -KILL -- "-$(cat slow.pid)" 2>/dev/null || true
	rm -f slow.pid
	# the journal has `fast`; status replays it
	run rp status
	assert_failure 1
	refute_output --partial "fast:"
	assert_output --partial "slow:"
	# and the next command folds it into rp.lock without rerunning `fast`
	touch release
	run rp repro
	assert_success
	assert_output --partial "1 ran, 0 restored, 0 from run-cache, 1 up to date"
	[ "$(runs_of runs-fast.log)" -eq 1 ]
	[ "$(runs_of runs-slow.log)" -eq 2 ]
	grep -qx '  fast:' rp.lock
	grep -qx '  slow:' rp.lock
}

@test "after a killed run, a dry run keeps the journal and repro of a finished stage finds it up to date" {
	slow_pipeline
	rp repro -j 1 > bg.log 2>&1 3>&- &
	BG_PID=$!
	wait_for slow.started
	kill -KILL "$BG_PID"
	wait "$BG_PID" || true
	BG_PID=
	# the stage died with rp (exec.h); kill what might be left all the same
	kill -KILL -- "-$(cat slow.pid)" 2>/dev/null || true
	rm -f slow.pid
	run rp repro --dry-run slow
	assert_success
	run rp repro fast
	assert_success
	assert_output --partial "1 up to date"
	grep -qx '  fast:' rp.lock
	[ "$(runs_of runs-fast.log)" -eq 1 ]
}

@test "a failed stage leaves the stages that finished before it in rp.lock" {
	cat > rp.yaml <<-'YAML'
	stages:
	  first:
	    cmd: echo x >> runs-first.log; echo 1 > first.out
	    outs: [first.out]
	  second:
	    cmd: cat first.out; exit 7
	    deps: [first.out]
	    outs: [second.out]
	YAML
	run rp repro
	assert_failure 1
	assert_output --partial "stage 'second' failed: its command exited with status 7"
	grep -qx '  first:' rp.lock
	! grep -qx '  second:' rp.lock
	sed -i 's/exit 7/cp first.out second.out/' rp.yaml
	run rp repro
	assert_success
	assert_output --partial "1 ran, 0 restored, 0 from run-cache, 1 up to date"
	[ "$(runs_of runs-first.log)" -eq 1 ]
}

@test "a hand-edited rp.lock is read as edited, not from rp's binary image of it" {
	cat > rp.yaml <<-'YAML'
	stages:
	  a:
	    cmd: echo hi > a.txt
	    outs: [a.txt]
	YAML
	run rp repro
	assert_success
	[ -f .rp/lock.snap ]
	run rp status
	assert_success
	sed -i 's/cmd: echo hi > a.txt/cmd: echo edited > a.txt/' rp.lock
	run rp status
	[ "$status" -eq 1 ]
	assert_output --partial "cmd changed"
	# a corrupt image is ignored, and replaced by a good one
	printf 'garbage' > .rp/lock.snap
	run rp status
	[ "$status" -eq 1 ]
	assert_output --partial "cmd changed"
	[ "$(head -c 7 .rp/lock.snap)" = "rplsnap" ]
}

@test "an edited rp.yaml is read as edited, not from the parse cache" {
	cat > rp.yaml <<-'YAML'
	stages:
	  a:
	    cmd: echo one > a.txt
	    outs: [a.txt]
	YAML
	run rp repro
	assert_success
	[ -n "$(ls .rp/parsed)" ]
	# same size, same second: only the bytes differ
	sed -i 's/echo one/echo two/' rp.yaml
	run rp repro
	assert_success
	[ "$(cat a.txt)" = "two" ]
	# a bad edit is reported at its line, as without a cache
	printf 'stages:\n  a:\n    cmd: [unclosed\n' > rp.yaml
	run rp repro
	[ "$status" -eq 2 ]
	assert_output --partial "rp.yaml:"
}

@test "a lock held only by what a dead rp left behind is waited for, a live holder is not" {
	printf 'stages:\n  a:\n    cmd: echo hi > a.txt\n    outs: [a.txt]\n' > rp.yaml
	run rp repro
	assert_success
	dead=$(sh -c 'echo $$')
	# the lock names a process that is gone, but something still holds it for a moment
	printf '%-20s\n' "$dead" > .rp/lock
	flock .rp/lock sh -c 'touch held; sleep 1.2' &
	BG_PID=$!
	wait_for held
	start=$(date +%s%N)
	run rp repro
	assert_success
	[ $(( ($(date +%s%N) - start) / 1000000 )) -ge 300 ]
	wait "$BG_PID"
	BG_PID=
	# a holder that is alive: refused at once, naming it
	printf '%-20s\n' "$$" > .rp/lock
	flock .rp/lock sh -c 'touch held2; sleep 1' &
	BG_PID=$!
	wait_for held2
	run rp repro
	assert_failure
	assert_output --partial "another rp process (pid $$) is running"
}
