#!/usr/bin/env bats
# rp repro with foreach/do and matrix: generated stage names, ${item} and
# ${key}, and group targets.

load helpers

@test "foreach over a list makes one stage per item, named name@item" {
	cp "$FIXTURES/r-foreach.yaml" rp.yaml
	run rp repro
	assert_success
	assert_output --partial "Running stage 'greet@alice'"
	assert_output --partial "Running stage 'greet@bob'"
	assert_line '[greet@alice] $ echo x >> runs-greet.log; echo "hello alice" > greet-alice.out'
	grep -qx '  greet@alice:' rp.lock
	grep -qx '  greet@bob:' rp.lock
	[ "$(cat greet-alice.out)" = "hello alice" ]
	[ "$(cat greet-bob.out)" = "hello bob" ]
}

@test "foreach over a map names stages by key and sees \${key} and \${item.field}" {
	cp "$FIXTURES/r-foreach.yaml" rp.yaml
	run rp repro
	assert_success
	assert_output --partial "Running stage 'embed@small'"
	assert_output --partial "Running stage 'embed@large'"
	grep -qx '  embed@small:' rp.lock
	grep -qx '  embed@large:' rp.lock
	[ "$(cat embed-small.out)" = "small 8" ]
	[ "$(cat embed-large.out)" = "large 64" ]
}

@test "a matrix makes the cross product, named name@value-value" {
	cp "$FIXTURES/r-foreach.yaml" rp.yaml
	run rp repro
	assert_success
	assert_output --partial "8 ran"
	for s in train@0.1-adam train@0.1-sgd train@0.01-adam train@0.01-sgd; do
		assert_output --partial "Running stage '$s'"
		grep -qx "  $s:" rp.lock
	done
	[ "$(cat train-0.01-sgd.out)" = "0.01 sgd" ]
	[ "$(runs_of runs-train.log)" -eq 4 ]
}

@test "a group name as target runs every stage of the group" {
	cp "$FIXTURES/r-foreach.yaml" rp.yaml
	run rp repro train
	assert_success
	assert_output --partial "4 ran"
	[ "$(runs_of runs-train.log)" -eq 4 ]
	[ "$(runs_of runs-greet.log)" -eq 0 ]
	[ "$(runs_of runs-embed.log)" -eq 0 ]
}

@test "one generated stage can be a target by its full name" {
	cp "$FIXTURES/r-foreach.yaml" rp.yaml
	run rp repro embed@large
	assert_success
	assert_output --partial "1 ran"
	[ -e embed-large.out ]
	[ ! -e embed-small.out ]
}

@test "a foreach item that changes reruns only its own stage" {
	cp "$FIXTURES/r-foreach.yaml" rp.yaml
	run rp repro
	assert_success
	sed -i 's/dim: 64/dim: 128/' rp.yaml
	run rp repro
	assert_success
	assert_output --partial "Running stage 'embed@large'"
	assert_output --partial "1 ran, 0 restored, 0 from run-cache, 7 up to date"
	[ "$(cat embed-large.out)" = "large 128" ]
}

@test "foreach over \${var} from params.yaml expands its list" {
	printf 'langs: [en, fr]\n' > params.yaml
	cat > rp.yaml <<-'YAML'
	stages:
	  tr:
	    foreach: ${langs}
	    do:
	      cmd: echo ${item} > tr-${item}.out
	      outs: ["tr-${item}.out"]
	YAML
	run rp repro
	assert_success
	assert_output --partial "2 ran"
	[ "$(cat tr-fr.out)" = fr ]
}
