#!/usr/bin/env bats
# Concurrency: two workspaces that share one store, or one embedding cache,
# run at the same time and end sound. (A second `rp repro` in the same
# workspace failing at once is in repro-lock.bats; two rp-embed processes on
# one cache in embed.bats.)

bats_require_minimum_version 1.5.0
load helpers
load fixtures/b-lib
load fixtures/embed-lib

# two_workspaces TYPE: ws1 and ws2 beside each other, running b-shared.yaml,
# sharing the store $SHARED with cache type TYPE (empty: the default).
two_workspaces() {
	SHARED="$BATS_TEST_TMPDIR/shared-store"
	mkdir -p "$SHARED"
	for w in ws1 ws2; do
		mkdir -p "$BATS_TEST_TMPDIR/$w/.rp"
		printf 'cache:\n  dir: %s\n' "$SHARED" > "$BATS_TEST_TMPDIR/$w/.rp/config"
		[ -z "$1" ] || printf '  type: %s\n' "$1" >> "$BATS_TEST_TMPDIR/$w/.rp/config"
		cp "$FIXTURES/b-shared.yaml" "$BATS_TEST_TMPDIR/$w/rp.yaml"
	done
	cd "$BATS_TEST_TMPDIR"
}

# both_repro ROUND: rp repro in ws1 and ws2 at once; fails if either fails.
both_repro() {
	local p1 p2 ok=0
	(cd ws1 && rp repro -j 4 > "../ws1.$1.log" 2>&1) & p1=$!
	(cd ws2 && rp repro -j 4 > "../ws2.$1.log" 2>&1) & p2=$!
	wait "$p1" || { echo "ws1, round $1:"; cat "ws1.$1.log"; ok=1; }
	wait "$p2" || { echo "ws2, round $1:"; cat "ws2.$1.log"; ok=1; }
	return $ok
}

# sound WS: the store verifies, status is clean and the outputs are right.
sound() {
	local seed
	(cd "$1" && rp cache verify >/dev/null) || { echo "$1: cache verify failed"; return 1; }
	(cd "$1" && rp status >/dev/null) || { echo "$1: status not clean"; return 1; }
	seed=$(cat "$1/seed.txt")
	for i in a b c d e f g h; do
		[ "$(sed -n 20000p "$1/out/$i.txt")" = "$seed $i 20000" ] || { echo "$1: out/$i.txt"; return 1; }
	done
	[ "$(cat "$1"/out/*.txt "$1/mine.txt" | sha256sum)" = "$(cat "$1/mine.out")" ] ||
		{ echo "$1: mine.out"; return 1; }
	cmp "$1/dir/3" "$1/mine.txt" && cmp "$1/dir/seed" "$1/seed.txt"
}

# rounds N: N rounds of both_repro where the seeds are sometimes the same in
# both (the same objects and run-cache entries written at once), sometimes not.
rounds() {
	for r in $(seq "$1"); do
		echo "seed $((r % 3))" > ws1/seed.txt
		echo "seed $((r % 3 == 1 ? 1 : r % 2))" > ws2/seed.txt
		echo "ws1 $r" > ws1/mine.txt
		echo "ws2 $((r % 2))" > ws2/mine.txt
		both_repro "$r"
		sound ws1
		sound ws2
	done
}

@test "two workspaces sharing one store run repro at once, round after round, without corruption" {
	two_workspaces ""
	rounds 6
	no_temp_files "$SHARED"
	run rp -f ws1/rp.yaml cache verify
	assert_success
	assert_output --partial ", 0 corrupt"
}

@test "two workspaces sharing one store through hardlinks run repro at once without corruption" {
	two_workspaces hardlink
	rounds 4
	no_temp_files "$SHARED"
	# the objects stay read-only and the outputs are links to them
	[ "$(stat -c %h ws1/out/a.txt)" -ge 2 ]
	[ -z "$(find "$SHARED/objects" -type f -perm -u+w)" ]
}

@test "checkout in one workspace while the other runs repro on the same store" {
	two_workspaces ""
	rounds 1
	cp ws1/rp.lock ws1/first.lock
	echo "seed 9" > ws1/seed.txt
	(cd ws1 && rp repro >/dev/null)
	for r in 2 3 4; do
		echo "seed $r" > ws2/seed.txt
		(cd ws1 && rp checkout first.lock > ../ws1.co.log 2>&1) & p1=$!
		(cd ws2 && rp repro -j 4 > "../ws2.$r.log" 2>&1) & p2=$!
		wait "$p1"
		wait "$p2"
		(cd ws1 && rp checkout > ../ws1.co.log 2>&1)
		sound ws2
	done
	sound ws1
}

@test "two workspaces sharing one embedding cache embed at once through rp repro" {
	M=rp-lexical-v1
	EC="$BATS_TEST_TMPDIR/shared-embed.db"
	for w in ws1 ws2; do
		mkdir -p "$BATS_TEST_TMPDIR/$w/.rp"
		printf 'embed:\n  cache: %s\n' "$EC" > "$BATS_TEST_TMPDIR/$w/.rp/config"
		printf 'stages:\n  embed:\n    cmd: rp embed chunks.jsonl -o v.rpv --model %s --stats stats.json\n    deps: [chunks.jsonl]\n    outs: [v.rpv]\n' "$M" > "$BATS_TEST_TMPDIR/$w/rp.yaml"
	done
	cd "$BATS_TEST_TMPDIR"
	gen_chunks ws1/chunks.jsonl 3000
	gen_chunks ws2/chunks.jsonl 3000 5 "a text that only the second workspace has"
	both_repro 1
	run sqlite3 "$EC" "PRAGMA integrity_check"
	assert_output ok
	run sqlite3 "$EC" "SELECT count(*) FROM embeddings"
	assert_output 3001
	# what each made is what a lone run with a private cache makes
	for w in ws1 ws2; do
		rp-embed "$w/chunks.jsonl" -o "$w.alone.rpv" --model $M --cache "$BATS_TEST_TMPDIR/$w-alone.db"
		cmp "$w/v.rpv" "$w.alone.rpv"
		(cd "$w" && rp status >/dev/null)
	done
	# and a forced rerun finds every vector in the shared cache
	(cd ws2 && rp repro -f >/dev/null)
	[ "$(json_get ws2/stats.json hits)" = 3000 ]
	[ "$(json_get ws2/stats.json misses)" = 0 ]
}
