#!/usr/bin/env bats
# rp status and rp dag on DVC-shaped projects: a checkout whose data was not
# fetched yet, params files written by an upstream stage, and reasons a
# person can read. The projects are written here from DVC's documented
# rules; the expected text is rp's (DVC's word for a dep that is not there,
# "deleted", is kept).

load helpers

# A project as it looks right after `git clone`, before `dvc pull`: the code
# and params are there, the data and every output are not.
cloned_project() {
	mkdir -p src
	echo 'print("prepare")' > src/prepare.py
	echo 'print("train")' > src/train.py
	cat > params.yaml <<'YAML'
prepare:
  split: 0.2
train:
  epochs: 3
YAML
	cat > dvc.yaml <<'YAML'
stages:
  prepare:
    cmd: cat src/prepare.py data/raw.csv > data/prepared.csv
    deps:
    - src/prepare.py
    - data/raw.csv
    params:
    - prepare.split
    outs:
    - data/prepared.csv
  featurize:
    cmd: cat data/prepared.csv data/extra > data/features.csv
    deps:
    - data/prepared.csv
    - data/extra
    outs:
    - data/features.csv
  train:
    cmd: cat src/train.py data/features.csv > model.pkl
    deps:
    - src/train.py
    - data/features.csv
    params:
    - train.epochs
    outs:
    - model.pkl
YAML
}

@test "status in a checkout before its data is fetched lists every stage and what is missing" {
	cloned_project
	run rp -f dvc.yaml status
	assert_failure 1
	assert_output "$(printf '%s\n' 'prepare:' '	never run' "	dep 'data/raw.csv' deleted" \
		'featurize:' '	never run' "	dep 'data/prepared.csv' deleted" "	dep 'data/extra' deleted" \
		'train:' '	never run' "	dep 'data/features.csv' deleted")"
	[ ! -e data/prepared.csv ]
	[ ! -e rp.lock ]
}

@test "status names only the missing deps once the other data is there" {
	cloned_project
	mkdir -p data && echo a,b > data/raw.csv
	run rp -f dvc.yaml status --json
	assert_failure 1
	echo "$output" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["dirty"] == 3, d
assert d["stages"]["prepare"] == [{"reason": "never-run", "text": "never run"}], d
f = d["stages"]["featurize"]
assert {"reason": "dep-missing", "path": "data/extra", "text": "dep '"'"'data/extra'"'"' deleted"} in f, f
assert not any(r.get("path") == "data/prepared.csv" for r in f), f
'
}

@test "dag draws the graph of a checkout whose data is missing" {
	cloned_project
	run rp -f dvc.yaml dag
	assert_success
	assert_output "$(printf '%s\n' 'prepare' 'featurize <- prepare' 'train <- featurize')"
	run rp -f dvc.yaml dag --dot
	assert_success
	assert_line '	"prepare" -> "featurize";'
}

@test "repro refuses a stage whose dep is missing and names the dep and the stage" {
	cloned_project
	run rp -f dvc.yaml repro
	assert_failure 2
	assert_output --partial "stage 'prepare': dependency 'data/raw.csv' does not exist and no stage produces it"
	[ ! -e data/prepared.csv ]
}

@test "a dep deleted after a run is named under its stage and status goes on" {
	cloned_project
	mkdir -p data && echo a,b > data/raw.csv && echo x > data/extra
	run rp -f dvc.yaml repro
	assert_success
	rm data/extra
	echo 'print("train v2")' > src/train.py
	run rp -f dvc.yaml status
	assert_failure 1
	assert_output "$(printf '%s\n' 'featurize:' "	dep 'data/extra' deleted" \
		'train:' "	dep 'src/train.py' changed")"
}

# ---- a params file written by an upstream stage ---------------------------------

upstream_params() {
	mkdir -p src
	printf 'lr: 0.1\nepochs: 3\n' > src/best.yaml
	cat > dvc.yaml <<'YAML'
stages:
  tune:
    cmd: echo x >> runs-tune.log; cp src/best.yaml best_params.yaml
    deps: [src/best.yaml]
    outs: [best_params.yaml]
  train:
    cmd: echo x >> runs-train.log; echo "lr=${lr}" > model.txt
    params:
    - best_params.yaml: [lr]
    outs: [model.txt]
YAML
	echo 'lr: 9' > params.yaml
}

@test "a params file no stage has written yet does not stop dag or status" {
	upstream_params
	run rp -f dvc.yaml dag
	assert_success
	assert_output "$(printf '%s\n' 'tune' 'train <- tune')"
	run rp -f dvc.yaml status
	assert_failure 1
	assert_output "$(printf '%s\n' 'tune:' '	never run' 'train:' "	upstream stage 'tune' will run" '	never run')"
}

@test "a params file written upstream is read after that stage ran" {
	upstream_params
	run rp -f dvc.yaml repro
	assert_success
	[ "$(runs_of runs-tune.log)" -eq 1 ]
	[ "$(runs_of runs-train.log)" -eq 1 ]
	grep -A2 'best_params.yaml:' rp.lock | grep -q 'lr: 0.1'
	run rp -f dvc.yaml status
	assert_success
	assert_output "Everything is up to date."
}

@test "status is clean right after a repro that rewrote a params file" {
	upstream_params
	# a stale copy from an earlier run is there when the pipeline is parsed
	printf 'lr: 0.5\nepochs: 3\n' > best_params.yaml
	run rp -f dvc.yaml repro
	assert_success
	run rp -f dvc.yaml status
	assert_success
	assert_output "Everything is up to date."
	run rp -f dvc.yaml repro
	assert_success
	[ "$(runs_of runs-train.log)" -eq 1 ]
}

@test "a changed value in a params file written upstream is named after the upstream runs" {
	upstream_params
	rp -f dvc.yaml repro >/dev/null
	printf 'lr: 0.3\nepochs: 3\n' > src/best.yaml
	run rp -f dvc.yaml status
	assert_failure 1
	assert_output "$(printf '%s\n' 'tune:' "	dep 'src/best.yaml' changed" 'train:' "	upstream stage 'tune' will run")"
	run rp -f dvc.yaml repro
	assert_success
	grep -A2 'best_params.yaml:' rp.lock | grep -q 'lr: 0.3'
	# the file edited by hand: the stage that reads it names the param
	printf 'lr: 0.7\nepochs: 3\n' > best_params.yaml
	run rp -f dvc.yaml status
	assert_failure 1
	assert_line "	param best_params.yaml:lr 0.3 -> 0.7"
	assert_line "	out 'best_params.yaml' modified"
}

@test "a params file nobody writes is still checked when the pipeline is read" {
	printf 'stages:\n  s:\n    cmd: echo\n    params:\n    - nothere.yaml: [a]\n' > rp.yaml
	run rp status
	assert_failure 2
	assert_output --partial "rp.yaml:5:22: stage 's': params file 'nothere.yaml' does not exist; create it or remove the entry"
	run rp dag
	assert_failure 2
}

# ---- reasons a person can read ---------------------------------------------------

@test "a param used through \${} in cmd is named as that param, not as a changed cmd" {
	printf 'chunker:\n  size: 800\n  overlap: 50\n' > params.yaml
	cat > rp.yaml <<'YAML'
stages:
  chunk:
    cmd: echo --size ${chunker.size} --overlap ${chunker.overlap} > chunks.txt
    outs: [chunks.txt]
YAML
	rp repro >/dev/null
	sed -i 's/size: 800/size: 500/' params.yaml
	run rp status
	assert_failure 1
	assert_output "$(printf '%s\n' 'chunk:' '	param chunker.size 800 -> 500 (in cmd)')"
	run rp status --json
	assert_failure 1
	echo "$output" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["stages"]["chunk"] == [{"reason": "cmd-param-changed", "param": "chunker.size",
    "old": "800", "new": "500", "text": "param chunker.size 800 -> 500 (in cmd)"}], d
'
	# an edit of the command text itself is still "cmd changed"
	sed -i 's/--overlap/--olap/' rp.yaml
	run rp status
	assert_failure 1
	assert_output "$(printf '%s\n' 'chunk:' '	cmd changed')"
}

@test "a mapping param shows the leaves that changed, as params diff does" {
	printf 'chunker:\n  size: 800\n  strategy: tokens\n  overlap: 50\n' > params.yaml
	cat > rp.yaml <<'YAML'
stages:
  chunk:
    cmd: echo --size ${chunker.size} > chunks.txt
    params: [chunker]
    outs: [chunks.txt]
YAML
	rp repro >/dev/null
	printf 'chunker:\n  size: 500\n  strategy: tokens\n  window: 3\n' > params.yaml
	run rp status
	assert_failure 1
	assert_output "$(printf '%s\n' 'chunk:' '	param chunker.size 800 -> 500' \
		'	param chunker.window added (3)' '	param chunker.overlap deleted (was 50)')"
	refute_output --partial "(in cmd)"
	refute_output --partial "{"
}

@test "with -v a changed directory dep names the files that changed" {
	mkdir -p data/img/sub
	for i in 1 2 3; do echo "$i" > "data/img/$i.txt"; done
	echo s > data/img/sub/s.txt
	printf 'stages:\n  train:\n    cmd: ls -R data/img > model.txt\n    deps: [data/img]\n    outs: [model.txt]\n' > rp.yaml
	rp repro >/dev/null
	echo more >> data/img/2.txt
	rm data/img/3.txt
	echo n > data/img/sub/new.txt
	run rp status
	assert_failure 1
	assert_output "$(printf '%s\n' 'train:' "	dep 'data/img' changed")"
	run rp status -v
	assert_failure 1
	assert_output "$(printf '%s\n' 'train:' "	dep 'data/img' changed" \
		'		modified: data/img/2.txt' '		deleted: data/img/3.txt' \
		'		added: data/img/sub/new.txt')"
}

@test "params diff reads a params file written upstream, and shows nothing before it exists" {
	upstream_params
	git init -q . && git add -A && git commit -qm one
	run rp -f dvc.yaml params diff
	assert_success
	assert_output "No parameter changed since HEAD."
	rp -f dvc.yaml repro >/dev/null
	run rp -f dvc.yaml params diff
	assert_success
	assert_line --regexp '^best_params\.yaml +lr +- +0\.1 *$'
}
