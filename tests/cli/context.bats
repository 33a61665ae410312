# context.bats - rp-context: the headings method, and the llm method against
# tests/servers/chat_stub.py (cache hits, prompt versions, retries, permanent
# errors, and that the API key never leaks).
load helpers

# start_stub MODE [ARGS...]: the chat stub (start_chat_stub in helpers.bash),
# its URL in BASE, its request log in $CCOUNT; STUB_KEY may go to it.
start_stub() {
	start_chat_stub chat "$@"
	BASE=$CBASE
	: > "$CCOUNT"
	allow_key STUB_KEY 127.0.0.1
}

# requests: how many requests the stub received.
requests() {
	wc -l < "$CCOUNT" | tr -d ' '
}

# corpus: docs.jsonl and chunks.jsonl (5 chunks over 2 docs).
corpus() {
	cat > docs.jsonl <<'JSON'
{"doc_id":"guide.md","sha256":"1111","title":"rp manual","text":"# Install\n\nGet it.\n\n## From source\n\nRun configure. Then make.\n\n# Usage\n\nRun rp repro."}
{"doc_id":"notes.txt","sha256":"2222","title":"","text":"Plain notes here.\n\nMore notes there, and more."}
JSON
	rp-chunk docs.jsonl -o chunks.jsonl --strategy markdown --size 30
	[ "$(wc -l < chunks.jsonl)" -eq 5 ]
	printf 'Situate this chunk.\n<doc>{{document}}</doc>\n<chunk>{{chunk}}</chunk>\n' > prompt.txt
}

# llm [ARGS...]: rp-context --method llm against the stub with the cache in cache.db.
llm() {
	rp-context chunks.jsonl -o ctx.jsonl --method llm --docs docs.jsonl --model stub-model \
		--base-url "$BASE" --api-key-env STUB_KEY --cache cache.db \
		--prompt-file prompt.txt --prompt-version v1 "$@"
}

field() {
	python3 -c 'import json,sys
for l in open(sys.argv[1]): print(json.loads(l)[sys.argv[2]])' "$1" "$2"
}

@test "headings: title and heading path in front of the text, hash recomputed" {
	corpus
	run rp-context chunks.jsonl -o ctx.jsonl
	assert_success
	run field ctx.jsonl context
	assert_output "$(printf '%s\n' 'Document: rp manual. Section: Install.' \
		'Document: rp manual. Section: Install > From source.' \
		'Document: rp manual. Section: Usage.' 'Document: notes.txt.' 'Document: notes.txt.')"
	python3 -c 'import json
for i, l in enumerate(open("ctx.jsonl")):
    o = json.loads(l)
    assert o["text"] == o["context"] + "\n\n" + o["original_text"], o
    assert o["context_method"] == "headings@1"
    open("t%d" % i, "w").write(o["text"]); print(o["content_hash"])' > want
	for i in 0 1 2 3 4; do sha256sum "t$i" | cut -d" " -f1; done > got
	cmp want got
	run field ctx.jsonl original_text
	assert_line --index 1 "Run configure. Then make."
	# same input, same bytes; chunk ids and order kept
	rp-context chunks.jsonl -o again.jsonl --method headings
	cmp ctx.jsonl again.jsonl
	cmp <(field chunks.jsonl chunk_id) <(field ctx.jsonl chunk_id)
}

@test "usage and input errors are exit 2" {
	corpus
	run rp-context -h
	assert_success
	assert_line --index 0 --partial "usage: rp-context CHUNKS.jsonl -o CONTEXTUAL.jsonl"
	run rp-context chunks.jsonl -o x.jsonl --method magic
	assert_failure 2
	run rp-context chunks.jsonl -o x.jsonl --method llm --model m --cache c.db
	assert_failure 2
	assert_output --partial "--docs"
	run rp-context chunks.jsonl -o x.jsonl --method llm --docs docs.jsonl --cache c.db
	assert_failure 2
	assert_output --partial "needs a model"
	run rp-context chunks.jsonl -o x.jsonl --method llm --docs docs.jsonl --model m --cache c.db --prompt-file prompt.txt
	assert_failure 2
	assert_output --partial "--prompt-version"
	# outside a workspace the cache is the user's; with no $HOME either, --cache is asked for
	run env -u HOME -u XDG_CACHE_HOME rp-context chunks.jsonl -o x.jsonl --method llm --docs docs.jsonl --model m
	assert_failure 2
	assert_output --partial "--cache"
	printf '{"chunk_id":"a#0","doc_id":"a","text":"x"}\nnot json\n' > bad.jsonl
	run rp-context bad.jsonl -o x.jsonl
	assert_failure 2
	assert_output --partial "bad.jsonl:2:"
	[ ! -e x.jsonl ]
}

@test "llm: contexts from the model; the second run makes no request" {
	corpus
	start_stub ok
	export STUB_KEY=sk-test-123
	run llm
	assert_success
	assert_output --partial "5 chunks, 0 cached, 5 generated (5 requests, 0 retries)"
	[ "$(requests)" -eq 5 ]
	run field ctx.jsonl context
	assert_line --index 0 --regexp '^Stub context [0-9a-f]{16}$'
	run field ctx.jsonl context_method
	assert_line --index 0 "llm@1"
	run field ctx.jsonl prompt_version
	assert_line --index 4 "v1"
	run field ctx.jsonl llm_model
	assert_line --index 4 "stub-model"
	cp ctx.jsonl first.jsonl
	run llm
	assert_success
	assert_output --partial "5 chunks, 5 cached, 0 generated (0 requests"
	[ "$(requests)" -eq 5 ]
	cmp first.jsonl ctx.jsonl
	# with everything cached no key and no server are needed
	stop_stub
	unset STUB_KEY
	rp-context chunks.jsonl -o offline.jsonl --method llm --docs docs.jsonl --model stub-model \
		--base-url "$BASE" --cache cache.db --prompt-file prompt.txt --prompt-version v1
	cmp first.jsonl offline.jsonl
}

@test "llm: a new prompt version or model misses every key; an edited chunk only its own" {
	corpus
	start_stub ok
	export STUB_KEY=k
	llm
	cp ctx.jsonl v1.jsonl
	[ "$(requests)" -eq 5 ]
	printf 'Say where this chunk sits.\n{{document}}\n---\n{{chunk}}\n' > prompt.txt
	run llm --prompt-version v2
	assert_success
	[ "$(requests)" -eq 10 ]
	# every embedded text changed, so every content_hash did
	field v1.jsonl content_hash | sort > h1
	field ctx.jsonl content_hash | sort > h2
	run bash -c "comm -12 h1 h2 | wc -l"
	assert_output 0
	run llm --prompt-version v2 --model other-model
	assert_success
	[ "$(requests)" -eq 15 ]
	# back to v2 + stub-model: all cached again
	llm --prompt-version v2
	[ "$(requests)" -eq 15 ]
	# edit notes.txt (and its sha256, as rp-extract would): the context of
	# each of its chunks depends on the whole document, so both miss; the
	# chunks of guide.md do not
	sed -i 's/and more\./and less./; s/"2222"/"2223"/' docs.jsonl
	rp-chunk docs.jsonl -o chunks.jsonl --strategy markdown --size 30
	llm --prompt-version v2
	[ "$(requests)" -eq 17 ]
	# edit a chunk text alone (same document hash): only that chunk misses
	sed -i 's/and less\./and most./' docs.jsonl
	rp-chunk docs.jsonl -o chunks.jsonl --strategy markdown --size 30
	llm --prompt-version v2
	[ "$(requests)" -eq 18 ]
}

@test "llm: a changed prompt text under the same version draws a warning" {
	corpus
	start_stub ok
	export STUB_KEY=k
	llm
	printf 'Another prompt {{chunk}}\n' > prompt.txt
	run llm
	assert_success
	assert_output --partial "warning: the prompt text changed but its version 'v1' did not"
	[ "$(requests)" -eq 5 ]
}

@test "llm: 429 with Retry-After and 500 are retried; the result is the undisturbed one" {
	corpus
	export STUB_KEY=k
	start_stub ok
	llm --cache clean.db
	cp ctx.jsonl clean.jsonl
	stop_stub
	start_stub 429-once
	start=$(date +%s.%N)
	run llm
	assert_success
	assert_output --partial "(6 requests, 1 retry)"
	[ "$(requests)" -eq 6 ]
	head -1 "$CCOUNT" | grep -q '^429 '
	python3 -c "import sys,time; sys.exit(0 if time.time() - $start >= 1.0 else 1)"
	cmp clean.jsonl ctx.jsonl
	stop_stub
	rm -f cache.db*
	start_stub 500-once
	run llm
	assert_success
	assert_output --partial "(6 requests, 1 retry)"
	cmp clean.jsonl ctx.jsonl
}

@test "llm: a permanent 400 fails with exit 1, the provider's message and no output" {
	corpus
	start_stub 400
	export STUB_KEY=sk-planted-SECRET-4711
	run llm
	assert_failure 1
	assert_output --partial "HTTP 400: The model does not exist"
	refute_output --partial "sk-planted-SECRET-4711"
	assert_output --partial "Incorrect API key provided: [REDACTED]"
	[ ! -e ctx.jsonl ]
	[ "$(requests)" -eq 1 ]
}

@test "llm: what was generated before a failure stays cached" {
	corpus
	export STUB_KEY=k
	start_stub 400-after:3
	run llm
	assert_failure 1
	[ ! -e ctx.jsonl ]
	[ "$(requests)" -eq 4 ]
	[ "$(sqlite3 cache.db 'select count(*) from context')" -eq 3 ]
	stop_stub
	start_stub ok
	run llm
	assert_success
	assert_output --partial "3 cached, 2 generated (2 requests"
	[ "$(requests)" -eq 2 ]
}

@test "llm: the planted API key is sent but never written anywhere" {
	corpus
	export STUB_KEY=sk-planted-SECRET-4711
	start_stub ok --expect-key-env STUB_KEY
	mkdir .rp
	run rp-context chunks.jsonl -o ctx.jsonl --method llm --docs docs.jsonl --model stub-model \
		--base-url "$BASE" --api-key-env STUB_KEY --prompt-file prompt.txt --prompt-version v1
	assert_success
	refute_output --partial "SECRET"
	[ "$(requests)" -eq 5 ]
	grep -q '^200 ' "$CCOUNT"
	! grep -q '^401 ' "$CCOUNT"
	# the default cache is in the workspace
	[ -s .rp/context-cache.db ]
	run grep -rla "sk-planted-SECRET-4711" ctx.jsonl .rp/
	assert_failure
	run sqlite3 .rp/context-cache.db .dump
	refute_output --partial "SECRET"
	# a wrong key: the provider's 401 is reported, without the key
	export STUB_KEY=sk-wrong-SECRET-0000
	rm -f .rp/context-cache.db*
	run rp-context chunks.jsonl -o ctx2.jsonl --method llm --docs docs.jsonl --model stub-model \
		--base-url "$BASE" --api-key-env STUB_KEY --prompt-file prompt.txt --prompt-version v1
	assert_failure 1
	assert_output --partial "HTTP 401"
	refute_output --partial "SECRET"
	[ ! -e ctx2.jsonl ]
}

@test "llm: an api key variable that is named but not set is exit 2" {
	corpus
	start_stub ok
	unset NO_SUCH_KEY
	run llm --api-key-env NO_SUCH_KEY
	assert_failure 2
	assert_output --partial "environment variable 'NO_SUCH_KEY'"
	[ "$(requests)" -eq 0 ]
}

@test "llm: the prompt can be a key of params.yaml" {
	corpus
	export STUB_KEY=k
	start_stub ok
	printf 'context:\n  prompt_version: 2\n  prompt: |\n    Situate this chunk.\n    <doc>{{document}}</doc>\n    <chunk>{{chunk}}</chunk>\n' > params.yaml
	run llm --prompt-file params.yaml --prompt-key context.prompt --prompt-version 2
	assert_success
	cp ctx.jsonl from-params.jsonl
	# the same text from a plain file under the same version: all cached, same bytes
	run llm --prompt-version 2
	assert_success
	assert_output --partial "5 cached, 0 generated"
	refute_output --partial "warning"
	cmp from-params.jsonl ctx.jsonl
	run llm --prompt-file params.yaml --prompt-key context.nothing --prompt-version 2
	assert_failure 2
	assert_output --partial "params.yaml: no key 'context.nothing'"
	run llm --prompt-file params.yaml --prompt-key context --prompt-version 2
	assert_failure 2
	assert_output --partial "params.yaml:2:3: 'context' must be a string"
}
