load helpers
load fixtures/c-lib

# --json on metrics, params, dag, repro, checkout, gc and cache verify (and
# --md where DVC has it): one JSON document on stdout and nothing else, the
# shapes rp(1) lists under JSON OUTPUT, the values, and the exit codes.
# Every `run` here keeps stderr apart (--separate-stderr), so $output is
# stdout alone.

# jv EXPR: the Python expression EXPR over d, the JSON document that is the
# whole of $output; strings print as they are, anything else as compact
# JSON with sorted keys. Fails (and so fails the test) unless $output is
# exactly one JSON document.
jv() {
	python3 -c '
import json, sys
d = json.loads(sys.stdin.read())
v = eval(sys.argv[1])
print(v if isinstance(v, str) else json.dumps(v, sort_keys=True, separators=(",", ":")))
' "$1" <<<"$output"
}

# is_json: $output is exactly one JSON document.
is_json() {
	jv 'True' >/dev/null
}

# use_eval: a git workspace whose one stage copies score.json and score.yaml
# into place as its two metrics files (JSON and YAML, kept in git), run and
# committed.
use_eval() {
	git_init
	cat > rp.yaml <<'EOF'
stages:
  evaluate:
    cmd: cp score.json metrics.json && cp score.yaml metrics.yaml
    deps: [score.json, score.yaml]
    metrics:
      - metrics.json:
          cache: false
      - metrics.yaml:
          cache: false
EOF
	echo '{"eval": {"recall": 0.5, "precision": 0.75}, "n": 10, "model": "bm25"}' > score.json
	printf 'loss: 1.5\ntrain:\n  epochs: 3\n' > score.yaml
	rp repro >/dev/null
	git_commit "metrics"
}

# ---- metrics -------------------------------------------------------------

@test "metrics show --json prints DVC's shape with typed values" {
	use_eval
	run --separate-stderr rp metrics show --json
	assert_success
	is_json
	[ "$(jv 'list(d)')" = '["workspace"]' ]
	[ "$(jv 'd["workspace"]["data"]["metrics.json"]["data"]')" = \
	  '{"eval":{"precision":0.75,"recall":0.5},"model":"bm25","n":10}' ]
	[ "$(jv 'd["workspace"]["data"]["metrics.yaml"]["data"]')" = '{"loss":1.5,"train":{"epochs":3}}' ]
	[ "$(jv 'type(d["workspace"]["data"]["metrics.json"]["data"]["n"]).__name__')" = int ]
}

@test "metrics show --json names a metrics file that cannot be read" {
	use_eval
	rm metrics.yaml
	run --separate-stderr rp metrics show --json
	assert_success
	[ "$(jv 'd["workspace"]["data"]["metrics.yaml"]["error"]["msg"]')" = \
	  "cannot read 'metrics.yaml': No such file or directory" ]
	[ "$(jv '"data" in d["workspace"]["data"]["metrics.yaml"]')" = false ]
	[ "$(jv 'd["workspace"]["data"]["metrics.json"]["data"]["n"]')" = 10 ]
}

@test "metrics show --json with no metrics is an empty data object" {
	use_chunk
	run --separate-stderr rp metrics show --json
	assert_success
	[ "$(jv 'd')" = '{"workspace":{"data":{}}}' ]
}

@test "metrics diff --json gives old, new and diff per changed metric" {
	use_eval
	echo '{"eval": {"recall": 0.6, "precision": 0.75}, "n": 12, "model": "bm26", "fresh": true}' > metrics.json
	run --separate-stderr rp metrics diff --json
	assert_success
	assert_equal "$stderr" ""
	[ "$(jv 'd["metrics.json"]["eval.recall"]')" = '{"diff":0.1,"new":0.6,"old":0.5}' ]
	[ "$(jv 'd["metrics.json"]["n"]')" = '{"diff":2,"new":12,"old":10}' ]
	# no diff between strings, and an added metric's old value is null
	[ "$(jv 'd["metrics.json"]["model"]')" = '{"new":"bm26","old":"bm25"}' ]
	[ "$(jv 'd["metrics.json"]["fresh"]')" = '{"new":true,"old":null}' ]
	# unchanged metrics and files are left out
	[ "$(jv 'sorted(d)')" = '["metrics.json"]' ]
	[ "$(jv 'sorted(d["metrics.json"])')" = '["eval.recall","fresh","model","n"]' ]
}

@test "metrics diff --json --all keeps unchanged metrics with a zero diff" {
	use_eval
	rm metrics.json
	run --separate-stderr rp metrics diff --all --json
	assert_success
	[ "$(jv 'd["metrics.yaml"]["loss"]')" = '{"diff":0.0,"new":1.5,"old":1.5}' ]
	# a deleted file: every metric's new value is null
	[ "$(jv 'd["metrics.json"]["n"]')" = '{"new":null,"old":10}' ]
}

@test "metrics diff --json with nothing changed is an empty object" {
	use_eval
	run --separate-stderr rp metrics diff --json
	assert_success
	[ "$output" = "{}" ]
}

@test "metrics diff --json against no revision prints no JSON and exits 2" {
	use_eval
	run --separate-stderr rp metrics diff nosuchrev --json
	assert_failure 2
	assert_equal "$output" ""
	[[ "$stderr" == *"'nosuchrev' is not a git revision"* ]]
}

@test "metrics diff --md prints a Markdown table" {
	use_eval
	echo '{"eval": {"recall": 0.6, "precision": 0.75}, "n": 10, "model": "a|b"}' > metrics.json
	run --separate-stderr rp metrics diff --md
	assert_success
	assert_equal "${lines[0]}" "| Path         | Metric      | HEAD | Workspace | Change |"
	assert_equal "${lines[1]}" "|--------------|-------------|------|-----------|--------|"
	assert_equal "${lines[2]}" "| metrics.json | eval.recall | 0.5  | 0.6       | +0.1   |"
	assert_equal "${lines[3]}" '| metrics.json | model       | bm25 | a\|b      | -      |'
	assert_equal "${#lines[@]}" 4
}

@test "metrics show --md prints a Markdown table" {
	use_eval
	run --separate-stderr rp metrics show --md
	assert_success
	assert_equal "${lines[0]}" "| Path         | Metric         | Value |"
	assert_equal "${lines[1]}" "|--------------|----------------|-------|"
	assert_line "| metrics.yaml | train.epochs   | 3     |"
	assert_equal "${#lines[@]}" 8
}

# ---- params --------------------------------------------------------------

@test "params diff --json gives old, new and diff per changed parameter" {
	git_init
	use_chunk
	git_commit "pipeline and params"
	set_size 25
	sed -i 's/^  strategy: fixed/  strategy: sentence\n  overlap: 2/' params.yaml
	run --separate-stderr rp params diff --json
	assert_success
	[ "$(jv 'd')" = '{"params.yaml":{"chunker.overlap":{"new":2,"old":null},"chunker.size":{"diff":15,"new":25,"old":10},"chunker.strategy":{"new":"sentence","old":"fixed"}}}' ]
}

@test "params diff --json --all includes unchanged parameters, and {} when none changed" {
	git_init
	use_chunk
	git_commit "pipeline and params"
	run --separate-stderr rp params diff --json
	assert_success
	[ "$output" = "{}" ]
	run --separate-stderr rp params diff --all --json
	assert_success
	[ "$(jv 'd["params.yaml"]["chunker.size"]')" = '{"diff":0,"new":10,"old":10}' ]
	[ "$(jv 'd["params.yaml"]["chunker.strategy"]')" = '{"new":"fixed","old":"fixed"}' ]
}

@test "params diff --md prints a Markdown table" {
	git_init
	use_chunk
	git_commit "pipeline and params"
	set_size 25
	run --separate-stderr rp params diff --md
	assert_success
	assert_equal "${lines[0]}" "| Path        | Param        | HEAD | Workspace |"
	assert_equal "${lines[1]}" "|-------------|--------------|------|-----------|"
	assert_equal "${lines[2]}" "| params.yaml | chunker.size | 10   | 25        |"
	assert_equal "${#lines[@]}" 3
}

@test "params diff --json against no revision prints no JSON and exits 2" {
	git_init
	use_chunk
	git_commit "pipeline and params"
	run --separate-stderr rp params diff nosuchrev --json
	assert_failure 2
	assert_equal "$output" ""
}

# ---- dag -----------------------------------------------------------------

@test "dag --json lists the stages in dependency order with upstream, deps and outs" {
	cp "$FIXTURES/c-dag.yaml" rp.yaml
	run --separate-stderr rp dag --json
	assert_success
	names=$(jv '[s["name"] for s in d["stages"]]')
	# every stage after the stages it depends on
	python3 -c '
import json, sys
names = json.loads(sys.argv[1])
assert sorted(names) == ["eval", "lint", "prepare", "report", "train"], names
for a, b in [("prepare", "train"), ("train", "eval"), ("eval", "report")]:
    assert names.index(a) < names.index(b), names
' "$names"
	[ "$(jv '[s for s in d["stages"] if s["name"] == "report"][0]')" = \
	  '{"deps":["model.txt","eval.txt"],"name":"report","outs":["report.txt"],"upstream":["train","eval"]}' ] ||
	[ "$(jv '[s for s in d["stages"] if s["name"] == "report"][0]')" = \
	  '{"deps":["model.txt","eval.txt"],"name":"report","outs":["report.txt"],"upstream":["eval","train"]}' ]
	[ "$(jv '[s for s in d["stages"] if s["name"] == "prepare"][0]')" = \
	  '{"deps":[],"name":"prepare","outs":["features.txt"],"upstream":[]}' ]
}

@test "dag --json TARGET lists only that stage and its upstream" {
	cp "$FIXTURES/c-dag.yaml" rp.yaml
	run --separate-stderr rp dag --json eval
	assert_success
	[ "$(jv '[s["name"] for s in d["stages"]]')" = '["prepare","train","eval"]' ]
	run --separate-stderr rp dag --json nope
	assert_failure 2
	assert_equal "$output" ""
}

@test "dag --md prints the Mermaid flowchart in a mermaid code block" {
	cp "$FIXTURES/c-dag.yaml" rp.yaml
	run --separate-stderr rp dag --md
	assert_success
	assert_equal "${lines[0]}" '```mermaid'
	assert_equal "${lines[1]}" "flowchart TD"
	assert_line $'\tprepare --> train'
	assert_equal "${lines[${#lines[@]} - 1]}" '```'
}

# ---- repro ---------------------------------------------------------------

# use_chain: src.txt -> a -> b -> c, each stage counting its runs.
use_chain() {
	cp "$FIXTURES/r-chain.yaml" rp.yaml
	echo one > src.txt
}

@test "repro --json says each stage ran and why, with the totals" {
	use_chain
	run --separate-stderr rp repro --json
	assert_success
	is_json
	[ "$(jv 'd["counts"]')" = '{"failed":0,"not_run":0,"ran":3,"restored":0,"run_cache":0,"up_to_date":0,"would_run":0}' ]
	[ "$(jv 'd["stages"]["a"]')" = '{"reasons":[{"reason":"never-run","text":"never run"}],"status":"ran"}' ]
	[ "$(jv '[d["stages"][s]["status"] for s in "abc"]')" = '["ran","ran","ran"]' ]
	[ "$(jv '[d["dry_run"], d["interrupted"]]')" = '[false,false]' ]
	# the commands' output went to stderr
	[[ "$stderr" == *"[a] \$ echo x >> runs-a.log"* ]]
	[ "$(runs_of runs-c.log)" = 1 ]
	run --separate-stderr rp repro --json
	assert_success
	[ "$(jv '[d["stages"][s]["status"] for s in "abc"]')" = '["up-to-date","up-to-date","up-to-date"]' ]
	[ "$(jv 'd["counts"]["up_to_date"]')" = 3 ]
}

@test "repro -n --json lists what would run and why, and runs nothing" {
	use_chain
	rp repro >/dev/null
	echo two > src.txt
	run --separate-stderr rp repro -n --json
	assert_success
	[ "$(jv 'd["stages"]["a"]')" = \
	  '{"reasons":[{"path":"src.txt","reason":"dep-changed","text":"dep '"'src.txt'"' changed"}],"status":"would-run"}' ]
	[ "$(jv 'd["stages"]["b"]["reasons"][0]')" = \
	  '{"reason":"upstream-dirty","stage":"a","text":"upstream stage '"'a'"' will run"}' ]
	[ "$(jv 'd["counts"]["would_run"]')" = 3 ]
	[ "$(jv 'd["dry_run"]')" = true ]
	[ "$(runs_of runs-a.log)" = 1 ]
}

@test "repro --json tells restored and run-cache stages apart" {
	use_chain
	rp repro >/dev/null
	rm c.txt
	run --separate-stderr rp repro --json
	assert_success
	[ "$(jv 'd["stages"]["c"]["status"]')" = restored ]
	[ "$(jv 'd["stages"]["c"]["reasons"][0]["reason"]')" = out-missing ]
	[ "$(jv 'd["counts"]["restored"]')" = 1 ]
	echo two > src.txt
	rp repro >/dev/null
	echo one > src.txt
	run --separate-stderr rp repro --json
	assert_success
	[ "$(jv '[d["stages"][s]["status"] for s in "abc"]')" = '["run-cache","run-cache","run-cache"]' ]
	[ "$(jv 'd["counts"]["run_cache"]')" = 3 ]
	[ "$(runs_of runs-a.log)" = 2 ]
}

@test "repro --json after a failure still prints the document and exits 1" {
	use_chain
	sed -i 's/cp src.txt a.txt/cp src.txt a.txt; exit 3/' rp.yaml
	run --separate-stderr rp repro --json
	assert_failure 1
	is_json
	[ "$(jv 'd["stages"]["a"]["status"]')" = failed ]
	[ "$(jv 'd["stages"]["a"]["error"]')" = "stage 'a' failed: its command exited with status 3" ]
	[ "$(jv 'd["stages"]["b"]')" = '{"reasons":[],"status":"not-run"}' ]
	[ "$(jv '[d["counts"][k] for k in ("ran", "failed", "not_run")]')" = '[0,1,2]' ]
	[[ "$stderr" == *"rp: error: stage 'a' failed"* ]]
}

@test "repro --json with an unknown target prints nothing on stdout and exits 2" {
	use_chain
	run --separate-stderr rp repro --json nope
	assert_failure 2
	assert_equal "$output" ""
}

# ---- checkout ------------------------------------------------------------

@test "checkout --json lists the paths restored and those that matched" {
	use_chain
	rp repro >/dev/null
	rm c.txt
	run --separate-stderr rp checkout --json
	assert_success
	is_json
	[ "$(jv 'd')" = '{"missing":[],"not_in_store":[],"rebuilt":[],"restored":["c.txt"],"unchanged":["a.txt","b.txt","src.txt"],"unsaved":[]}' ]
	[ "$(cat c.txt)" = "$(printf 'one\nb\nc')" ]
}

@test "checkout --json refusing an unsaved edit still lists it, exit 1" {
	use_chain
	rp repro >/dev/null
	echo edited > b.txt
	rm c.txt
	run --separate-stderr rp checkout --json
	assert_failure 1
	[ "$(jv 'd["unsaved"]')" = '[{"out":true,"path":"b.txt","stage":"b"}]' ]
	[ "$(jv 'd["restored"]')" = '[]' ]
	[ "$(cat b.txt)" = edited ]
	[[ "$stderr" == *"checking out would lose them"* ]]
}

@test "checkout --json names the outs in no store, and what --rebuild rebuilt" {
	use_chain
	rp repro >/dev/null
	h=$(hash_of a.txt)
	drop_object "$h"
	rm a.txt
	run --separate-stderr rp checkout --json
	assert_failure 1
	[ "$(jv 'd["missing"]')" = "[{\"hash\":\"$h\",\"path\":\"a.txt\",\"stage\":\"a\"}]" ]
	[ "$(jv 'd["restored"]')" = '[]' ]
	run --separate-stderr rp checkout --rebuild --json
	assert_success
	[ "$(jv 'd["rebuilt"]')" = '["a"]' ]
	[ "$(jv 'd["restored"]')" = '["a.txt"]' ]
	# the rebuilt stage's output went to stderr
	[[ "$stderr" == *"[rebuild a] \$ echo x >> runs-a.log"* ]]
}

@test "checkout --json of a lock that does not exist prints nothing and exits 2" {
	use_chain
	run --separate-stderr rp checkout nosuch.lock --json
	assert_failure 2
	assert_equal "$output" ""
}

# ---- gc ------------------------------------------------------------------

# two_versions: the chain run on two versions of src.txt, the second in
# rp.lock: the first's 3 objects and 3 run-cache entries are garbage.
two_versions() {
	use_chain
	rp repro >/dev/null
	old=$(hash_of a.txt)
	echo two > src.txt
	rp repro >/dev/null
}

@test "gc -n --json lists what would be deleted, and deletes nothing" {
	two_versions
	run --separate-stderr rp gc -n --json
	assert_success
	is_json
	[ "$(jv '[d["dry_run"], d["kept"]]')" = '[true,3]' ]
	[ "$(jv '[d["objects"]["count"], d["objects"]["bytes"], len(d["objects"]["ids"])]')" = '[3,18,3]' ]
	[ "$(jv 'd["objects"]["ids"] == sorted(d["objects"]["ids"])')" = true ]
	[ "$(jv "\"$old\" in d[\"objects\"][\"ids\"]")" = true ]
	[ "$(jv '[d["run_cache"]["count"], len(d["run_cache"]["ids"]), len(d["run_cache"]["ids"][0])]')" = '[3,3,64]' ]
	[ -f "$(object_of "$old")" ]
}

@test "gc --json says what it deleted, and without a scope refuses after the document" {
	two_versions
	run --separate-stderr rp gc --json
	assert_failure 2
	[ "$(jv '[d["dry_run"], d["objects"]["count"]]')" = '[true,3]' ]
	[[ "$stderr" == *"nothing deleted: say what to keep"* ]]
	[ -f "$(object_of "$old")" ]
	run --separate-stderr rp gc --workspace --json
	assert_success
	[ "$(jv '[d["dry_run"], d["objects"]["count"], d["run_cache"]["count"], d["kept"]]')" = '[false,3,3,3]' ]
	[ "$(jv "\"$old\" in d[\"objects\"][\"ids\"]")" = true ]
	[ ! -e "$(object_of "$old")" ]
	run --separate-stderr rp gc --workspace --json
	assert_success
	[ "$(jv '[d["objects"], d["run_cache"]]')" = '[{"bytes":0,"count":0,"ids":[]},{"bytes":0,"count":0,"ids":[]}]' ]
}

# ---- cache verify --------------------------------------------------------

@test "cache verify --json counts the objects and names the corrupt ones" {
	use_chain
	rp repro >/dev/null
	# src.txt and a.txt hold the same bytes: one object
	run --separate-stderr rp cache verify --json
	assert_success
	[ "$(jv 'd')" = '{"checked":3,"corrupt":[]}' ]
	h=$(hash_of a.txt)
	o=$(object_of "$h")
	chmod u+w "$o"
	echo rotten > "$o"
	bad=$(hash_of "$o")
	run --separate-stderr rp cache verify --json
	assert_failure 1
	[ "$(jv 'd')" = "{\"checked\":3,\"corrupt\":[{\"actual\":\"$bad\",\"id\":\"$h\"}]}" ]
	run --separate-stderr rp cache verify --repair --json
	assert_failure 1
	[ "$(jv 'd["corrupt"][0]["quarantined"]')" = ".rp/cache/quarantine/$h" ]
	[ -f ".rp/cache/quarantine/$h" ]
}

@test "--json with -q still prints the document" {
	use_chain
	run --separate-stderr rp -q repro --json
	assert_success
	[ "$(jv 'd["counts"]["ran"]')" = 3 ]
	run --separate-stderr rp cache verify -q --json
	assert_success
	[ "$(jv 'd["checked"]')" = 3 ]
}

@test "--json with -v keeps the per-stage and per-path lines off stdout" {
	use_chain
	rp repro >/dev/null
	rm c.txt
	run --separate-stderr rp -v checkout --json
	assert_success
	[ "$(jv 'd["restored"]')" = '["c.txt"]' ]
	run --separate-stderr rp -v repro --json
	assert_success
	[ "$(jv 'd["counts"]["up_to_date"]')" = 3 ]
}
