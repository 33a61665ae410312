load helpers
load fixtures/c-lib

# evaluate copies score.json (uncached metrics) and score.yaml (cached
# metrics, YAML) into place.
use_eval() {
	cat > rp.yaml <<'EOF'
stages:
  evaluate:
    cmd: echo x >> runs-evaluate.log && cp score.json metrics.json && cp score.yaml metrics.yaml
    deps:
      - score.json
      - score.yaml
    metrics:
      - metrics.json:
          cache: false
      - metrics.yaml
EOF
	echo '{"eval": {"recall": 0.5, "precision": 0.75}, "n": 10, "model": "bm25"}' > score.json
	printf 'loss: 1.5\ntrain:\n  epochs: 3\n' > score.yaml
	rp repro >/dev/null
}

@test "metrics show prints every metric with its dotted key" {
	use_eval
	run rp metrics show
	assert_success
	assert_line --regexp '^Path +Metric +Value$'
	assert_line --regexp '^metrics\.json +eval\.recall +0\.5$'
	assert_line --regexp '^metrics\.json +eval\.precision +0\.75$'
	assert_line --regexp '^metrics\.json +n +10$'
	assert_line --regexp '^metrics\.json +model +bm25$'
}

@test "metrics show reads YAML metrics files too" {
	use_eval
	run rp metrics show
	assert_success
	assert_line --regexp '^metrics\.yaml +loss +1\.5$'
	assert_line --regexp '^metrics\.yaml +train\.epochs +3$'
}

@test "metrics show does not list outputs that are not metrics" {
	use_eval
	cat >> rp.yaml <<'EOF'
  other:
    cmd: "echo '{\"secret\": 1}' > other.json"
    outs: [other.json]
EOF
	rp repro >/dev/null
	run rp metrics show
	assert_success
	refute_output --partial "other.json"
	refute_output --partial "secret"
}

@test "metrics show with no metrics says so" {
	use_chunk
	run rp metrics show
	assert_success
	assert_output "No metrics."
}

@test "metrics diff shows the old value, the new one and the change" {
	git_init
	use_eval
	git_commit "recall 0.5"
	echo '{"eval": {"recall": 0.6, "precision": 0.75}, "n": 10, "model": "bm25"}' > score.json
	printf 'loss: 1.25\ntrain:\n  epochs: 3\n' > score.yaml
	rp repro >/dev/null
	run rp metrics diff
	assert_success
	assert_line --regexp '^Path +Metric +HEAD +Workspace +Change$'
	assert_line --regexp '^metrics\.json +eval\.recall +0\.5 +0\.6 +\+0\.1$'
	assert_line --regexp '^metrics\.yaml +loss +1\.5 +1\.25 +-0\.25$'
	refute_output --partial "eval.precision"
	refute_output --partial "epochs"
}

@test "metrics diff --all also shows unchanged metrics" {
	git_init
	use_eval
	git_commit "recall 0.5"
	echo '{"eval": {"recall": 0.6, "precision": 0.75}, "n": 10, "model": "bm25"}' > score.json
	rp repro >/dev/null
	run rp metrics diff --all
	assert_success
	assert_line --regexp '^metrics\.json +eval\.recall +0\.5 +0\.6 +\+0\.1$'
	assert_line --regexp '^metrics\.json +eval\.precision +0\.75 +0\.75 '
	assert_line --regexp '^metrics\.yaml +train\.epochs +3 +3 '
}

@test "metrics diff against an explicit revision" {
	git_init
	use_eval
	git_commit "recall 0.5"
	echo '{"eval": {"recall": 0.6, "precision": 0.75}, "n": 10, "model": "bm25"}' > score.json
	rp repro >/dev/null
	git_commit "recall 0.6"
	echo '{"eval": {"recall": 0.9, "precision": 0.75}, "n": 10, "model": "bm25"}' > score.json
	rp repro >/dev/null
	run rp metrics diff HEAD~1
	assert_success
	assert_line --regexp '^metrics\.json +eval\.recall +0\.5 +0\.9 +\+0\.4$'
}

@test "metrics diff with nothing changed says so" {
	git_init
	use_eval
	git_commit "recall 0.5"
	run rp metrics diff
	assert_success
	assert_output "No metric changed since HEAD."
}

@test "metrics diff shows a non-numeric change without a number" {
	git_init
	use_eval
	git_commit "bm25"
	echo '{"eval": {"recall": 0.5, "precision": 0.75}, "n": 10, "model": "dense"}' > score.json
	rp repro >/dev/null
	run rp metrics diff
	assert_success
	assert_line --regexp '^metrics\.json +model +bm25 +dense( +-)?$'
}

@test "metrics diff against an unknown revision is a usage error" {
	git_init
	use_eval
	git_commit "one"
	run rp metrics diff no-such-rev
	assert_failure 2
	assert_output --partial "no-such-rev"
}

@test "metrics without show or diff is a usage error" {
	use_eval
	run rp metrics
	assert_failure 2
	assert_output --partial "usage: rp metrics show"
}
