#!/usr/bin/env bats
# A run killed with SIGKILL at random moments loses nothing that finished
# and leaves the store and the lock valid (issue: nothing lost).

load helpers

write_pipeline() {
	{
		echo "stages:"
		for i in $(seq 1 12); do
			echo "  s$i:"
			echo "    cmd: sleep 0.02 && echo round-\${round}-$i > out/$i.txt"
			if [ "$i" -gt 1 ]; then echo "    deps: [out/$((i - 1)).txt]"; fi
			echo "    params: [round]"
			echo "    outs: [out/$i.txt]"
		done
	} > rp.yaml
	mkdir -p out
}

@test "rp repro killed 50 times at random moments always recovers" {
	write_pipeline
	for round in $(seq 1 50); do
		echo "round: $round" > params.yaml
		# its own session, so the kill takes the stage commands too, as a crash would
		setsid rp -q repro -j 2 >/dev/null 2>&1 &
		pid=$!
		sleep "0.$(( (RANDOM % 40) + 1 ))"
		pkill -9 -s "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true

		# the lock names only finished stages: every object it references exists
		run rp checkout --force
		[ "$status" -eq 0 ] || { echo "round $round: checkout after kill: $output"; false; }
		run rp repro
		[ "$status" -eq 0 ] || { echo "round $round: repro after kill: $output"; false; }
		run rp status
		[ "$status" -eq 0 ] || { echo "round $round: status after repro: $output"; false; }
		[ "$(cat out/12.txt)" = "round-$round-12" ]
	done
	run rp cache verify
	assert_success
	# nothing left behind: no temp files beside outputs, no stray journal base
	run find out -name '.*'
	assert_output ""
}

@test "a kill during a run keeps the stages that finished before it" {
	cat > rp.yaml <<'EOF2'
stages:
  first:
    cmd: echo one > one.txt
    outs: [one.txt]
  second:
    cmd: touch started && sleep 30 && echo two > two.txt
    deps: [one.txt]
    outs: [two.txt]
EOF2
	setsid rp repro >/dev/null 2>&1 &
	pid=$!
	for _ in $(seq 1 100); do [ -e started ] && break; sleep 0.05; done
	[ -e started ]
	pkill -9 -s "$pid"
	wait "$pid" 2>/dev/null || true
	run rp status
	assert_failure 1
	refute_output --partial "first:"
	assert_output --partial "second:"
	run rp repro --dry-run
	assert_output --partial "Would run stage 'second'"
	refute_output --partial "Would run stage 'first'"
}

@test "the commands of a stage do not outlive an rp that was killed" {
	cat > rp.yaml <<'EOF2'
stages:
  slow:
    cmd: touch started && sleep 30.4242 && echo late > late.txt
    outs: [late.txt]
EOF2
	rp repro >/dev/null 2>&1 3>&- &
	pid=$!
	for _ in $(seq 1 100); do [ -e started ] && break; sleep 0.05; done
	[ -e started ]
	kill -9 "$pid"
	wait "$pid" 2>/dev/null || true
	# the stage's shell and the sleep under it die with rp (see exec.c)
	for _ in $(seq 1 100); do
		pgrep -f "sleep 30.4242" >/dev/null || break
		sleep 0.05
	done
	run pgrep -f "sleep 30.4242"
	pkill -9 -f "sleep 30.4242" || true
	assert_failure
	[ ! -e late.txt ]
}
