#!/usr/bin/env bats
# dvc.yaml files shaped like real DVC projects, read as DVC reads them.
#
# Each pipeline here is written for this suite. The stage names, commands and
# paths each test expects are what DVC produces for the same file, written
# out by hand from DVC's rules (dvc/parsing: interpolate.py to_str() and
# context.py select(), __init__.py for foreach and matrix names; dvc/schema.py
# for the fields and output options; a stage with only a command is DVC's
# "callback" stage).

load helpers

# cmd_of STAGE: the command rp ran for STAGE, from the "[STAGE] $ cmd" line
# of the last `run rp repro`.
cmd_of() {
	local line
	line=$(printf '%s\n' "$output" | grep -F "[$1] \$ " | head -n 1)
	printf '%s\n' "${line#*] \$ }"
}

@test "stage-level plots are outputs: cached, checked and ordered in the graph" {
	cat > dvc.yaml <<'EOF'
stages:
  train:
    cmd: echo loss > loss.csv && echo '{"acc":1}' > acc.json && echo m > model.txt
    outs: [model.txt]
    plots:
      - loss.csv:
          x: step
          y: loss
          template: linear
      - acc.json:
          - x: epoch
          - y: acc
            title: Accuracy
  report:
    cmd: cat loss.csv acc.json > report.md
    deps: [loss.csv, acc.json]
    outs: [report.md]
EOF
	run rp dag
	assert_success
	assert_line "report <- train"
	run rp repro
	assert_success
	assert_output --partial "2 ran"
	[ "$(cat report.md)" = "$(printf 'loss\n{"acc":1}')" ]
	grep -q 'path: loss.csv' rp.lock
	# a plot is checked and restored from the store like any output
	rm loss.csv
	run rp status
	assert_failure 1
	assert_output --partial "loss.csv"
	run rp repro
	assert_success
	[ "$(cat loss.csv)" = loss ]
	run rp repro
	assert_success
	assert_output --partial "2 up to date"
}

@test "output options of DVC 2 and 3 are accepted, checkpoint keeps the file" {
	cat > dvc.yaml <<'EOF'
stages:
  train:
    cmd: echo "epoch ${epochs}" >> model.txt && echo 1 > m.json
    outs:
      - model.txt:
          checkpoint: true
          type: model
          desc: the trained model
          labels: [cv, classification]
          meta: {owner: me}
          remote: store
          push: false
    metrics:
      - m.json:
          cache: false
          desc: scores
EOF
	echo 'epochs: 1' > params.yaml
	run rp repro
	assert_success
	echo 'epochs: 2' > params.yaml
	run rp repro
	assert_success
	assert_output --partial "1 ran"
	# DVC 2 kept a checkpoint output while its stage ran: so does rp
	[ "$(cat model.txt)" = "$(printf 'epoch 1\nepoch 2')" ]
}

@test "an unknown output option is refused with its line and what is accepted" {
	cat > dvc.yaml <<'EOF'
stages:
  train:
    cmd: echo > m.txt
    outs:
      - m.txt: {colour: red}
EOF
	run rp repro
	assert_failure 2
	assert_output --partial "dvc.yaml:5:17: stage 'train': unknown option 'colour' for output 'm.txt'"
	assert_output --partial "checkpoint, desc, type, labels, meta"
}

@test "a mapping in cmd expands to command-line flags as DVC writes them" {
	cat > params.yaml <<'EOF'
train:
  lr: 0.01
  epochs: 10
  layers: [64, 32]
  shuffle: true
  augment: false
  name: my model
  warmup: null
  optimizer:
    kind: adam
    eps: 1e-8
EOF
	cat > dvc.yaml <<'EOF'
stages:
  train:
    cmd: echo python train.py ${train} > argv.txt
    params: [train]
    outs: [argv.txt]
EOF
	run rp repro
	assert_success
	# DVC: bool true -> --flag, false -> nothing, list -> nargs, None -> None,
	# nested keys joined with '.', strings quoted as shlex.quote does
	[ "$(cmd_of train)" = "echo python train.py --lr 0.01 --epochs 10 --layers 64 32 --shuffle --name 'my model' --warmup None --optimizer.kind adam --optimizer.eps 1e-08 > argv.txt" ]
	[ "$(cat argv.txt)" = "python train.py --lr 0.01 --epochs 10 --layers 64 32 --shuffle --name my model --warmup None --optimizer.kind adam --optimizer.eps 1e-08" ]
}

@test "a stage with only cmd is a callback stage that runs on every repro" {
	cat > dvc.yaml <<'EOF'
stages:
  notify:
    cmd: echo tick >> ticks.log
  build:
    cmd: echo b > b.txt
    outs: [b.txt]
EOF
	run rp repro
	assert_success
	assert_output --partial "2 ran"
	run rp repro
	assert_success
	assert_output --partial "1 ran"
	assert_output --partial "1 up to date"
	[ "$(wc -l < ticks.log)" -eq 2 ]
	run rp status
	assert_failure 1
	assert_output --partial "notify"
	refute_output --partial "build"
}

@test "values in \${} and generated names are written as DVC writes them" {
	cat > params.yaml <<'EOF'
flags: [true, 1e-5, 0.001, null, 1.0, False]
EOF
	cat > dvc.yaml <<'EOF'
stages:
  run:
    foreach: ${flags}
    do:
      cmd: echo ${item} > out-${item}.txt
      outs:
        - out-${item}.txt
EOF
	run rp dag
	assert_success
	assert_output "$(printf '%s\n' run@true run@1e-05 run@0.001 run@None run@1.0 run@false)"
	run rp repro
	assert_success
	assert_output --partial "6 ran"
	[ "$(cmd_of run@1e-05)" = "echo 1e-05 > out-1e-05.txt" ]
	[ "$(cmd_of run@None)" = "echo None > out-None.txt" ]
	[ "$(cat out-false.txt)" = false ]
	[ -e out-1.0.txt ]
}

@test "matrix axes of mappings or lists name stages axis<index>" {
	cat > params.yaml <<'EOF'
models:
  - {name: small, depth: 2}
  - {name: large, depth: 8}
EOF
	cat > dvc.yaml <<'EOF'
stages:
  train:
    matrix:
      model: ${models}
      lr: [0.1, 1e-3]
      layers: [[64, 32]]
    cmd: echo ${item.model.name} ${item.model.depth} ${item.lr} > ${key}.txt
    outs:
      - ${key}.txt
  eval:
    foreach: [base, [1, 2]]
    do:
      cmd: echo ${key}
EOF
	run rp dag
	assert_success
	assert_output "$(printf '%s\n' train@model0-0.1-layers0 train@model0-0.001-layers0 \
		train@model1-0.1-layers0 train@model1-0.001-layers0 eval@0 eval@1)"
	run rp repro
	assert_success
	[ "$(cmd_of train@model1-0.001-layers0)" = "echo large 8 0.001 > model1-0.001-layers0.txt" ]
	# a foreach list with any list or mapping in it is named by index
	[ "$(cmd_of eval@0)" = "echo 0" ]
}

@test "a params key with a wildcard tracks the keys it matches" {
	cat > params.yaml <<'EOF'
dataset_kwargs:
  moons_noise: 0.1
  moons_samples: 200
  circles_factor: 0.5
EOF
	cat > dvc.yaml <<'EOF'
stages:
  data:
    cmd: echo data > data.txt
    params:
      - dataset_kwargs.moons*
    outs: [data.txt]
EOF
	run rp repro
	assert_success
	sed -i 's/circles_factor: 0.5/circles_factor: 0.7/' params.yaml
	run rp status
	assert_success
	sed -i 's/moons_noise: 0.1/moons_noise: 0.2/' params.yaml
	run rp status
	assert_failure 1
	assert_output --partial "moons_noise"
	sed -i 's/moons\*/stars*/' dvc.yaml
	run rp status
	assert_failure 2
	assert_output --partial "dvc.yaml:5:9: stage 'data': parameter pattern 'dataset_kwargs.stars*' matches no key of 'params.yaml'"
}

@test "stage names with '/' from paths run, lock and target like any other" {
	mkdir data
	echo a > data/a.csv
	echo b > data/b.csv
	cat > dvc.yaml <<'EOF'
stages:
  convert:
    foreach:
      - data/a.csv
      - data/b.csv
    do:
      cmd: tr a-z A-Z < ${item} > ${item}.up
      deps:
        - ${item}
      outs:
        - ${item}.up
  prep/summary:
    cmd: cat data/a.csv.up data/b.csv.up > summary.txt
    deps: [data/a.csv.up, data/b.csv.up]
    outs: [summary.txt]
EOF
	run rp dag
	assert_success
	assert_line "convert@data/a.csv"
	assert_line "prep/summary <- convert@data/a.csv, convert@data/b.csv"
	run rp repro convert@data/b.csv
	assert_success
	assert_output --partial "1 ran"
	[ "$(cat data/b.csv.up)" = B ]
	run rp repro
	assert_success
	assert_output --partial "2 ran"
	grep -qx '  convert@data/a.csv:' rp.lock
	grep -qx '  prep/summary:' rp.lock
	run rp repro
	assert_success
	assert_output --partial "3 up to date"
}

@test "a dvc.yaml with no stages (metrics and plots only) has 0 stages" {
	cat > dvc.yaml <<'EOF'
metrics:
  - scores.json
plots:
  - loss.csv:
      x: step
EOF
	run rp dag
	assert_success
	assert_output ""
	run rp status
	assert_success
	run rp repro
	assert_success
}

@test "\\\${ is a literal, \$\${x} is a dollar then x, \${list.0} and \${map[key]} select" {
	cat > params.yaml <<'EOF'
files: [a.txt, b.txt]
paths: {raw: data/raw}
n: 3
EOF
	cat > dvc.yaml <<'EOF'
stages:
  show:
    cmd: echo '\${HOME}' '$${n}' ${files.0} ${files[1]} ${paths[raw]} ${paths.raw} > show.txt
    outs: [show.txt]
EOF
	run rp repro
	assert_success
	[ "$(cmd_of show)" = "echo '\${HOME}' '\$3' a.txt b.txt data/raw data/raw > show.txt" ]
	[ "$(cat show.txt)" = '${HOME} $3 a.txt b.txt data/raw data/raw' ]
}

@test "URL deps are kept as URLs, never hashed as files, and always run" {
	cat > dvc.yaml <<'EOF'
stages:
  fetch:
    cmd: echo fetched >> fetched.txt
    deps:
      - https://example.com/data/iris.csv
      - s3://bucket/raw/${name}
    outs:
      - fetched.txt:
          persist: true
  use:
    cmd: cp fetched.txt used.txt
    deps: [fetched.txt]
    outs: [used.txt]
EOF
	echo 'name: part-0' > params.yaml
	run rp repro
	assert_success
	assert_output --partial "2 ran"
	refute_output --partial "https:"
	[ ! -e https: ] && [ ! -e s3: ]
	run rp status
	assert_failure 1
	assert_output --partial "fetch"
	run rp repro
	assert_success
	[ "$(wc -l < fetched.txt)" -eq 2 ]
}
