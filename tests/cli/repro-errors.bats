#!/usr/bin/env bats
# rp repro: mistakes in the pipeline file and on the command line are usage
# errors (exit 2) whose message names the file, line and column.

load helpers

@test "broken YAML is a usage error with its line" {
	printf 'stages: [\n' > rp.yaml
	run rp repro
	assert_failure 2
	assert_output --partial "rp.yaml:2:"
}

@test "broken YAML in the middle of the file points at that line" {
	printf 'stages:\n  a:\n    cmd: echo\n    outs: [a.txt\n  b:\n    cmd: echo\n' > rp.yaml
	run rp repro
	assert_failure 2
	assert_output --regexp "rp\.yaml:[45]:[0-9]+: "
}

@test "an unknown stage field is a usage error naming the field" {
	printf 'stages:\n  a:\n    cmd: echo\n    bogus: 1\n' > rp.yaml
	run rp repro
	assert_failure 2
	assert_output --partial "rp.yaml:4:5: stage 'a': unknown field 'bogus'"
}

@test "a field of the wrong type is a usage error" {
	printf 'stages:\n  a:\n    cmd: echo\n    deps: x.txt\n' > rp.yaml
	run rp repro
	assert_failure 2
	assert_output --partial "rp.yaml:4:11: stage 'a': 'deps' must be a list"
}

@test "an undefined variable is a usage error" {
	printf 'stages:\n  a:\n    cmd: echo ${nope}\n' > rp.yaml
	run rp repro
	assert_failure 2
	assert_output --partial "rp.yaml:3:"
	assert_output --partial "undefined variable 'nope'"
}

@test "a cycle is a usage error that prints the cycle" {
	cat > rp.yaml <<-'YAML'
	stages:
	  a:
	    cmd: echo
	    deps: [b.txt]
	    outs: [a.txt]
	  b:
	    cmd: echo
	    deps: [a.txt]
	    outs: [b.txt]
	YAML
	run rp repro
	assert_failure 2
	assert_output --partial "rp.yaml:2:3: the pipeline has a cycle: a -> b -> a"
}

@test "a stage depending on its own output is a cycle" {
	printf 'stages:\n  a:\n    cmd: echo\n    deps: [a.txt]\n    outs: [a.txt]\n' > rp.yaml
	run rp repro
	assert_failure 2
	assert_output --partial "rp.yaml:2:3: the pipeline has a cycle: a -> a"
}

@test "two stages writing one output is a usage error" {
	printf 'stages:\n  a:\n    cmd: echo\n    outs: [o.txt]\n  b:\n    cmd: echo\n    outs: [o.txt]\n' > rp.yaml
	run rp repro
	assert_failure 2
	assert_output --partial "rp.yaml:7:12: output 'o.txt' is produced by both stage 'a' and stage 'b'"
}

@test "an output inside another output is a usage error" {
	printf 'stages:\n  a:\n    cmd: echo\n    outs: [d]\n  b:\n    cmd: echo\n    outs: [d/x.txt]\n' > rp.yaml
	run rp repro
	assert_failure 2
	assert_output --partial "rp.yaml:7:12: output 'd/x.txt' of stage 'b' is inside output 'd' of stage 'a'"
}

@test "a dep that does not exist and that no stage produces is a usage error" {
	printf 'stages:\n  a:\n    cmd: echo x >> runs-a.log\n    deps: [missing.txt]\n' > rp.yaml
	run rp repro
	assert_failure 2
	assert_output --partial "rp.yaml:4:12: stage 'a': dependency 'missing.txt' does not exist and no stage produces it"
	[ "$(runs_of runs-a.log)" -eq 0 ]
}

@test "a params key missing from params.yaml is a usage error" {
	echo 'a: 1' > params.yaml
	printf 'stages:\n  s:\n    cmd: echo\n    params: [a, b.c]\n' > rp.yaml
	run rp repro
	assert_failure 2
	assert_output --partial "rp.yaml:4:17: stage 's': parameter 'b.c' is not defined in 'params.yaml'"
}

@test "a missing params file is a usage error" {
	printf 'stages:\n  s:\n    cmd: echo\n    params:\n    - other.yaml: [x]\n' > rp.yaml
	run rp repro
	assert_failure 2
	assert_output --partial "rp.yaml:5:"
	assert_output --partial "params file 'other.yaml' does not exist"
}

@test "a path leaving the workspace is a usage error" {
	printf 'stages:\n  a:\n    cmd: echo\n    outs: [../x.txt]\n' > rp.yaml
	run rp repro
	assert_failure 2
	assert_output --partial "rp.yaml:4:12: stage 'a': path '../x.txt' leaves the workspace"
}

@test "an absolute path is a usage error" {
	printf 'stages:\n  a:\n    cmd: echo\n    deps: [/etc/passwd]\n' > rp.yaml
	run rp repro
	assert_failure 2
	assert_output --partial "rp.yaml:4:12: stage 'a': path '/etc/passwd' leaves the workspace"
}

@test "a missing rp.yaml is a usage error naming the file" {
	run rp repro
	assert_failure 2
	assert_output --partial "no pipeline file 'rp.yaml'"
	[ ! -e rp.lock ]
}

@test "a missing -f file is a usage error naming that file" {
	echo 'stages: {a: {cmd: echo}}' > rp.yaml
	run rp -f nope.yaml repro
	assert_failure 2
	assert_output --partial "no pipeline file 'nope.yaml'"
}

@test "an unknown target is a usage error listing the stages" {
	printf 'stages:\n  a:\n    cmd: echo x >> runs-a.log\n' > rp.yaml
	run rp repro nope
	assert_failure 2
	assert_output --partial "'nope' is no stage, group or output of rp.yaml (stages: a)"
	[ "$(runs_of runs-a.log)" -eq 0 ]
}

@test "a bad -j value is a usage error" {
	printf 'stages:\n  a:\n    cmd: echo x >> runs-a.log\n' > rp.yaml
	for j in 0 abc -3 2x 1025; do
		run rp repro -j "$j"
		assert_failure 2
		assert_output --partial "rp: error: option '-j': '$j' is not a whole number in 1..1024"
	done
	[ "$(runs_of runs-a.log)" -eq 0 ]
}

@test "an unknown repro option is a usage error" {
	printf 'stages:\n  a:\n    cmd: echo x >> runs-a.log\n' > rp.yaml
	run rp repro --bogus
	assert_failure 2
	assert_output --partial "usage: rp repro"
	[ "$(runs_of runs-a.log)" -eq 0 ]
}

@test "an unknown global option is a usage error" {
	run rp --bogus repro
	assert_failure 2
	assert_output --partial "usage: rp"
}
