#!/usr/bin/env bats
# A run killed with SIGKILL at random moments loses nothing that finished
# and leaves the store and the lock valid (issue: nothing lost).

load helpers

# The chain s1 -> ... -> s12; stage i first creates marks/i-ROUND (it has
# started), sleeps 0.05 s (the last one 0.3 s, so that a test slowed down by
# a loaded machine still sees its start before it ends), then writes
# out/i.txt (it has finished).
write_pipeline() {
	local t
	{
		echo "stages:"
		for i in $(seq 1 12); do
			t=0.05
			[ "$i" -lt 12 ] || t=0.3
			echo "  s$i:"
			echo "    cmd: touch marks/$i-\${round} && sleep $t && echo round-\${round}-$i > out/$i.txt"
			if [ "$i" -gt 1 ]; then echo "    deps: [out/$((i - 1)).txt]"; fi
			echo "    params: [round]"
			echo "    outs: [out/$i.txt]"
		done
	} > rp.yaml
	mkdir -p out marks
}

# kill_session PID: SIGKILLs the session PID leads (rp, its watchdog and the
# stage commands, as a crash would take them) and reaps PID; sets
# KILLED_STATUS to PID's exit status, 137 when the kill is what ended it.
kill_session() {
	pkill -9 -s "$1" 2>/dev/null || true
	KILLED_STATUS=0
	wait "$1" 2>/dev/null || KILLED_STATUS=$?
}

@test "rp repro killed 50 times at random moments always recovers" {
	write_pipeline
	for round in $(seq 1 50); do
		echo "round: $round" > params.yaml
		# its own session, so the kill takes the stage commands too, as a crash
		# would; the kill lands a random moment after stage K has started:
		# while K runs, while rp records it, or while K+1 starts
		setsid rp -q repro -j 2 >/dev/null 2>&1 &
		pid=$!
		k=$(( (RANDOM % 12) + 1 ))
		wait_for "marks/$k-$round"
		[ "$k" -lt 12 ] && sleep "0.0$(( RANDOM % 8 ))"
		last=$(cat out/12.txt 2>/dev/null || true)
		kill_session "$pid"
		# it landed mid-run: stage K had started, the last stage had not
		# finished just before the kill, and rp was still running
		[ "$last" != "round-$round-12" ] ||
			{ echo "round $round: the run finished before the kill"; false; }
		[ "$KILLED_STATUS" -eq 137 ] || { echo "round $round: rp ended ($KILLED_STATUS) before the kill"; false; }

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
	wait_for started
	kill_session "$pid"
	# mid-run: second had started and had not finished
	assert_equal "$KILLED_STATUS" 137
	[ ! -e two.txt ]
	run rp status
	assert_failure 1
	refute_output --partial "first:"
	assert_output --partial "second:"
	run rp repro --dry-run
	assert_output --partial "Would run stage 'second'"
	refute_output --partial "Would run stage 'first'"
}

@test "the commands of a stage do not outlive an rp that was killed" {
	# the stage's shell and the sleep under it write their pids
	cat > rp.yaml <<'EOF2'
stages:
  slow:
    cmd: echo $$ > shell.pid && sh -c 'echo $$ > sleep.pid && exec sleep 30' && echo late > late.txt
    outs: [late.txt]
EOF2
	rp repro >/dev/null 2>&1 3>&- &
	pid=$!
	wait_for sleep.pid
	shell_pid=$(cat shell.pid)
	sleep_pid=$(cat sleep.pid)
	kill -0 "$sleep_pid"
	kill -9 "$pid"
	KILLED_STATUS=0
	wait "$pid" 2>/dev/null || KILLED_STATUS=$?
	# mid-run: the stage had started and had not finished
	assert_equal "$KILLED_STATUS" 137
	[ ! -e late.txt ]
	# the stage's shell and the sleep under it die with rp (see exec.c)
	gone=yes
	wait_pid_gone "$shell_pid" || gone="no: shell $shell_pid"
	wait_pid_gone "$sleep_pid" || gone="no: sleep $sleep_pid"
	kill -9 "$shell_pid" "$sleep_pid" 2>/dev/null || true
	assert_equal "$gone" yes
	[ ! -e late.txt ]
}
