# chunk.bats - rp-chunk: strategies, ids and hashes, determinism, validation,
# and that an edit or an overlap change touches only the chunks it must.
load helpers

# docs: writes docs.jsonl with two documents (b before a, to test sorting).
docs() {
	cat > docs.jsonl <<'JSON'
{"doc_id":"b.md","sha256":"0","title":"B","text":"# Install\n\nGet it. Build it.\n\n## From source\n\nRun configure. Then make."}
{"doc_id":"a.txt","sha256":"0","title":"A","text":"One two three. Four five six.\n\nSeven eight nine."}
JSON
}

# texts FILE: the chunk texts of FILE, one JSON string a line.
texts() {
	python3 -c 'import json,sys
for l in open(sys.argv[1]): print(json.dumps(json.loads(l)["text"]))' "$1"
}

@test "recursive: known chunks, ids, ordinals, sorted by doc" {
	docs
	run rp-chunk docs.jsonl -o chunks.jsonl --strategy recursive --size 20 --overlap 0
	assert_success
	run texts chunks.jsonl
	assert_output "$(printf '%s\n' '"One two three."' '"Four five six."' '"Seven eight nine."' \
		'"# Install"' '"Get it. Build it."' '"## From source"' '"Run configure."' '"Then make."')"
	run python3 -c 'import json
for l in open("chunks.jsonl"):
    o = json.loads(l); print(o["chunk_id"], o["doc_id"], o["ordinal"], o["chunker"], json.dumps(o["headings"]))'
	assert_line --index 0 'a.txt#0 a.txt 0 recursive@1 []'
	assert_line --index 2 'a.txt#2 a.txt 2 recursive@1 []'
	assert_line --index 3 'b.md#0 b.md 0 recursive@1 ["Install"]'
	assert_line --index 7 'b.md#4 b.md 4 recursive@1 ["Install", "From source"]'
}

@test "content_hash is the sha256 of the text" {
	docs
	rp-chunk docs.jsonl -o chunks.jsonl --strategy sentence --size 30
	python3 -c 'import json
for l in open("chunks.jsonl"):
    o = json.loads(l); open("t.%s" % o["chunk_id"].replace("#", "_"), "w").write(o["text"]); print(o["content_hash"])' > want
	for f in t.*; do sha256sum "$f" | cut -d" " -f1; done > got
	run sort want
	want_sorted=$output
	run sort got
	assert_output "$want_sorted"
	[ "$(wc -l < want)" -gt 2 ]
}

@test "each strategy gives the expected chunks" {
	docs
	rp-chunk docs.jsonl -o f.jsonl --strategy fixed --size 10 --overlap 3 --unit words
	run texts f.jsonl
	assert_line --index 0 '"One two three. Four five six.\n\nSeven eight nine."'
	assert_line --index 1 '"# Install\n\nGet it. Build it.\n\n## From source\n\nRun"'
	assert_line --index 2 '"From source\n\nRun configure. Then make."'
	rp-chunk docs.jsonl -o m.jsonl --strategy markdown --size 100
	run texts m.jsonl
	assert_output "$(printf '%s\n' '"One two three. Four five six.\n\nSeven eight nine."' \
		'"Get it. Build it."' '"Run configure. Then make."')"
	rp-chunk docs.jsonl -o s.jsonl --strategy sentence --size 6 --overlap 3 --unit words
	run texts s.jsonl
	assert_output "$(printf '%s\n' '"One two three. Four five six."' '"Four five six.\n\nSeven eight nine."' \
		'"# Install\n\nGet it. Build it."' '"## From source\n\nRun configure."' '"Run configure. Then make."')"
}

@test "the chunker and its parameters are in every line" {
	docs
	rp-chunk docs.jsonl -o c.jsonl --strategy fixed --size 50 --overlap 5 --unit chars
	run grep -c '"chunker":"fixed@1","chunker_params":{"overlap":5,"size":50,"unit":"chars"}' c.jsonl
	assert_output "$(wc -l < c.jsonl | tr -d ' ')"
}

@test "output is byte-identical on a re-run and independent of input order" {
	docs
	rp-chunk docs.jsonl -o one.jsonl --strategy markdown --size 12 --overlap 4
	rp-chunk docs.jsonl -o two.jsonl --strategy markdown --size 12 --overlap 4
	tac docs.jsonl > rev.jsonl
	rp-chunk rev.jsonl -o three.jsonl --strategy markdown --size 12 --overlap 4
	cmp one.jsonl two.jsonl
	cmp one.jsonl three.jsonl
}

@test "size and overlap are validated (exit 2)" {
	docs
	run rp-chunk docs.jsonl -o c.jsonl --size 0
	assert_failure 2
	assert_output --partial "chunk size must be greater than 0"
	run rp-chunk docs.jsonl -o c.jsonl --size 10 --overlap 10
	assert_failure 2
	assert_output --partial "overlap 10 must be smaller than the chunk size 10"
	run rp-chunk docs.jsonl -o c.jsonl --size -3
	assert_failure 2
	run rp-chunk docs.jsonl -o c.jsonl --strategy semantic
	assert_failure 2
	assert_output --partial "unknown strategy 'semantic'"
	run rp-chunk docs.jsonl -o c.jsonl --unit tokens
	assert_failure 2
	[ ! -e c.jsonl ]
}

@test "bad input is exit 2 naming file and line, with no output" {
	docs
	printf '{"doc_id":"c","text":"x"}\n{"doc_id": "d", "text": \n' >> docs.jsonl
	run rp-chunk docs.jsonl -o c.jsonl
	assert_failure 2
	assert_output --partial "docs.jsonl:4:"
	[ ! -e c.jsonl ]
	printf '{"doc_id":"c","text":"x"}\n{"doc_id":"d"}\n' > bad.jsonl
	run rp-chunk bad.jsonl -o c.jsonl
	assert_failure 2
	assert_output --partial "bad.jsonl:2:1: field 'text' is missing"
	printf '{"doc_id":"c","text":"x"}\n{"doc_id":"c","text":"y"}\n' > dup.jsonl
	run rp-chunk dup.jsonl -o c.jsonl
	assert_failure 2
	assert_output --partial "dup.jsonl:2:1: duplicate doc_id 'c'"
	run rp-chunk missing.jsonl -o c.jsonl
	assert_failure 2
	[ ! -e c.jsonl ]
}

@test "usage: -h prints the synopsis, no input is exit 2" {
	run rp-chunk -h
	assert_success
	assert_line --index 0 --partial "usage: rp-chunk DOCS.jsonl -o CHUNKS.jsonl"
	run rp-chunk
	assert_failure 2
}

@test "editing one line of one doc changes only that doc's chunks" {
	python3 -c 'import json
for d in range(50):
    text = "\n".join("Doc %d line %d says something about topic %d." % (d, i, (d * i) % 7) for i in range(30))
    print(json.dumps({"doc_id": "doc%02d.txt" % d, "sha256": "0", "title": "D%d" % d, "text": text}))' > docs.jsonl
	rp-chunk docs.jsonl -o before.jsonl --strategy recursive --size 200 --overlap 40
	sed -i '17s/line 12 says/line 12 now says/' docs.jsonl
	rp-chunk docs.jsonl -o after.jsonl --strategy recursive --size 200 --overlap 40
	run bash -c "diff before.jsonl after.jsonl | grep '^[<>]' | grep -o '\"doc_id\":\"[^\"]*\"' | sort -u"
	assert_output '"doc_id":"doc16.txt"'
	# and within that doc only the chunks holding the edited line
	changed=$(diff <(grep -o '"content_hash":"[^"]*"' before.jsonl) <(grep -o '"content_hash":"[^"]*"' after.jsonl) | grep -c '^>')
	total=$(grep -c '"doc_id":"doc16.txt"' after.jsonl)
	[ "$changed" -ge 1 ] && [ "$changed" -le 2 ] && [ "$total" -gt 4 ]
}

@test "changing the overlap changes only the chunk texts it affects" {
	python3 -c 'import json
for d in range(5):
    text = "\n\n".join("Paragraph %d of doc %d. It has two sentences." % (i, d) for i in range(12))
    print(json.dumps({"doc_id": "d%d" % d, "sha256": "0", "title": "", "text": text}))' > docs.jsonl
	rp-chunk docs.jsonl -o o0.jsonl --strategy markdown --size 100 --overlap 0
	rp-chunk docs.jsonl -o o1.jsonl --strategy markdown --size 100 --overlap 50
	grep -o '"content_hash":"[^"]*"' o0.jsonl | sort > h0
	grep -o '"content_hash":"[^"]*"' o1.jsonl | sort > h1
	# some chunk texts survive an overlap change (their hashes are the same)
	same=$(comm -12 h0 h1 | wc -l)
	[ "$same" -ge 5 ]
	# and each changed text really differs
	run bash -c "comm -13 h0 h1 | wc -l"
	[ "$output" -ge 1 ]
}
