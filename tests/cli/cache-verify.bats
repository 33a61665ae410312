#!/usr/bin/env bats
# rp cache verify: every object rehashed; bad ones reported and quarantined.

load helpers

make_pipeline() {
	cat > rp.yaml <<'YAML'
stages:
  a:
    cmd: echo alpha > a.txt
    outs: [a.txt]
  b:
    cmd: echo beta > b.txt
    outs: [b.txt]
YAML
	rp repro >/dev/null
}

object_of() {
	local h
	h=$(sha256sum "$1" | cut -c1-64)
	echo ".rp/cache/objects/${h:0:2}/${h:2}"
}

@test "cache verify passes on a sound store" {
	make_pipeline
	run rp cache verify
	assert_success
	assert_output "2 objects checked, 0 corrupt"
}

@test "cache verify reports a corrupt object and exits 1" {
	make_pipeline
	obj=$(object_of a.txt)
	chmod u+w "$obj"
	echo "rot" > "$obj"
	run rp cache verify
	assert_failure 1
	assert_output --partial "is corrupt: its bytes hash to"
	assert_output --partial "2 objects checked, 1 corrupt"
	# without --repair the object stays where it is
	[ -f "$obj" ]
}

@test "cache verify --repair quarantines the bad object and repro makes it again" {
	make_pipeline
	obj=$(object_of a.txt)
	name=$(basename "$(dirname "$obj")")$(basename "$obj")
	chmod u+w "$obj"
	echo "rot" > "$obj"
	run rp cache verify --repair
	assert_failure 1
	[ ! -e "$obj" ]
	[ -f ".rp/cache/quarantine/$name" ]
	rm a.txt
	run rp repro
	assert_success
	assert_equal "$(cat a.txt)" "alpha"
	run rp cache verify
	assert_success
}

@test "cache without verify is a usage error" {
	run rp cache
	assert_failure 2
	assert_output --partial "usage: rp cache verify"
}
