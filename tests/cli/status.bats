#!/usr/bin/env bats
# rp status: which stages are dirty and why; exit 0 when clean, 1 when dirty.

load helpers

chain_run() {
	cp "$FIXTURES/r-chain.yaml" rp.yaml
	echo hello > src.txt
	run rp repro
	assert_success
}

@test "a clean workspace exits 0 and says everything is up to date" {
	chain_run
	run rp status
	assert_success
	assert_output "Everything is up to date."
}

@test "stages never run are dirty with 'never run'" {
	cp "$FIXTURES/r-chain.yaml" rp.yaml
	echo hello > src.txt
	run rp status
	assert_failure 1
	assert_line "a:"
	assert_line "	never run"
	[ "$(runs_of runs-a.log)" -eq 0 ]
	[ ! -e rp.lock ]
}

@test "a changed dep is reported and its downstream will run" {
	chain_run
	echo changed > src.txt
	run rp status
	assert_failure 1
	assert_output --partial "dep 'src.txt' changed"
	assert_output --partial "upstream stage 'a' will run"
	assert_output --partial "upstream stage 'b' will run"
	[ "$(runs_of runs-a.log)" -eq 1 ]
}

@test "status lists each dirty stage with its reasons under its name" {
	chain_run
	echo changed > src.txt
	run rp status
	assert_failure 1
	assert_output "$(printf "a:\n\tdep 'src.txt' changed\nb:\n\tupstream stage 'a' will run\nc:\n\tupstream stage 'b' will run")"
}

@test "a changed param is reported with its old and new value" {
	cp "$FIXTURES/r-params.yaml" rp.yaml
	cp "$FIXTURES/r-params.params.yaml" params.yaml
	run rp repro
	assert_success
	sed -i 's/size: 800/size: 600/' params.yaml
	run rp status
	assert_failure 1
	assert_output --partial "param chunker.size 800 -> 600"
	refute_output --partial "embed:"
}

@test "a float param is shown as written" {
	printf 'lr: 0.1\n' > params.yaml
	printf 'stages:\n  s:\n    cmd: echo training\n    params: [lr]\n' > rp.yaml
	run rp repro
	assert_success
	printf 'lr: 0.3\n' > params.yaml
	run rp status
	assert_failure 1
	assert_output --partial "param lr 0.1 -> 0.3"
}

@test "a changed cmd is reported" {
	chain_run
	sed -i 's/echo b >> b.txt/echo B >> b.txt/' rp.yaml
	run rp status
	assert_failure 1
	assert_output --partial "$(printf "b:\n\tcmd changed")"
	refute_output --partial "a:"
}

@test "a missing out is reported" {
	chain_run
	rm c.txt
	run rp status
	assert_failure 1
	assert_output "$(printf "c:\n\tout 'c.txt' missing")"
}

@test "a modified out is reported and its downstream will run" {
	chain_run
	echo scribble > b.txt
	run rp status
	assert_failure 1
	assert_output --partial "out 'b.txt' modified"
	assert_output --partial "upstream stage 'b' will run"
}

@test "status runs nothing and changes nothing" {
	chain_run
	cp rp.lock before.lock
	echo changed > src.txt
	rm c.txt
	run rp status
	assert_failure 1
	cmp rp.lock before.lock
	[ ! -e c.txt ]
	[ "$(runs_of runs-a.log)" -eq 1 ]
}

@test "status with a target looks at that stage and its upstream only" {
	chain_run
	rm c.txt
	run rp status b
	assert_success
	run rp status c
	assert_failure 1
	assert_output --partial "out 'c.txt' missing"
}

@test "status --json gives the reasons as fields" {
	cp "$FIXTURES/r-params.yaml" rp.yaml
	cp "$FIXTURES/r-params.params.yaml" params.yaml
	run rp repro
	assert_success
	sed -i 's/size: 800/size: 600/' params.yaml
	run rp status --json
	assert_failure 1
	echo "$output" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["dirty"] == 2, d
assert set(d["stages"]) == {"chunk", "size"}, d
r = [x for x in d["stages"]["size"] if x["reason"] == "param-changed"]
assert len(r) == 1, d
r = r[0]
assert r["param"] == "chunker.size", r
assert r["old"] == "800" and r["new"] == "600", r
assert r["text"] == "param chunker.size 800 -> 600", r
'
}

@test "status --json on a clean workspace has no stages and exits 0" {
	chain_run
	run rp status --json
	assert_success
	echo "$output" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d == {"stages": {}, "dirty": 0}, d
'
}

@test "status --json names missing outs and upstream stages" {
	chain_run
	rm a.txt
	run rp status --json
	assert_failure 1
	echo "$output" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["dirty"] == 3, d
assert d["stages"]["a"] == [{"reason": "out-missing", "path": "a.txt", "text": "out '"'"'a.txt'"'"' missing"}], d
assert {"reason": "upstream-dirty", "stage": "a", "text": "upstream stage '"'"'a'"'"' will run"} in d["stages"]["b"], d
'
}

@test "a param holding an integer beyond 64 bits stays clean after a run" {
	printf 'big: 123456789012345678901234567890\n' > params.yaml
	cat > rp.yaml <<'YAML'
stages:
  s:
    cmd: echo ${big} > out.txt
    params: [big]
    outs: [out.txt]
YAML
	run rp repro
	assert_success
	grep -q "big: 123456789012345678901234567890$" rp.lock
	run rp status
	assert_success
	assert_output "Everything is up to date."
}

@test "status on a missing source dep names it under its stage and exits 1" {
	cat > rp.yaml <<'YAML'
stages:
  s:
    cmd: cat nothere.txt > out.txt
    deps: [nothere.txt]
    outs: [out.txt]
YAML
	run rp status
	assert_failure 1
	assert_output "$(printf "s:\n\tnever run\n\tdep 'nothere.txt' deleted")"
}

@test "reordered deps change nothing; an added and a removed dep are named" {
	echo x > x.txt; echo y > y.txt; echo z > z.txt; echo w > w.txt
	printf 'stages:\n  g:\n    cmd: cat x.txt y.txt z.txt > g.txt\n    deps: [x.txt, y.txt, z.txt]\n    outs: [g.txt]\n' > rp.yaml
	run rp repro
	assert_success
	printf 'stages:\n  g:\n    cmd: cat x.txt y.txt z.txt > g.txt\n    deps: [z.txt, y.txt, x.txt]\n    outs: [g.txt]\n' > rp.yaml
	run rp status
	assert_success
	assert_output "Everything is up to date."
	printf 'stages:\n  g:\n    cmd: cat x.txt y.txt z.txt > g.txt\n    deps: [w.txt, z.txt, x.txt]\n    outs: [g.txt]\n' > rp.yaml
	run rp status
	assert_failure 1
	assert_line "	dep 'w.txt' added"
	assert_line "	dep 'y.txt' removed"
	refute_output --partial "x.txt"
	refute_output --partial "z.txt"
	run rp status --json
	assert_failure 1
	assert_output --partial '"dep-added"'
	assert_output --partial '"dep-removed"'
}

# one "STAGE: REASON" line per reason, from `rp status` and from `rp repro -n`
status_plan() {
	rp status | awk '/^[^\t].*:$/ { s = substr($0, 1, length($0) - 1); next }
			 /^\t/ { sub(/^\t/, ""); print s ": " $0 }' | sort
}
dry_run_plan() {
	rp repro -n | awk -F"': " '/^Would run stage / {
		name = substr($1, length("Would run stage '\''") + 1)
		n = split($2, r, "; ")
		for (i = 1; i <= n; i++) print name ": " r[i]
	}' | sort
}

@test "status and repro -n plan alike: a stage downstream of a dirty one shows its own reasons too" {
	chain_run
	echo changed > src.txt
	rm -f c.txt
	echo tampered > c.txt
	run status_plan
	assert_success
	status_out=$output
	assert_line "a: dep 'src.txt' changed"
	assert_line "b: upstream stage 'a' will run"
	assert_line "c: upstream stage 'b' will run"
	assert_line "c: out 'c.txt' modified"
	run dry_run_plan
	assert_success
	[ "$output" = "$status_out" ] || {
		echo "status:"; echo "$status_out"; echo "repro -n:"; echo "$output"; false
	}
	# and neither ran anything
	[ "$(runs_of runs-a.log)" -eq 1 ]
	[ "$(cat c.txt)" = tampered ]
}
