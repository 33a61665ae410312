load helpers
load fixtures/c-lib

# make: out.txt from data.txt (a saved source) and bigdata/ (declared
# `cache: false`, so never saved).
use_make() {
	cat > rp.yaml <<'EOF2'
stages:
  make:
    cmd: echo x >> runs-make.log && cat data.txt bigdata/* > out.txt
    deps:
      - data.txt
      - bigdata:
          cache: false
    outs:
      - out.txt
EOF2
	echo "some data" > data.txt
	mkdir -p bigdata
	echo "a lot of data" > bigdata/part1.txt
}

# lock_hash PATH: the hash rp.lock records for PATH.
lock_hash() {
	grep -A1 -x -- "    - path: $1" rp.lock | sed -n 's/^      hash: //p' | head -1
}

@test "an output is stored under objects/<2 hex>/<62 hex>, named by its sha256" {
	use_chunk
	rp repro >/dev/null
	h=$(hash_of build/chunks.txt)
	obj=$(object_of "$h")
	[ -f "$obj" ]
	[[ "$obj" =~ ^\.rp/cache/objects/[0-9a-f]{2}/[0-9a-f]{62}$ ]]
	assert_equal "$(lock_hash build/chunks.txt)" "$h"
	# every object's bytes hash to its name
	for o in .rp/cache/objects/*/*; do
		name=${o#.rp/cache/objects/}
		assert_equal "$(hash_of "$o")" "${name%%/*}${name#*/}"
	done
}

@test "objects in the store are read-only" {
	use_chunk
	rp repro >/dev/null
	obj=$(object_of "$(hash_of build/chunks.txt)")
	assert_equal "$(stat -c %a "$obj")" 444
}

@test "editing the workspace copy of an output does not change its object" {
	use_chunk
	rp repro >/dev/null
	h=$(hash_of build/chunks.txt)
	[ ! -L build/chunks.txt ]
	echo "my edit" >> build/chunks.txt
	assert_equal "$(hash_of "$(object_of "$h")")" "$h"
	run rp checkout --force
	assert_success
	assert_equal "$(hash_of build/chunks.txt)" "$h"
}

@test "with cache type hardlink the output is a read-only hardlink to its object" {
	mkdir .rp
	printf 'cache:\n  type: hardlink\n' > .rp/config
	use_chunk
	run rp repro
	assert_success
	h=$(hash_of build/chunks.txt)
	obj=$(object_of "$h")
	assert_equal "$(stat -c %i build/chunks.txt)" "$(stat -c %i "$obj")"
	[ "$(stat -c %h build/chunks.txt)" -ge 2 ]
	assert_equal "$(stat -c %a build/chunks.txt)" 444
	run rp status
	assert_success
	assert_output --partial "up to date"
}

@test "with cache type hardlink checkout makes hardlinks too" {
	mkdir .rp
	printf 'cache:\n  type: hardlink\n' > .rp/config
	use_chunk
	rp repro >/dev/null
	h=$(hash_of build/chunks.txt)
	rm -rf build
	run rp checkout
	assert_success
	assert_equal "$(stat -c %i build/chunks.txt)" "$(stat -c %i "$(object_of "$h")")"
}

@test "with cache type symlink the output is a symlink into the store" {
	mkdir .rp
	printf 'cache:\n  type: symlink\n' > .rp/config
	use_chunk
	run rp repro
	assert_success
	h=$(hash_of build/chunks.txt)
	[ -L build/chunks.txt ]
	assert_equal "$(readlink -f build/chunks.txt)" "$(readlink -f "$(object_of "$h")")"
	run readlink build/chunks.txt
	assert_output --partial ".rp/cache/objects/"
	run rp status
	assert_success
	assert_output --partial "up to date"
}

@test "an unknown cache type is a usage error" {
	mkdir .rp
	printf 'cache:\n  type: teleport\n' > .rp/config
	use_chunk
	run rp repro
	assert_failure 2
	assert_output --partial "teleport"
	assert_equal "$(runs_of runs-chunk.log)" 0
}

@test "a dep that no stage produces is saved into the store" {
	use_make
	rp repro >/dev/null
	[ -f "$(object_of "$(hash_of data.txt)")" ]
	rm data.txt
	run rp checkout
	assert_success
	assert_equal "$(cat data.txt)" "some data"
}

@test "a source directory is saved with every file in it" {
	use_chunk
	rp repro >/dev/null
	[ -f "$(object_of "$(hash_of corpus/a.txt)")" ]
	[ -f "$(object_of "$(hash_of corpus/b.txt)")" ]
	[ -f "$(object_of "$(lock_hash corpus)")" ]
}

@test "a dep declared cache: false is not saved into the store" {
	use_make
	rp repro >/dev/null
	[ ! -e "$(object_of "$(hash_of bigdata/part1.txt)")" ]
	dirhash=$(lock_hash bigdata)
	[ -n "$dirhash" ]
	[ ! -e "$(object_of "$dirhash")" ]
	# its output is stored all the same
	[ -f "$(object_of "$(hash_of out.txt)")" ]
}

@test "with save_sources: false no source is saved into the store" {
	mkdir .rp
	printf 'cache:\n  save_sources: false\n' > .rp/config
	use_make
	rp repro >/dev/null
	[ ! -e "$(object_of "$(hash_of data.txt)")" ]
	[ ! -e "$(object_of "$(hash_of bigdata/part1.txt)")" ]
	[ -f "$(object_of "$(hash_of out.txt)")" ]
	run find .rp/cache/objects -type f
	assert_output "$(object_of "$(hash_of out.txt)")"
}

@test "a stage whose key was seen before comes from the run-cache without running" {
	use_chunk
	rp repro >/dev/null
	want=$(hash_of build/chunks.txt)
	set_size 20
	rp repro >/dev/null
	set_size 10
	run rp repro
	assert_success
	assert_output --partial "Restored stage 'chunk' from the run-cache"
	assert_output --partial "2 from run-cache"
	assert_equal "$(runs_of runs-chunk.log)" 2
	assert_equal "$(runs_of runs-count.log)" 2
	assert_equal "$(hash_of build/chunks.txt)" "$want"
	run rp status
	assert_success
	assert_output --partial "up to date"
}

@test "run-cache entries are rows of one database, and entries of the old one-file layout are still read" {
	use_chunk
	rp repro >/dev/null
	set_size 20
	rp repro >/dev/null
	[ -f .rp/cache/runs.db ]
	[ ! -e .rp/cache/runs ]
	# move every row into the layout of earlier versions: runs/<2 hex>/<62 hex>
	python3 - <<'PY'
import os, sqlite3
db = sqlite3.connect('.rp/cache/runs.db')
for key, outs in db.execute('SELECT key, outs FROM runs'):
    d = os.path.join('.rp/cache/runs', key[:2])
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, key[2:]), 'w') as f:
        f.write(outs)
db.execute('DELETE FROM runs')
db.commit()
PY
	set_size 10
	run rp repro
	assert_success
	assert_output --partial "Restored stage 'chunk' from the run-cache"
	assert_equal "$(runs_of runs-chunk.log)" 2
	# gc sweeps both layouts
	run rp gc --workspace
	assert_success
	assert_output --partial "2 run-cache entries"
}

@test "a run-cache entry whose objects are gone makes the stage run" {
	use_chunk
	rp repro >/dev/null
	old=$(hash_of build/chunks.txt)
	set_size 20
	rp repro >/dev/null
	drop_object "$old"
	set_size 10
	run rp repro
	assert_success
	refute_output --partial "Restored stage 'chunk' from the run-cache"
	assert_equal "$(runs_of runs-chunk.log)" 3
	assert_equal "$(hash_of build/chunks.txt)" "$old"
}

@test "an unknown key in .rp/config is a usage error with its line and column" {
	mkdir .rp
	printf 'cache:\n  type: copy\n  colour: blue\n' > .rp/config
	use_chunk
	run rp repro
	assert_failure 2
	assert_output --partial ".rp/config:3:3:"
	assert_output --partial "colour"
	assert_equal "$(runs_of runs-chunk.log)" 0
}

@test "an unknown section in .rp/config is a usage error with its line and column" {
	mkdir .rp
	printf 'cache:\n  type: copy\nremote:\n  url: x\n' > .rp/config
	use_chunk
	run rp status
	assert_failure 2
	assert_output --partial ".rp/config:3:1:"
	assert_output --partial "remote"
}

@test "a save_sources that is not a boolean is a usage error with its line and column" {
	mkdir .rp
	printf 'cache:\n  save_sources: maybe\n' > .rp/config
	use_chunk
	run rp repro
	assert_failure 2
	assert_output --partial ".rp/config:2:"
}

@test "two stages without outs that share a command both run" {
	cat > rp.yaml <<'YAML'
stages:
  a:
    cmd: echo x >> runs.log
  b:
    cmd: echo x >> runs.log
YAML
	run rp repro
	assert_success
	assert_output --partial "2 ran, 0 restored, 0 from run-cache"
	assert_equal "$(runs_of runs.log)" 2
}
