#!/usr/bin/env bats
# pipelines/features end to end with `rp repro`: the generator, the
# point-in-time and --as-of-now training sets, a model trained on each, and
# the leak the issue promises to make measurable: the leaky set looks better
# offline and is no better on the later split. A second run does nothing.

load helpers

setup_file() {
	export RP_PROGRESS=0
}

auc() {  # auc SET KEY: a value of metrics.json
	python3 -c 'import json,sys; print(json.load(open("metrics.json"))[sys.argv[1]][sys.argv[2]])' "$1" "$2"
}

@test "the features example shows the leak and a second run does nothing" {
	command -v cc >/dev/null || skip "no C compiler (cc) on PATH"
	cp -R "$RP_SRCDIR/pipelines/features/." .
	chmod -R u+w .
	rm -rf build .rp rp.lock metrics.json
	run rp repro
	assert_success
	assert_output --partial "7 ran, 0 restored, 0 from run-cache, 0 up to date, 0 failed"
	assert_output --partial "leaks future values"
	# one output row per entity row, in order, in both sets
	assert_equal "$(wc -l < build/honest.jsonl)" "$(wc -l < build/labels.jsonl)"
	assert_equal "$(wc -l < build/leaky.jsonl)" "$(wc -l < build/labels.jsonl)"
	# the generator is deterministic: these counts are those of seed 42
	assert_equal "$(wc -l < build/clicks.jsonl)" 160333
	assert_equal "$(wc -l < build/labels.jsonl)" 20800
	ho=$(auc honest offline_auc) hl=$(auc honest later_auc)
	lo=$(auc leaky offline_auc) ll=$(auc leaky later_auc)
	echo "honest offline $ho later $hl, leaky offline $lo later $ll"
	# the leak inflates the offline score ...
	python3 -c "import sys; sys.exit(not ($lo > $ho + 0.02))"
	# ... and buys nothing on the later split
	python3 -c "import sys; sys.exit(not ($ll <= $hl + 0.005))"
	# the honest model is a real model, not noise
	python3 -c "import sys; sys.exit(not ($hl > 0.7))"

	run rp repro
	assert_success
	assert_output --partial "0 ran, 0 restored, 0 from run-cache, 7 up to date, 0 failed"

	# a new split re-runs the two trainings and the metrics only
	sed -i 's/^  split: .*/  split: 2026-02-10T00:00:00Z/' params.yaml
	run rp repro
	assert_success
	assert_output --partial "3 ran, 0 restored, 0 from run-cache, 4 up to date, 0 failed"
}
