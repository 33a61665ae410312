#!/usr/bin/env bats
# security-config.bats - configuration and credentials do not come from
# someone else (issue 9, section 3; rp(1), FILES).
#
# Whose .rp/config is read: the stage programs look for .rp/ upwards from the
# current directory as git looks for .git, never past a directory of another
# user nor into a parent on another file system; a .rp/ of another user is
# refused with an error (never used, never silently skipped) unless the user
# lists it in safe.directories of ~/.config/rp/config. rp itself refuses a
# workspace of another user the same way.
#
# Where a key goes: the value of a variable is sent to a host only when the
# user config allows that pair; a repository's .rp/config (or a command
# line, which may come from a repository's rp.yaml) cannot. The stub server
# logs every request's headers and body, so the tests show that the secret
# never reaches it.
#
# Tests that give files to another user (chown nobody) or mount a file system
# need root, and skip otherwise.

bats_require_minimum_version 1.5.0
load helpers
load fixtures/embed-lib

SECRET=AKIA-PLANTED-aws-secret-0123456789

setup() {
	enter_ws || return 1
	unset SUDO_UID RP_DISCOVERY_ACROSS_FILESYSTEM OPENAI_API_KEY
	export AWS_SECRET_ACCESS_KEY=$SECRET RP_HTTP_BACKOFF_MS=20
	LOG="$BATS_TEST_TMPDIR/stub.log"
	: > "$LOG"
}

need_root() {
	[ "$(id -u)" = 0 ] || skip "needs root to give files to another user"
}

# start_stub: the OpenAI embeddings stub (start_openai_stub in helpers.bash,
# no key expected); sets BASE and PORT; every request it receives is appended
# to $LOG (request line, headers, body).
start_stub() {
	start_openai_stub stub --log-headers "$LOG"
}

# hostile_config DIR: DIR/.rp/config as a hostile repository would write it:
# the provider, the base URL (the stub) and the variable sent as the key.
hostile_config() {
	mkdir -p "$1/.rp"
	printf 'embed:\n  base_url: %s\n  api_key_env: AWS_SECRET_ACCESS_KEY\n' \
		"$BASE" > "$1/.rp/config"
}

# requests: how many requests the stub received.
requests() {
	grep -c '^POST ' "$LOG" || true
}

# no_secret_sent: the secret is in no request and no output.
no_secret_sent() {
	run grep -c -- "$SECRET" "$LOG"
	assert_output 0
}

# a local model's vectors: the header line of rpv_info.
local_vectors() {
	run rpv_info "$1"
	assert_line --index 0 --partial " local rp-lexical-v1"
}

@test "a repository config cannot send AWS_SECRET_ACCESS_KEY to its base_url" {
	start_stub
	hostile_config .
	gen_chunks chunks.jsonl 3
	run rp-embed --provider openai --model m1 chunks.jsonl -o v.rpv
	assert_failure 2
	assert_output --partial "\$AWS_SECRET_ACCESS_KEY"
	assert_output --partial "embed.api_key_env in '$WS/.rp/config'"
	assert_output --partial "127.0.0.1 port $PORT"
	assert_output --partial "$HOME/.config/rp/config"
	assert_output --partial "credentials:
  AWS_SECRET_ACCESS_KEY: [\"127.0.0.1:$PORT\"]"
	refute_output --partial "$SECRET"
	[ "$(requests)" = 0 ]
	run grep -ci '^authorization' "$LOG"
	assert_output 0
	no_secret_sent
	[ ! -e v.rpv ]
}

@test "the user's consent in ~/.config/rp/config lets the key go to that host" {
	start_stub
	hostile_config .
	gen_chunks chunks.jsonl 3
	user_config "credentials:
  AWS_SECRET_ACCESS_KEY: [\"127.0.0.1:$PORT\"]"
	run rp-embed --provider openai --model m1 chunks.jsonl -o v.rpv
	assert_success
	[ "$(requests)" = 1 ]
	run grep -c "^Authorization: Bearer $SECRET" "$LOG"
	assert_output 1
	# consent is per host and port: another port of the same host is refused
	user_config "credentials:
  AWS_SECRET_ACCESS_KEY: [\"127.0.0.1:$((PORT == 65535 ? 1 : PORT + 1))\"]"
	rm -f .rp/embed-cache.db*
	run rp-embed --provider openai --model m1 chunks.jsonl -o v2.rpv
	assert_failure 2
	[ "$(requests)" = 1 ]
}

@test "the command line is not consent: --api-key-env and --base-url may come from rp.yaml" {
	start_stub
	gen_chunks chunks.jsonl 3
	run rp-embed --provider openai --model m1 --base-url "$BASE" --api-key-env AWS_SECRET_ACCESS_KEY \
		chunks.jsonl -o v.rpv
	assert_failure 2
	assert_output --partial "(named by --api-key-env)"
	no_secret_sent
	[ "$(requests)" = 0 ]
}

@test "OPENAI_API_KEY goes only to api.openai.com unless the user says otherwise" {
	start_stub
	mkdir -p .rp
	printf 'embed:\n  base_url: %s\n' "$BASE" > .rp/config
	gen_chunks chunks.jsonl 3
	OPENAI_API_KEY=$SECRET run rp-embed --provider openai --model m1 chunks.jsonl -o v.rpv
	assert_failure 2
	assert_output --partial "\$OPENAI_API_KEY (named by the default)"
	no_secret_sent
	[ "$(requests)" = 0 ]
	# with no key in the environment nothing secret is sent, and nothing is refused
	run rp-embed --provider openai --model m1 chunks.jsonl -o v.rpv
	assert_success
	run grep -ci '^authorization' "$LOG"
	assert_output 0
}

@test "rp-context: a repository's llm settings cannot send a secret either" {
	rm -f port count
	python3 "$RP_SRCDIR/tests/servers/chat_stub.py" --port-file port --count-file count \
		--mode ok --max-seconds 120 >/dev/null 2>&1 3>&- &
	STUB_PID=$!
	wait_port_file port
	: > count
	mkdir -p .rp
	printf 'llm:\n  base_url: http://127.0.0.1:%s/v1\n  api_key_env: AWS_SECRET_ACCESS_KEY\n' \
		"$(cat port)" > .rp/config
	printf '{"doc_id":"a","sha256":"1","title":"t","text":"Some text here."}\n' > docs.jsonl
	rp-chunk docs.jsonl -o chunks.jsonl
	run rp-context chunks.jsonl -o ctx.jsonl --method llm --model m --docs docs.jsonl
	assert_failure 2
	assert_output --partial "\$AWS_SECRET_ACCESS_KEY (named by llm.api_key_env in '$WS/.rp/config')"
	assert_output --partial "AWS_SECRET_ACCESS_KEY: [\"127.0.0.1:$(cat port)\"]"
	refute_output --partial "$SECRET"
	[ "$(wc -l < count)" -eq 0 ]
	user_config "credentials:
  AWS_SECRET_ACCESS_KEY: [127.0.0.1]"
	run rp-context chunks.jsonl -o ctx.jsonl --method llm --model m --docs docs.jsonl
	assert_success
	[ "$(wc -l < count)" -eq 1 ]
}

@test "a parent directory's .rp/config owned by another user is refused, not used" {
	need_root
	start_stub
	local parent="$BATS_TEST_TMPDIR/shared"
	mkdir -p "$parent/mine"
	hostile_config "$parent"
	chown -R nobody "$parent"
	chown root "$parent/mine"
	cd "$parent/mine"
	gen_chunks chunks.jsonl 3
	run rp-embed --provider openai --model m1 chunks.jsonl -o v.rpv
	assert_failure 2
	assert_output --partial "'$parent"
	assert_output --partial "owned by another user ('nobody', uid $(id -u nobody))"
	assert_output --partial "safe:
  directories:
    - $parent"
	no_secret_sent
	[ "$(requests)" = 0 ]
	# a .rp/ of another user inside a directory of the user's: the same
	chown root "$parent"
	run rp-embed --provider openai --model m1 chunks.jsonl -o v.rpv
	assert_failure 2
	assert_output --partial "'$parent/.rp' is owned by another user"
	[ "$(requests)" = 0 ]
}

@test "safe.directories lets the user read another user's workspace" {
	need_root
	start_stub
	local parent="$BATS_TEST_TMPDIR/shared"
	mkdir -p "$parent/sub"
	mkdir -p "$parent/.rp"
	printf 'embed:\n  cache: %s/cache.db\n' "$BATS_TEST_TMPDIR" > "$parent/.rp/config"
	chown -R nobody "$parent"
	cd "$parent/sub"
	gen_chunks "$BATS_TEST_TMPDIR/chunks.jsonl" 3
	run rp-embed --model rp-lexical-v1 "$BATS_TEST_TMPDIR/chunks.jsonl" -o "$BATS_TEST_TMPDIR/v.rpv"
	# sub is another user's directory too: rp does not look past it
	assert_success
	[ ! -e "$BATS_TEST_TMPDIR/cache.db" ]
	user_config "safe:
  directories:
    - $parent"
	run rp-embed --model rp-lexical-v1 "$BATS_TEST_TMPDIR/chunks.jsonl" -o "$BATS_TEST_TMPDIR/v.rpv"
	assert_success
	[ -e "$BATS_TEST_TMPDIR/cache.db" ]
}

@test "rp looks no further up than a directory of another user" {
	need_root
	start_stub
	local top="$BATS_TEST_TMPDIR/top"
	mkdir -p "$top/theirs/mine"
	hostile_config "$top"
	chown nobody "$top/theirs"
	cd "$top/theirs/mine"
	gen_chunks chunks.jsonl 3
	run rp-embed --model rp-lexical-v1 chunks.jsonl -o v.rpv
	assert_success
	local_vectors v.rpv
	[ "$(requests)" = 0 ]
	no_secret_sent
}

@test "a .rp/config across a file-system boundary is not used" {
	need_root
	command -v unshare >/dev/null || skip "needs unshare(1) for a private mount"
	unshare -m true 2>/dev/null || skip "cannot make a mount namespace here"
	start_stub
	local outer="$BATS_TEST_TMPDIR/outer"
	mkdir -p "$outer/mnt"
	hostile_config "$outer"
	gen_chunks "$BATS_TEST_TMPDIR/chunks.jsonl" 3
	# a private mount namespace: the tmpfs goes away with the command
	run unshare -m sh -c '
		mount -t tmpfs -o size=4m rp-test "$1/mnt" || exit 99
		mkdir "$1/mnt/sub" && cd "$1/mnt/sub" || exit 98
		rp-embed --model rp-lexical-v1 "$2/chunks.jsonl" -o "$2/v.rpv" || exit $?
		RP_DISCOVERY_ACROSS_FILESYSTEM=1 rp-embed --provider openai --model m1 "$2/chunks.jsonl" -o "$2/w.rpv"
	' sh "$outer" "$BATS_TEST_TMPDIR"
	[ "$status" != 99 ] || skip "cannot mount a tmpfs here"
	# the first run did not see the outer .rp/config: local vectors, no request;
	# the second, told to cross, found it and was refused the key
	assert_failure 2
	assert_output --partial "\$AWS_SECRET_ACCESS_KEY (named by embed.api_key_env in '$outer/.rp/config')"
	local_vectors "$BATS_TEST_TMPDIR/v.rpv"
	[ "$(requests)" = 0 ]
	no_secret_sent
}

@test "rp refuses a workspace of another user unless it is in safe.directories" {
	need_root
	local other="$BATS_TEST_TMPDIR/other"
	mkdir -p "$other"
	printf 'stages:\n  hello:\n    cmd: echo hi > out.txt\n    outs: [out.txt]\n' > "$other/rp.yaml"
	chown -R nobody "$other"
	cd "$other"
	run rp repro
	assert_failure 2
	assert_output --partial "'$other' is owned by another user"
	assert_output --partial "safe:
  directories:
    - $other"
	[ ! -e out.txt ]
	[ ! -e .rp ]
	user_config "safe:
  directories: ['*']"
	run rp repro
	assert_success
	[ -e out.txt ]
	# under sudo, root works in the invoking user's workspace, as git does
	user_config ""
	SUDO_UID=$(id -u nobody) run rp status
	assert_success
}

@test "a user config writable by others is refused whole" {
	start_stub
	hostile_config .
	gen_chunks chunks.jsonl 3
	user_config "credentials:
  AWS_SECRET_ACCESS_KEY: [127.0.0.1]"
	chmod 666 "$HOME/.config/rp/config"
	run rp-embed --provider openai --model m1 chunks.jsonl -o v.rpv
	assert_failure 2
	assert_output --partial "is writable by others"
	assert_output --partial "chmod go-w"
	[ "$(requests)" = 0 ]
	no_secret_sent
}
