load helpers
load fixtures/c-lib

# line_of TEXT: the number of the first line of $output that is exactly TEXT.
line_of() {
	grep -n -x -F -- "$1" <<<"$output" | head -1 | cut -d: -f1
}

@test "dag prints each stage after its upstream, with what it depends on" {
	cp "$FIXTURES/c-dag.yaml" rp.yaml
	run rp dag
	assert_success
	assert_line "prepare"
	assert_line "train <- prepare"
	assert_line "eval <- train"
	assert_line --regexp '^report <- (eval, train|train, eval)$'
	assert_line "lint"
	prepare=$(line_of "prepare")
	train=$(line_of "train <- prepare")
	eval=$(line_of "eval <- train")
	report=$(grep -n '^report <- ' <<<"$output" | cut -d: -f1)
	[ "$prepare" -lt "$train" ]
	[ "$train" -lt "$eval" ]
	[ "$eval" -lt "$report" ]
	assert_equal "${#lines[@]}" 5
}

@test "dag runs nothing and writes no lock" {
	cp "$FIXTURES/c-dag.yaml" rp.yaml
	run rp dag
	assert_success
	[ ! -e rp.lock ]
	[ ! -e features.txt ]
}

@test "dag --dot prints a Graphviz digraph with an edge per dependency" {
	cp "$FIXTURES/c-dag.yaml" rp.yaml
	run rp dag --dot
	assert_success
	assert_line --regexp '^(strict )?digraph \{$'
	assert_line --regexp '^[[:space:]]*"prepare" -> "train";?$'
	assert_line --regexp '^[[:space:]]*"train" -> "eval";?$'
	assert_line --regexp '^[[:space:]]*"eval" -> "report";?$'
	assert_line --regexp '^[[:space:]]*"train" -> "report";?$'
	assert_line --regexp '^[[:space:]]*"lint";?$'
	refute_output --partial '"lint" ->'
	refute_output --partial '-> "lint"'
	assert_equal "$(grep -c -- ' -> ' <<<"$output")" 4
	assert_equal "${lines[-1]}" "}"
}

@test "dag --dot output is accepted by Graphviz" {
	command -v dot >/dev/null || skip "no Graphviz dot"
	cp "$FIXTURES/c-dag.yaml" rp.yaml
	rp dag --dot > g.dot
	run dot -Tsvg g.dot
	assert_success
}

@test "dag --mermaid prints a flowchart with an edge per dependency" {
	cp "$FIXTURES/c-dag.yaml" rp.yaml
	run rp dag --mermaid
	assert_success
	assert_equal "${lines[0]}" "flowchart TD"
	assert_line --regexp '^[[:space:]]*prepare --> train$'
	assert_line --regexp '^[[:space:]]*train --> eval$'
	assert_line --regexp '^[[:space:]]*eval --> report$'
	assert_line --regexp '^[[:space:]]*train --> report$'
	assert_equal "$(grep -c -- ' --> ' <<<"$output")" 4
}

@test "dag --mermaid turns stage names into valid node ids" {
	cat > rp.yaml <<'EOF2'
stages:
  embed.small:
    cmd: echo s > small.txt
    outs: [small.txt]
  index-all:
    cmd: cat small.txt > index.txt
    deps: [small.txt]
    outs: [index.txt]
EOF2
	run rp dag --mermaid
	assert_success
	assert_line --regexp '^[[:space:]]*embed_small --> index_all$'
	assert_line --partial '["embed.small"]'
}

@test "dag TARGET shows only the target and its upstream" {
	cp "$FIXTURES/c-dag.yaml" rp.yaml
	run rp dag eval
	assert_success
	assert_equal "${lines[0]}" "prepare"
	assert_equal "${lines[1]}" "train <- prepare"
	assert_equal "${lines[2]}" "eval <- train"
	assert_equal "${#lines[@]}" 3
	run rp dag --dot train
	assert_success
	assert_line --regexp '"prepare" -> "train"'
	refute_output --partial '"eval"'
	refute_output --partial '"report"'
	refute_output --partial '"lint"'
}

@test "dag of an unknown target is a usage error" {
	cp "$FIXTURES/c-dag.yaml" rp.yaml
	run rp dag no-such-stage
	assert_failure 2
	assert_output --partial "no-such-stage"
}

@test "dag without a pipeline file is a usage error" {
	run rp dag
	assert_failure 2
	assert_output --partial "rp.yaml"
}

@test "dag into a full device fails with a write error, as git and jq do" {
	[ -w /dev/full ] || skip "no /dev/full"
	cp "$FIXTURES/c-dag.yaml" rp.yaml
	run bash -c 'rp dag > /dev/full'
	assert_failure 1
	assert_output --partial "rp: error: write failure on standard output: No space left on device"
}
