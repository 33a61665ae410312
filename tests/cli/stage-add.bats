#!/usr/bin/env bats
# stage-add.bats - rp stage add, as dvc stage add: the stage written into the
# current directory's pipeline file with DVC's layout, the rest of the file
# kept byte for byte, and refused (exit 2, file untouched) when rp would
# refuse the result: a name that exists (without -f), an invalid name, an
# output that another stage makes, a cycle.

load helpers

# A pipeline with comments everywhere, and a top-level key after stages.
commented() {
	cat > rp.yaml <<'EOF'
# the pipeline
stages:   # all of them
  # the first stage
  prep:
    cmd: echo hi > a.txt
    outs:
      - a.txt   # made here

# plots at the top level
plots:
  - a.txt
EOF
	cp rp.yaml before.yaml
}

@test "a stage goes at the end of stages: the rest of the file stays byte for byte" {
	commented
	run rp stage add -n count -d a.txt -o n.txt --desc "count the words" "wc -w < a.txt > n.txt"
	assert_success
	assert_output "added stage 'count' to rp.yaml"
	cat > want.yaml <<'EOF'
# the pipeline
stages:   # all of them
  # the first stage
  prep:
    cmd: echo hi > a.txt
    outs:
      - a.txt   # made here
  count:
    desc: count the words
    cmd: wc -w < a.txt > n.txt
    deps:
      - a.txt
    outs:
      - n.txt

# plots at the top level
plots:
  - a.txt
EOF
	assert_equal "$(cat rp.yaml)" "$(cat want.yaml)"
	run rp stage list
	assert_success
	assert_line --index 1 --regexp '^count +count the words$'
	run rp repro
	assert_success
	assert_output --partial "Running stage 'count'"
	assert_equal "$(tr -d ' ' < n.txt)" 1
}

@test "a new rp.yaml in DVC's layout, params and output options as DVC writes them" {
	printf 'lr: 0.1\nepochs: 3\n' > params.yaml
	printf 'seed: 1\n' > train.yaml
	run rp stage add -n train -d b.txt -d a.txt -p lr,epochs -p train.yaml:seed -O log.txt \
		-o model --outs-persist ckpt -m m.json -M scores.json --plots p.csv -w . \
		--always-changed python train.py --lr 0.1 "two words" ""
	assert_success
	assert_output "added stage 'train' to rp.yaml"
	cat > want.yaml <<'EOF'
stages:
  train:
    cmd: python train.py --lr 0.1 "two words" ""
    deps:
    - a.txt
    - b.txt
    params:
    - epochs
    - lr
    - train.yaml:
      - seed
    outs:
    - ckpt:
        persist: true
    - log.txt:
        cache: false
    - model
    metrics:
    - m.json
    - scores.json:
        cache: false
    plots:
    - p.csv
    always_changed: true
EOF
	assert_equal "$(cat rp.yaml)" "$(cat want.yaml)"
	run rp stage list --name-only
	assert_output "train"
}

@test "dvc.yaml is the file when it is the one there" {
	printf 'stages:\n  a:\n    cmd: echo a\n' > dvc.yaml
	run rp stage add -n b echo b
	assert_success
	assert_output "added stage 'b' to dvc.yaml"
	[ ! -e rp.yaml ]
	assert_equal "$(cat dvc.yaml)" "$(printf 'stages:\n  a:\n    cmd: echo a\n  b:\n    cmd: echo b')"
}

@test "an empty stages: or stages: {} gets its first stage" {
	printf '# nothing yet\nstages:\nvars: []\n' > rp.yaml
	run rp stage add -n a echo a
	assert_success
	assert_equal "$(cat rp.yaml)" "$(printf '# nothing yet\nstages:\n  a:\n    cmd: echo a\nvars: []')"
	printf 'stages: {}   # none\n' > rp.yaml
	run rp stage add -n a echo a
	assert_success
	assert_equal "$(cat rp.yaml)" "$(printf 'stages:   # none\n  a:\n    cmd: echo a')"
}

@test "a name that exists is exit 2 with its place; -f replaces only that stage's text" {
	commented
	run rp stage add -n prep echo other
	assert_failure 2
	assert_output "rp: error: rp.yaml:4:3: stage 'prep' already exists; use -f to replace it"
	cmp rp.yaml before.yaml
	run rp stage add -f -n prep -o a.txt "echo bye > a.txt"
	assert_success
	assert_output "replaced stage 'prep' in rp.yaml"
	cat > want.yaml <<'EOF'
# the pipeline
stages:   # all of them
  # the first stage
  prep:
    cmd: echo bye > a.txt
    outs:
      - a.txt

# plots at the top level
plots:
  - a.txt
EOF
	assert_equal "$(cat rp.yaml)" "$(cat want.yaml)"
}

@test "an invalid name, a taken output and a cycle are exit 2, the file untouched" {
	commented
	run rp stage add -n a:b echo x
	assert_failure 2
	assert_output --partial "stage name 'a:b' is invalid: it holds ':'"
	run rp stage add -n two -o a.txt echo x
	assert_failure 2
	assert_output --partial "rp.yaml:7:9: 'a.txt' is already an output of stage 'prep'"
	run rp stage add -n two -o a.txt/x echo x
	assert_failure 2
	assert_output --partial "overlap"
	cmp rp.yaml before.yaml
	# prep reads what the new stage makes from prep's output: a cycle
	rp stage add -f -n prep -d b.txt -o a.txt "cat b.txt > a.txt" >/dev/null
	cp rp.yaml before.yaml
	run rp stage add -n back -d a.txt -o b.txt "cp a.txt b.txt"
	assert_failure 2
	assert_output --partial "cycle: "
	cmp rp.yaml before.yaml
	[ -z "$(ls -A | grep '\.tmp\.')" ]
}

@test "usage: a name and a command are required, -h prints the usage" {
	run rp stage add echo x
	assert_failure 2
	assert_output --partial "needs a name: -n NAME"
	run rp stage add -n x
	assert_failure 2
	assert_output --partial "needs the stage's command"
	run rp stage add -h
	assert_success
	assert_line --index 1 --regexp "^ +rp stage add -n NAME "
	[ ! -e rp.yaml ]
}

@test "in a subfolder the stage goes to that folder's rp.yaml, addressed as DVC does" {
	git init -q
	printf 'stages:\n  top:\n    cmd: echo top\n' > rp.yaml
	mkdir sub
	cd sub
	run rp stage add -n low -o out.txt "echo low > out.txt"
	assert_success
	assert_output "added stage 'low' to rp.yaml"
	assert_equal "$(cat rp.yaml)" "$(printf 'stages:\n  low:\n    cmd: echo low > out.txt\n    outs:\n    - out.txt')"
	cd ..
	run rp stage list --name-only
	assert_output "$(printf 'top\nsub/rp.yaml:low')"
	run rp repro sub/rp.yaml:low
	assert_success
	assert_equal "$(cat sub/out.txt)" low
}
