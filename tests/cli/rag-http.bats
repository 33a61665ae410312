#!/usr/bin/env bats
# A 1,000-document corpus through rp repro (extract -> chunk -> embed with the
# OpenAI-compatible provider against the local stub): after editing one line
# of one document, the server receives exactly the chunks whose text changed.

bats_require_minimum_version 1.5.0
load helpers
load fixtures/embed-lib

KEY=sk-test-PLANTED-rag-0123456789

# start_stub: the OpenAI stub (start_openai_stub in helpers.bash); sets PORT and STATS.
start_stub() {
	start_openai_stub rag
	# the user's consent: RP_RAG_KEY may go to the stub (rp(1), FILES)
	allow_key RP_RAG_KEY "127.0.0.1:$PORT"
}

# make_corpus: 1,000 markdown documents of a few paragraphs each
make_corpus() {
	python3 - <<'PY'
import os, random
words = ("retrieval embedding cache vector index chunk model pipeline server request batch "
         "token river mountain ocean forest music guitar piano violin compiler memory garden "
         "winter summer bridge castle engine planet orbit lantern harbor meadow copper").split()
for d in range(1000):
    r = random.Random(d)
    os.makedirs("corpus/part%02d" % (d // 100), exist_ok=True)
    with open("corpus/part%02d/doc%04d.md" % (d // 100, d), "w") as f:
        f.write("# Document %d\n\n" % d)
        for p in range(4):
            f.write("## Section %d\n\n" % p)
            for line in range(3):
                f.write(" ".join(r.choice(words) for _ in range(14)) + ".\n")
            f.write("\n")
PY
}

changed_chunks() {  # how many content hashes of $2 are not in $1
	python3 - "$1" "$2" <<'PY'
import json, sys
old = {json.loads(l)["content_hash"] for l in open(sys.argv[1])}
new = {json.loads(l)["content_hash"] for l in open(sys.argv[2])}
print(len(new - old))
PY
}

@test "editing one line of one doc in a 1,000-doc corpus sends exactly the changed chunks" {
	start_stub
	make_corpus
	mkdir -p .rp
	cat > .rp/config <<CFG
embed:
  base_url: http://127.0.0.1:$PORT/v1
  api_key_env: RP_RAG_KEY
CFG
	cat > rp.yaml <<'YAML'
stages:
  extract:
    cmd: rp extract corpus -o build/docs.jsonl
    deps: [corpus]
    outs: [build/docs.jsonl]
  chunk:
    cmd: rp chunk build/docs.jsonl -o build/chunks.jsonl --strategy markdown --size 300 --overlap 40
    deps: [build/docs.jsonl]
    outs: [build/chunks.jsonl]
  embed:
    cmd: rp embed build/chunks.jsonl -o build/vectors.rpv --provider openai --model m1
    deps: [build/chunks.jsonl]
    outs: [build/vectors.rpv]
YAML
	export RP_RAG_KEY=$KEY RP_HTTP_BACKOFF_MS=20
	run rp repro
	assert_success
	total=$(wc -l < build/chunks.jsonl)
	[ "$total" -ge 4000 ]
	assert_equal "$(json_get "$STATS" inputs)" "$total"
	assert_equal "$(json_get "$STATS" auth_bad)" 0
	cp build/chunks.jsonl before.jsonl

	sed -i '5s/.*/This line was rewritten by the test, and nothing else changed./' corpus/part04/doc0417.md
	run rp repro
	assert_success
	want=$(changed_chunks before.jsonl build/chunks.jsonl)
	[ "$want" -ge 1 ] && [ "$want" -le 3 ]
	assert_equal "$(json_get "$STATS" inputs)" "$((total + want))"

	# a third run asks the server for nothing
	run rp repro
	assert_success
	assert_output --partial "3 up to date"
	assert_equal "$(json_get "$STATS" inputs)" "$((total + want))"
	# and the key is nowhere in what rp wrote
	run grep -rl "$KEY" rp.lock build .rp
	assert_failure
}
