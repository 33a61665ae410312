#!/usr/bin/env bats
# index-verify.bats - rp-index verify finds drift and damage planted by hand,
# names each problem and exits 1; a clean index exits 0. And rp-index info.
#
# Drift is planted by building an index from a modified chunk file (a row
# left out, a ghost row added, a text altered) and verifying it against the
# true one; damage by editing the index's files (a flipped byte, a deleted
# segment, an edited digest, a segment of another model grafted in).

bats_require_minimum_version 1.5.0
load helpers
load fixtures/embed-lib

M=rp-lexical-v1
S=local:$M@384      # the embedding space in the digest: provider:model@dim

setup() {
	enter_ws || return 1
	gen_chunks chunks.jsonl 100     # 10 documents d0000..d0009 of 10 chunks
	index_from chunks.jsonl ix
}

# index_from CHUNKS INDEX [ARGS...]: embeds CHUNKS with the local model (a
# cache in the workspace) and updates INDEX from them with ARGS.
index_from() {
	local c=$1 ix=$2
	shift 2
	rp-embed "$c" -o "$c.rpv" --model $M --cache emb.db >/dev/null 2>&1 || return 1
	rp-index update "$ix" --vectors "$c.rpv" --chunks "$c" "$@" >/dev/null
}

# info_get INDEX KEY: one field of `rp-index info INDEX --json`.
info_get() {
	rp-index info "$1" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$2"
}

# seg_file INDEX [N]: the file name of segment N (0) of INDEX's manifest.
seg_file() {
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]+"/MANIFEST.json"))["segments"][int(sys.argv[2])]["file"])' "$1" "${2:-0}"
}

# edit_manifest INDEX PYTHON: runs PYTHON with `m` the parsed manifest of
# INDEX, then writes `m` back canonically (sorted keys, compact).
edit_manifest() {
	python3 - "$1" "$2" <<'EOF'
import json, os, sys
p = sys.argv[1] + "/MANIFEST.json"
m = json.load(open(p))
exec(sys.argv[2])
if os.path.exists(p):
    os.chmod(p, 0o644)
with open(p, "w") as f:
    f.write(json.dumps(m, sort_keys=True, separators=(",", ":")) + "\n")
EOF
}

# graft INDEX OTHER: copies OTHER's segments into INDEX and appends them to
# INDEX's manifest (with their full-text tables, when INDEX has them), as a
# buggy or hostile writer might.
graft() {
	chmod u+w "$1"
	cp "$2"/seg-* "$1"/
	cp "$2"/fts-* "$1"/ 2>/dev/null || true
	edit_manifest "$1" "o = json.load(open('$2/MANIFEST.json')); m['segments'] += o['segments']
if m.get('fts'): m['fts'] += o['fts']"
}

# drop_chunk IN OUT ID: IN without the line of chunk ID.
drop_chunk() {
	grep -v "\"chunk_id\":\"$3\"" "$1" > "$2"
}

# add_chunk FILE ID DOC TEXT: appends a chunk line with a correct content_hash.
add_chunk() {
	python3 -c 'import hashlib,json,sys; t=sys.argv[4]; print(json.dumps({"chunk_id":sys.argv[2],"doc_id":sys.argv[3],"ordinal":0,"text":t,"content_hash":hashlib.sha256(t.encode()).hexdigest()},sort_keys=True,separators=(",",":")))' "$@" >> "$1"
}

# expected_digest CHUNKS SPACE: the logical digest of rp-index(5), computed
# here from the chunk file alone: SHA-256 of the sorted lines
# "chunk_id<TAB>content_hash<TAB>space\n", SPACE "provider:model@dim".
expected_digest() {
	python3 -c '
import hashlib, json, sys
rows = sorted((json.loads(l)["chunk_id"].encode(), json.loads(l)["content_hash"]) for l in open(sys.argv[1]))
print(hashlib.sha256(b"".join(i + b"\t" + h.encode() + b"\t" + sys.argv[2].encode() + b"\n" for i, h in rows)).hexdigest())' "$1" "$2"
}

@test "-h prints the synopsis; bad arguments and inputs are usage errors" {
	run rp-index verify -h
	assert_success
	assert_line --index 0 "usage: rp-index verify INDEX [--chunks CHUNKS.jsonl] [--json]"
	run rp-index info -h
	assert_success
	assert_line --index 0 "usage: rp-index info INDEX [--json]"
	run rp-index verify
	assert_failure 2
	run rp-index verify ix --no-such-option
	assert_failure 2
	run rp-index verify nowhere
	assert_failure 2
	assert_output --partial "'nowhere' is not an index"
	run rp-index info nowhere
	assert_failure 2
	printf '{"chunk_id":"a#0","doc_id":"a"}\n' > bad.jsonl
	run rp-index verify ix --chunks bad.jsonl
	assert_failure 2
	assert_output --partial "bad.jsonl:1:"
	assert_output --partial "content_hash"
	head -3 chunks.jsonl > dup.jsonl
	head -1 chunks.jsonl >> dup.jsonl
	run rp-index verify ix --chunks dup.jsonl
	assert_failure 2
	assert_output --partial "dup.jsonl:4:1: duplicate chunk_id 'd0000#0' (also on line 1)"
}

@test "a clean index verifies, alone and against its chunks" {
	digest=$(expected_digest chunks.jsonl $S)
	run rp-index verify ix
	assert_success
	assert_output "ix: ok: 100 chunks of 10 documents in 1 segment, digest $digest"
	run rp-index verify ix --chunks chunks.jsonl
	assert_success
	assert_output "ix: ok: 100 chunks of 10 documents in 1 segment, digest $digest, in step with chunks.jsonl"
	run rp-index verify ix --chunks chunks.jsonl --json
	assert_success
	assert_output --partial '"ok":true'
	assert_output --partial '"source_chunks":100'
	assert_output --partial "\"digest\":\"$digest\""
	assert_output --partial '"issues":[]'
}

@test "info gives the model, the counts, the size and the digest computed from the chunks" {
	run rp-index info ix
	assert_success
	assert_line "model:       $M"
	assert_line "provider:    local"
	assert_line "dimension:   384"
	assert_line "distance:    cosine"
	assert_line "chunks:      100"
	assert_line "documents:   10"
	assert_line "tombstones:  0"
	assert_line "segments:    1"
	assert_line "dead rows:   0"
	assert_line "digest:      $(expected_digest chunks.jsonl $S)"
	# the size is that of the files the manifest names
	size=$(python3 -c '
import json, os, sys
d = sys.argv[1]; m = json.load(open(d + "/MANIFEST.json"))
names = [s["file"] for s in m["segments"]] + [s["dead"] for s in m["segments"] if s["dead"]]
names += [t["file"] for t in m["tombstones"]] + [f["file"] for f in (m.get("fts") or [])]
print(sum(os.path.getsize(os.path.join(d, n)) for n in names))' ix)
	assert_line "size:        $size bytes"
	# a document deleted: its 10 chunks become dead rows and tombstones
	grep -v '"doc_id":"d0002"' chunks.jsonl > less.jsonl
	index_from less.jsonl ix
	run rp-index info ix --json
	assert_success
	assert_output --partial '"chunks":90,'
	assert_output --partial '"documents":9,'
	assert_output --partial '"tombstones":10,'
	assert_output --partial "\"digest\":\"$(expected_digest less.jsonl $S)\""
	[ "$(info_get ix generation)" -gt 1 ]
	run rp-index verify ix --chunks less.jsonl
	assert_success
}

@test "update --rebuild updates a sound index of the same space, and sets a damaged one aside" {
	# rp-index(1): --rebuild starts from empty only for another space or damage
	grep -v '"doc_id":"d0002"' chunks.jsonl > less.jsonl
	rp-embed less.jsonl -o less.jsonl.rpv --model $M --cache emb.db >/dev/null 2>&1
	run rp-index update ix --vectors less.jsonl.rpv --chunks less.jsonl --rebuild
	assert_success
	assert_output "rp index update: added 0, updated 0, deleted 10, unchanged 90"
	[ "$(info_get ix tombstones)" -eq 10 ]
	# a flipped byte in a segment: the old version is set aside, the log restarts
	seg=$(seg_file ix)
	chmod u+w "ix/$seg"
	python3 -c 'import sys; f=open(sys.argv[1],"r+b"); f.seek(5000); b=f.read(1); f.seek(5000); f.write(bytes([b[0]^1]))' "ix/$seg"
	run rp-index update ix --vectors chunks.jsonl.rpv --chunks chunks.jsonl --rebuild
	assert_success
	assert_output "rp index update: added 100, updated 0, deleted 0, unchanged 0"
	[ "$(info_get ix tombstones)" -eq 0 ]
	run rp-index verify ix --chunks chunks.jsonl
	assert_success
}

@test "a chunk left out of the index is missing, with its chunk and document" {
	drop_chunk chunks.jsonl fewer.jsonl 'd0003#2'
	index_from fewer.jsonl ix2
	run rp-index verify ix2
	assert_success
	run rp-index verify ix2 --chunks chunks.jsonl
	assert_failure 1
	assert_line "$(printf 'missing\td0003#2\td0003')"
	assert_line "ix2: 1 problem: 1 missing"
	assert_equal "${#lines[@]}" 2
	# an update from the true chunks repairs it
	index_from chunks.jsonl ix2
	run rp-index verify ix2 --chunks chunks.jsonl
	assert_success
}

@test "a row that is not in the source is a ghost" {
	cp chunks.jsonl more.jsonl
	add_chunk more.jsonl 'gone#0' gone "A page that was deleted from the corpus."
	index_from more.jsonl ix2
	run rp-index verify ix2 --chunks chunks.jsonl
	assert_failure 1
	assert_line "$(printf 'ghost\tgone#0\tgone')"
	assert_line "ix2: 1 problem: 1 ghost"
}

@test "a row whose text changed in the source is stale" {
	gen_chunks edited.jsonl 100 37    # chunk 37 (d0003#7) has one more sentence
	index_from edited.jsonl ix2
	run rp-index verify ix2 --chunks chunks.jsonl
	assert_failure 1
	assert_line "$(printf 'stale\td0003#7\td0003')"
	assert_line "ix2: 1 problem: 1 stale"
}

@test "every kind of drift at once is listed by chunk, and counted in --json" {
	gen_chunks edited.jsonl 100 55
	drop_chunk edited.jsonl drifted.jsonl 'd0001#1'
	add_chunk drifted.jsonl 'gone#0' gone "A page that was deleted from the corpus."
	index_from drifted.jsonl ix2
	run rp-index verify ix2 --chunks chunks.jsonl
	assert_failure 1
	assert_equal "$output" "$(printf 'missing\td0001#1\td0001\nstale\td0005#5\td0005\nghost\tgone#0\tgone\nix2: 3 problems: 1 ghost, 1 missing, 1 stale')"
	run rp-index verify ix2 --chunks chunks.jsonl --json
	assert_failure 1
	assert_output --partial '"ok":false'
	assert_output --partial '"counts":{"bad-segment":0,"bad-tombstones":0,"corrupt-file":0,"counts":0,"digest":0,"duplicate":0,"ghost":1,"manifest":0,"missing":1,"missing-file":0,"stale":1,"wrong-model":0}'
	assert_output --partial '{"chunk_id":"gone#0","detail":"live in the index, not in the source","doc_id":"gone","file":null,"kind":"ghost"}'
}

@test "a flipped byte in a segment is a corrupt file" {
	seg=$(seg_file ix)
	chmod u+w "ix/$seg"
	python3 -c 'import sys; f=open(sys.argv[1],"r+b"); f.seek(5000); b=f.read(1); f.seek(5000); f.write(bytes([b[0]^1]))' "ix/$seg"
	run rp-index verify ix
	assert_failure 1
	assert_line --partial "$(printf 'corrupt-file\t%s\tits sha256 is ' "$seg")"
	assert_line "ix: 1 problem: 1 corrupt-file"
	# its rows cannot be trusted: against the source, all of them are missing
	run rp-index verify ix --chunks chunks.jsonl
	assert_failure 1
	assert_line "ix: 101 problems: 1 corrupt-file, 100 missing"
}

@test "a segment changed with its manifest entry made to match is caught by its trailer" {
	seg=$(seg_file ix)
	chmod u+w ix "ix/$seg"
	new=$(python3 -c '
import hashlib, json, os, sys
d, seg = sys.argv[1], sys.argv[2]
b = bytearray(open(d + "/" + seg, "rb").read())
b[len(b) // 2] ^= 1
h = hashlib.sha256(b).hexdigest()
new = "seg-" + h[:16] + ".rps"
open(d + "/" + new, "wb").write(b)
os.unlink(d + "/" + seg)
print(new + " " + h)' ix "$seg")
	set -- $new
	edit_manifest ix "m['segments'][0]['file'] = '$1'; m['segments'][0]['sha256'] = '$2'"
	run rp-index verify ix
	assert_failure 1
	assert_line --partial "$(printf 'bad-segment\t%s\t' "$1")"
	assert_output --partial "checksum mismatch"
}

@test "a segment whose rows are not sorted by chunk_id is a bad segment" {
	seg=$(seg_file ix)
	chmod u+w ix
	# rows 3 and 4 swapped whole (vectors, int8 vectors, scales, records),
	# with a right trailer, and the manifest's entry made to match
	new=$(python3 -c '
import hashlib, os, struct, sys
d, seg = sys.argv[1], sys.argv[2]
b = open(d + "/" + seg, "rb").read()[:-32]
dim, = struct.unpack_from("<I", b, 12)
n, vec, qvec, scale, table, meta, mlen = struct.unpack_from("<7Q", b, 16)
def swap(off, size, i, j, buf):
    a, c = buf[off + i * size:off + (i + 1) * size], buf[off + j * size:off + (j + 1) * size]
    buf[off + i * size:off + (i + 1) * size], buf[off + j * size:off + (j + 1) * size] = c, a
out = bytearray(b)
swap(vec, 4 * dim, 3, 4, out)
swap(qvec, dim, 3, 4, out)
swap(scale, 4, 3, 4, out)
offs = [struct.unpack_from("<Q", b, table + 8 * r)[0] for r in range(n + 1)]
recs = [b[meta + offs[r]:meta + offs[r + 1]] for r in range(n)]
recs[3], recs[4] = recs[4], recs[3]
pos = 0
for r in range(n):
    struct.pack_into("<Q", out, table + 8 * r, pos)
    pos += len(recs[r])
out[meta:meta + mlen] = b"".join(recs)
out += hashlib.sha256(out).digest()
h = hashlib.sha256(out).hexdigest()
new = "seg-" + h[:16] + ".rps"
open(d + "/" + new, "wb").write(out)
os.unlink(d + "/" + seg)
print(new + " " + h)' ix "$seg")
	set -- $new
	edit_manifest ix "m['segments'][0]['file'] = '$1'; m['segments'][0]['sha256'] = '$2'"
	run rp-index verify ix --chunks chunks.jsonl
	assert_failure 1
	assert_line "$(printf "bad-segment\t%s\trows out of order at row 4: chunk_id 'd0000#3' does not sort after row 3's 'd0000#4'" "$1")"
	assert_line "ix: 1 problem: 1 bad-segment"
}

@test "a deleted segment file is a missing file" {
	seg=$(seg_file ix)
	chmod u+w ix
	rm -f "ix/$seg"
	run rp-index verify ix
	assert_failure 1
	assert_line "$(printf 'missing-file\t%s\tthe manifest names it, but it is not in the index' "$seg")"
	assert_line "ix: 1 problem: 1 missing-file"
}

@test "an edited digest in MANIFEST.json is found by recomputing it" {
	digest=$(expected_digest chunks.jsonl $S)
	chmod u+w ix
	edit_manifest ix "m['digest'] = '0' * 64"
	run rp-index verify ix --chunks chunks.jsonl
	assert_failure 1
	assert_line "$(printf 'digest\tMANIFEST.json\tthe live rows give %s, the manifest says %s' "$digest" "$(printf '0%.0s' $(seq 64))")"
	assert_line "ix: 1 problem: 1 digest"
}

@test "edited counts and a manifest that does not parse are integrity problems" {
	chmod u+w ix
	edit_manifest ix "m['counts']['chunks'] = 99"
	run rp-index verify ix
	assert_failure 1
	assert_line --partial "$(printf 'counts\tMANIFEST.json\tthe live rows are 100 chunks of 10 documents, the manifest says 99 of 10')"
	printf '{"format":' > ix/MANIFEST.json
	run rp-index verify ix
	assert_failure 1
	assert_line --partial "$(printf 'manifest\tMANIFEST.json\t')"
}

@test "a segment of another embedding model grafted into the index is wrong-model" {
	# three chunks embedded by "other-model" (same dimension) in an index of their own
	: > x.jsonl
	for i in 0 1 2; do add_chunk x.jsonl "x#$i" x "Another space, chunk $i."; done
	python3 - <<'EOF'
import hashlib, json, random, struct
recs = [json.loads(l) for l in open("x.jsonl")]
prov, model, dim = b"local", b"other-model", 384
b = bytearray(b"RPV1" + struct.pack("<IIQ", 1, dim, len(recs)))
b += struct.pack("<H", len(prov)) + prov + struct.pack("<H", len(model)) + model
r = random.Random(7)
for c in recs:
    cid = c["chunk_id"].encode()
    b += struct.pack("<I", len(cid)) + cid + bytes.fromhex(c["content_hash"])
    b += struct.pack("<%df" % dim, *[r.uniform(-1, 1) for _ in range(dim)])
b += hashlib.sha256(b).digest()
open("x.rpv", "wb").write(b)
EOF
	rp-index update other --vectors x.rpv --chunks x.jsonl >/dev/null
	run rp-index info other
	assert_line "model:       other-model"
	graft ix other
	cp chunks.jsonl all.jsonl
	cat x.jsonl >> all.jsonl
	run rp-index verify ix --chunks all.jsonl
	assert_failure 1
	assert_line "$(printf 'wrong-model\tx#0\tx')"
	assert_line "$(printf 'wrong-model\tx#1\tx')"
	assert_line "$(printf 'wrong-model\tx#2\tx')"
	assert_output --partial "3 wrong-model"
	refute_output --partial "ghost"
	refute_output --partial "missing	"
}

@test "a chunk live in two segments is a duplicate" {
	head -1 chunks.jsonl > one.jsonl
	index_from one.jsonl twin
	graft ix twin
	run rp-index verify ix --chunks chunks.jsonl
	assert_failure 1
	assert_line "$(printf 'duplicate\td0000#0\tthe chunk is live in more than one row')"
	assert_line --partial "$(printf 'counts\tMANIFEST.json\tthe live rows are 101 chunks of 10 documents')"
	refute_output --partial "ghost"
}

@test "a tombstone file whose count the manifest misstates is found" {
	grep -v '"doc_id":"d0002"' chunks.jsonl > less.jsonl
	index_from less.jsonl ix
	run rp-index verify ix --chunks less.jsonl
	assert_success
	tomb=$(python3 -c 'import json; print(json.load(open("ix/MANIFEST.json"))["tombstones"][0]["file"])')
	chmod u+w ix
	edit_manifest ix "m['tombstones'][0]['count'] = 11"
	run rp-index verify ix --chunks less.jsonl
	assert_failure 1
	assert_line "$(printf 'bad-tombstones\t%s\tit holds 10 tombstones, the manifest says 11' "$tomb")"
}
