#!/usr/bin/env bats
# features-historical.bats - rp-features historical: a point-in-time join
# checked row by row on a small case worked out by hand (rp-features(1),
# SEMANTICS), the leaky --as-of-now control, and the input errors that must
# stop the join without leaving an output file.

load helpers

# Four clicks: u1 at 10:00, 11:00 and 11:30 (that one only known at 13:00,
# a late arrival), u2 at 08:00+02:00 (06:00Z). Views: user (one join key)
# and pair (two: user_id and doc_id).
write_case() {
	cat > features.yaml <<'EOF'
entities:
  user: {join_keys: [user_id]}
  pair: {join_keys: [user_id, doc_id]}
sources:
  clicks: {path: clicks.jsonl, timestamp: ts, created_timestamp: created}
views:
  user:
    entity: user
    source: clicks
    features:
      clicks_2h: {agg: count, window: 2h}
      dwell_avg: {agg: avg, column: dwell, window: 1d}
      last_doc: {agg: last, column: doc_id, ttl: 3h}
  pair:
    entity: pair
    source: clicks
    features:
      dwell_sum: {agg: sum, column: dwell}
EOF
	cat > clicks.jsonl <<'EOF'
{"user_id":"u1","doc_id":"d1","ts":"2026-01-01T10:00:00Z","created":"2026-01-01T10:00:00Z","dwell":10}
{"user_id":"u1","doc_id":"d2","ts":"2026-01-01T11:00:00Z","created":"2026-01-01T11:00:00Z","dwell":20}
{"user_id":"u1","doc_id":"d3","ts":"2026-01-01T11:30:00Z","created":"2026-01-01T13:00:00Z","dwell":30}
{"user_id":"u2","doc_id":"d1","ts":"2026-01-01T08:00:00+02:00","created":"2026-01-01T06:00:00Z","dwell":5.5}
EOF
	cat > labels.jsonl <<'EOF'
{"user_id":"u1","doc_id":"d1","event_timestamp":"2026-01-01T12:00:00Z","label":1}
{"user_id":"u1","doc_id":"d1","event_timestamp":"2026-01-01T14:00:00+02:00","label":0}
{"user_id":"u1","doc_id":"d1","event_timestamp":"2026-01-01T12:00:00Z","label":1}
{"user_id":"u1","doc_id":"d3","event_timestamp":"2026-01-01T13:00:00Z","label":0}
{"user_id":"u2","doc_id":"d1","event_timestamp":"2026-01-01T09:00:00Z"}
{"user_id":"u3","doc_id":"d9","event_timestamp":"2026-01-01T09:00:00Z"}
{"user_id":"u1","doc_id":"d2","event_timestamp":"2026-01-01T15:00:00Z"}
EOF
}

@test "historical gives each row the values known at its time" {
	write_case
	run rp-features historical --defs features.yaml --entities labels.jsonl -o training.jsonl
	assert_success
	assert_output --partial "7 rows, 4 features, 8 events, nulls: 4 NOT_FOUND, 2 EXPIRED"
	# row 1, 12:00: the 10:00 click is on the window's edge (T - 2h) and out;
	#   the 11:30 click is not known until 13:00
	# row 2: 14:00+02:00 is 12:00Z, the same values
	# row 3: a duplicate of row 1, kept
	# row 4, 13:00: the late click is known now
	# row 5: u2's click at 06:00Z, 3h before: last_doc expired on its ttl's edge
	# row 6: an unknown user: NOT_FOUND
	# row 7, 15:00: u1's newest click (11:30) is 3.5h old: expired
	run cat training.jsonl
	assert_output - <<'EOF'
{"user_id":"u1","doc_id":"d1","event_timestamp":"2026-01-01T12:00:00Z","label":1,"user:clicks_2h":1,"user:dwell_avg":15,"user:last_doc":"d2","pair:dwell_sum":10,"rp_status":{}}
{"user_id":"u1","doc_id":"d1","event_timestamp":"2026-01-01T14:00:00+02:00","label":0,"user:clicks_2h":1,"user:dwell_avg":15,"user:last_doc":"d2","pair:dwell_sum":10,"rp_status":{}}
{"user_id":"u1","doc_id":"d1","event_timestamp":"2026-01-01T12:00:00Z","label":1,"user:clicks_2h":1,"user:dwell_avg":15,"user:last_doc":"d2","pair:dwell_sum":10,"rp_status":{}}
{"user_id":"u1","doc_id":"d3","event_timestamp":"2026-01-01T13:00:00Z","label":0,"user:clicks_2h":1,"user:dwell_avg":20,"user:last_doc":"d3","pair:dwell_sum":30,"rp_status":{}}
{"user_id":"u2","doc_id":"d1","event_timestamp":"2026-01-01T09:00:00Z","user:clicks_2h":0,"user:dwell_avg":5.5,"user:last_doc":null,"pair:dwell_sum":5.5,"rp_status":{"user:last_doc":"EXPIRED"}}
{"user_id":"u3","doc_id":"d9","event_timestamp":"2026-01-01T09:00:00Z","user:clicks_2h":null,"user:dwell_avg":null,"user:last_doc":null,"pair:dwell_sum":null,"rp_status":{"user:clicks_2h":"NOT_FOUND","user:dwell_avg":"NOT_FOUND","user:last_doc":"NOT_FOUND","pair:dwell_sum":"NOT_FOUND"}}
{"user_id":"u1","doc_id":"d2","event_timestamp":"2026-01-01T15:00:00Z","user:clicks_2h":0,"user:dwell_avg":20,"user:last_doc":null,"pair:dwell_sum":20,"rp_status":{"user:last_doc":"EXPIRED"}}
EOF
}

@test "historical --features selects and orders the features" {
	write_case
	run rp-features historical --defs features.yaml --entities labels.jsonl -o t.jsonl \
		--features pair:dwell_sum,user:clicks_2h
	assert_success
	run head -n 1 t.jsonl
	assert_output '{"user_id":"u1","doc_id":"d1","event_timestamp":"2026-01-01T12:00:00Z","label":1,"pair:dwell_sum":10,"user:clicks_2h":1,"rp_status":{}}'
}

@test "historical --as-of-now leaks the latest values into every row and warns" {
	write_case
	run rp-features historical --defs features.yaml --entities labels.jsonl -o leaky.jsonl \
		--as-of-now --features user:last_doc,pair:dwell_sum
	assert_success
	assert_output --partial "warning: --as-of-now"
	assert_output --partial "leaks future values"
	# every row as of 13:00, the latest time known in the source: row 1
	# sees the late click (d3) it could not have seen at 12:00
	run head -n 1 leaky.jsonl
	assert_output '{"user_id":"u1","doc_id":"d1","event_timestamp":"2026-01-01T12:00:00Z","label":1,"user:last_doc":"d3","pair:dwell_sum":10,"rp_status":{}}'
	rp-features historical --defs features.yaml --entities labels.jsonl -o honest.jsonl \
		--features user:last_doc,pair:dwell_sum
	run cmp -s leaky.jsonl honest.jsonl
	assert_failure
}

@test "historical reads naive times only with --assume-utc" {
	write_case
	printf '{"user_id":"u1","doc_id":"d1","event_timestamp":"2026-01-01 12:00:00"}\n' > naive.jsonl
	run rp-features historical --defs features.yaml --entities naive.jsonl -o t.jsonl
	assert_failure 2
	assert_output --partial "naive.jsonl:1: column 'event_timestamp': '2026-01-01 12:00:00' has no UTC offset"
	assert_output --partial "--assume-utc"
	[ ! -e t.jsonl ]
	run rp-features historical --defs features.yaml --entities naive.jsonl -o t.jsonl --assume-utc
	assert_success
	run cat t.jsonl
	assert_output --partial '"user:last_doc":"d2"'
}

@test "historical refuses an unknown feature and writes nothing" {
	write_case
	run rp-features historical --defs features.yaml --entities labels.jsonl -o t.jsonl \
		--features user:clicks_2h,user:nope
	assert_failure 2
	assert_output --partial "unknown feature 'user:nope'"
	[ ! -e t.jsonl ]
}

@test "historical names the row and column of a missing key or time" {
	write_case
	{ head -n 2 labels.jsonl; printf '{"user_id":"u1","event_timestamp":"2026-01-01T12:00:00Z"}\n'; } > nokey.jsonl
	run rp-features historical --defs features.yaml --entities nokey.jsonl -o t.jsonl
	assert_failure 2
	assert_output --partial "nokey.jsonl:3: join key 'doc_id' of entity 'pair'"
	[ ! -e t.jsonl ]
	run rp-features historical --defs features.yaml --entities labels.jsonl -o t.jsonl \
		--timestamp-column when
	assert_failure 2
	assert_output --partial "labels.jsonl:1: no timestamp column 'when'"
	[ ! -e t.jsonl ]
	printf '{"user_id":"u1","doc_id":"d1","event_timestamp":"yesterday"}\n' > bad.jsonl
	run rp-features historical --defs features.yaml --entities bad.jsonl -o t.jsonl
	assert_failure 2
	assert_output --partial "bad.jsonl:1: column 'event_timestamp': 'yesterday' is not an RFC 3339 timestamp"
	[ ! -e t.jsonl ]
}

@test "historical refuses a row that already has an output column" {
	write_case
	printf '{"user_id":"u1","doc_id":"d1","event_timestamp":"2026-01-01T12:00:00Z","rp_status":1}\n' > clash.jsonl
	run rp-features historical --defs features.yaml --entities clash.jsonl -o t.jsonl
	assert_failure 2
	assert_output --partial "clash.jsonl:1: the entity row already has a column 'rp_status'"
	[ ! -e t.jsonl ]
}

# A wrong definition or a bad source stops the join before anything is
# written: an earlier training set under the same name is left as it was.
@test "historical keeps an earlier output when the definitions or the source are wrong" {
	write_case
	echo previous > t.jsonl
	cp features.yaml good.yaml
	sed -i 's/agg: avg/agg: mean/' features.yaml
	run rp-features historical --defs features.yaml --entities labels.jsonl -o t.jsonl
	assert_failure 2
	assert_output "rp-features: error: features.yaml:12:24: unknown aggregation 'mean'; expected one of count, sum, avg, min, max, last, count_distinct"
	run cat t.jsonl
	assert_output previous
	cp good.yaml features.yaml
	printf '  user:\n    entity: user\n    source: clicks\n    features: {n: {agg: count}}\n' >> features.yaml
	run rp-features historical --defs features.yaml --entities labels.jsonl -o t.jsonl
	assert_failure 2
	assert_output "rp-features: error: features.yaml:19:3: duplicate key 'user'"
	run cat t.jsonl
	assert_output previous
	cp good.yaml features.yaml
	sed -i '3s/"ts"/"time"/' clicks.jsonl
	run rp-features historical --defs features.yaml --entities labels.jsonl -o t.jsonl
	assert_failure 2
	assert_output "rp-features: error: clicks.jsonl:3: no value in column 'ts'; every event needs one (source 'clicks' of view 'user')"
	run cat t.jsonl
	assert_output previous
	write_case
	sed -i '2s/"ts":"2026-01-01T11:00:00Z"/"ts":"2026-01-01T11:00:00"/' clicks.jsonl
	echo previous > t.jsonl
	run rp-features historical --defs features.yaml --entities labels.jsonl -o t.jsonl
	assert_failure 2
	assert_output --partial "clicks.jsonl:2: column 'ts': '2026-01-01T11:00:00' has no UTC offset"
	run cat t.jsonl
	assert_output previous
	ls -A > files
	run grep -c . files
	assert_output 6
}

@test "historical -h prints its usage and bad usage exits 2" {
	run rp-features historical -h
	assert_success
	assert_output --partial "usage: rp-features historical --defs FILE"
	run rp-features historical --defs features.yaml
	assert_failure 2
	assert_output --partial "--entities FILE is required"
}
