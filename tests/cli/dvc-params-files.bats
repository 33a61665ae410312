#!/usr/bin/env bats
# Params and vars files read by their extension, as DVC reads them
# (dvc/utils/serialize: .toml is TOML, .py Python, anything else YAML, which
# reads JSON too). The projects are written here from DVC's documented rules:
# `vars:` files feed ${}, `params:` entries name a file and its keys, a list
# of mappings in foreach makes stages NAME@0, NAME@1.

load helpers

toml_project() {
	cat > params.toml <<'TOML'
# training parameters
seed = 7

[train]
lr = 0.01
layers = [64, 32]
optim.name = "adam"

[[models]]
id = "small"
dim = 384

[[models]]
id = "large"
dim = 1_024
TOML
	cat > dvc.yaml <<'YAML'
vars:
  - params.toml
stages:
  train:
    cmd: echo lr=${train.lr} first=${train.layers[0]} optim=${train.optim.name} > train.txt
    params:
      - params.toml:
          - train.lr
          - train.layers
    outs:
      - train.txt
  embed:
    foreach: ${models}
    do:
      cmd: echo ${item.id} ${item.dim} > ${item.id}.txt
      params:
        - params.toml:
            - seed
      outs:
        - ${item.id}.txt
YAML
}

@test "a TOML vars and params file feeds \${} and foreach with nested tables and arrays" {
	toml_project
	run rp repro
	assert_success
	run cat train.txt
	assert_output "lr=0.01 first=64 optim=adam"
	run cat small.txt
	assert_output "small 384"
	run cat large.txt
	assert_output "large 1024"
	run rp repro
	assert_success
	assert_output --partial "3 up to date"
}

@test "a changed TOML value makes its stage stale and shows in params diff" {
	git_init
	toml_project
	run rp repro
	assert_success
	git_commit "params"
	sed -i 's/^lr = 0.01/lr = 0.02/' params.toml
	run rp status
	assert_failure 1
	assert_output --partial "train"
	assert_output --partial "train.lr"
	refute_output --partial "embed@0"
	run rp params diff
	assert_success
	assert_line --regexp '^params\.toml +train\.lr +0\.01 +0\.02$'
	refute_output --partial "seed"
}

@test "a JSON params file is read as DVC reads it, tabs included" {
	printf '{\n\t"prepare": {\n\t\t"split": 0.2,\n\t\t"name": "raw"\n\t}\n}\n' > params.json
	cat > dvc.yaml <<'YAML'
vars:
  - params.json
stages:
  prepare:
    cmd: echo ${prepare.name} ${prepare.split} > prepared.txt
    params:
      - params.json:
          - prepare
    outs:
      - prepared.txt
YAML
	run rp repro
	assert_success
	run cat prepared.txt
	assert_output "raw 0.2"
	sed -i 's/0.2/0.3/' params.json
	run rp status
	assert_failure 1
	assert_output --partial "prepare"
}

@test "invalid TOML is an input error at its line and column with a fix" {
	toml_project
	sed -i 's/^lr = 0.01/lr = /' params.toml
	run rp repro
	assert_failure 2
	assert_output --partial "params.toml:5:6: expected a value, found the end of the line; write"
	run rp status
	assert_failure 2
	assert_output --partial "params.toml:5:6:"
}

@test "a table defined twice in TOML is an error naming both places" {
	toml_project
	printf '\n[train]\nepochs = 3\n' >> params.toml
	run rp repro
	assert_failure 2
	assert_output --partial "params.toml:17:2: table 'train' is already defined (line 4)"
}

@test "a duplicate TOML key is an error at the second one" {
	toml_project
	sed -i 's/^seed = 7/seed = 7\nseed = 8/' params.toml
	run rp status
	assert_failure 2
	assert_output --partial "params.toml:3:1: duplicate key 'seed' (first at line 2, column 1)"
}

@test "a Python params file is refused by name, not reported as a missing parameter" {
	printf 'LR = 0.1\n' > params.py
	cat > dvc.yaml <<'YAML'
stages:
  train:
    cmd: echo train > out.txt
    params:
      - params.py:
          - LR
    outs:
      - out.txt
YAML
	run rp repro
	assert_failure 2
	assert_output --partial "params.py: Python params files are not supported"
	refute_output --partial "not defined"
	printf 'vars:\n  - params.py\nstages:\n  s:\n    cmd: echo ${LR}\n' > dvc.yaml
	run rp status
	assert_failure 2
	assert_output --partial "params.py: Python params files are not supported"
}
