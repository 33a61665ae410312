#!/usr/bin/env bats
# features-defs.bats - rp-features validate: a good features.yaml lists its
# features and the events and entities of each view's source; a wrong
# definition or a bad source row fails with exit 2 and a message naming
# FILE:LINE[:COL] and the fix; usage errors exit 2.

bats_require_minimum_version 1.5.0
load helpers

defs() {
	cat > features.yaml <<'YAML'
entities:
  user: {join_keys: [user_id]}
  doc: {join_keys: [doc_id]}
sources:
  clicks: {path: data/clicks.jsonl, timestamp: ts, created_timestamp: created}
views:
  user:
    entity: user
    source: clicks
    features:
      clicks_7d: {agg: count, window: 7d}
      dwell_avg_24h: {agg: avg, column: dwell, window: 24h}
      last_doc: {agg: last, column: doc_id, ttl: 30d}
  doc:
    entity: doc
    source: clicks
    features:
      popularity: {agg: count_distinct, column: user_id, window: 7d}
YAML
	mkdir -p data
	cat > data/clicks.jsonl <<'JSON'
{"user_id":"u1","doc_id":"d1","ts":"2026-12-01T10:00:00Z","created":"2026-12-01T10:00:00Z","dwell":3}
{"user_id":"u2","doc_id":"d1","ts":"2026-12-01T11:00:00+01:00","created":"2026-12-01T10:00:05Z","dwell":1.5}
{"user_id":"u1","doc_id":"d2","ts":"2026-12-02T09:00:00Z","created":"2026-12-04T00:00:00Z","dwell":null}
JSON
}

@test "-h prints the usage; a missing --defs or an extra argument is a usage error" {
	run rp-features validate -h
	assert_success
	assert_line --index 0 "usage: rp-features validate --defs FILE [--no-sources] [--assume-utc]"
	run rp-features validate
	assert_failure 2
	assert_line --index 0 "rp-features validate: --defs FILE is required"
	run rp-features validate --defs x.yaml extra
	assert_failure 2
	run rp-features frobnicate
	assert_failure 2
	assert_output "rp-features: unknown subcommand 'frobnicate'; see 'rp-features --help'"
	run rp-features --help
	assert_success
	assert_line "  validate     check a features.yaml and list its features"
}

@test "a good definition lists its features and each view's events and entities" {
	defs
	run rp-features validate --defs features.yaml
	assert_success
	assert_output "$(printf '%s\n' \
		"user:clicks_7d	count	-	window 7d	ttl -" \
		"user:dwell_avg_24h	avg	dwell	window 1d	ttl -" \
		"user:last_doc	last	doc_id	window -	ttl 30d" \
		"doc:popularity	count_distinct	user_id	window 7d	ttl -" \
		"view user: 3 events, 2 entities (data/clicks.jsonl)" \
		"view doc: 3 events, 2 entities (data/clicks.jsonl)")"
	# the source's path is relative to the definitions file, wherever rp runs
	mkdir elsewhere && cd elsewhere
	run rp-features validate --defs ../features.yaml
	assert_success
	assert_line "view doc: 3 events, 2 entities (data/clicks.jsonl)"
}

@test "a wrong definition names its file, line and column and exits 2" {
	defs
	sed -i 's/agg: avg/agg: mean/' features.yaml
	run rp-features validate --defs features.yaml
	assert_failure 2
	assert_output "rp-features: error: features.yaml:12:28: unknown aggregation 'mean'; expected one of count, sum, avg, min, max, last, count_distinct"
	defs
	sed -i 's/entity: doc/entity: document/' features.yaml
	run rp-features validate --defs features.yaml
	assert_failure 2
	assert_output "rp-features: error: features.yaml:15:13: view 'doc': unknown entity 'document'; defined: 'user', 'doc'"
	defs
	printf '  user:\n    entity: user\n    source: clicks\n    features: {x: {agg: count}}\n' >> features.yaml
	run rp-features validate --defs features.yaml
	assert_failure 2
	assert_output "rp-features: error: features.yaml:19:3: duplicate key 'user'"
	defs
	sed -i 's/timestamp: ts, //' features.yaml
	run rp-features validate --defs features.yaml
	assert_failure 2
	assert_output "rp-features: error: features.yaml:5:11: source 'clicks': 'timestamp' is missing; add it"
	defs
	sed -i 's#data/clicks.jsonl#../clicks.jsonl#' features.yaml
	run rp-features validate --defs features.yaml
	assert_failure 2
	assert_output "rp-features: error: features.yaml:5:18: source 'clicks': path '../clicks.jsonl' must be a file inside the folder of the definitions file (relative, no '..' above it, not in .git or .rp)"
}

@test "a bad source row is named by file and line; --no-sources skips the sources" {
	defs
	echo '{"user_id":"u3","doc_id":"d9","ts":"2026-12-03T10:00:00","created":"2026-12-03T10:00:00Z","dwell":2}' >> data/clicks.jsonl
	run rp-features validate --defs features.yaml
	assert_failure 2
	assert_line "rp-features: error: data/clicks.jsonl:4: column 'ts': '2026-12-03T10:00:00' has no UTC offset; add 'Z' or '+HH:MM', or pass --assume-utc (source 'clicks' of view 'user')"
	run rp-features validate --defs features.yaml --assume-utc
	assert_success
	assert_line "view user: 4 events, 3 entities (data/clicks.jsonl)"
	run rp-features validate --defs features.yaml --no-sources
	assert_success
	refute_output --partial "view user"
	defs
	sed -i 's/column: dwell/column: dwel/' features.yaml
	run rp-features validate --defs features.yaml
	assert_failure 2
	assert_line "rp-features: error: data/clicks.jsonl: no event has column 'dwel' (source 'clicks' of view 'user'); check the column name in the definitions"
	defs
	rm data/clicks.jsonl
	run rp-features validate --defs features.yaml
	assert_failure 1
	assert_line "rp-features: error: cannot open source 'clicks' (data/clicks.jsonl): No such file or directory"
}
