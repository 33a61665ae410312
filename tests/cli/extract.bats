#!/usr/bin/env bats
# extract.bats - rp-extract: folders, archives, HTML, JSONL, skips and errors.
# Needs tar, gzip, zip and python3; tar.zst only when zstd is installed.

load helpers

# make_corpus DIR: a small corpus with text, markdown, html and a skipped file.
make_corpus() {
	mkdir -p "$1/guides/deep" "$1/notes"
	printf '# Cache keys\n\nA key hashes the command and inputs.\n\n## Why\n\nSo nothing runs twice.\n' \
		> "$1/guides/cache.md"
	printf '\n   Lockfiles in git  \nrp.lock pins every output.\n' > "$1/notes/lock.txt"
	printf '<html><head><title>Recall &amp; MRR</title></head><body><h1>Metrics</h1><p>Top-10 recall.</p></body></html>\n' \
		> "$1/guides/deep/metrics.html"
	printf 'Zebra notes come last.\n' > "$1/zebra.txt"
	printf '\211PNG\r\n' > "$1/logo.png"
}

# field FILE N NAME: field NAME of line N of a JSONL file.
field() {
	python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readlines()[int(sys.argv[2])-1])[sys.argv[3]])' "$@"
}

# strip_prefix FILE PREFIX: the file with "PREFIX/" removed from every doc_id.
strip_prefix() {
	python3 -c '
import json,sys
for l in open(sys.argv[1]):
    o = json.loads(l)
    assert o["doc_id"].startswith(sys.argv[2] + "/"), o["doc_id"]
    o["doc_id"] = o["doc_id"][len(sys.argv[2]) + 1:]
    print(json.dumps(o, sort_keys=True, separators=(",", ":"), ensure_ascii=False))
' "$1" "$2"
}

@test "a folder gives sorted docs with doc_ids, titles and sha256 of the text" {
	make_corpus corpus
	run rp-extract corpus -o docs.jsonl
	assert_success
	assert_output "rp extract: 4 docs from 1 input (1 skipped: 1 unsupported; --verbose lists them)"
	run ids docs.jsonl
	assert_output "$(printf 'guides/cache.md\nguides/deep/metrics.html\nnotes/lock.txt\nzebra.txt')"
	[ "$(field docs.jsonl 1 title)" = "Cache keys" ]
	[ "$(field docs.jsonl 2 title)" = "Recall & MRR" ]
	[ "$(field docs.jsonl 3 title)" = "Lockfiles in git" ]
	[ "$(field docs.jsonl 4 title)" = "Zebra notes come last." ]
	# text files are taken as they are: their sha256 is the file's
	[ "$(field docs.jsonl 1 sha256)" = "$(sha256sum < corpus/guides/cache.md | cut -d' ' -f1)" ]
	[ "$(field docs.jsonl 3 sha256)" = "$(sha256sum < corpus/notes/lock.txt | cut -d' ' -f1)" ]
	# and every sha256 is the hash of the text field
	python3 -c '
import hashlib,json,sys
for l in open("docs.jsonl"):
    o = json.loads(l)
    assert o["sha256"] == hashlib.sha256(o["text"].encode()).hexdigest(), o["doc_id"]
    assert sorted(o) == ["doc_id","sha256","text","title"]
'
}

@test "output is byte-identical on a re-run and keys are sorted and compact" {
	make_corpus corpus
	run rp-extract corpus -o a.jsonl
	assert_success
	run rp-extract corpus -o b.jsonl
	assert_success
	cmp a.jsonl b.jsonl
	run head -c 12 a.jsonl
	assert_output '{"doc_id":"g'
}

@test "the same corpus as tar, tar.gz, zip (and tar.zst) gives the same docs" {
	make_corpus corpus
	rp-extract -q corpus -o folder.jsonl
	tar -C corpus -cf c.tar .
	tar -C corpus -czf c.tar.gz guides notes zebra.txt logo.png
	(cd corpus && zip -qr ../c.zip .)
	formats="c.tar c.tar.gz c.zip"
	if command -v zstd >/dev/null; then
		tar -C corpus --zstd -cf c.tar.zst .
		formats="$formats c.tar.zst"
	fi
	for a in $formats; do
		run rp-extract "$a" -o "$a.jsonl"
		assert_success
		assert_output --partial "4 docs from 1 input (1 skipped: 1 unsupported"
		[ "$(head -n1 "$a.jsonl" | cut -c1-$((12 + ${#a})))" = "{\"doc_id\":\"$a/" ]
		strip_prefix "$a.jsonl" "$a" > "$a.stripped"
		cmp "$a.stripped" folder.jsonl
	done
}

@test "an archive inside a folder is read, named by its path in the folder" {
	mkdir -p corpus/sub src
	printf 'inner text\n' > src/in.txt
	tar -C src -czf corpus/sub/pack.tgz in.txt
	run rp-extract corpus -o docs.jsonl
	assert_success
	run ids docs.jsonl
	assert_output "sub/pack.tgz/in.txt"
}

@test "html gives its visible text and title: script and style dropped, entities decoded" {
	mkdir corpus
	cat > corpus/page.htm <<'EOF'
<!DOCTYPE html>
<html><head><title>Chunking &amp; overlap</title>
<style>p { color: red; }</style>
<script>var secret = "<p>not text</p>";</script></head>
<body><!-- a comment -->
<h1>Chunks</h1>
<p>Size &lt; 512 tokens, &quot;overlap&quot; 64 &#8212; it&#39;s fine&nbsp;&#x21;</p>
</body></html>
EOF
	run rp-extract corpus -o docs.jsonl
	assert_success
	[ "$(field docs.jsonl 1 title)" = "Chunking & overlap" ]
	run field docs.jsonl 1 text
	assert_output "$(printf 'Chunks\n\nSize < 512 tokens, "overlap" 64 \xe2\x80\x94 it'"'"'s fine !')"
	refute_output --partial "secret"
	refute_output --partial "color"
	refute_output --partial "comment"
}

@test "an html page without <title> takes its first heading as title" {
	mkdir corpus
	printf '<body><p>intro</p><h3>Point-in-time <b>joins</b></h3><h1>Later</h1></body>' > corpus/a.html
	run rp-extract corpus -o docs.jsonl
	assert_success
	[ "$(field docs.jsonl 1 title)" = "Point-in-time joins" ]
}

@test "markdown title is the first '# ' heading outside code fences" {
	mkdir corpus
	printf 'intro line\n\n```sh\n# not a title\n```\n\n## Sub\n\n# Real title #\n\n# Second\n' > corpus/a.md
	run rp-extract corpus -o docs.jsonl
	assert_success
	[ "$(field docs.jsonl 1 title)" = "Real title" ]
}

@test "a plain file argument is named by its basename" {
	mkdir -p deep/er
	printf 'just a note\n' > deep/er/note.txt
	run rp-extract deep/er/note.txt -o docs.jsonl
	assert_success
	run ids docs.jsonl
	assert_output "note.txt"
}

@test "jsonl is passed through with --id-field, --text-field and --title-field" {
	mkdir corpus
	printf '{"id":"b","body":"second doc","name":"Bee","extra":1}\n\n{"id":"a","body":"first doc"}\n' \
		> corpus/records.jsonl
	run rp-extract corpus -o docs.jsonl --id-field id --text-field body --title-field name
	assert_success
	assert_output "rp extract: 2 docs from 1 input"
	run cat docs.jsonl
	assert_output "$(printf '%s\n' \
		'{"doc_id":"a","sha256":"'"$(printf 'first doc' | sha256sum | cut -d' ' -f1)"'","text":"first doc","title":""}' \
		'{"doc_id":"b","sha256":"'"$(printf 'second doc' | sha256sum | cut -d' ' -f1)"'","text":"second doc","title":"Bee"}')"
}

@test "docs.jsonl read back as input gives the same bytes" {
	make_corpus corpus
	rp-extract -q corpus -o docs.jsonl
	run rp-extract docs.jsonl -o again.jsonl
	assert_success
	cmp docs.jsonl again.jsonl
}

@test "a jsonl record without the text field is an error naming file and line" {
	mkdir corpus
	printf '{"id":"a","body":"ok"}\n{"id":"b","text":"wrong field"}\n' > corpus/r.jsonl
	run rp-extract corpus -o docs.jsonl --id-field id --text-field body
	assert_failure 2
	assert_output --partial "corpus/r.jsonl:2:1: field 'body' is missing"
	[ ! -e docs.jsonl ]
}

@test "invalid JSON in a jsonl input is an error naming file and line" {
	mkdir corpus
	printf '{"doc_id":"a","text":"ok"}\n{"doc_id": oops}\n' > corpus/r.jsonl
	run rp-extract corpus -o docs.jsonl
	assert_failure 2
	assert_output --partial "corpus/r.jsonl:2:"
}

@test "unsupported, unreadable and empty files are counted, and listed with --verbose" {
	make_corpus corpus
	printf '%%PDF-1.4\n' > corpus/notes/paper.pdf
	ln -s missing-target corpus/notes/dangling.txt
	printf '  \n\n' > corpus/notes/blank.md
	run rp-extract corpus -o docs.jsonl
	assert_success
	assert_output "rp extract: 4 docs from 1 input (4 skipped: 2 unsupported, 1 unreadable, 1 empty; --verbose lists them)"
	run rp-extract corpus -o docs.jsonl --verbose
	assert_success
	assert_line "rp-extract: skipped 'corpus/logo.png': unsupported, unknown file type"
	assert_line "rp-extract: skipped 'corpus/notes/paper.pdf': unsupported, unknown file type"
	assert_line --partial "rp-extract: skipped 'corpus/notes/dangling.txt': unreadable"
	assert_line "rp-extract: skipped 'corpus/notes/blank.md': empty, no text"
	assert_line "rp extract: 4 docs from 1 input (4 skipped: 2 unsupported, 1 unreadable, 1 empty)"
}

@test "files skipped inside an archive are listed with the archive name" {
	make_corpus corpus
	(cd corpus && zip -qr ../c.zip .)
	run rp-extract c.zip -o docs.jsonl -v
	assert_success
	assert_line "rp-extract: skipped 'c.zip:logo.png': unsupported, unknown file type"
}

@test "--strict makes any skipped file an error and writes nothing" {
	make_corpus corpus
	run rp-extract corpus -o docs.jsonl --strict
	assert_failure 1
	assert_output --partial "skipped 'corpus/logo.png'"
	assert_output --partial "--strict"
	[ ! -e docs.jsonl ]
	rm corpus/logo.png
	run rp-extract corpus -o docs.jsonl --strict
	assert_success
}

@test "a missing CORPUS path exits 2 and names it" {
	mkdir corpus
	run rp-extract corpus no-such-dir -o docs.jsonl
	assert_failure 2
	assert_output --partial "'no-such-dir'"
	[ ! -e docs.jsonl ]
}

@test "bad usage exits 2, --help exits 0 with the synopsis" {
	run rp-extract
	assert_failure 2
	run rp-extract corpus
	assert_failure 2
	assert_output --partial "-o FILE"
	run rp-extract --bogus
	assert_failure 2
	run rp-extract --help
	assert_success
	assert_line --index 0 "usage: rp-extract CORPUS... -o FILE [--text-field F] [--id-field F] [--title-field F]"
}

@test "-o into a new subdirectory creates it" {
	make_corpus corpus
	run rp-extract corpus -o build/deep/docs.jsonl
	assert_success
	[ "$(wc -l < build/deep/docs.jsonl)" -eq 4 ]
}

@test "a corrupt archive is an error naming it, and leaves no output file" {
	make_corpus corpus
	tar -C corpus -czf good.tar.gz .
	head -c 200 good.tar.gz > broken.tar.gz
	run rp-extract broken.tar.gz -o docs.jsonl
	assert_failure 1
	assert_output --partial "'broken.tar.gz'"
	[ ! -e docs.jsonl ]
	printf 'this is not a zip file\n' > fake.zip
	run rp-extract fake.zip -o docs.jsonl
	assert_failure 1
	assert_output --partial "'fake.zip'"
	[ ! -e docs.jsonl ]
}

@test "a failed run leaves an existing output untouched" {
	make_corpus corpus
	rp-extract -q corpus -o docs.jsonl
	cp docs.jsonl before.jsonl
	printf 'garbage' > corpus/bad.tar
	run rp-extract corpus -o docs.jsonl
	assert_failure 1
	cmp docs.jsonl before.jsonl
	[ -z "$(ls -A | grep '\.tmp\.')" ]
}

@test "the same doc_id from two sources is an error naming both" {
	mkdir -p a b
	printf 'one\n' > a/x.md
	printf 'two\n' > b/x.md
	run rp-extract a b -o docs.jsonl
	assert_failure 2
	assert_output --partial "duplicate doc_id 'x.md' from 'a/x.md' and 'b/x.md'"
	[ ! -e docs.jsonl ]
}

@test "invalid UTF-8 becomes U+FFFD, CRLF becomes LF, a BOM is dropped" {
	mkdir corpus
	printf '\357\273\277Title\r\nbad \377 byte\r\n' > corpus/a.txt
	run rp-extract corpus -o docs.jsonl
	assert_success
	run field docs.jsonl 1 text
	assert_output "$(printf 'Title\nbad \357\277\275 byte')"
	[ "$(field docs.jsonl 1 title)" = "Title" ]
}

@test "hidden files are ignored and the output file is never read as input" {
	make_corpus corpus
	rm corpus/logo.png
	mkdir corpus/.git
	printf 'x\n' > corpus/.git/HEAD.txt
	run rp-extract corpus -o corpus/docs.jsonl
	assert_success
	assert_output "rp extract: 4 docs from 1 input"
	run rp-extract corpus -o corpus/docs.jsonl -v
	assert_success
	assert_line "rp-extract: ignored 'corpus/.git' (hidden)"
	assert_line "rp-extract: ignored 'corpus/docs.jsonl' (the output file)"
	assert_line "rp extract: 4 docs from 1 input"
}

@test "several inputs are merged and counted" {
	make_corpus corpus
	printf 'solo\n' > solo.md
	tar -C corpus -cf c.tar guides
	run rp-extract corpus solo.md c.tar -o docs.jsonl
	assert_success
	assert_output --partial "7 docs from 3 inputs"
	run ids docs.jsonl
	assert_line --index 0 "c.tar/guides/cache.md"
	assert_line --index 6 "zebra.txt"
}

@test "progress is drawn on stderr when forced, and never in the output" {
	make_corpus corpus
	RP_PROGRESS=1 run rp-extract corpus -o docs.jsonl
	assert_success
	assert_output --partial "extract: "
	rp-extract -q corpus -o plain.jsonl
	cmp docs.jsonl plain.jsonl
}

@test "the RAG example corpus extracts cleanly and every eval question names its docs" {
	run rp-extract "$RP_SRCDIR/pipelines/rag/corpus" -o docs.jsonl --strict
	assert_success
	python3 -c '
import json
ids = {json.loads(l)["doc_id"] for l in open("docs.jsonl")}
assert len(ids) >= 40, len(ids)
n = 0
for l in open("'"$RP_SRCDIR"'/pipelines/rag/eval/questions.jsonl"):
    q = json.loads(l)
    assert q["query"] and q["relevant"], q
    for d in q["relevant"]:
        assert d in ids, d
    n += 1
assert n >= 40, n
'
}
