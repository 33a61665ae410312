#!/usr/bin/env bats
# The workspace is the repository, as in DVC: its root is found upwards from
# the current directory (.rp/, .dvc/ or .git), paths in a dvc.yaml in a
# subfolder start in that folder and may reach anywhere inside the root,
# every dvc.yaml/rp.yaml of the repository is one graph, and rp works from
# any subdirectory. The names, commands and paths asserted are what DVC's
# rules give, written out by hand: a stage of the root's dvc.yaml keeps its
# name, a stage of sub/dvc.yaml is addressed 'sub/dvc.yaml:stage'; a stage
# runs in its wdir, which defaults to its dvc.yaml's folder; its paths are
# relative to that wdir.

load helpers

# two_files_repo: a git repository with two pipeline files in subfolders;
# train's stage reads prep's output. prep/params.yaml sits beside
# prep/dvc.yaml, where DVC looks for it.
two_files_repo() {
	git_init
	mkdir -p src data/raw prep train
	echo 'upper' > src/rule.txt
	printf 'a\nb\nc\n' > data/raw/items.txt
	printf 'keep: 2\n' > prep/params.yaml
	cat > prep/dvc.yaml <<'EOF'
stages:
  clean:
    cmd: head -n ${keep} ../data/raw/items.txt > ../data/clean.txt && pwd > ran-in.txt
    deps:
    - ../data/raw/items.txt
    - ../src/rule.txt
    params:
    - keep
    outs:
    - ../data/clean.txt
    - ran-in.txt
EOF
	cat > train/dvc.yaml <<'EOF'
stages:
  fit:
    wdir: ..
    cmd: wc -l < data/clean.txt > train/model.txt
    deps:
    - data/clean.txt
    outs:
    - train/model.txt
EOF
}

@test "stages of dvc.yaml files in subfolders are addressed path:stage and share one graph" {
	two_files_repo
	run rp repro
	assert_success
	assert_line "Running stage 'prep/dvc.yaml:clean': never run"
	assert_line "[prep/dvc.yaml:clean] \$ head -n 2 ../data/raw/items.txt > ../data/clean.txt && pwd > ran-in.txt"
	assert_line "Running stage 'train/dvc.yaml:fit': never run"
	assert_line "[train/dvc.yaml:fit] \$ wc -l < data/clean.txt > train/model.txt"
	assert_output --partial "2 ran, 0 restored, 0 from run-cache, 0 up to date, 0 failed"
	# '..' from prep/ is the root; clean ran in prep/, fit in the root
	[ "$(cat data/clean.txt)" = "$(printf 'a\nb')" ]
	[ "$(cat prep/ran-in.txt)" = "$WS/prep" ]
	[ "$(cat train/model.txt)" = 2 ]
	# one .rp/ and one rp.lock, at the root; paths in it are root-relative
	[ -d .rp ] && [ ! -e prep/.rp ] && [ ! -e train/.rp ]
	[ ! -e prep/rp.lock ] && [ ! -e train/rp.lock ] && [ ! -e prep/dvc.lock ]
	grep -qx '  prep/dvc.yaml:clean:' rp.lock
	grep -qx '  train/dvc.yaml:fit:' rp.lock
	grep -qx '    wdir: prep' rp.lock
	grep -qx -- '    - path: data/raw/items.txt' rp.lock
	grep -qx -- '    - path: src/rule.txt' rp.lock
	grep -qx -- '    - path: prep/ran-in.txt' rp.lock
	grep -qx -- '      prep/params.yaml:' rp.lock
	run rp dag
	assert_success
	assert_line "train/dvc.yaml:fit <- prep/dvc.yaml:clean"
	run rp repro
	assert_success
	assert_output --partial "2 up to date"
}

@test "rp works from any subdirectory of the repository" {
	two_files_repo
	rp repro >/dev/null
	mkdir -p train/deep/er
	cd train/deep/er
	run rp status
	assert_success
	# a param beside prep/dvc.yaml changed: seen from another subfolder
	printf 'keep: 3\n' > "$WS/prep/params.yaml"
	cd "$WS/train"
	run rp status
	assert_failure 1
	assert_line "prep/dvc.yaml:clean:"
	assert_line "train/dvc.yaml:fit:"
	run rp repro
	assert_success
	assert_output --partial "2 ran"
	[ "$(cat "$WS/train/model.txt")" = 3 ]
	[ ! -e .rp ] && [ ! -e rp.lock ]
}

@test "targets: path/dvc.yaml:stage, path/dvc.yaml, and a plain name in its folder" {
	two_files_repo
	# the address, from the root: clean alone
	run rp repro prep/dvc.yaml:clean
	assert_success
	assert_output --partial "1 ran"
	assert_output --partial "'prep/dvc.yaml:clean'"
	refute_output --partial "train/dvc.yaml:fit"
	# a file: all its stages (and, as always, what they need)
	run rp repro -f train/dvc.yaml
	assert_success
	assert_output --partial "2 ran"
	# a plain name from the file's folder is that file's stage
	cd train
	run rp repro -s -f fit
	assert_success
	assert_output --partial "1 ran"
	assert_output --partial "Running stage 'train/dvc.yaml:fit'"
	# an address relative to the current directory
	run rp repro -s -f ../prep/dvc.yaml:clean
	assert_success
	assert_output --partial "Running stage 'prep/dvc.yaml:clean'"
	assert_output --partial "1 ran"
	run rp repro prep/dvc.yaml:nope
	assert_failure 2
	assert_output --partial "nope"
}

@test "the root's dvc.yaml keeps plain names and reads a subfolder's output" {
	git_init
	mkdir -p features
	echo 1 > seed.txt
	cat > features/dvc.yaml <<'EOF'
stages:
  build:
    cmd: cp ../seed.txt table.txt
    deps: [../seed.txt]
    outs: [table.txt]
EOF
	cat > dvc.yaml <<'EOF'
stages:
  report:
    cmd: cat features/table.txt > report.txt
    deps: [features/table.txt]
    outs: [report.txt]
EOF
	run rp repro report
	assert_success
	assert_line "Running stage 'features/dvc.yaml:build': never run"
	assert_line "Running stage 'report': never run"
	grep -qx '  report:' rp.lock
	grep -qx '  features/dvc.yaml:build:' rp.lock
	# rp repro dvc.yaml: the root file's stages, with their upstream
	run rp repro -f dvc.yaml -s
	assert_success
	assert_output --partial "Running stage 'report'"
	assert_output --partial "1 ran"
	# the lock restores every file's outputs
	rm report.txt features/table.txt
	run rp checkout
	assert_success
	[ "$(cat report.txt)" = 1 ] && [ "$(cat features/table.txt)" = 1 ]
}

@test "a path that leaves the repository root is refused, naming file and line" {
	git_init
	mkdir -p sub
	cat > sub/dvc.yaml <<'EOF'
stages:
  leak:
    cmd: cat ../../secret.txt > out.txt
    deps: [../../secret.txt]
    outs: [out.txt]
EOF
	run rp repro
	assert_failure 2
	assert_output --partial "sub/dvc.yaml:4:12: stage 'leak': path '../../secret.txt' leaves the workspace"
	cat > sub/dvc.yaml <<'EOF'
stages:
  leak:
    wdir: ../..
    cmd: touch x
EOF
	run rp status
	assert_failure 2
	assert_output --partial "sub/dvc.yaml:3:11: stage 'leak': path '../..' leaves the workspace"
	[ ! -e .rp/../../x ]
}

@test "the root is the nearest folder with .rp/, .dvc/ or .git, else with a pipeline file" {
	# .dvc/ marks a DVC repository that is no git repository
	mkdir -p repo/.dvc repo/a/b
	echo x > repo/in.txt
	printf 'stages:\n  s:\n    cmd: cp ../in.txt out.txt\n    deps: [../in.txt]\n    outs: [out.txt]\n' > repo/a/dvc.yaml
	cd repo/a/b
	run rp repro
	assert_success
	assert_output --partial "Running stage 'a/dvc.yaml:s'"
	[ -d "$WS/repo/.rp" ] && [ -f "$WS/repo/rp.lock" ] && [ ! -e "$WS/repo/a/.rp" ]
	# no marker at all: the nearest folder holding a pipeline file, as before
	mkdir -p "$WS/plain/data"
	printf 'stages:\n  t:\n    cmd: echo t > t.txt\n    outs: [t.txt]\n' > "$WS/plain/rp.yaml"
	cd "$WS/plain/data"
	run rp repro
	assert_success
	assert_output --partial "Running stage 't'"
	[ -f "$WS/plain/t.txt" ] && [ -f "$WS/plain/rp.lock" ]
}

@test "an old workspace inside a git repository stays its own, with its rp.lock" {
	git_init
	mkdir -p old
	printf 'stages:\n  t:\n    cmd: echo t > t.txt\n    outs: [t.txt]\n' > old/rp.yaml
	(cd old && mkdir .rp && rp repro >/dev/null)
	[ -f old/rp.lock ] && [ ! -e rp.lock ] && [ ! -e .rp ]
	grep -qx '  t:' old/rp.lock
	# seen from the repository root, old/ is a workspace of its own: not collected
	printf 'stages:\n  u:\n    cmd: echo u > u.txt\n    outs: [u.txt]\n' > rp.yaml
	run rp repro
	assert_success
	assert_output --partial "1 ran"
	refute_output --partial "old/rp.yaml"
}

@test "outputs, hidden folders and nested repositories are not searched for pipelines" {
	git_init
	mkdir -p gen .venv/lib nested
	# a stage writes a directory holding a dvc.yaml: DVC does not collect it
	printf 'mkdir -p gen/out\nprintf "stages:\\n  bad:\\n    cmd: false\\n" > gen/out/dvc.yaml\n' > gen.sh
	cat > dvc.yaml <<'EOF'
stages:
  gen:
    cmd: sh gen.sh
    deps: [gen.sh]
    outs: [gen/out]
EOF
	printf 'stages:\n  bad:\n    cmd: false\n' > .venv/lib/dvc.yaml
	printf 'stages:\n  bad:\n    cmd: false\n' > nested/dvc.yaml
	git init -q nested
	rp repro >/dev/null
	grep -q 'cmd: false' gen/out/dvc.yaml
	run rp repro
	assert_success
	assert_output --partial "1 up to date"
	refute_output --partial "bad"
}

@test "rp -f sub/dvc.yaml loads that file alone, with its stages addressed" {
	two_files_repo
	run rp -f prep/dvc.yaml repro
	assert_success
	assert_output --partial "Running stage 'prep/dvc.yaml:clean'"
	assert_output --partial "1 ran"
	[ -f rp.lock ] && [ ! -e prep/rp.lock ]
}

@test "an output path target is relative to the current directory" {
	two_files_repo
	rp repro >/dev/null
	cd train
	run rp repro -s -f model.txt
	assert_success
	assert_output --partial "Running stage 'train/dvc.yaml:fit'"
	assert_output --partial "1 ran"
	run rp repro -s -f ../data/clean.txt
	assert_success
	assert_output --partial "Running stage 'prep/dvc.yaml:clean'"
	assert_output --partial "1 ran"
}

@test "rp checkout LOCK brings back an older lock's outputs of every pipeline file" {
	two_files_repo
	rp repro >/dev/null
	cp rp.lock first.lock
	printf 'keep: 1\n' > prep/params.yaml
	rp repro >/dev/null
	[ "$(cat train/model.txt)" = 1 ]
	printf 'keep: 2\n' > prep/params.yaml
	run rp checkout first.lock
	assert_success
	[ "$(cat data/clean.txt)" = "$(printf 'a\nb')" ]
	[ "$(cat train/model.txt)" = 2 ]
	[ "$(cat prep/ran-in.txt)" = "$WS/prep" ]
}

@test "rp checkout LOCK and gc --keep LOCK read LOCK relative to the current directory" {
	two_files_repo
	rp repro >/dev/null
	cp rp.lock train/first.lock
	cp rp.lock "$BATS_TEST_TMPDIR/outside.lock"
	printf 'keep: 1\n' > prep/params.yaml
	rp repro >/dev/null
	[ "$(cat train/model.txt)" = 1 ]
	printf 'keep: 2\n' > prep/params.yaml
	cd train
	run rp checkout first.lock
	assert_success
	[ "$(cat model.txt)" = 2 ]
	printf 'keep: 1\n' > ../prep/params.yaml
	rp repro >/dev/null
	[ "$(cat model.txt)" = 1 ]
	# a lock above the root, named from a subdirectory
	run rp checkout "$(realpath --relative-to=. "$BATS_TEST_TMPDIR/outside.lock")"
	assert_success
	[ "$(cat model.txt)" = 2 ]
	run rp checkout no-such.lock
	assert_failure 2
	assert_output --partial "no-such.lock"
	# gc --keep reads its LOCK the same way
	run rp gc --workspace --keep first.lock
	assert_success
	run rp checkout first.lock
	assert_success
	run rp gc --workspace --keep no-such.lock
	assert_failure 2
	assert_output --partial "--keep 'no-such.lock': no such lock file"
}
