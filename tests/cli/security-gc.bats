#!/usr/bin/env bats
# security-gc.bats - 'rp gc' never costs data it was not asked to delete
# (issue 9, sections 2 and 3).
#
# - A store shared by two workspaces (cache.dir) is safe under concurrent gc:
#   gc in A and repro in B run in loops on one store, and no lock of B
#   (rp.lock or .rp/lock.journal) ever names a missing object, with the
#   default, symlink and hardlink cache types (the store's lease,
#   rp.lock(5) "THE STORE AND GC"). RP_GC_STRESS_ITERATIONS sets the
#   iterations per type (default 200, what the issue requires).
# - gc waits for a writer of another workspace, a writer waits for gc, both
#   say so; --keep LOCK keeps that workspace's journal too.
# - --all-revs sees the rp.lock of a side branch that a '-s ours' merge hid.
# - gc without a scope deletes nothing, says what --workspace would delete
#   and exits 2.
# - gc deletes only from a store this workspace created or the user listed
#   in their own config (stores.gc), never from one that a repository's
#   .rp/config points at.

bats_require_minimum_version 1.5.0
load helpers
load fixtures/c-lib

: "${RP_GC_STRESS_ITERATIONS:=200}"

teardown() {
	# stop whatever a test left in the background
	touch "$BATS_TEST_TMPDIR/stop" "$BATS_TEST_TMPDIR/release"
	if [ -n "${BG_PIDS:-}" ]; then
		wait $BG_PIDS 2>/dev/null || true
	fi
}

# two_on_one_store TYPE: workspaces $A and $B on the store $STORE, which A's
# rp created (so A's gc may delete from it), with cache type TYPE (empty:
# the default). B has one tiny stage: a file out and a directory out made
# from v.txt.
two_on_one_store() {
	STORE="$BATS_TEST_TMPDIR/store"
	A="$BATS_TEST_TMPDIR/A"
	B="$BATS_TEST_TMPDIR/B"
	for w in "$A" "$B"; do
		mkdir -p "$w/.rp"
		printf 'cache:\n  dir: %s\n' "$STORE" > "$w/.rp/config"
		[ -z "$1" ] || printf '  type: %s\n' "$1" >> "$w/.rp/config"
	done
	# one shell per run, so that an iteration is cheap
	cat > "$B/rp.yaml" <<-'EOF'
	stages:
	  one:
	    cmd: mkdir -p d && read -r l < v.txt && echo "$l" > a.txt && echo "$l" > d/x && echo "two $l" > d/y
	    deps: [v.txt]
	    outs: [a.txt, d]
	EOF
	(cd "$A" && rp gc --dry-run >/dev/null)
}

# object HASH: the path of object HASH in $STORE.
object() {
	echo "$STORE/objects/${1:0:2}/${1:2}"
}

# lock_hashes DIR: the object hashes that DIR's rp.lock and journal name.
lock_hashes() {
	local line
	if [ -f "$1/rp.lock" ]; then
		while read -r line; do
			[[ $line =~ ^hash:\ ([0-9a-f]{64})$ ]] && echo "${BASH_REMATCH[1]}"
		done < "$1/rp.lock"
	fi
	if [ -f "$1/.rp/lock.journal" ]; then
		grep -oE '"hash": *"[0-9a-f]{64}"' "$1/.rp/lock.journal" | grep -oE '[0-9a-f]{64}'
	fi
}

# objects_present DIR: every object DIR's locks name is in $STORE, and so is
# every object the directory manifests among them list (shell built-ins
# only: this runs once per iteration).
objects_present() {
	local h m rest o
	for h in $(lock_hashes "$1"); do
		o="$STORE/objects/${h:0:2}/${h:2}"
		[ -f "$o" ] || { echo "object $h named by $1's lock is missing"; return 1; }
		# a manifest: "<hash> <size> <mode> <path>" lines
		while read -r m rest; do
			[[ $m =~ ^[0-9a-f]{64}$ && $rest =~ ^[0-9]+\ [0-7]+\  ]] || break
			[ -f "$STORE/objects/${m:0:2}/${m:2}" ] ||
				{ echo "object $m of manifest $h is missing"; return 1; }
		done < "$o"
	done
}

# outs_sound TYPE: B's outputs are there, right, and linked as TYPE says.
outs_sound() {
	local v a x y
	read -r v < "$B/v.txt"
	read -r a < "$B/a.txt" && [ "$a" = "$v" ] || { echo "B/a.txt is gone or wrong"; return 1; }
	read -r x < "$B/d/x" && [ "$x" = "$v" ] || { echo "B/d/x is gone or wrong"; return 1; }
	read -r y < "$B/d/y" && [ "$y" = "two $v" ] || { echo "B/d/y is gone or wrong"; return 1; }
	case "$1" in
	symlink)
		[ -L "$B/a.txt" ] && [ -L "$B/d/x" ] || { echo "B's outputs are not links"; return 1; } ;;
	hardlink)
		[ "$(stat -c %h "$B/a.txt" "$B/d/x" "$B/d/y" | sort -n | head -1)" -ge 2 ] ||
			{ echo "B's outputs are no longer linked to the store"; return 1; } ;;
	esac
}

# repro_loop TYPE N: N times, a new v.txt and rp repro in B; after each run
# every object B's locks name must be in the store and B's outputs sound.
repro_loop() {
	local i
	for i in $(seq "$2"); do
		# values come back (objects that gc just found unused are wanted
		# again) and new ones appear
		echo "v $((i % 4)) $((i % 7))" > "$B/v.txt"
		rp -f "$B/rp.yaml" repro >/dev/null 2>&1 || { echo "iteration $i: repro failed"; return 1; }
		objects_present "$B" || { echo "iteration $i"; return 1; }
		outs_sound "$1" || { echo "iteration $i"; return 1; }
		# (rp status calls a directory of symlinks missing, even with no gc)
		if [ $((i % 10)) = 0 ] && [ "$1" != symlink ]; then
			(cd "$B" && rp status >/dev/null 2>&1) || { echo "iteration $i: B is not clean"; return 1; }
		fi
	done
}

# gc_loop: rp gc in A, keeping B's lock, until $BATS_TEST_TMPDIR/stop exists.
gc_loop() {
	while [ ! -e "$BATS_TEST_TMPDIR/stop" ]; do
		rp -f "$A/rp.yaml" gc --keep "$B/rp.lock" || echo "gc failed: $?"
		# leave B most of the two cores (about one gc per two repros)
		sleep 0.1
	done
}

# stress TYPE: gc_loop in the background while repro_loop runs
# RP_GC_STRESS_ITERATIONS times. The loops run in a plain bash, without the
# trap bats sets on every command, which made each iteration 3 times slower.
stress() {
	local deleted fns
	two_on_one_store "$1"
	export A B STORE BATS_TEST_TMPDIR
	fns="$(declare -f lock_hashes objects_present outs_sound repro_loop gc_loop)"
	echo "v 0" > "$B/v.txt"
	(cd "$B" && rp repro >/dev/null)
	bash -c "$fns; gc_loop" > "$BATS_TEST_TMPDIR/gc.log" 2>&1 &
	BG_PIDS=$!
	bash -c "$fns; repro_loop '$1' '$RP_GC_STRESS_ITERATIONS'"
	touch "$BATS_TEST_TMPDIR/stop"
	wait $BG_PIDS
	BG_PIDS=
	! grep -q "gc failed" "$BATS_TEST_TMPDIR/gc.log" || { cat "$BATS_TEST_TMPDIR/gc.log"; return 1; }
	# gc did delete, all along: the test would prove nothing otherwise
	deleted=$(sed -n 's/^deleted \([0-9]*\) objects.*/\1/p' "$BATS_TEST_TMPDIR/gc.log" |
		awk '{ s += $1 } END { print s + 0 }')
	echo "${1:-copy}: $RP_GC_STRESS_ITERATIONS iterations, gc ran $(grep -c '^deleted' "$BATS_TEST_TMPDIR/gc.log") times, deleted $deleted objects" >&3
	[ "$deleted" -gt 0 ]
	# and what B's lock names checks out from scratch
	rm -rf "$B/a.txt" "$B/d"
	(cd "$B" && rp checkout >/dev/null)
	outs_sound "$1"
	[ "$1" = symlink ] || (cd "$B" && rp status >/dev/null)
	(cd "$B" && rp cache verify >/dev/null)
}

@test "gc in one workspace never deletes what a concurrent repro in another records (copies)" {
	stress ""
}

@test "gc in one workspace never deletes what a concurrent repro in another records (symlinks)" {
	stress symlink
}

@test "gc in one workspace never deletes what a concurrent repro in another records (hardlinks)" {
	stress hardlink
}

# blocking_second_stage: B's stage 'two' waits for $BATS_TEST_TMPDIR/release.
blocking_second_stage() {
	cat > "$B/rp.yaml" <<-EOF
	stages:
	  one:
	    cmd: cp v.txt a.txt
	    deps: [v.txt]
	    outs: [a.txt]
	  two:
	    cmd: echo \$\$ > two.pid; while [ ! -e '$BATS_TEST_TMPDIR/release' ]; do sleep 0.02; done; cp a.txt b.txt
	    deps: [a.txt]
	    outs: [b.txt]
	EOF
}

# has_text FILE [PATTERN]: FILE is not empty (and has a line matching PATTERN).
has_text() {
	[ -s "$1" ] && { [ -z "${2:-}" ] || grep -q -- "$2" "$1"; }
}

# wait_for_text FILE [PATTERN]: until has_text FILE PATTERN, at most 10 s.
wait_for_text() {
	wait_until 10 has_text "$@"
}

@test "gc --keep LOCK keeps what that workspace's journal names (a killed run's finished stages)" {
	two_on_one_store ""
	blocking_second_stage
	echo "v 1" > "$B/v.txt"
	touch "$BATS_TEST_TMPDIR/release"
	(cd "$B" && rp repro >/dev/null)
	rm "$BATS_TEST_TMPDIR/release" "$B/two.pid"
	echo "v 2" > "$B/v.txt"
	(cd "$B" && exec rp repro > "$BATS_TEST_TMPDIR/repro.log" 2>&1) &
	rp_pid=$!
	BG_PIDS=$rp_pid
	wait_for_text "$B/two.pid"
	kill -9 "$rp_pid"
	touch "$BATS_TEST_TMPDIR/release"
	wait "$rp_pid" || true
	BG_PIDS=
	v2=$(hash_of "$B/a.txt")
	# stage 'one' of the killed run is only in the journal
	run ! grep -q "$v2" "$B/rp.lock"
	grep -q "$v2" "$B/.rp/lock.journal"
	run rp -f "$A/rp.yaml" gc --keep "$B/rp.lock"
	assert_success
	[ -f "$(object "$v2")" ]
	objects_present "$B"
	rm "$B/a.txt"
	run rp -f "$B/rp.yaml" checkout
	assert_success
	assert_equal "$(cat "$B/a.txt")" "v 2"
}

@test "gc waits for a repro of another workspace on the same store, says so, and keeps its outputs" {
	two_on_one_store ""
	blocking_second_stage
	echo "v 1" > "$B/v.txt"
	(cd "$B" && exec rp repro > "$BATS_TEST_TMPDIR/repro.log" 2>&1) &
	rp_pid=$!
	BG_PIDS=$rp_pid
	wait_for_text "$B/two.pid"
	(cd "$A" && exec rp gc --keep "$B/rp.lock" > "$BATS_TEST_TMPDIR/gc.log" 2>&1) &
	gc_pid=$!
	BG_PIDS="$rp_pid $gc_pid"
	wait_for_text "$BATS_TEST_TMPDIR/gc.log" "waiting for the rp processes using the store"
	grep -q "pid $rp_pid" "$BATS_TEST_TMPDIR/gc.log"
	kill -0 "$gc_pid"
	touch "$BATS_TEST_TMPDIR/release"
	wait "$rp_pid"
	wait "$gc_pid"
	BG_PIDS=
	objects_present "$B"
	run rp -f "$B/rp.yaml" status
	assert_success
}

@test "a command on a store that gc holds waits for it and says so" {
	two_on_one_store ""
	echo "v 1" > "$B/v.txt"
	(cd "$B" && rp repro >/dev/null)
	# a gc that holds the gate (as gc does while it waits and deletes)
	flock -x "$STORE/gc.lock" sh -c "echo held > '$BATS_TEST_TMPDIR/held'; while [ ! -e '$BATS_TEST_TMPDIR/release' ]; do sleep 0.02; done" &
	BG_PIDS=$!
	wait_for_text "$BATS_TEST_TMPDIR/held"
	(cd "$B" && exec rp status > "$BATS_TEST_TMPDIR/status.log" 2>&1) &
	st_pid=$!
	BG_PIDS="$BG_PIDS $st_pid"
	wait_for_text "$BATS_TEST_TMPDIR/status.log" "waiting for 'rp gc'"
	kill -0 "$st_pid"
	touch "$BATS_TEST_TMPDIR/release"
	wait "$st_pid"
	BG_PIDS=
}

@test "gc started by a stage of an rp on the same store refuses instead of waiting forever" {
	two_on_one_store ""
	cat > "$B/rp.yaml" <<-EOF
	stages:
	  one:
	    cmd: rp -f '$A/rp.yaml' gc --workspace > gc.out 2>&1; echo \$? > gc.rc; touch a.txt
	    outs: [a.txt]
	EOF
	run timeout 20 rp -f "$B/rp.yaml" repro
	assert_success
	assert_equal "$(cat "$B/gc.rc")" 2
	run cat "$B/gc.out"
	assert_output --partial "from a stage of an rp that uses it"
}

# ---- --all-revs -----------------------------------------------------------

@test "gc --all-revs keeps the rp.lock of a side branch that a '-s ours' merge hid" {
	git_init
	printf 'build/\nruns-*.log\n' > .gitignore
	use_chunk
	rp repro >/dev/null
	git_commit "size 10"
	git checkout -q -b side
	set_size 20
	rp repro >/dev/null
	side_chunks=$(hash_of build/chunks.txt)
	git_commit "size 20"
	side=$(git rev-parse HEAD)
	git checkout -q main
	git merge -q -s ours --no-edit side
	git branch -q -D side
	# only the merge's second parent leads to it now, not even a reflog
	git reflog expire --expire=now --all
	set_size 30
	rp repro >/dev/null
	run rp gc --all-revs
	assert_success
	[ -f "$(object_of "$side_chunks")" ]
	run rp checkout --rev "$side"
	assert_success
	assert_equal "$(hash_of build/chunks.txt)" "$side_chunks"
}

# ---- no scope -------------------------------------------------------------

@test "gc without a scope deletes nothing, says what --workspace would delete and exits 2" {
	use_chunk
	rp repro >/dev/null
	old=$(hash_of build/chunks.txt)
	set_size 20
	rp repro >/dev/null
	before=$(find .rp/cache -type f | sort)
	run rp gc
	assert_failure 2
	assert_output --partial "would delete 2 objects ("
	assert_output --partial "--workspace"
	assert_output --partial "--all-revs"
	assert_output --partial "--force"
	assert_equal "$(find .rp/cache -type f | sort)" "$before"
	[ -f "$(object_of "$old")" ]
	run rp gc --force
	assert_success
	assert_output --partial "deleted 2 objects"
	[ ! -e "$(object_of "$old")" ]
}

# ---- whose store ----------------------------------------------------------

# victim_and_clone: $V, a project with outputs in its own .rp/cache, and the
# current workspace, a clone whose .rp/config points cache.dir at V's store.
victim_and_clone() {
	V="$BATS_TEST_TMPDIR/victim"
	mkdir -p "$V"
	(cd "$V" && use_chunk && rp repro >/dev/null)
	VBEFORE=$(cd "$V" && find .rp/cache/objects -type f | sort)
	use_chunk
	set_size 20
	mkdir -p .rp
	printf 'cache:\n  dir: %s\n' "$V/.rp/cache" > .rp/config
}

@test "gc refuses to delete from another project's store that a repository's config names" {
	victim_and_clone
	run rp gc --workspace
	assert_failure 2
	assert_output --partial "refusing to delete from the store '$V/.rp/cache'"
	assert_output --partial "stores: gc:"
	assert_output --partial "$HOME/.config/rp/config"
	assert_equal "$(cd "$V" && find .rp/cache/objects -type f | sort)" "$VBEFORE"
	run rp -f "$V/rp.yaml" status
	assert_success
}

@test "gc refuses a store reached through a symbolic link named .rp/cache" {
	victim_and_clone
	rm .rp/config
	ln -s "$V/.rp/cache" .rp/cache
	run rp gc --workspace
	assert_failure 2
	assert_output --partial "refusing to delete"
	assert_equal "$(cd "$V" && find .rp/cache/objects -type f | sort)" "$VBEFORE"
}

@test "gc deletes from a store outside the workspace that the user's own config lists" {
	victim_and_clone
	user_config "$(printf 'stores:\n  gc:\n    - %s' "$V/.rp/cache")"
	run rp gc --workspace
	assert_success
	# this clone has run nothing: it keeps nothing of the victim's
	assert_output --partial "deleted 5 objects"
	assert_equal "$(cd "$V" && find .rp/cache/objects -type f)" ""
}

@test "gc deletes from a store outside the workspace that this workspace's rp created" {
	mkdir -p .rp
	printf 'cache:\n  dir: %s\n' "$BATS_TEST_TMPDIR/mine" > .rp/config
	use_chunk
	rp repro >/dev/null
	old=$(hash_of build/chunks.txt)
	set_size 20
	rp repro >/dev/null
	assert_equal "$(cat "$BATS_TEST_TMPDIR/mine/creator")" "$PWD"
	run rp gc --workspace
	assert_success
	assert_output --partial "deleted 2 objects"
	[ ! -e "$BATS_TEST_TMPDIR/mine/objects/${old:0:2}/${old:2}" ]
	# and another workspace on that store may not, unless its user says so
	mkdir -p "$BATS_TEST_TMPDIR/other/.rp"
	cp .rp/config "$BATS_TEST_TMPDIR/other/.rp/config"
	run rp -f "$BATS_TEST_TMPDIR/other/rp.yaml" gc --workspace
	assert_failure 2
	assert_output --partial "created by the workspace '$PWD'"
}
