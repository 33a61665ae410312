#!/usr/bin/env bats
# eval.bats - rp-eval on a hand-made corpus whose rankings are known: five
# chunks of five documents with (nearly) disjoint words, so a query made of
# one chunk's words ranks that chunk first and a chunk sharing half of them
# second. The metrics are worked out by hand below; a candidate that loses a
# document regresses beyond --max-drop (exit 1, the file written first) and
# passes within it; usage and input errors exit 2; rp metrics shows the
# numbers by their nested keys and diffs them between commits.

bats_require_minimum_version 1.5.0
load helpers

M=rp-lexical-v1

# corpus OUT [DROP_DOC]: the five chunks (without those of DROP_DOC).
corpus() {
	python3 - "$@" <<'EOF'
import hashlib, json, sys
chunks = [("fruit.md#0", "fruit.md", "apples pears plums cherries orchard harvest"),
          ("fruit.md#1", "fruit.md", "apples pears plums jam recipe sugar"),
          ("river.md#0", "river.md", "river boats harbour sailing current"),
          ("snow.md#0", "snow.md", "mountain snow glacier skiing avalanche"),
          ("music.md#0", "music.md", "violin piano guitar orchestra concert")]
drop = sys.argv[2] if len(sys.argv) > 2 else None
with open(sys.argv[1], "w") as f:
    for cid, doc, text in chunks:
        if doc != drop:
            f.write(json.dumps({"chunk_id": cid, "doc_id": doc, "text": text,
                                "content_hash": hashlib.sha256(text.encode()).hexdigest()},
                               sort_keys=True, separators=(",", ":")) + "\n")
EOF
}

# index_of CHUNKS INDEX: embeds CHUNKS (local model) and builds INDEX.
index_of() {
	rp-embed "$1" -o "$1.rpv" --model $M >/dev/null 2>&1 || return 1
	rp-index update "$2" --vectors "$1.rpv" --chunks "$1" >/dev/null
}

# The four queries, with their top 3 in the full index and the numbers:
#  1 fruit#0's words, relevant fruit.md: fruit#0, fruit#1 (same doc, not
#    counted again), ...: recall 1, MRR 1, nDCG 1
#  2 music#0's words, relevant nowhere.md: 0, 0, 0
#  3 fruit#1's words, relevant chunk fruit.md#0: fruit#1, fruit#0: recall 1,
#    MRR 1/2, nDCG 1/log2(3) = 0.630930
#  4 river#0's words, relevant river.md and nowhere.md: river#0 first:
#    recall 1/2, MRR 1, nDCG 1 / (1 + 1/log2(3)) = 0.613147
# Means (k 3): recall 2.5/4 = 0.625, MRR 2.5/4 = 0.625,
#   nDCG 2.244077/4 = 0.561019.
# Without river.md, query 4 scores 0: recall 0.5, MRR 0.375,
#   nDCG 1.630930/4 = 0.407732.
queries() {
	cat > q.jsonl <<'EOF'
{"query": "apples pears plums cherries orchard harvest", "relevant": ["fruit.md"]}
{"query": "violin piano guitar orchestra concert", "relevant": ["nowhere.md"]}
{"query": "apples pears plums jam recipe sugar", "relevant": ["fruit.md#0"]}
{"query": "river boats harbour sailing current", "relevant": ["river.md", "nowhere.md"]}
EOF
}

setup() {
	enter_ws || return 1
	mkdir .rp
	export RP_PROGRESS=0
	corpus all.jsonl
	corpus noriver.jsonl river.md
	index_of all.jsonl blue
	index_of noriver.jsonl green
	queries
}

# m FILE PYTHON-EXPR: a value of the metrics file (m is the parsed JSON).
m() {
	python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); v=eval(sys.argv[2]); print(json.dumps(v) if not isinstance(v,str) else v)' "$1" "$2"
}

@test "the metrics of an index are the numbers worked out by hand" {
	run rp-eval --queries q.jsonl --index blue=blue -k 3 -o metrics.json
	assert_success
	assert_equal "$(m metrics.json 'm["indexes"]["blue"]["recall@3"]')" 0.625
	assert_equal "$(m metrics.json 'm["indexes"]["blue"]["mrr"]')" 0.625
	assert_equal "$(m metrics.json 'm["indexes"]["blue"]["ndcg@3"]')" 0.561019
	assert_equal "$(m metrics.json 'm["queries"]')" 4
	assert_equal "$(m metrics.json 'm["k"]')" 3
	assert_equal "$(m metrics.json 'm["indexes"]["blue"]["model"]')" $M
	assert_equal "$(m metrics.json 'm["indexes"]["blue"]["path"]')" blue
	# the digest is the index's logical digest
	assert_equal "$(m metrics.json 'm["indexes"]["blue"]["digest"]')" \
		"$(python3 -c 'import json; print(json.load(open("blue/MANIFEST.json"))["digest"])')"
	# no baseline: no verdict
	assert_equal "$(m metrics.json 'm["verdict"]')" null
	assert_equal "$(m metrics.json 'm["baseline"]')" null
	# the table
	assert_line --regexp '^4 queries, k 3$'
	assert_line --regexp '^blue +0\.6250 +0\.6250 +0\.5610 +rp-lexical-v1$'
	# canonical: one line, sorted keys, no blanks
	assert_equal "$(wc -l < metrics.json)" 1
	head -c 12 metrics.json | grep -q '^{"baseline":'
}

@test "a document found by several chunks counts once" {
	head -1 q.jsonl > q1.jsonl
	run rp-eval --queries q1.jsonl --index blue=blue -k 3 -o metrics.json
	assert_success
	# fruit#0 and fruit#1 are ranks 1 and 2; counting fruit.md twice would
	# give an nDCG above 1
	assert_equal "$(m metrics.json 'm["indexes"]["blue"]["ndcg@3"]')" 1.0
	assert_equal "$(m metrics.json 'm["indexes"]["blue"]["recall@3"]')" 1.0
}

@test "k 1 counts only the first result" {
	# firsts: fruit#0 (hit), music#0 (miss), fruit#1 (not the chunk asked
	# for), river#0 (hit, one of two): recall (1 + 0 + 0 + 0.5) / 4
	run rp-eval --queries q.jsonl --index blue=blue -k 1 -o metrics.json
	assert_success
	assert_equal "$(m metrics.json 'm["indexes"]["blue"]["recall@1"]')" 0.375
	assert_equal "$(m metrics.json 'm["indexes"]["blue"]["mrr"]')" 0.5
	assert_equal "$(m metrics.json 'm["indexes"]["blue"]["ndcg@1"]')" 0.5
}

@test "a candidate that regresses beyond --max-drop fails after writing the verdict" {
	run rp-eval --queries q.jsonl --index blue=blue --index green=green -k 3 \
		--baseline blue --max-drop 0.01 -o metrics.json
	assert_failure 1
	assert_output --partial "rp-eval: error: a candidate fell more than --max-drop 0.01 below the baseline 'blue'"
	assert_line --regexp '^green +0\.5000 +0\.3750 +0\.4077 +rp-lexical-v1$'
	assert_line "verdict: FAIL"
	assert_line "  green: mrr 0.3750, blue 0.6250: a drop of 0.2500, more than 0.01"
	assert_equal "$(m metrics.json 'm["verdict"]["pass"]')" false
	assert_equal "$(m metrics.json 'm["verdict"]["baseline"]')" blue
	assert_equal "$(m metrics.json 'm["verdict"]["candidates"]')" '["green"]'
	assert_equal "$(m metrics.json 'm["baseline"]')" blue
	assert_equal "$(m metrics.json 'm["max_drop"]')" 0.01
	assert_equal "$(m metrics.json '[(r["index"], r["metric"], r["baseline"], r["value"]) for r in m["verdict"]["regressions"]]')" \
		'[["green", "recall@3", 0.625, 0.5], ["green", "mrr", 0.625, 0.375], ["green", "ndcg@3", 0.561019, 0.407732]]'
}

@test "a drop within --max-drop passes" {
	# the largest drop is MRR's, 0.25: exactly 0.25 is allowed
	run rp-eval --queries q.jsonl --index blue=blue --index green=green -k 3 \
		--baseline blue --max-drop 0.25 -o metrics.json
	assert_success
	assert_line --partial "verdict: pass"
	assert_equal "$(m metrics.json 'm["verdict"]["pass"]')" true
	assert_equal "$(m metrics.json 'm["verdict"]["regressions"]')" '[]'
	# just under it fails, on MRR alone
	run rp-eval --queries q.jsonl --index blue=blue --index green=green -k 3 \
		--baseline blue --max-drop 0.2499 -o metrics.json
	assert_failure 1
	assert_equal "$(m metrics.json '[r["metric"] for r in m["verdict"]["regressions"]]')" '["mrr"]'
	# a candidate better than the baseline passes at max drop 0
	run rp-eval --queries q.jsonl --index green=green --index blue=blue -k 3 \
		--baseline green --max-drop 0 -o metrics.json
	assert_success
	assert_equal "$(m metrics.json 'm["verdict"]["candidates"]')" '["blue"]'
}

@test "without --max-drop the baseline allows 0.01" {
	cp -R blue blue2
	run rp-eval --queries q.jsonl --index blue=blue --index twin=blue2 --baseline blue -o metrics.json
	assert_success
	assert_equal "$(m metrics.json 'm["max_drop"]')" 0.01
	assert_equal "$(m metrics.json 'm["verdict"]["pass"]')" true
}

@test "usage errors exit 2" {
	run rp-eval --queries q.jsonl --index blue=blue
	assert_failure 2
	assert_output --partial "usage: rp-eval"
	run rp-eval --queries q.jsonl --index blue -o m.json
	assert_failure 2
	assert_output --partial "--index 'blue': expected NAME=INDEX"
	run rp-eval --queries q.jsonl --index blue=blue --index blue=green -o m.json
	assert_failure 2
	assert_output --partial "the name 'blue' is given twice"
	run rp-eval --queries q.jsonl --index 'b/x=blue' -o m.json
	assert_failure 2
	run rp-eval --queries q.jsonl --index blue=blue --baseline red -o m.json
	assert_failure 2
	assert_output --partial "--baseline 'red' is not the name of an --index"
	run rp-eval --queries q.jsonl --index blue=blue --max-drop 0.1 -o m.json
	assert_failure 2
	assert_output --partial "--max-drop needs --baseline"
	run rp-eval --queries q.jsonl --index blue=blue --baseline blue --max-drop 2 -o m.json
	assert_failure 2
	run rp-eval --queries q.jsonl --index blue=blue -k 0 -o m.json
	assert_failure 2
	assert_output --partial "-k"
	[ ! -e m.json ]
}

@test "a bad query line or a missing index is invalid input naming it" {
	printf '{"query": "a", "relevant": ["x"]}\n{"query": "b", "relevant": []}\n' > bad.jsonl
	run rp-eval --queries bad.jsonl --index blue=blue -o m.json
	assert_failure 2
	assert_output --partial "bad.jsonl:2:1: field 'relevant'"
	printf '{"query": "a", "relevant": ["x"]}\nnot json\n' > bad.jsonl
	run rp-eval --queries bad.jsonl --index blue=blue -o m.json
	assert_failure 2
	assert_output --partial "bad.jsonl:2:"
	run rp-eval --queries q.jsonl --index blue=nothing-here -o m.json
	assert_failure 2
	assert_output --partial "nothing-here"
	[ ! -e m.json ]
}

@test "rp metrics shows the numbers by nested key and diffs them between commits" {
	git_init
	cat > rp.yaml <<'EOF'
stages:
  eval:
    cmd: rp eval --queries q.jsonl --index blue=blue --index green=green -k 3 --baseline blue --max-drop 0.3 -o metrics.json
    deps: [q.jsonl, blue, green]
    metrics:
    - metrics.json:
        cache: false
EOF
	echo .rp/ > .gitignore
	rp repro >/dev/null
	run rp metrics show
	assert_success
	assert_line --regexp '^metrics\.json +indexes\.green\.mrr +0\.375$'
	assert_line --regexp '^metrics\.json +verdict\.pass +true$'
	git_commit "green without river.md"
	# green gets river.md back: its metrics become blue's
	rm -rf green
	index_of all.jsonl green
	rp repro >/dev/null
	run rp metrics diff
	assert_success
	assert_line --regexp '^metrics\.json +indexes\.green\.mrr +0\.375 +0\.625 +\+0\.25$'
	assert_line --regexp '^metrics\.json +indexes\.green\.recall@3 +0\.5 +0\.625 +\+0\.125$'
	refute_output --partial "indexes.blue.mrr"
}

@test "--hybrid fuses BM25 in, and refuses an index without full-text tables" {
	# BM25 ranks the relevant chunks where the vectors do: the same numbers
	run rp-eval --queries q.jsonl --index blue=blue -k 3 --hybrid -o metrics.json
	assert_success
	assert_equal "$(m metrics.json '[m["indexes"]["blue"][k] for k in ("recall@3", "mrr", "ndcg@3")]')" \
		'[0.625, 0.625, 0.561019]'
	rp-index update nofts --vectors all.jsonl.rpv --chunks all.jsonl --no-fts >/dev/null
	run rp-eval --queries q.jsonl --index plain=nofts --hybrid -o m.json
	assert_failure 2
	assert_output --partial "no full-text tables"
	[ ! -e m.json ]
}

@test "the man page's synopsis is the usage of -h" {
	run rp-eval -h
	assert_success
	# as in every page: the usage lines, without "usage: " on the first
	usage=$(rp-eval -h | sed -n '1,/^$/p' | sed '/^$/d; 1s/^usage: //')
	man=$(sed -n '/^\.SH SYNOPSIS/,/^\.fi/p' "$RP_SRCDIR/man/rp-eval.1" | sed '1,2d;$d' | sed 's/\\-/-/g')
	assert_equal "$man" "$usage"
}
