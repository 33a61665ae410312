#!/usr/bin/env bats
# features-online.bats - rp-features materialize, get and check-skew
# against both online stores: every behaviour is one function taking the
# STORE, run once with an SQLite file and once with a private redis-server
# (tests/servers/redis.bash), with the same assertions.

load helpers
load ../servers/redis

# u1 clicks at 10:00 and 11:00, u2 at 09:00 (known only at 12:00: a late
# arrival). Views: user (count over 2h, last doc with a 3h ttl) and doc.
write_case() {
	cat > features.yaml <<'YAML'
entities:
  user: {join_keys: [user_id]}
  doc: {join_keys: [doc_id]}
sources:
  clicks: {path: clicks.jsonl, timestamp: ts, created_timestamp: created}
views:
  user:
    entity: user
    source: clicks
    features:
      clicks_2h: {agg: count, window: 2h}
      last_doc: {agg: last, column: doc_id, ttl: 3h}
  doc:
    entity: doc
    source: clicks
    features:
      users_1d: {agg: count_distinct, column: user_id, window: 1d}
YAML
	cat > clicks.jsonl <<'JSONL'
{"user_id":"u1","doc_id":"d1","ts":"2026-12-01T10:00:00Z","created":"2026-12-01T10:00:00Z"}
{"user_id":"u1","doc_id":"d2","ts":"2026-12-01T11:00:00Z","created":"2026-12-01T11:00:00Z"}
{"user_id":"u2","doc_id":"d1","ts":"2026-12-01T09:00:00Z","created":"2026-12-01T12:00:00Z"}
JSONL
}

# store_for KIND: sets STORE to a fresh sqlite file or the test's redis.
store_for() {
	if [ "$1" = redis ]; then
		skip_without_redis
		start_redis
		STORE=$REDIS_URL
	else
		STORE="$WS/online.sqlite"
	fi
}

# records: prints "ENTITY FEATURE AS_OF NEWEST_TS NEWEST_CREATED" per record,
# sorted, the three times as signed integers, whichever the backend.
records() {
	if [ "${STORE#redis://}" != "$STORE" ]; then
		redis-cli -p "$REDIS_PORT" --no-raw EVAL "local o = {}
for _, k in ipairs(redis.call('KEYS', 'rpf:e:*')) do
  local h = redis.call('HGETALL', k)
  for i = 1, #h, 2 do o[#o + 1] = string.sub(k, 7) .. ' ' .. h[i] .. ' ' .. string.sub(h[i + 1], 1, 48) end
end
return o" 0 | python3 -c '
import sys
def s(h): return str(int(h, 16) ^ (1 << 63) if int(h, 16) >= (1 << 63) else int(h, 16) - (1 << 63))
for line in sys.stdin:
    line = line.strip()
    if not line or line == "(empty array)": continue
    line = line.split(") ", 1)[1].strip("\"")
    e, f, v = line.split(" ")
    print(e, f, s(v[:16]), s(v[16:32]), s(v[32:]))' | sort
	else
		sqlite3 "$STORE" "SELECT entity, feature, as_of, newest_ts, newest_created FROM rp_online" |
			tr '|' ' ' | sort
	fi
}

# no_older BEFORE AFTER: every record of BEFORE is in AFTER with a version
# (as_of, newest_ts, newest_created) at least as great.
no_older() {
	python3 - "$1" "$2" <<'PY'
import sys
def load(p):
    d = {}
    for line in open(p):
        e, f, a, t, c = line.split()
        d[(e, f)] = (int(a), int(t), int(c))
    return d
b, a = load(sys.argv[1]), load(sys.argv[2])
bad = [(k, v, a.get(k)) for k, v in b.items() if k not in a or a[k] < v]
for x in bad[:5]:
    print("older:", x)
sys.exit(1 if bad else 0)
PY
}

check_materialize_then_skew() {
	write_case
	run rp-features materialize --defs features.yaml --online "$STORE" --at 2026-12-01T11:30:00Z
	assert_success
	assert_output --partial '4 entities, 4 recomputed, 6 records written'
	run rp-features check-skew --defs features.yaml --online "$STORE"
	assert_success
	assert_output --partial '4 entities, 6 values compared at 2026-12-01T11:30:00Z, 0 differences'
	run rp-features get --defs features.yaml --online "$STORE" --entity user_id=u1 --json --at 2026-12-01T11:30:00Z
	assert_success
	assert_output '{"user_id":"u1","user:clicks_2h":2,"user:last_doc":"d2","rp_status":{}}'
	# u2's click was not known at 11:30
	run rp-features get --defs features.yaml --online "$STORE" --entity user_id=u2 --json --at 2026-12-01T11:30:00Z
	assert_output '{"user_id":"u2","user:clicks_2h":null,"user:last_doc":null,"rp_status":{"user:clicks_2h":"NOT_FOUND","user:last_doc":"NOT_FOUND"}}'
}

check_incremental() {
	write_case
	rp-features materialize --defs features.yaml --online "$STORE" --at 2026-12-01T11:30:00Z
	# nothing became known, nothing left a window or crossed a ttl
	run rp-features materialize --defs features.yaml --online "$STORE" --at 2026-12-01T11:40:00Z
	assert_success
	assert_output --partial '0 recomputed (incremental), 0 records written'
	# a new click of u3 and the late u2 click becomes known at 12:00
	echo '{"user_id":"u3","doc_id":"d3","ts":"2026-12-01T11:50:00Z","created":"2026-12-01T11:50:00Z"}' >> clicks.jsonl
	run rp-features materialize --defs features.yaml --online "$STORE" --at 2026-12-01T12:00:00Z
	assert_success
	# u1's 10:00 click left its 2h window at 12:00: u1, u2, u3, d1, d3
	assert_output --partial '6 entities, 5 recomputed (incremental)'
	run rp-features check-skew --defs features.yaml --online "$STORE" --sample 0
	assert_success
	assert_output --partial '0 differences'
	run rp-features get --defs features.yaml --online "$STORE" --entity user_id=u1 --at 2026-12-01T12:00:00Z
	assert_line --index 0 $'user:clicks_2h\t1\tOK'
	# other definitions (a feature added): every entity is computed
	sed -i 's/      clicks_2h: {agg: count, window: 2h}/&\n      clicks_all: {agg: count}/' features.yaml
	run rp-features materialize --defs features.yaml --online "$STORE" --at 2026-12-01T12:10:00Z
	assert_success
	assert_output --partial '6 entities, 6 recomputed, '
	run rp-features check-skew --defs features.yaml --online "$STORE" --sample 0
	assert_success
	assert_output --partial '0 differences'
}

# Random clicks (late arrivals, windows and ttls that events leave and
# cross between runs): after each of 8 incremental runs at increasing
# times, every online value equals the offline one.
check_incremental_random() {
	python3 - <<'PY'
import random, datetime
r = random.Random(11)
fmt = lambda t: datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
with open("clicks.jsonl", "w") as f:
    for i in range(3000):
        s = 1764547200 + r.randrange(4 * 86400)
        late = r.choice([0, 0, 0, r.randrange(6 * 3600)])
        f.write('{"user_id":"u%d","doc_id":"d%d","ts":"%s","created":"%s","dwell":%d}\n'
                % (r.randrange(300), r.randrange(40), fmt(s), fmt(s + late), r.randrange(100)))
PY
	cat > features.yaml <<'YAML'
entities:
  user: {join_keys: [user_id]}
  doc: {join_keys: [doc_id]}
sources:
  clicks: {path: clicks.jsonl, timestamp: ts, created_timestamp: created}
views:
  user:
    entity: user
    source: clicks
    features:
      clicks_6h: {agg: count, window: 6h}
      dwell_max_3h: {agg: max, column: dwell, window: 3h}
      last_doc: {agg: last, column: doc_id, ttl: 5h}
      dwell_sum: {agg: sum, column: dwell}
  doc:
    entity: doc
    source: clicks
    features:
      users_2h: {agg: count_distinct, column: user_id, window: 2h}
      dwell_avg_1h: {agg: avg, column: dwell, window: 1h, ttl: 90m}
YAML
	local at
	for at in 2025-12-01T03:00:00Z 2025-12-01T07:30:00Z 2025-12-01T08:00:00Z 2025-12-01T19:17:00Z \
		2025-12-02T00:00:00Z 2025-12-02T05:59:59Z 2025-12-03T11:00:00Z 2025-12-06T00:00:00Z; do
		run rp-features materialize --defs features.yaml --online "$STORE" --at "$at"
		assert_success
		run rp-features check-skew --defs features.yaml --online "$STORE" --sample 0
		assert_success
		assert_output --partial "compared at $at, 0 differences"
	done
}

check_out_of_order() {
	write_case
	rp-features materialize --defs features.yaml --online "$STORE" --at 2026-12-01T12:30:00Z
	records > before
	run rp-features materialize --defs features.yaml --online "$STORE" --at 2026-12-01T10:30:00Z
	assert_success
	assert_output --partial '0 records written'
	records > after
	run diff before after
	assert_success
	run rp-features get --defs features.yaml --online "$STORE" --entity user_id=u1 --json --at 2026-12-01T12:30:00Z
	assert_output '{"user_id":"u1","user:clicks_2h":1,"user:last_doc":"d2","rp_status":{}}'
	run rp-features check-skew --defs features.yaml --online "$STORE"
	assert_success
	assert_output --partial 'compared at 2026-12-01T12:30:00Z, 0 differences'
}

check_ttl_edge() {
	write_case
	rp-features materialize --defs features.yaml --online "$STORE" --at 2026-12-01T11:30:00Z
	# u1's newest click is at 11:00, ttl 3h: expired from 14:00 on, exactly
	run rp-features get --defs features.yaml --online "$STORE" --entity user_id=u1 --features user:last_doc \
		--json --at 2026-12-01T13:59:59.999999Z
	assert_output '{"user_id":"u1","user:last_doc":"d2","rp_status":{}}'
	run rp-features get --defs features.yaml --online "$STORE" --entity user_id=u1 --features user:last_doc \
		--json --at 2026-12-01T14:00:00Z
	assert_output '{"user_id":"u1","user:last_doc":null,"rp_status":{"user:last_doc":"EXPIRED"}}'
	run rp-features get --defs features.yaml --online "$STORE" --entity user_id=nobody --at 2026-12-01T14:00:00Z
	assert_success
	assert_line --index 0 $'user:clicks_2h\tnull\tNOT_FOUND'
	# the batch form: one line per row, in order
	printf '%s\n' '{"user_id":"u1","x":1}' '{"user_id":"zz"}' '{"x":[1],"user_id":"u1"}' > rows.jsonl
	run rp-features get --defs features.yaml --online "$STORE" --entities rows.jsonl --features user:clicks_2h \
		--json --at 2026-12-01T11:30:00Z
	assert_success
	assert_line --index 0 '{"user_id":"u1","x":1,"user:clicks_2h":2,"rp_status":{}}'
	assert_line --index 1 '{"user_id":"zz","user:clicks_2h":null,"rp_status":{"user:clicks_2h":"NOT_FOUND"}}'
	assert_line --index 2 '{"x":[1],"user_id":"u1","user:clicks_2h":2,"rp_status":{}}'
}

# 40,000 clicks of 4,000 users; materialize at T1, then kill -9 a
# materialization at T2 at 10 random moments: no record is ever older.
check_kill() {
	python3 - <<'PY'
import random
r = random.Random(7)
with open("clicks.jsonl", "w") as f:
    for i in range(40000):
        u = r.randrange(4000)
        s = 1764547200 + r.randrange(14 * 86400)
        f.write('{"user_id":"u%d","doc_id":"d%d","ts":%d,"created":%d}\n' % (u, r.randrange(500), s, s + r.randrange(3600)))
PY
	# times as RFC 3339
	python3 - <<'PY'
import json, datetime
rows = [json.loads(l) for l in open("clicks.jsonl")]
with open("clicks.jsonl", "w") as f:
    for x in rows:
        for k in ("ts", "created"):
            x[k] = datetime.datetime.fromtimestamp(x[k], datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        f.write(json.dumps(x, separators=(",", ":")) + "\n")
PY
	cat > features.yaml <<'YAML'
entities:
  user: {join_keys: [user_id]}
  doc: {join_keys: [doc_id]}
sources:
  clicks: {path: clicks.jsonl, timestamp: ts, created_timestamp: created}
views:
  user:
    entity: user
    source: clicks
    features:
      clicks_1d: {agg: count, window: 1d}
      last_doc: {agg: last, column: doc_id, ttl: 2d}
      docs_7d: {agg: count_distinct, column: doc_id, window: 7d}
  doc:
    entity: doc
    source: clicks
    features:
      users_1d: {agg: count_distinct, column: user_id, window: 1d}
YAML
	rp-features materialize --defs features.yaml --online "$STORE" --at 2025-12-08T00:00:00Z
	records > before
	local i at
	for i in 1 2 3 4 5 6 7 8 9 10; do
		at=$(printf '2025-12-%02dT%02d:00:00Z' $((8 + i)) $((i % 24)))
		rp-features materialize --defs features.yaml --online "$STORE" --at "$at" --full 2>/dev/null &
		local pid=$!
		# a full run takes about 0.25 s here: loading, then 7 batches
		sleep "$(printf '0.%03d' $((RANDOM % 300)))"
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		records > after
		run no_older before after
		assert_success
		mv after before
	done
	# and the store still serves and checks out after a complete run
	rp-features materialize --defs features.yaml --online "$STORE" --at 2025-12-20T00:00:00Z
	run rp-features check-skew --defs features.yaml --online "$STORE" --sample 500 --seed 3
	assert_success
	assert_output --partial '0 differences'
}

check_errors() {
	write_case
	run rp-features get --defs features.yaml --online "$STORE" --entity user_id=u1 --features user:nope
	assert_failure 2
	assert_output --partial "unknown feature 'user:nope'"
	run rp-features materialize --defs features.yaml --online "$STORE" --features user:nope
	assert_failure 2
	assert_output --partial "unknown feature 'user:nope'"
	run rp-features check-skew --defs features.yaml --online "$STORE"
	assert_failure 2
	assert_output --partial 'rp-features materialize'
	rp-features materialize --defs features.yaml --online "$STORE" --at 2026-12-01T11:30:00Z 2>/dev/null
	printf '%s\n' '{"user_id":"u1"}' '{"doc_id":"d1"}' > rows.jsonl
	run rp-features get --defs features.yaml --online "$STORE" --entities rows.jsonl --features user:clicks_2h
	assert_failure 2
	assert_output --partial "rows.jsonl:2: no join key 'user_id' for feature 'user:clicks_2h'"
}

@test "materialize then check-skew passes (sqlite)" { store_for sqlite; check_materialize_then_skew; }
@test "materialize then check-skew passes (redis)" { store_for redis; check_materialize_then_skew; }
@test "incremental materialize after appending events (sqlite)" { store_for sqlite; check_incremental; }
@test "incremental materialize after appending events (redis)" { store_for redis; check_incremental; }
@test "random incremental runs never skew (sqlite)" { store_for sqlite; check_incremental_random; }
@test "random incremental runs never skew (redis)" { store_for redis; check_incremental_random; }
@test "an earlier --at never replaces a later one (sqlite)" { store_for sqlite; check_out_of_order; }
@test "an earlier --at never replaces a later one (redis)" { store_for redis; check_out_of_order; }
@test "get: ttl EXPIRED at exactly the edge, NOT_FOUND, batch (sqlite)" { store_for sqlite; check_ttl_edge; }
@test "get: ttl EXPIRED at exactly the edge, NOT_FOUND, batch (redis)" { store_for redis; check_ttl_edge; }
@test "kill -9 during materialize never leaves an older record (sqlite)" { store_for sqlite; check_kill; }
@test "kill -9 during materialize never leaves an older record (redis)" { store_for redis; check_kill; }
@test "errors: unknown feature, store never materialized (sqlite)" { store_for sqlite; check_errors; }
@test "errors: unknown feature, store never materialized (redis)" { store_for redis; check_errors; }

@test "errors: bad store URL, unreachable redis, missing sqlite file" {
	write_case
	run rp-features get --defs features.yaml --online redis://localhost --entity user_id=u1
	assert_failure 2
	assert_output --partial 'write redis://HOST:PORT'
	run rp-features materialize --defs features.yaml --online ftp://x/y
	assert_failure 2
	assert_output --partial 'unknown scheme'
	run rp-features get --defs features.yaml --online redis://127.0.0.1:1 --entity user_id=u1
	assert_failure 1
	assert_output --partial 'start redis-server there'
	run rp-features get --defs features.yaml --online missing.sqlite --entity user_id=u1
	assert_failure 2
	assert_output --partial "run 'rp-features materialize --online missing.sqlite' first"
	[ ! -e missing.sqlite ]
	run rp-features get --defs features.yaml --online missing.sqlite
	assert_failure 2
	assert_output --partial 'pass either --entity KEY=VALUE or --entities FILE'
}
