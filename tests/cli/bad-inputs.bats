#!/usr/bin/env bats
# Bad inputs: paths that leave the workspace (by name or through a symlink),
# dangling symlinks, missing params, hostile YAML, corrupt store objects and a
# full disk. Each ends in a clean exit with a message that names the problem,
# and rp never writes outside the workspace nor loses what it had.
# (Plain `..` and absolute paths in rp.yaml are in repro-errors.bats; bad
# vectors files in tests/unit/test-vectors.c, as no rp command reads them.)

load helpers
load fixtures/b-lib

teardown() {
	b_teardown
}

# ---- paths that leave the workspace ----------------------------------------

@test "every other way of naming a path above the workspace is a usage error" {
	mkdir sub
	printf 'stages:\n  a:\n    cmd: echo\n    outs: [/tmp/rp-escape.txt]\n' > rp.yaml
	run rp repro
	assert_failure 2
	assert_output --partial "rp.yaml:4:12: stage 'a': path '/tmp/rp-escape.txt' leaves the workspace"
	printf 'stages:\n  a:\n    cmd: echo\n    deps: [sub/../../x]\n' > rp.yaml
	run rp repro
	assert_failure 2
	assert_output --partial "rp.yaml:4:12: stage 'a': path 'sub/../../x' leaves the workspace"
	printf 'stages:\n  a:\n    cmd: echo\n    wdir: sub/../..\n' > rp.yaml
	run rp repro
	assert_failure 2
	assert_output --partial "rp.yaml:4:11: stage 'a': path 'sub/../..' leaves the workspace"
	printf 'stages:\n  a:\n    cmd: echo\n    params:\n    - ../p.yaml: [x]\n' > rp.yaml
	run rp repro
	assert_failure 2
	assert_output --partial "rp.yaml:5:7: stage 'a': path '../p.yaml' leaves the workspace"
	[ ! -e /tmp/rp-escape.txt ]
}

@test "a path in rp's own .rp directory is a usage error" {
	printf 'stages:\n  a:\n    cmd: echo x >> runs-a.log\n    outs: [.rp]\n' > rp.yaml
	run rp repro
	assert_failure 2
	assert_output --partial "rp.yaml:4:12: stage 'a': path '.rp' is in rp's own directory '.rp'"
	printf 'stages:\n  a:\n    cmd: echo x >> runs-a.log\n    outs: [./x/../.rp/state.db]\n' > rp.yaml
	run rp repro
	assert_failure 2
	assert_output --partial "is in rp's own directory '.rp', which holds the store; use a path outside it"
	[ -f .rp/state.db ]
	[ "$(runs_of runs-a.log)" -eq 0 ]
}

@test "a dep read through a symlinked directory that points outside is a usage error" {
	ln -s /etc data
	printf 'stages:\n  a:\n    cmd: echo x >> runs-a.log; cp data/passwd p.txt\n    deps: [data/passwd]\n    outs: [p.txt]\n' > rp.yaml
	run rp repro
	assert_failure 2
	assert_output --partial "rp.yaml:4:12: stage 'a': dependency 'data/passwd' is read through the symlink 'data', which leads outside the workspace (or into '.rp'), to '/etc'; copy the data into the workspace or make the link point inside it"
	[ "$(runs_of runs-a.log)" -eq 0 ]
	run rp status
	assert_failure 2
	assert_output --partial "dependency 'data/passwd' is read through the symlink 'data'"
}

@test "a dep that is a symlink to a file outside is a usage error" {
	ln -s /etc/hostname host
	printf 'stages:\n  a:\n    cmd: echo x >> runs-a.log\n    deps: [host]\n' > rp.yaml
	run rp repro
	assert_failure 2
	assert_output --partial "rp.yaml:4:12: stage 'a': dependency 'host' is read through the symlink 'host', which leads outside the workspace (or into '.rp'), to '/etc/hostname'"
	[ "$(runs_of runs-a.log)" -eq 0 ]
}

@test "an output under a symlinked directory that points outside is refused and nothing is written there" {
	mkdir "$BATS_TEST_TMPDIR/outside"
	ln -s "$BATS_TEST_TMPDIR/outside" out
	printf 'stages:\n  a:\n    cmd: echo hi > out/x.txt\n    outs: [out/x.txt]\n' > rp.yaml
	run rp repro
	assert_failure 2
	assert_output --partial "rp.yaml:4:12: stage 'a': output 'out/x.txt' would be written through the symlink 'out', which leads outside the workspace (or into '.rp'), to '$BATS_TEST_TMPDIR/outside'; rp never writes there: remove the link or make it point inside"
	[ -z "$(ls -A "$BATS_TEST_TMPDIR/outside")" ]
	[ ! -e rp.lock ]
}

@test "an output through a symlink into .rp is refused" {
	ln -s .rp/cache c
	printf 'stages:\n  a:\n    cmd: echo hi > c/x\n    outs: [c/x]\n' > rp.yaml
	run rp repro
	assert_failure 2
	assert_output --partial "output 'c/x' would be written through the symlink 'c'"
	[ ! -e .rp/cache/x ]
}

@test "symlinks that stay inside the workspace are followed as before" {
	mkdir real && echo data > real/in.txt
	ln -s real link
	ln -s ../real/in.txt real/alias.txt
	printf 'stages:\n  a:\n    cmd: cat link/in.txt real/alias.txt > link/out.txt\n    deps: [link/in.txt, real/alias.txt]\n    outs: [link/out.txt]\n' > rp.yaml
	run rp repro
	assert_success
	assert_equal "$(cat real/out.txt)" "$(printf 'data\ndata')"
	run rp status
	assert_success
}

@test "a dependency that is a dangling symlink is named as such" {
	ln -s nowhere.txt dangling
	printf 'stages:\n  a:\n    cmd: echo x >> runs-a.log\n    deps: [dangling]\n' > rp.yaml
	run rp repro
	assert_failure 2
	assert_output --partial "rp.yaml:4:12: stage 'a': dependency 'dangling' does not exist: it is a dangling symlink to 'nowhere.txt'; fix the link or remove the dependency"
	[ "$(runs_of runs-a.log)" -eq 0 ]
}

# a lock whose only out was edited to PATH
edited_lock() {
	printf 'stages:\n  a:\n    cmd: echo hi > a.txt\n    outs: [a.txt]\n' > rp.yaml
	rp repro >/dev/null
	rm a.txt
	sed -i "s#path: a.txt#path: $1#" rp.lock
}

@test "checkout of a lock whose path climbs out of the workspace is refused and writes nothing" {
	mkdir -p "$BATS_TEST_TMPDIR/outside"
	edited_lock ../outside/x.txt
	run rp checkout
	assert_failure 2
	assert_output --partial "rp.lock:7:13: path '../outside/x.txt' leaves the workspace or names rp's own '.rp'; rp will not touch it; the lock file is written by rp: restore it from git or delete it and run 'rp repro'"
	[ -z "$(ls -A "$BATS_TEST_TMPDIR/outside")" ]
	# repro and status read the same lock: same refusal
	run rp repro
	assert_failure 2
	assert_output --partial "rp.lock:7:13: path '../outside/x.txt' leaves the workspace"
	run rp status
	assert_failure 2
}

@test "checkout of a lock with an absolute path or a path into .rp is refused and writes nothing" {
	edited_lock "$BATS_TEST_TMPDIR/abs.txt"
	run rp checkout
	assert_failure 2
	assert_output --partial "rp.lock:7:13: path '$BATS_TEST_TMPDIR/abs.txt' leaves the workspace"
	[ ! -e "$BATS_TEST_TMPDIR/abs.txt" ]
	sed -i "s#path: .*abs.txt#path: .rp/state.db#" rp.lock
	cp .rp/state.db state.before
	run rp checkout
	assert_failure 2
	assert_output --partial "path '.rp/state.db' leaves the workspace or names rp's own '.rp'"
	cmp .rp/state.db state.before
}

@test "checkout through a symlinked directory that points outside is refused and writes nothing" {
	mkdir "$BATS_TEST_TMPDIR/outside"
	printf 'stages:\n  a:\n    cmd: mkdir -p d; echo hi > d/x.txt\n    outs: [d/x.txt]\n' > rp.yaml
	rp repro >/dev/null
	rm -r d
	ln -s "$BATS_TEST_TMPDIR/outside" d
	run rp checkout
	assert_failure 2
	assert_output --partial "rp.lock: stage 'a': path 'd/x.txt' goes through the symlink 'd', which leads outside the workspace (or into '.rp'), to '$BATS_TEST_TMPDIR/outside'; nothing was changed"
	[ -z "$(ls -A "$BATS_TEST_TMPDIR/outside")" ]
}

# ---- params --------------------------------------------------------------------
# (a key missing from params.yaml, and a missing params file: repro-errors.bats)

@test "a params key missing from a named params file, or below a scalar, says how to fix it" {
	echo 'a: 1' > params.yaml
	echo 'x: {y: 2}' > other.yaml
	printf 'stages:\n  s:\n    cmd: echo\n    params:\n    - other.yaml: [x.z]\n' > rp.yaml
	run rp repro
	assert_failure 2
	assert_output --partial "rp.yaml:5:20: stage 's': parameter 'x.z' is not defined in 'other.yaml'; add it there or remove it from 'params'"
	printf 'stages:\n  s:\n    cmd: echo\n    params: [a.b]\n' > rp.yaml
	run rp repro
	assert_failure 2
	assert_output --partial "rp.yaml:4:14: stage 's': parameter 'a.b' is not defined in 'params.yaml'; add it there"
}

# ---- hostile YAML ------------------------------------------------------------------
# Limits (see doc.h): 32 MiB per YAML file, 1,000,000 nodes, 256 levels.

@test "a 50 MB pipeline file is refused at once" {
	{ printf 'stages:\n  a:\n    cmd: echo '; head -c 50000000 /dev/zero | tr '\0' x; echo; } > rp.yaml
	SECONDS=0
	run rp repro
	assert_failure 2
	assert_output --partial "rp.yaml: file too large (more than 32 MiB) for a YAML file"
	[ "$SECONDS" -lt 5 ]
}

@test "a pipeline file with 2 million keys is refused quickly" {
	# about 22 MB: under the size limit, so the node limit is what stops it
	{ printf 'stages:\n  a:\n    cmd: echo\n'; seq -f 'k%.0f: 1' 1 2000000; } > rp.yaml
	SECONDS=0
	run rp repro
	assert_failure 2
	assert_output --regexp "rp\.yaml:[0-9]+:[0-9]+: document too large \(more than 1000000 nodes\)"
	[ "$SECONDS" -lt 10 ]
}

@test "a vars file that never ends is refused, not read into memory" {
	printf 'vars: [/dev/zero]\nstages:\n  a:\n    cmd: echo\n' > rp.yaml
	SECONDS=0
	run rp repro
	assert_failure 2
	assert_output --partial "/dev/zero: file too large (more than 32 MiB) for a YAML file"
	[ "$SECONDS" -lt 5 ]
}

@test "random bytes and NUL bytes are refused with their position" {
	head -c 4096 /dev/urandom > rp.yaml
	run rp repro
	assert_failure 2
	assert_output --regexp "rp: error: rp\.yaml:[0-9]+:[0-9]+: "
	head -c 1000 /dev/zero > rp.yaml
	run rp repro
	assert_failure 2
	assert_output --partial "rp.yaml:1:1: control characters are not allowed"
	printf 'stages:\n  a:\n    cmd: echo\x00hi\n' > rp.yaml
	run rp repro
	assert_failure 2
	assert_output --partial "rp.yaml:3:14: control characters are not allowed"
	printf '\xff\xfe\x00s\x00' > rp.yaml
	run rp repro
	assert_failure 2
	assert_output --regexp "rp\.yaml:1:[0-9]+: "
}

@test "10,000 levels of nesting are refused at the 257th" {
	{ printf 'stages: '; head -c 10000 /dev/zero | tr '\0' '['; echo; } > rp.yaml
	run rp repro
	assert_failure 2
	assert_output --partial "rp.yaml:1:264: nested too deeply (more than 256 levels)"
	{ printf 'stages: '; for i in $(seq 10000); do printf '{a: '; done; echo; } > rp.yaml
	run rp repro
	assert_failure 2
	assert_output --partial "nested too deeply (more than 256 levels)"
	{ printf 'stages: '; head -c 10000 /dev/zero | tr '\0' '['; head -c 10000 /dev/zero | tr '\0' ']'; echo; } > rp.yaml
	run rp repro
	assert_failure 2
	assert_output --partial "nested too deeply (more than 256 levels)"
}

@test "a billion-laughs alias bomb is refused quickly, in rp.yaml, params.yaml and rp.lock" {
	cp "$FIXTURES/b-bomb.yaml" rp.yaml
	SECONDS=0
	run rp repro
	assert_failure 2
	assert_output --partial "rp.yaml:8:8: document too large (alias expansion exceeds 1000000 nodes)"
	printf 'stages:\n  a:\n    cmd: echo\n' > rp.yaml
	grep -v stages "$FIXTURES/b-bomb.yaml" > params.yaml
	run rp repro
	assert_failure 2
	assert_output --partial "params.yaml:8:8: document too large (alias expansion exceeds 1000000 nodes)"
	rm params.yaml
	cp "$FIXTURES/b-bomb.yaml" rp.lock
	run rp status
	assert_failure 2
	assert_output --partial "rp.lock:8:8: document too large (alias expansion exceeds 1000000 nodes)"
	[ "$SECONDS" -lt 10 ]
}

# ---- corrupt store objects -----------------------------------------------------
# (checkout: checkout.bats; rp cache verify: cache-verify.bats)

@test "repro never restores a deleted output from a corrupt object" {
	cp "$FIXTURES/r-chain.yaml" rp.yaml
	echo hello > src.txt
	rp repro >/dev/null
	corrupt a.txt
	rm a.txt
	run rp repro
	assert_failure 1
	assert_output --partial "for 'a.txt' is corrupt (bytes hash to"
	assert_output --partial "run 'rp cache verify --repair', then 'rp repro'"
	if [ -e a.txt ]; then ! grep -q rotten a.txt; fi
	# nothing downstream ran on top of it
	[ "$(runs_of runs-b.log)" -eq 1 ]
	run rp cache verify --repair
	assert_failure 1
	run rp repro
	assert_success
	assert_equal "$(cat a.txt)" hello
	run rp cache verify
	assert_success
}

@test "repro never takes a corrupt object from the run-cache" {
	printf 'stages:\n  a:\n    cmd: echo alpha > a.txt\n    outs: [a.txt]\n' > rp.yaml
	rp repro >/dev/null
	corrupt a.txt
	sed -i 's/alpha/beta/' rp.yaml
	rp repro >/dev/null
	sed -i 's/beta/alpha/' rp.yaml
	run rp repro
	assert_failure 1
	assert_output --partial "is corrupt"
	if [ -e a.txt ]; then ! grep -q rotten a.txt; fi
	run rp cache verify --repair
	run rp repro
	assert_success
	assert_equal "$(cat a.txt)" alpha
}

# ---- a full disk -------------------------------------------------------------------

@test "a stage whose output does not fit on the disk fails; rp.lock and the stored outputs stay intact" {
	small_disk 2m
	cp "$FIXTURES/b-disk.yaml" rp.yaml
	echo 'n: 1000' > params.yaml
	run rp repro
	assert_success
	cp rp.lock "$BATS_TEST_TMPDIR/lock.before"
	cp a.txt b.bin "$BATS_TEST_TMPDIR/"
	fill_disk_leaving 300000
	echo 'n: 600000' > params.yaml
	run rp repro
	assert_failure 1
	assert_output --partial "No space left on device"
	assert_output --partial "stage 'b' failed: its command exited with status"
	cmp rp.lock "$BATS_TEST_TMPDIR/lock.before"
	cmp a.txt "$BATS_TEST_TMPDIR/a.txt"
	no_temp_files .rp
	run rp cache verify
	assert_success
	# after freeing space, the previous b.bin comes back byte for byte...
	rm filler
	run rp checkout --force
	assert_success
	cmp b.bin "$BATS_TEST_TMPDIR/b.bin"
	# ...and the run that did not fit now succeeds
	run rp repro
	assert_success
	[ "$(stat -c %s b.bin)" -eq 600000 ]
	run rp status
	assert_success
}

@test "when the store copy does not fit, rp.lock and the stored objects stay intact" {
	small_disk 2m
	mkdir .rp
	printf 'cache:\n  type: copy\n' > .rp/config
	cp "$FIXTURES/b-disk.yaml" rp.yaml
	echo 'n: 1000' > params.yaml
	run rp repro
	assert_success
	cp rp.lock "$BATS_TEST_TMPDIR/lock.before"
	(cd .rp/cache && find . -type f | sort | xargs sha256sum) > "$BATS_TEST_TMPDIR/objects.before"
	# b.bin fits; its copy into the store does not
	fill_disk_leaving 1000000
	echo 'n: 700000' > params.yaml
	run rp repro
	assert_failure 1
	assert_output --regexp "cannot copy 'b\.bin' to '\.rp/cache/objects/[^']*': No space left on device"
	cmp rp.lock "$BATS_TEST_TMPDIR/lock.before"
	(cd .rp/cache && sha256sum -c --quiet "$BATS_TEST_TMPDIR/objects.before")
	no_temp_files .rp
	run rp cache verify
	assert_success
	rm filler
	run rp repro
	assert_success
	run rp status
	assert_success
	run rp cache verify
	assert_success
}

@test "a file-size limit makes rp's own writes fail with a message instead of killing it" {
	mkdir -p .rp
	printf 'cache:\n  type: copy\n' > .rp/config
	cp "$FIXTURES/b-disk.yaml" rp.yaml
	echo 'n: 1000' > params.yaml
	rp repro >/dev/null
	cp rp.lock lock.before
	# the stage lifts its own soft limit, so only rp's copy into the store hits it
	sed -i 's/cmd: head/cmd: ulimit -S -f unlimited; head/' rp.yaml
	echo 'n: 300000' > params.yaml
	run bash -c 'ulimit -S -f 100; rp repro'
	assert_failure 1
	assert_output --regexp "cannot copy 'b\.bin' to '\.rp/cache/objects/[^']*': File too large"
	refute_output --partial "File size limit exceeded"
	cmp rp.lock lock.before
	no_temp_files .rp
	run rp repro
	assert_success
	run rp cache verify
	assert_success
}

@test "a symlink inside a dep directory that leads outside the workspace is refused" {
	mkdir corpus
	echo hi > corpus/a.txt
	ln -s a.txt corpus/inside.txt
	ln -s /etc/hostname corpus/host
	cat > rp.yaml <<'YAML'
stages:
  s:
    cmd: cat corpus/* > out.txt
    deps: [corpus]
    outs: [out.txt]
YAML
	run rp repro
	assert_failure 1
	assert_output --partial "the symlink 'corpus/host' leads outside the workspace (to '/etc/hostname')"
	[ ! -e out.txt ]
	rm corpus/host
	run rp repro
	assert_success
}
