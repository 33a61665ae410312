#!/usr/bin/env bats
# rp repro: which stages a change reruns (deps, params, targets, flags,
# always_changed, frozen, wdir, vars, -f).

load helpers

# branches: the r-branches pipeline, run once.
branches() {
	cp "$FIXTURES/r-branches.yaml" rp.yaml
	echo left > left.txt
	echo right > right.txt
	run rp repro
	assert_success
	assert_output --partial "3 ran"
}

# params_pipeline: the r-params pipeline and its params.yaml, run once.
params_pipeline() {
	cp "$FIXTURES/r-params.yaml" rp.yaml
	cp "$FIXTURES/r-params.params.yaml" params.yaml
	run rp repro
	assert_success
	assert_output --partial "3 ran"
}

@test "changing one leaf input reruns exactly the stages downstream of it" {
	branches
	echo LEFT-CHANGED > left.txt
	run rp repro
	assert_success
	assert_output --partial "2 ran, 0 restored, 0 from run-cache, 1 up to date"
	[ "$(runs_of runs-left.log)" -eq 2 ]
	[ "$(runs_of runs-right.log)" -eq 1 ]
	[ "$(runs_of runs-join.log)" -eq 2 ]
	[ "$(cat joined.out)" = "$(printf 'LEFT-CHANGED\nRIGHT')" ]
}

@test "a stage whose rerun produces the same output does not rerun downstream" {
	branches
	echo LEFT > left.txt   # tr makes the same L.out
	run rp repro
	assert_success
	[ "$(runs_of runs-left.log)" -eq 2 ]
	[ "$(runs_of runs-join.log)" -eq 1 ]
}

@test "changing a param reruns exactly the stages that list it" {
	params_pipeline
	sed -i 's/model: small/model: large/' params.yaml
	run rp repro
	assert_success
	assert_output --partial "1 ran"
	[ "$(runs_of runs-embed.log)" -eq 2 ]
	[ "$(runs_of runs-chunk.log)" -eq 1 ]
	[ "$(runs_of runs-size.log)" -eq 1 ]
	[ "$(cat embed.out)" = "model=large" ]
}

@test "a key of params.yaml that no stage lists reruns nothing" {
	params_pipeline
	sed -i 's/batch: 32/batch: 64/' params.yaml
	run rp repro
	assert_success
	assert_output --partial "3 up to date"
}

@test "a param subtree changes when any key under it changes" {
	params_pipeline
	sed -i 's/overlap: 100/overlap: 50/' params.yaml
	run rp repro
	assert_success
	[ "$(runs_of runs-chunk.log)" -eq 2 ]
	[ "$(runs_of runs-size.log)" -eq 1 ]
	[ "$(runs_of runs-embed.log)" -eq 1 ]
	[ "$(cat chunks.out)" = "size=800 overlap=50" ]
}

@test "changing a param back to an old value restores from the run-cache without running" {
	params_pipeline
	sed -i 's/model: small/model: large/' params.yaml
	run rp repro
	assert_success
	sed -i 's/model: large/model: small/' params.yaml
	run rp repro
	assert_success
	assert_output --partial "Restored stage 'embed' from the run-cache"
	assert_output --partial "0 ran, 0 restored, 1 from run-cache, 2 up to date, 0 failed"
	[ "$(runs_of runs-embed.log)" -eq 2 ]
	[ "$(cat embed.out)" = "model=small" ]
	run rp status
	assert_success
}

@test "reordering keys or whitespace in params.yaml reruns nothing" {
	params_pipeline
	cat > params.yaml <<-'YAML'
	# same values, other order and layout
	embed: {batch: 32,   model: small}

	chunker:
	    overlap: 100
	    size:    800
	YAML
	run rp repro
	assert_success
	assert_output --partial "0 ran, 0 restored, 0 from run-cache, 3 up to date"
}

@test "--force runs every stage even when up to date" {
	branches
	run rp repro --force
	assert_success
	assert_output --partial "3 ran, 0 restored, 0 from run-cache, 0 up to date"
	[ "$(runs_of runs-left.log)" -eq 2 ]
	[ "$(runs_of runs-right.log)" -eq 2 ]
	[ "$(runs_of runs-join.log)" -eq 2 ]
}

@test "--dry-run prints what would run and runs nothing" {
	branches
	echo changed > right.txt
	run rp repro --dry-run
	assert_success
	assert_output --partial "Would run stage 'right': dep 'right.txt' changed"
	assert_output --partial "Would run stage 'join': upstream stage 'right' will run"
	refute_output --partial "Would run stage 'left'"
	assert_output --partial "dry run: 2 would run, 1 up to date"
	[ "$(runs_of runs-right.log)" -eq 1 ]
	[ "$(runs_of runs-join.log)" -eq 1 ]
	run rp status
	assert_failure 1
	assert_output --partial "dep 'right.txt' changed"
}

@test "--dry-run on a fresh workspace runs nothing and writes no outputs" {
	cp "$FIXTURES/r-branches.yaml" rp.yaml
	echo left > left.txt
	echo right > right.txt
	run rp repro -n
	assert_success
	assert_output --partial "Would run stage 'left': never run"
	assert_output --partial "Would run stage 'join'"
	assert_output --partial "dry run: 3 would run, 0 up to date"
	[ ! -e L.out ]
	[ ! -e rp.lock ]
	[ "$(runs_of runs-left.log)" -eq 0 ]
}

@test "a target runs that stage and its upstream stages only" {
	cp "$FIXTURES/r-chain.yaml" rp.yaml
	echo hello > src.txt
	run rp repro b
	assert_success
	assert_output --partial "2 ran"
	[ "$(runs_of runs-a.log)" -eq 1 ]
	[ "$(runs_of runs-b.log)" -eq 1 ]
	[ "$(runs_of runs-c.log)" -eq 0 ]
	[ ! -e c.txt ]
}

@test "--downstream runs the target and the stages that depend on it" {
	branches
	run rp repro --force --downstream left
	assert_success
	assert_output --partial "2 ran"
	[ "$(runs_of runs-left.log)" -eq 2 ]
	[ "$(runs_of runs-join.log)" -eq 2 ]
	[ "$(runs_of runs-right.log)" -eq 1 ]
}

@test "--single-item runs only the target, not its upstream stages" {
	cp "$FIXTURES/r-chain.yaml" rp.yaml
	echo hello > src.txt
	run rp repro
	assert_success
	echo changed > src.txt
	run rp repro --single-item --force b
	assert_success
	assert_output --partial "1 ran"
	[ "$(runs_of runs-a.log)" -eq 1 ]
	[ "$(runs_of runs-b.log)" -eq 2 ]
	[ "$(runs_of runs-c.log)" -eq 1 ]
}

@test "options may follow the targets" {
	branches
	run rp repro left --force
	assert_success
	assert_output --partial "1 ran"
	[ "$(runs_of runs-left.log)" -eq 2 ]
}

@test "an always_changed stage runs every time" {
	cat > rp.yaml <<-'YAML'
	stages:
	  always:
	    cmd: echo x >> runs-always.log
	    always_changed: true
	  still:
	    cmd: echo x >> runs-still.log; echo s > still.out
	    outs: [still.out]
	YAML
	run rp repro
	assert_success
	run rp repro
	assert_success
	assert_output --partial "Running stage 'always': always changed"
	assert_output --partial "1 ran, 0 restored, 0 from run-cache, 1 up to date"
	run rp repro
	assert_success
	[ "$(runs_of runs-always.log)" -eq 3 ]
	[ "$(runs_of runs-still.log)" -eq 1 ]
}

@test "a frozen stage that ran once never reruns" {
	cat > rp.yaml <<-'YAML'
	stages:
	  ice:
	    cmd: echo x >> runs-ice.log; cp in.txt ice.out
	    deps: [in.txt]
	    outs: [ice.out]
	    frozen: true
	YAML
	echo one > in.txt
	run rp repro
	assert_success
	[ "$(runs_of runs-ice.log)" -eq 1 ]
	echo two > in.txt
	sed -i 's/cp in.txt/cat in.txt >/' rp.yaml
	run rp repro
	assert_success
	assert_output --partial "0 ran, 0 restored, 0 from run-cache, 1 up to date"
	[ "$(runs_of runs-ice.log)" -eq 1 ]
	[ "$(cat ice.out)" = one ]
}

@test "wdir runs the stage in that directory with paths relative to it" {
	mkdir sub
	echo inside > sub/in.txt
	cat > rp.yaml <<-'YAML'
	stages:
	  w:
	    wdir: sub
	    cmd: cat in.txt > out.txt; pwd > where.txt
	    deps: [in.txt]
	    outs: [out.txt]
	YAML
	run rp repro
	assert_success
	[ "$(cat sub/out.txt)" = inside ]
	[ "$(cat sub/where.txt)" = "$PWD/sub" ]
	grep -q 'path: sub/in.txt' rp.lock
	grep -q 'path: sub/out.txt' rp.lock
	grep -q 'wdir: sub' rp.lock
	echo changed > sub/in.txt
	run rp repro
	assert_success
	assert_output --partial "dep 'sub/in.txt' changed"
	[ "$(cat sub/out.txt)" = changed ]
}

@test "vars from a file and inline vars are interpolated" {
	echo 'name: world' > config.yaml
	cat > rp.yaml <<-'YAML'
	vars:
	  - config.yaml
	  - greeting: hello
	    sizes: {small: 8}
	stages:
	  v:
	    cmd: echo "${greeting} ${name} ${sizes.small}" > v.out
	    outs: [v.out]
	YAML
	run rp repro
	assert_success
	[ "$(cat v.out)" = "hello world 8" ]
}

@test "changing a vars file value reruns the stage that uses it" {
	echo 'name: world' > config.yaml
	cat > rp.yaml <<-'YAML'
	vars: [config.yaml]
	stages:
	  v:
	    cmd: echo x >> runs-v.log; echo "${name}" > v.out
	    outs: [v.out]
	YAML
	run rp repro
	assert_success
	echo 'name: moon' > config.yaml
	run rp repro
	assert_success
	assert_output --partial "param name world -> moon (in cmd)"
	[ "$(cat v.out)" = moon ]
	[ "$(runs_of runs-v.log)" -eq 2 ]
}

@test "-f names another pipeline file" {
	cp "$FIXTURES/r-chain.yaml" rp.yaml
	cat > other.yaml <<-'YAML'
	stages:
	  other:
	    cmd: echo x >> runs-other.log; echo other > other.out
	    outs: [other.out]
	YAML
	run rp -f other.yaml repro
	assert_success
	assert_output --partial "Running stage 'other'"
	refute_output --partial "stage 'a'"
	[ "$(cat other.out)" = other ]
	[ "$(runs_of runs-a.log)" -eq 0 ]
	run rp --file other.yaml status
	assert_success
	assert_output --partial "Everything is up to date."
}
