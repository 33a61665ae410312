#!/usr/bin/env bats
# security-checkout.bats - what a crafted lock or store may make rp write.
#
# A cloned repository's rp.lock, any LOCK given to `rp checkout`, a lock of
# another git revision and the store's directory manifests are untrusted
# input (rp.lock(5), PATHS A LOCK MAY NAME). These tests craft them by hand,
# with the store's real layout (.rp/cache/objects/<2 hex>/<62 hex>, the
# manifest format of src/lib/store/store.h), and check that rp writes only the
# workspace paths the pipeline names: never into .git (in any letter case),
# never a file the pipeline does not name, never a set-uid, set-gid, sticky
# or world-writable file, and that an owner-only output stays owner-only in
# the store and after checkout. A refused lock is exit 2 with the lock file,
# the stage and the path in the message, and nothing in the workspace changes.

load helpers
load fixtures/c-lib

# one_stage: stage `make` (dep in.txt, out out.txt), run once; the good lock
# is kept as good.lock.
one_stage() {
	cat > rp.yaml <<'EOF'
stages:
  make:
    cmd: echo hi > out.txt
    deps: [in.txt]
    outs: [out.txt]
EOF
	echo in > in.txt
	rp repro >/dev/null
	cp rp.lock good.lock
}

# put_object FILE: stores FILE's bytes as an object (read-only, at
# $STORE/objects/<2 hex>/<62 hex>; STORE defaults to .rp/cache) and prints
# its hash.
put_object() {
	local h o
	h=$(hash_of "$1")
	o="${STORE:-.rp/cache}/objects/${h:0:2}/${h:2}"
	mkdir -p "${o%/*}"
	cp "$1" "$o"
	chmod 444 "$o"
	echo "$h"
}

# evil_lock FIELD PATH [LOCK]: adds to stage make's FIELD (deps or outs) in
# LOCK (default rp.lock) an entry PATH whose object, in the store, is a
# shell script (a git hook that writes pwned.txt).
evil_lock() {
	local h lock=${3:-rp.lock}
	printf '#!/bin/sh\necho pwned > pwned.txt\n' > "$BATS_TEST_TMPDIR/hook"
	h=$(put_object "$BATS_TEST_TMPDIR/hook")
	awk -v f="    $1:" -v item="    - path: $2\n      hash: $h\n      size: 34" \
		'{ print } $0 == f { print item }' "$lock" > "$lock.new"
	mv "$lock.new" "$lock"
	grep -q -- "- path: $2\$" "$lock"
}

# gen_dir: stage `gen` makes the directory outdir/ with a.txt; run once.
gen_dir() {
	cat > rp.yaml <<'EOF'
stages:
  gen:
    cmd: mkdir -p outdir && echo a > outdir/a.txt
    outs: [outdir]
EOF
	rp repro >/dev/null
	A=$(hash_of outdir/a.txt)
}

# with_manifest TEXT: stores TEXT as a directory manifest, points rp.lock's
# outdir at it and removes outdir/.
with_manifest() {
	local old new
	printf '%b' "$1" > "$BATS_TEST_TMPDIR/manifest"
	new=$(put_object "$BATS_TEST_TMPDIR/manifest")
	old=$(sed -n 's/^      hash: //p' rp.lock)
	sed -i "s/$old/$new/" rp.lock
	rm -rf outdir
}

# no_special_modes: no set-uid, set-gid, sticky or world-writable file below .
no_special_modes() {
	run find . -path ./.rp -prune -o \( -perm -4000 -o -perm -2000 -o -perm -1000 -o -perm -0002 \) -print
	assert_output ""
}

@test "a lock naming a git hook, in any letter case, installs nothing and is a usage error" {
	git_init
	one_stage
	for p in .git/hooks/post-checkout .GIT/hooks/post-checkout .Git/config \
		 sub/.git/hooks/pre-commit .git./hooks/x; do
		cp good.lock rp.lock
		evil_lock outs "$p"
		run rp checkout --force
		assert_failure 2
		assert_output --partial "rp.lock"
		assert_output --partial "'$p'"
		cp good.lock rp.lock
		evil_lock deps "$p"
		run rp checkout --force
		assert_failure 2
		assert_output --partial "'$p'"
	done
	[ ! -e .git/hooks/post-checkout ]
	[ ! -e .git/hooks/pre-commit ]
	[ ! -e .GIT ] && [ ! -e .Git ] && [ ! -e sub ] && [ ! -e .git. ]
	[ ! -e pwned.txt ]
	git status >/dev/null
}

@test "a lock naming .git itself cannot replace it, even with --force" {
	git_init
	one_stage
	git_commit "one"
	evil_lock outs .git
	run rp checkout --force
	assert_failure 2
	assert_output --partial "'.git'"
	[ -d .git ]
	run git log --oneline
	assert_success
	assert_output --partial "one"
}

@test "a --rev lock naming a git hook installs nothing" {
	git_init
	one_stage
	evil_lock outs .git/hooks/post-checkout
	git_commit "a crafted lock"
	cp good.lock rp.lock
	run rp checkout --rev HEAD --force
	assert_failure 2
	assert_output --partial "HEAD:rp.lock"
	assert_output --partial "'.git/hooks/post-checkout'"
	[ ! -e .git/hooks/post-checkout ]
}

@test "a lock naming a file the pipeline does not name is refused and changes nothing" {
	one_stage
	echo "mine" > Makefile
	rm out.txt
	for p in .envrc Makefile; do
		cp good.lock rp.lock
		evil_lock outs "$p"
		run rp checkout --force
		assert_failure 2
		assert_output --partial "stage 'make'"
		assert_output --partial "'$p' is not a dependency or output of any stage in 'rp.yaml'"
	done
	cp good.lock other.lock
	evil_lock deps .envrc other.lock
	run rp checkout --force other.lock
	assert_failure 2
	assert_output --partial "other.lock: stage 'make'"
	[ ! -e .envrc ]
	assert_equal "$(cat Makefile)" "mine"
	# nothing was changed: not even the out the lock rightly names
	[ ! -e out.txt ]
}

@test "a lock whose path goes through a symlink into .git is refused" {
	git_init
	cat > rp.yaml <<'EOF'
stages:
  make:
    cmd: echo hi > hooks/post-checkout
    outs: [hooks/post-checkout]
EOF
	mkdir hooks
	rp repro >/dev/null
	rm -r hooks
	ln -s .git/hooks hooks
	run rp checkout --force
	assert_failure 2
	assert_output --partial "symlink 'hooks'"
	[ ! -e .git/hooks/post-checkout ]
}

@test "a lock cannot make checkout replace or write into a store kept inside the workspace" {
	mkdir -p .rp
	printf 'cache:\n  dir: store\n' > .rp/config
	STORE=store one_stage
	[ -d store/objects ]
	cat >> rp.yaml <<'EOF'
  look:
    cmd: ls store > listing.txt
    deps: [store]
    outs: [listing.txt]
EOF
	for p in store store/objects/x; do
		cp good.lock rp.lock
		STORE=store evil_lock deps "$p"
		run rp checkout --force
		assert_failure 2
		assert_output --partial "'$p'"
		[ -d store/objects ]
	done
}

@test "a manifest with a mode beyond 0644, 0755, 0600 and 0700 is refused and creates nothing" {
	gen_dir
	cp rp.lock good.lock
	for mode in 4755 2755 1755 777 666 664 0644 75; do
		cp good.lock rp.lock
		with_manifest "$A 2 $mode a.txt\n"
		run rp checkout --force
		assert_failure 1
		assert_output --partial "manifest"
		[ ! -e outdir ]
		no_special_modes
	done
}

@test "a manifest whose size disagrees with its object is refused" {
	gen_dir
	with_manifest "$A 3 644 a.txt\n"
	run rp checkout --force
	assert_failure 1
	assert_output --partial "manifest"
	[ ! -e outdir ]
}

@test "a manifest naming .git, a path outside or one path twice is refused and creates nothing" {
	gen_dir
	cp rp.lock good.lock
	for rel in .git/x sub/.GIT/hooks/post-checkout .Git ../x /x; do
		cp good.lock rp.lock
		with_manifest "$A 2 644 $rel\n"
		run rp checkout --force
		assert_failure 1
		assert_output --partial "manifest"
		[ ! -e outdir ] && [ ! -e x ] && [ ! -e ../x ]
	done
	for twice in "a.txt\n$A 2 644 a.txt" "a.txt\n$A 2 644 a.txt/b"; do
		cp good.lock rp.lock
		with_manifest "$A 2 644 $twice\n"
		run rp checkout --force
		assert_failure 1
		assert_output --partial "manifest"
		[ ! -e outdir ]
	done
}

@test "a lock's params file that the pipeline does not use is never created" {
	one_stage
	rm "$(object_of "$(hash_of out.txt)")" out.txt
	awk '{ print } $0 == "    cmd: echo hi > out.txt" { print "    params:\n      evil.yaml:\n        a: 1" }' \
		rp.lock > x && mv x rp.lock
	run rp checkout --rebuild --force
	assert_failure 2
	assert_output --partial "params file 'evil.yaml' is not a params file of any stage"
	[ ! -e evil.yaml ]
	[ ! -e out.txt ]
}

@test "a --rev lock's params file cannot be written through a symlink into the workspace" {
	git_init
	one_stage
	# the old revision has cfg/evil.yaml and a lock that names it
	mkdir cfg
	echo "a: 1" > cfg/evil.yaml
	awk '{ print } $0 == "    cmd: echo hi > out.txt" { print "    params:\n      cfg/evil.yaml:\n        a: 1" }' \
		good.lock > rp.lock
	git_commit "old"
	# now cfg is a link that, seen from a scratch copy in .rp/tmp/*, is the workspace
	rm -r cfg
	ln -s ../../.. cfg
	cp good.lock rp.lock
	git_commit "new"
	rm "$(object_of "$(hash_of out.txt)")" out.txt
	run rp checkout --rev HEAD~1 --rebuild --force
	assert_failure 2
	assert_output --partial "cfg/evil.yaml"
	[ ! -e evil.yaml ]
	[ ! -e out.txt ]
}

@test "an output made under umask 077 stays owner-only in the store and after checkout" {
	cat > rp.yaml <<'EOF'
stages:
  secret:
    cmd: umask 077 && echo secret > secret.txt && mkdir -p vault/sub && echo key > vault/sub/key.txt && printf 'exit 0\n' > vault/run.sh && chmod 700 vault/run.sh
    outs: [secret.txt, vault]
EOF
	umask 022
	run rp repro
	assert_success
	assert_equal "$(stat -c %a "$(object_of "$(hash_of secret.txt)")")" 400
	assert_equal "$(stat -c %a "$(object_of "$(hash_of vault/sub/key.txt)")")" 400
	assert_equal "$(stat -c %a "$(object_of "$(hash_of vault/run.sh)")")" 400
	manifest=$(grep -A1 -x -- "    - path: vault" rp.lock | sed -n 's/^      hash: //p')
	assert_equal "$(stat -c %a "$(object_of "$manifest")")" 400
	rm -rf secret.txt vault
	run rp checkout
	assert_success
	assert_equal "$(stat -c %a secret.txt)" 600
	assert_equal "$(stat -c %a vault/sub/key.txt)" 600
	assert_equal "$(stat -c %a vault/run.sh)" 700
	assert_equal "$(stat -c %a vault)" 700
	assert_equal "$(stat -c %a vault/sub)" 700
	run rp status
	assert_success
}

@test "an ordinary output keeps its usual modes through the store and checkout" {
	cat > rp.yaml <<'EOF'
stages:
  pub:
    cmd: umask 022 && echo hi > pub.txt && mkdir -p d && echo x > d/x.txt && printf 'exit 0\n' > d/run.sh && chmod 755 d/run.sh
    outs: [pub.txt, d]
EOF
	umask 022
	rp repro >/dev/null
	assert_equal "$(stat -c %a "$(object_of "$(hash_of pub.txt)")")" 444
	rm -rf pub.txt d
	run rp checkout
	assert_success
	assert_equal "$(stat -c %a pub.txt)" 644
	assert_equal "$(stat -c %a d/x.txt)" 644
	assert_equal "$(stat -c %a d/run.sh)" 755
}

@test "a directory holding a .git is never stored, and checkout never replaces one" {
	cat > rp.yaml <<'EOF2'
stages:
  clone:
    cmd: mkdir -p repo/.git && echo ref > repo/.git/HEAD && echo x > repo/x.txt
    outs: [repo]
EOF2
	run rp repro
	assert_failure
	assert_output --partial "repo/.git"
	assert_output --partial "never stores"
	# a directory made without one, which the user then turns into a repository
	gen_dir
	echo edited > outdir/a.txt
	mkdir -p outdir/sub/.Git
	echo mine > outdir/sub/.Git/config
	run rp checkout --force
	assert_failure 2
	assert_output --partial "outdir/sub/.Git"
	assert_equal "$(cat outdir/sub/.Git/config)" "mine"
	assert_equal "$(cat outdir/a.txt)" "edited"
}
