#!/usr/bin/env bats
# rp-index update: deletes that really delete (through `rp repro`), edits
# that touch only the changed chunks, the logical digest equal to a
# from-scratch build's, and vectors of a foreign model refused with the
# index left byte-identical. The format is rp-index(5).

load helpers

setup_file() {
	export RP_PROGRESS=0
}

# manifest KEY...: a value of build's MANIFEST.json by a python path
# (manifest IDX 'counts.chunks', manifest IDX 'segments.0.sha256').
manifest() {
	python3 - "$1" "$2" <<'EOF'
import json, sys
v = json.load(open(sys.argv[1] + "/MANIFEST.json"))
for k in sys.argv[2].split("."):
    v = v[int(k)] if isinstance(v, list) else v[k]
print(v if not isinstance(v, (dict, list)) else json.dumps(v, sort_keys=True))
EOF
}

# tree_sum DIR: one SHA-256 over the names and bytes of every file under DIR.
tree_sum() {
	(cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum)
}

# make_corpus N: N documents corpus/docNNNN.txt of 12 sentences, one
# paragraph each; doc 0003 (when it exists) holds a sentence no other holds.
make_corpus() {
	python3 - "$1" <<'EOF'
import os, sys
os.makedirs("corpus", exist_ok=True)
for d in range(int(sys.argv[1])):
    lines = ["Document %d line %d speaks of topic %d and of item %d." % (d, i, (d * i) % 11, i * 7 + d)
             for i in range(12)]
    if d == 3:
        lines[5] = "The zebra ate quantum marmalade at dawn."
    open("corpus/doc%04d.txt" % d, "w").write("\n".join(lines) + "\n")
EOF
}

write_pipeline() {
	cat > rp.yaml <<'EOF'
stages:
  extract:
    cmd: rp extract corpus -o build/docs.jsonl
    deps: [corpus]
    outs: [build/docs.jsonl]
  chunk:
    cmd: rp chunk build/docs.jsonl -o build/chunks.jsonl --size 200
    deps: [build/docs.jsonl]
    outs: [build/chunks.jsonl]
  embed:
    cmd: rp embed build/chunks.jsonl -o build/vectors.rpv --model rp-lexical-v1
    deps: [build/chunks.jsonl]
    outs: [build/vectors.rpv]
  index:
    cmd: >-
      rp index update build/index --vectors build/vectors.rpv
      --chunks build/chunks.jsonl --stats build/index-stats.json
    deps: [build/vectors.rpv, build/chunks.jsonl]
    outs:
    - build/index:
        persist: true
    metrics:
    - build/index-stats.json:
        cache: false
EOF
}

stat_of() {  # stat_of KEY: a count from the index stage's --stats
	python3 -c 'import json,sys; print(json.load(open("build/index-stats.json"))[sys.argv[1]])' "$1"
}

@test "deleting a document and running rp repro removes every chunk of it and logs its tombstones" {
	make_corpus 8
	write_pipeline
	run rp repro
	assert_success
	total=$(wc -l < build/chunks.jsonl)
	ghost=$(grep -c '"doc_id":"doc0003.txt"' build/chunks.jsonl)
	[ "$ghost" -ge 3 ]
	assert_equal "$(stat_of added)" "$total"
	assert_equal "$(manifest build/index counts.chunks)" "$total"
	assert_equal "$(manifest build/index counts.documents)" 8
	run rp index query build/index "The zebra ate quantum marmalade at dawn." -k 3 --json
	assert_success
	assert_line --index 0 --partial '"doc_id":"doc0003.txt"'

	rm corpus/doc0003.txt
	SOURCE_DATE_EPOCH=1764936000 run rp repro
	assert_success
	assert_equal "$(stat_of deleted)" "$ghost"
	assert_equal "$(stat_of added)" 0
	assert_equal "$(stat_of updated)" 0
	assert_equal "$(stat_of unchanged)" $((total - ghost))
	assert_equal "$(manifest build/index counts.chunks)" $((total - ghost))
	assert_equal "$(manifest build/index counts.documents)" 7
	assert_equal "$(manifest build/index counts.tombstones)" "$ghost"
	# one tombstone per chunk, with its doc_id and the time given
	tomb=build/index/$(manifest build/index tombstones.0.file)
	assert_equal "$(wc -l < "$tomb")" "$ghost"
	assert_equal "$(grep -c '"doc_id":"doc0003.txt"' "$tomb")" "$ghost"
	assert_equal "$(grep -c '"deleted_at":"2025-12-05T12:00:00Z"' "$tomb")" "$ghost"
	run rp index query build/index "The zebra ate quantum marmalade at dawn." -k 100 --json
	assert_success
	[ "${#lines[@]}" -eq $((total - ghost)) ]
	refute_output --partial 'doc0003.txt'
	run rp index verify build/index --chunks build/chunks.jsonl
	assert_success
}

@test "a one-line edit in one document of 1,000 updates exactly the changed chunk, leaving the rest untouched" {
	make_corpus 1000
	rp extract corpus -o docs.jsonl 2>/dev/null
	rp chunk docs.jsonl -o chunks.jsonl --size 400 2>/dev/null
	rp embed chunks.jsonl -o v1.rpv --model rp-lexical-v1 2>/dev/null
	run rp index update IDX --vectors v1.rpv --chunks chunks.jsonl --stats s1.json
	assert_success
	total=$(wc -l < chunks.jsonl)
	[ "$total" -ge 2000 ]
	assert_output "rp index update: added $total, updated 0, deleted 0, unchanged 0"
	seg=$(manifest IDX segments.0.file)
	digest1=$(manifest IDX digest)
	seg_sum=$(sha256sum < "IDX/$seg")

	# one line of one document, the same length: one chunk's text changes
	sed -i 's/^Document 517 line 8 speaks/Document 517 line 8 SPEAKS/' corpus/doc0517.txt
	rp extract corpus -o docs.jsonl 2>/dev/null
	rp chunk docs.jsonl -o chunks2.jsonl --size 400 2>/dev/null
	assert_equal "$(wc -l < chunks2.jsonl)" "$total"
	assert_equal "$(diff chunks.jsonl chunks2.jsonl | grep -c '^>')" 1
	rp embed chunks2.jsonl -o v2.rpv --model rp-lexical-v1 2>/dev/null
	run rp index update IDX --vectors v2.rpv --chunks chunks2.jsonl --stats s2.json
	assert_success
	assert_output "rp index update: added 0, updated 1, deleted 0, unchanged $((total - 1))"
	assert_equal "$(cat s2.json)" "{\"added\":0,\"deleted\":0,\"unchanged\":$((total - 1)),\"updated\":1}"
	# the old segment is the same file, with one row marked dead; the new
	# segment holds the one new row
	assert_equal "$(manifest IDX segments.0.file)" "$seg"
	assert_equal "$(sha256sum < "IDX/$seg")" "$seg_sum"
	assert_equal "$(manifest IDX segments.0.dead_rows)" 1
	assert_equal "$(manifest IDX segments.1.rows)" 1
	assert_equal "$(manifest IDX counts.chunks)" "$total"
	# the logical digest is the one of a from-scratch build of the new corpus
	run rp index update SCRATCH --vectors v2.rpv --chunks chunks2.jsonl
	assert_success
	assert_output "rp index update: added $total, updated 0, deleted 0, unchanged 0"
	assert_equal "$(manifest IDX digest)" "$(manifest SCRATCH digest)"
	[ "$(manifest IDX digest)" != "$digest1" ]
	# and a second run with nothing new changes nothing
	before=$(tree_sum IDX)
	run rp index update IDX --vectors v2.rpv --chunks chunks2.jsonl
	assert_output "rp index update: added 0, updated 0, deleted 0, unchanged $total"
	assert_equal "$(tree_sum IDX)" "$before"
}

@test "vectors of another model of the same dimension are refused and the index stays byte-identical" {
	make_corpus 5
	rp extract corpus -o docs.jsonl 2>/dev/null
	rp chunk docs.jsonl -o chunks.jsonl --size 200 2>/dev/null
	rp embed chunks.jsonl -o v.rpv --model rp-lexical-v1 2>/dev/null
	rp index update IDX --vectors v.rpv --chunks chunks.jsonl >/dev/null
	# the same vectors, relabelled as made by another model (ai/vectors.h)
	python3 - v.rpv other.rpv other-embedder-v2 <<'EOF'
import hashlib, struct, sys
d = open(sys.argv[1], "rb").read()[:-32]
p = 20 + 2 + struct.unpack_from("<H", d, 20)[0]
m = struct.unpack_from("<H", d, p)[0]
model = sys.argv[3].encode()
out = d[:p] + struct.pack("<H", len(model)) + model + d[p + 2 + m:]
open(sys.argv[2], "wb").write(out + hashlib.sha256(out).digest())
EOF
	before=$(tree_sum IDX)
	files=$(ls -A IDX)
	run rp index update IDX --vectors other.rpv --chunks chunks.jsonl
	assert_failure 2
	assert_output "rp-index: error: IDX: index built with rp-lexical-v1 (384 dims), vectors from other-embedder-v2 (384 dims): different embedding spaces; build a new index and promote it"
	assert_equal "$(tree_sum IDX)" "$before"
	assert_equal "$(ls -A IDX)" "$files"
	# --rebuild (a pipeline whose model is a parameter) starts from empty
	run rp index update IDX --vectors other.rpv --chunks chunks.jsonl --rebuild
	assert_success
	assert_output "rp index update: added $(wc -l < chunks.jsonl), updated 0, deleted 0, unchanged 0"
	assert_equal "$(manifest IDX model)" other-embedder-v2
	assert_equal "$(manifest IDX generation)" 2
}

@test "bad inputs name the file and line: a chunk without its vector, a stale content_hash" {
	make_corpus 3
	rp extract corpus -o docs.jsonl 2>/dev/null
	rp chunk docs.jsonl -o chunks.jsonl --size 200 2>/dev/null
	rp embed chunks.jsonl -o v.rpv --model rp-lexical-v1 2>/dev/null
	head -n 2 chunks.jsonl > two.jsonl
	rp embed two.jsonl -o two.rpv --model rp-lexical-v1 2>/dev/null
	id3=$(sed -n 3p chunks.jsonl | python3 -c 'import json,sys; print(json.load(sys.stdin)["chunk_id"])')
	run rp index update IDX --vectors two.rpv --chunks chunks.jsonl
	assert_failure 2
	assert_output "rp-index: error: chunks.jsonl:3:1: chunk '$id3' has no vector in 'two.rpv'; re-run the embed stage on this chunk file"
	[ ! -e IDX ]
	# an edited chunk whose vectors were not re-made
	sed -i '2s/Document/DOCUMENT/; 2s/"content_hash":"[0-9a-f]*"/"content_hash":"'"$(printf x | sha256sum | cut -c1-64)"'"/' chunks.jsonl
	run rp index update IDX --vectors v.rpv --chunks chunks.jsonl
	assert_failure 2
	assert_output --partial "rp-index: error: chunks.jsonl:2:1: chunk '"
	assert_output --partial "differs from its vector's in 'v.rpv'"
	[ ! -e IDX ]
	run rp index update IDX --vectors v.rpv
	assert_failure 2
	assert_output --partial "--vectors and --chunks are required"
}

@test "a second update of the same index at the same time fails and leaves it as it was" {
	make_corpus 3
	rp extract corpus -o docs.jsonl 2>/dev/null
	rp chunk docs.jsonl -o chunks.jsonl --size 200 2>/dev/null
	rp embed chunks.jsonl -o v.rpv --model rp-lexical-v1 2>/dev/null
	rp index update IDX --vectors v.rpv --chunks chunks.jsonl --no-fts >/dev/null
	before=$(tree_sum IDX)
	# flock(1) holds the directory's lock as a running update does
	run flock IDX rp index update IDX --vectors v.rpv --chunks chunks.jsonl
	assert_failure 1
	assert_output "rp-index: error: IDX: another 'rp-index update' is writing this index; run again when it is done"
	assert_equal "$(tree_sum IDX)" "$before"
	run rp index update IDX --vectors v.rpv --chunks chunks.jsonl
	assert_success
	assert_output "rp index update: added 0, updated 0, deleted 0, unchanged $(wc -l < chunks.jsonl)"
	# turning the full-text tables on writes one per segment
	assert_equal "$(manifest IDX fts | grep -o fts- | wc -l)" 1
}

# Lines whose bytes are an old row's line are not parsed (their fingerprint
# is the row's, rp-index(5)); every other line is, as from scratch. Each
# check below fails on a fast path that trusts the chunk_id, skips a line
# whose bytes changed, or forgets the lines it did not parse.
@test "the unparsed lines of an update: changed bytes are parsed, duplicates and bad lines refused by line" {
	make_corpus 3
	rp extract corpus -o docs.jsonl 2>/dev/null
	rp chunk docs.jsonl -o chunks.jsonl --size 200 2>/dev/null
	rp embed chunks.jsonl -o v.rpv --model rp-lexical-v1 2>/dev/null
	total=$(wc -l < chunks.jsonl)
	[ "$total" -ge 6 ]
	run rp index update IDX --vectors v.rpv --chunks chunks.jsonl
	assert_success
	docs=$(manifest IDX counts.documents)
	id1=$(sed -n 1p chunks.jsonl | python3 -c 'import json,sys; print(json.load(sys.stdin)["chunk_id"])')
	before=$(tree_sum IDX)

	# line 2 keeps chunk_id and content_hash but moves to a new doc_id: updated
	python3 - <<'PY'
import json
lines = open("chunks.jsonl").read().splitlines()
o = json.loads(lines[1]); o["doc_id"] = "another-doc"
lines[1] = json.dumps(o, sort_keys=True, separators=(",", ":"))
o = json.loads(lines[3]); o["extra"] = 1        # other bytes, the same chunk
lines[3] = json.dumps(o, sort_keys=True, separators=(",", ":"))
open("moved.jsonl", "w").write("\n".join(lines) + "\n")
PY
	run rp index update IDX --vectors v.rpv --chunks moved.jsonl --stats s.json
	assert_success
	assert_output "rp index update: added 0, updated 1, deleted 0, unchanged $((total - 1))"
	assert_equal "$(manifest IDX counts.documents)" "$((docs + 1))"
	# the same as a from-scratch build of those lines
	run rp index update SCRATCH --vectors v.rpv --chunks moved.jsonl
	assert_success
	assert_equal "$(manifest IDX digest)" "$(manifest SCRATCH digest)"
	assert_equal "$(manifest IDX counts.documents)" "$(manifest SCRATCH counts.documents)"
	run rp index query IDX "Document 1 line 4" -k 5 --json
	assert_success
	ans=$output
	run rp index query SCRATCH "Document 1 line 4" -k 5 --json
	assert_equal "$output" "$ans"
	run rp index verify IDX --chunks moved.jsonl
	assert_success

	# an unchanged line twice: refused as a duplicate chunk_id, naming both lines
	cp chunks.jsonl dup.jsonl
	sed -n 1p chunks.jsonl >> dup.jsonl
	moved=$(tree_sum IDX)
	run rp index update IDX --vectors v.rpv --chunks dup.jsonl
	assert_failure 2
	assert_output "rp-index: error: dup.jsonl:$((total + 1)):1: chunk_id '$id1' appears twice (first on line 1)"
	# the same when the first of them was parsed (its bytes changed)
	sed -i '1s/^{/{"extra":0,/' dup.jsonl
	run rp index update IDX --vectors v.rpv --chunks dup.jsonl
	assert_failure 2
	assert_output "rp-index: error: dup.jsonl:$((total + 1)):1: chunk_id '$id1' appears twice (first on line 1)"
	assert_equal "$(tree_sum IDX)" "$moved"

	# a bad line among unchanged ones: the message of a from-scratch build
	cp chunks.jsonl bad.jsonl
	sed -i '3s/.*/{"chunk_id": oops}/' bad.jsonl
	run rp index update FRESH --vectors v.rpv --chunks bad.jsonl
	assert_failure 2
	fresh=$output
	assert_output --partial "rp-index: error: bad.jsonl:3:"
	run rp index update IDX --vectors v.rpv --chunks bad.jsonl
	assert_failure 2
	assert_equal "$output" "$fresh"
	# a line that parses but lacks a field
	sed -i '3s/.*/{"chunk_id":"x"}/' bad.jsonl
	run rp index update IDX --vectors v.rpv --chunks bad.jsonl
	assert_failure 2
	assert_output "rp-index: error: bad.jsonl:3:1: field 'doc_id' is missing (expected a string)"
	assert_equal "$(tree_sum IDX)" "$moved"
	# back to the first lines: back to the first index's digest
	run rp index update IDX --vectors v.rpv --chunks chunks.jsonl
	assert_success
	assert_output "rp index update: added 0, updated 1, deleted 0, unchanged $((total - 1))"
	assert_equal "$(manifest IDX counts.documents)" "$docs"
}
