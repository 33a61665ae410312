#!/usr/bin/env bats
# index-crash.bats - an index survives a kill -9 at any moment of
# `rp-index update` as either its old or its new version, whole; and
# `rp checkout` of an older rp.lock brings back the older index.

bats_require_minimum_version 1.5.0
load helpers
load fixtures/embed-lib

M=rp-lexical-v1

# gen_version OUT N VERSION: N chunks of 10 per document, as gen_chunks
# (fixtures/embed-lib) writes them, in version VERSION: from version 2 on,
# every third document has new texts, the last tenth of the documents is
# gone and as many new documents come after them.
gen_version() {
	python3 - "$@" <<'EOF'
import hashlib, json, random, sys
out, n, version = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
words = ("retrieval embedding cache vector index chunk model pipeline server request "
         "batch token river mountain ocean forest music guitar piano violin python rust "
         "compiler memory garden winter summer bridge castle engine planet orbit lantern "
         "harbor meadow copper silver window thunder").split()
docs = n // 10
ids = list(range(docs))
if version > 1:
    ids = ids[:docs - docs // 10] + list(range(docs, docs + docs // 10))
with open(out, "w") as f:
    for d in ids:
        for o in range(10):
            r = random.Random(d * 10 + o)
            text = "Doc %d part %d: " % (d, o) + " ".join(r.choice(words) for _ in range(60))
            if version > 1 and d % 3 == 0:
                text += " Revised in version %d." % version
            rec = {"chunk_id": "d%04d#%d" % (d, o), "doc_id": "d%04d" % d, "ordinal": o,
                   "text": text, "content_hash": hashlib.sha256(text.encode()).hexdigest()}
            f.write(json.dumps(rec, sort_keys=True, separators=(",", ":")) + "\n")
EOF
}

# embed CHUNKS: CHUNKS.rpv, with the local model and a cache in the workspace.
embed() {
	rp-embed "$1" -o "$1.rpv" --model $M --cache emb.db >/dev/null 2>&1
}

# digest_of INDEX: the logical digest `rp-index info` reports.
digest_of() {
	rp-index info "$1" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["digest"])'
}

# ref_indexes: old.jsonl and new.jsonl (4,000 chunks each, version 1 and 2)
# with their vectors, the indexes ref-old and ref-new built from them, and
# their digests in OLD and NEW, which must differ.
ref_indexes() {
	gen_version old.jsonl 4000 1
	gen_version new.jsonl 4000 2
	embed old.jsonl
	embed new.jsonl
	rp-index update ref-old --vectors old.jsonl.rpv --chunks old.jsonl >/dev/null
	rp-index update ref-new --vectors new.jsonl.rpv --chunks new.jsonl >/dev/null
	OLD=$(digest_of ref-old)
	NEW=$(digest_of ref-new)
	[ -n "$OLD" ] && [ -n "$NEW" ] && [ "$OLD" != "$NEW" ]
}

# now_us: the wall clock in microseconds.
now_us() {
	local t=${EPOCHREALTIME/./}
	echo $((10#$t))
}

@test "a kill -9 at 20 random moments of an update always leaves the old or the new index" {
	ref_indexes
	old=$OLD new=$NEW

	# how long a whole update takes here: the kills are spread over it
	cp -a ref-old w
	t0=$(now_us)
	rp-index update w --vectors new.jsonl.rpv --chunks new.jsonl --rebuild >/dev/null
	span=$(( $(now_us) - t0 ))
	assert_equal "$(digest_of w)" "$new"

	n_old=0 n_new=0
	for i in $(seq 0 19); do
		rm -rf w
		cp -a ref-old w
		# a random moment in the i-th twentieth of 1.2 x the span (a loaded
		# machine runs slower than the run that measured it)
		delay=$(( (span * 6 / 5) * i / 20 + RANDOM % (span * 6 / 100 + 1) ))
		rp-index update w --vectors new.jsonl.rpv --chunks new.jsonl --rebuild >/dev/null 2>&1 &
		pid=$!
		sleep "$(printf '%d.%06d' $((delay / 1000000)) $((delay % 1000000)))"
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true

		run rp-index verify w
		[ "$status" -eq 0 ] || echo "kill $i after ${delay} us: $output" >&2
		assert_success
		got=$(digest_of w)
		if [ "$got" = "$old" ]; then
			n_old=$((n_old + 1))
			run rp-index verify w --chunks old.jsonl
		elif [ "$got" = "$new" ]; then
			n_new=$((n_new + 1))
			run rp-index verify w --chunks new.jsonl
		else
			echo "kill $i after ${delay} us: digest $got is neither $old nor $new" >&2
			false
		fi
		assert_success
		# and (every fourth time, for time's sake) the next update finishes the job
		if [ $((i % 4)) -eq 3 ]; then
			rp-index update w --vectors new.jsonl.rpv --chunks new.jsonl >/dev/null
			assert_equal "$(digest_of w)" "$new"
			run rp-index verify w --chunks new.jsonl
			assert_success
		fi
	done
	echo "# 20 kills over ${span} us: $n_old left the old index, $n_new the new one" >&3
	assert_equal $((n_old + n_new)) 20
}

@test "a kill -9 during an incremental update leaves the old or the new index" {
	ref_indexes
	old=$OLD new=$NEW
	cp -a ref-old w
	t0=$(now_us)
	rp-index update w --vectors new.jsonl.rpv --chunks new.jsonl >/dev/null
	span=$(( $(now_us) - t0 ))
	for i in $(seq 0 5); do
		rm -rf w
		cp -a ref-old w
		delay=$(( (span * 6 / 5) * i / 6 + RANDOM % (span / 5 + 1) ))
		rp-index update w --vectors new.jsonl.rpv --chunks new.jsonl >/dev/null 2>&1 &
		pid=$!
		sleep "$(printf '%d.%06d' $((delay / 1000000)) $((delay % 1000000)))"
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		run rp-index verify w
		assert_success
		got=$(digest_of w)
		[ "$got" = "$old" ] || [ "$got" = "$new" ]
	done
}

# ---- rp checkout ------------------------------------------------------------

# index_pipeline: rp.yaml of embed -> index over chunks.jsonl, the index a
# persisted directory out.
index_pipeline() {
	cat > rp.yaml <<'EOF'
stages:
  embed:
    cmd: rp embed chunks.jsonl -o build/vectors.rpv --model rp-lexical-v1
    deps: [chunks.jsonl]
    outs: [build/vectors.rpv]
  index:
    cmd: rp index update build/index --vectors build/vectors.rpv --chunks chunks.jsonl
    deps: [build/vectors.rpv, chunks.jsonl]
    outs:
    - build/index: {persist: true}
EOF
}

# text_of CHUNKS ID: the text of chunk ID.
text_of() {
	python3 -c 'import json,sys; print([c["text"] for c in map(json.loads, open(sys.argv[1])) if c["chunk_id"] == sys.argv[2]][0])' "$1" "$2"
}

@test "rp checkout of an older rp.lock brings back the older index and its answers" {
	rp init >/dev/null
	index_pipeline
	gen_version chunks.jsonl 200 1
	cp chunks.jsonl old.jsonl
	rp repro >/dev/null
	cp rp.lock OLD.lock
	old=$(digest_of build/index)
	run rp-index verify build/index --chunks old.jsonl
	assert_success
	# document d0019 is in version 1 only: a query with one of its texts
	q=$(text_of old.jsonl 'd0019#3')
	rp-index query build/index "$q" -k 5 --json > old-answer.json
	run head -1 old-answer.json
	assert_output --partial '"chunk_id":"d0019#3"'

	gen_version chunks.jsonl 200 2
	rp repro >/dev/null
	new=$(digest_of build/index)
	[ "$old" != "$new" ]
	run rp-index verify build/index --chunks chunks.jsonl
	assert_success

	rp-index query build/index "$q" -k 5 --json > new-answer.json
	run grep -c '"doc_id":"d0019"' new-answer.json
	assert_output 0

	run rp checkout OLD.lock
	assert_success
	assert_equal "$(digest_of build/index)" "$old"
	run rp-index verify build/index --chunks old.jsonl
	assert_success
	run rp-index query build/index "$q" -k 5 --json
	assert_success
	assert_equal "$output" "$(cat old-answer.json)"
	run rp checkout
	assert_success
	assert_equal "$(digest_of build/index)" "$new"
	run rp-index verify build/index --chunks chunks.jsonl
	assert_success
}
