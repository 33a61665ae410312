/*
 * test-features-defs.c - the feature store's times, definitions and
 * sources: RFC 3339 with offsets to UTC and back, naive times refused,
 * features.yaml errors with their line and column, and one view loaded
 * alike from JSONL, CSV and SQLite.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>

#include "features/defs.h"
#include "features/events.h"
#include "features/ftime.h"
#include "testlib.h"

static ftime_t parse_ok(const char *s, int assume_utc)
{
	ftime_t t = 0;

	assert_int_equal(ftime_parse(s, strlen(s), assume_utc, &t), FTIME_OK);
	return t;
}

static void test_times_with_offsets_are_utc(void **state)
{
	char out[FTIME_TEXT];
	ftime_t t;

	(void)state;
	assert_true(parse_ok("1970-01-01T00:00:00Z", 0) == 0);
	t = parse_ok("2026-12-05T12:00:00Z", 0);
	assert_true(t == 1796472000LL * 1000000);
	assert_true(parse_ok("2026-12-05T14:00:00+02:00", 0) == t);
	assert_true(parse_ok("2026-12-05T06:30:00-05:30", 0) == t);
	assert_true(parse_ok("2026-12-05 12:00:00z", 0) == t);
	assert_true(parse_ok("2026-12-05T12:00:00.5Z", 0) == t + 500000);
	assert_true(parse_ok("2026-12-05T12:00:00.000001Z", 0) == t + 1);
	assert_true(parse_ok("2026-12-05T12:00:00", 1) == t);
	assert_true(parse_ok("1969-12-31T23:59:59.75Z", 0) == -250000);
	assert_true(parse_ok("2024-02-29T00:00:00Z", 0) > 0);
	ftime_format(t + 500000, out);
	assert_string_equal(out, "2026-12-05T12:00:00.5Z");
	ftime_format(-250000, out);
	assert_string_equal(out, "1969-12-31T23:59:59.75Z");
	ftime_format(parse_ok("2026-12-05T01:00:00+02:00", 0), out);
	assert_string_equal(out, "2026-12-04T23:00:00Z");
	for (ftime_t x = -5000000000000000LL; x < 5000000000000000LL; x += 123456789012347LL) {
		ftime_format(x, out);
		assert_true(parse_ok(out, 0) == x);
	}
}

static void test_bad_and_naive_times(void **state)
{
	static const char *bad[] = {
		"", "2026-12-05", "2026-12-05T12:00Z", "2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z",
		"2026-12-32T00:00:00Z", "2026-12-05T24:00:00Z", "2026-12-05T12:60:00Z",
		"2026-12-05T12:00:60Z", "2026-12-05T12:00:00.Z", "2026-12-05T12:00:00.1234567Z",
		"2026-12-05T12:00:00+2:00", "2026-12-05T12:00:00+02", "2026-12-05T12:00:00 Z",
		"2026-12-05T12:00:00Zx", "12/05/2026", "0000-01-01T00:00:00Z", "1764936000", NULL,
	};
	ftime_t t = 42;

	(void)state;
	for (const char **s = bad; *s; s++) {
		if (ftime_parse(*s, strlen(*s), 1, &t) != FTIME_BAD)
			fail_msg("'%s' was accepted", *s);
	}
	assert_true(t == 42);
	assert_int_equal(ftime_parse("2026-12-05T12:00:00", 19, 0, &t), FTIME_NAIVE);
	assert_int_equal(ftime_parse("2026-12-05T12:00:00.25", 22, 0, &t), FTIME_NAIVE);
}

static void test_durations(void **state)
{
	ftime_t d;
	char out[FTIME_TEXT];

	(void)state;
	assert_int_equal(fdur_parse("7d", &d), 0);
	assert_true(d == 7LL * 86400 * 1000000);
	fdur_format(d, out);
	assert_string_equal(out, "7d");
	assert_int_equal(fdur_parse("36h", &d), 0);
	fdur_format(d, out);
	assert_string_equal(out, "36h");
	assert_int_equal(fdur_parse("90", &d), 0);
	fdur_format(d, out);
	assert_string_equal(out, "90s");
	assert_int_equal(fdur_parse("0d", &d), -1);
	assert_int_equal(fdur_parse("-1d", &d), -1);
	assert_int_equal(fdur_parse("7 d", &d), -1);
	assert_int_equal(fdur_parse("1y", &d), -1);
	assert_int_equal(fdur_parse("36600d", &d), -1);
}

static const char good_defs[] =
	"entities:\n"
	"  user: {join_keys: [user_id]}\n"
	"  pair: {join_keys: [user_id, doc_id]}\n"
	"sources:\n"
	"  clicks: {path: clicks.SUFFIX, timestamp: ts, created_timestamp: created TABLE}\n"
	"views:\n"
	"  user:\n"
	"    entity: user\n"
	"    source: clicks\n"
	"    features:\n"
	"      clicks_7d: {agg: count, window: 7d}\n"
	"      dwell_avg_24h: {agg: avg, column: dwell, window: 24h}\n"
	"      last_doc: {agg: last, column: doc_id, ttl: 30d}\n"
	"  pair:\n"
	"    entity: pair\n"
	"    source: clicks\n"
	"    features:\n"
	"      dwell_sum: {agg: sum, column: dwell}\n";

/* Writes DIR/features.yaml from good_defs with the source's suffix and table. */
static char *write_defs(const char *dir, const char *suffix, const char *table)
{
	struct buf b = BUF_INIT;
	const char *p = good_defs, *q;

	while ((q = strstr(p, "SUFFIX")) || (q = strstr(p, " TABLE"))) {
		buf_add(&b, p, (size_t)(q - p));
		if (!strncmp(q, "SUFFIX", 6)) {
			buf_adds(&b, suffix);
			p = q + 6;
		} else {
			if (table)
				buf_addf(&b, ", table: %s", table);
			p = q + 6;
		}
	}
	buf_adds(&b, p);
	tl_put(dir, "features.yaml", b.s);
	buf_release(&b);
	return xasprintf("%s/features.yaml", dir);
}

static void test_good_definitions(void **state)
{
	char *dir = tl_scratch("fdefs"), *path = write_defs(dir, "jsonl", NULL);
	struct fdefs d;
	struct fsel sel;
	struct rp_err err = { 0 };
	const struct fview *v;
	const struct ffeature *f;

	(void)state;
	assert_int_equal(fdefs_load(&d, path, &err), 0);
	assert_int_equal(d.nentities, 2);
	assert_int_equal(d.entities[1].nkeys, 2);
	assert_int_equal(d.nviews, 2);
	assert_int_equal(d.sources[0].kind, FSOURCE_JSONL);
	assert_string_equal(d.sources[0].created, "created");
	f = fdefs_find(&d, "user:dwell_avg_24h", &v);
	assert_non_null(f);
	assert_string_equal(v->name, "user");
	assert_int_equal(f->agg, FAGG_AVG);
	assert_true(f->window == 24LL * 3600 * 1000000);
	assert_true(f->ttl == FTIME_NONE);
	assert_true(fdefs_find(&d, "user:last_doc", NULL)->ttl == 30LL * 86400 * 1000000);
	assert_int_equal(fdefs_select(&d, NULL, &sel, &err), 0);
	assert_int_equal(sel.n, 4);
	assert_string_equal(sel.f[3]->full, "pair:dwell_sum");
	fsel_release(&sel);
	assert_int_equal(fdefs_select(&d, "pair:dwell_sum,user:clicks_7d", &sel, &err), 0);
	assert_int_equal(sel.n, 2);
	assert_string_equal(sel.view[1]->name, "user");
	fsel_release(&sel);
	assert_int_equal(fdefs_select(&d, "user:clicks_30d", &sel, &err), -1);
	assert_int_equal(err.kind, RP_ERR_INPUT);
	assert_non_null(strstr(err.msg, "unknown feature 'user:clicks_30d'"));
	assert_non_null(strstr(err.msg, "user:clicks_7d, user:dwell_avg_24h"));
	assert_int_equal(fdefs_select(&d, "user:clicks_7d,,user:last_doc", &sel, &err), -1);
	assert_int_equal(fdefs_select(&d, "user:clicks_7d,user:clicks_7d", &sel, &err), -1);
	assert_non_null(strstr(err.msg, "named twice"));
	fdefs_release(&d);
	free(path);
	tl_unscratch(dir);
}

/* Loading `yaml` fails with a message holding `want`. */
static void defs_fail(const char *yaml, const char *want)
{
	char *dir = tl_scratch("fdefs"), *path = xasprintf("%s/features.yaml", dir);
	struct fdefs d;
	struct rp_err err = { 0 };

	tl_put(dir, "features.yaml", yaml);
	assert_int_equal(fdefs_load(&d, path, &err), -1);
	assert_int_equal(err.kind, RP_ERR_INPUT);
	if (!strstr(err.msg, want))
		fail_msg("got '%s', wanted '%s'", err.msg, want);
	fdefs_release(&d);
	free(path);
	tl_unscratch(dir);
}

#define HEAD "entities:\n  user: {join_keys: [user_id]}\n" \
	     "sources:\n  clicks: {path: clicks.jsonl, timestamp: ts}\nviews:\n"

static void test_definition_errors_name_line_and_column(void **state)
{
	(void)state;
	defs_fail(HEAD "  user:\n    entity: user\n    source: clicks\n    features:\n"
		  "      c: {agg: median, column: dwell}\n",
		  "features.yaml:10:16: unknown aggregation 'median'; expected one of count, sum, avg");
	defs_fail(HEAD "  user:\n    entity: user\n    source: clicks\n    features:\n"
		  "      c: {agg: count, windw: 7d}\n",
		  "features.yaml:10:23: feature 'user:c': unknown key 'windw'; expected one of 'agg', "
		  "'column', 'window', 'ttl', 'description'");
	defs_fail(HEAD "  user:\n    entity: user\n    source: clicks\n    features:\n"
		  "      c: {agg: count, window: 7 days}\n",
		  "features.yaml:10:31: feature 'user:c': 'window' must be a duration");
	defs_fail(HEAD "  user:\n    entity: usr\n    source: clicks\n    features:\n"
		  "      c: {agg: count}\n",
		  "features.yaml:7:13: view 'user': unknown entity 'usr'; defined: 'user'");
	defs_fail(HEAD "  user:\n    entity: user\n    source: clicks\n    features:\n"
		  "      c: {agg: avg}\n",
		  "features.yaml:10:10: feature 'user:c': 'avg' needs 'column: NAME'");
	defs_fail(HEAD "  user:\n    entity: user\n    source: clicks\n    features:\n"
		  "      c: {agg: count}\n  user:\n    entity: user\n    source: clicks\n"
		  "    features:\n      d: {agg: count}\n",
		  "features.yaml:11:3:");
	defs_fail("entities:\n  user: {join_keys: [user_id]}\nsources:\n"
		  "  clicks: {path: ../../etc/passwd.jsonl, timestamp: ts}\nviews: {}\n",
		  "features.yaml:4:18: source 'clicks': path '../../etc/passwd.jsonl' must be a file "
		  "inside the folder of the definitions file");
	defs_fail("entities:\n  user: {join_keys: [user_id]}\nsources:\n"
		  "  clicks: {path: /tmp/c.jsonl, timestamp: ts}\nviews: {}\n",
		  "features.yaml:4:18: source 'clicks': path '/tmp/c.jsonl' must be a file");
	defs_fail("entities:\n  user: {join_keys: [user_id]}\nsources:\n"
		  "  clicks: {path: c.parquet, timestamp: ts}\nviews: {}\n",
		  "features.yaml:4:18: source 'clicks': cannot tell the format of 'c.parquet'");
	defs_fail("entities:\n  user: {join_keys: [user_id]}\nsources:\n"
		  "  clicks: {path: c.jsonl}\nviews: {}\n",
		  "features.yaml:4:11: source 'clicks': 'timestamp' is missing; add it");
	defs_fail("entities:\n  'us:er': {join_keys: [user_id]}\n", "features.yaml:2:3: entity name "
		  "'us:er' is not valid");
	defs_fail("- a\n- b\n", "features.yaml:1:1: the definitions must be a mapping");
}

/* The same five events in each format; the created column says event 4 arrived late. */
static const char events_jsonl[] =
	"{\"user_id\":\"u1\",\"doc_id\":\"d1\",\"ts\":\"2026-12-01T10:00:00Z\",\"created\":\"2026-12-01T10:00:00Z\",\"dwell\":3}\n"
	"{\"user_id\":7,\"doc_id\":\"d2\",\"ts\":\"2026-12-01T12:00:00+02:00\",\"created\":\"2026-12-01T10:00:01Z\",\"dwell\":2.5}\n"
	"\n"
	"{\"user_id\":\"u1\",\"doc_id\":\"d2\",\"ts\":\"2026-12-02T10:00:00Z\",\"created\":\"2026-12-02T10:00:00Z\",\"dwell\":null}\n"
	"{\"user_id\":\"u1\",\"doc_id\":\"d3\",\"ts\":\"2026-12-03T10:00:00Z\",\"created\":\"2026-12-09T10:00:00Z\",\"dwell\":1}\n";
static const char events_csv[] =
	"user_id,doc_id,ts,created,dwell,other\r\n"
	"u1,d1,2026-12-01T10:00:00Z,2026-12-01T10:00:00Z,3,x\r\n"
	"7,\"d2\",2026-12-01T12:00:00+02:00,2026-12-01T10:00:01Z,2.5,\"a,\"\"b\"\"\"\r\n"
	"u1,d2,2026-12-02T10:00:00Z,2026-12-02T10:00:00Z,,\r\n"
	"u1,d3,2026-12-03T10:00:00Z,2026-12-09T10:00:00Z,1,y\r\n";

static void check_loaded(const char *dir, const char *suffix, const char *table)
{
	char *path = write_defs(dir, suffix, table);
	struct fdefs d;
	struct fevents ev;
	struct rp_err err = { 0 };
	char t[FTIME_TEXT];

	assert_int_equal(fdefs_load(&d, path, &err), 0);
	if (fevents_load(&ev, &d.views[0], 0, &err) < 0)
		fail_msg("%s: %s", suffix, err.msg);
	assert_int_equal(ev.n, 4);
	assert_int_equal(ev.keys.n, 2);
	assert_string_equal(ev.keys.text[ev.entity[1]], "7");
	assert_int_equal(ev.entity[0], ev.entity[3]);
	ftime_format(ev.ts[1], t);
	assert_string_equal(t, "2026-12-01T10:00:00Z");
	ftime_format(ev.created[3], t);
	assert_string_equal(t, "2026-12-09T10:00:00Z");
	assert_null(ev.col[0]);                        /* count reads no column */
	assert_int_equal(ev.col[1][1].kind, FVAL_NUM);
	assert_true(ev.col[1][1].num == 2.5);
	assert_int_equal(ev.col[1][2].kind, FVAL_NULL);
	assert_int_equal(ev.col[2][3].kind, FVAL_STR);
	assert_string_equal(ev.col[2][3].str, "d3");
	fevents_release(&ev);
	assert_int_equal(fevents_load(&ev, &d.views[1], 0, &err), 0);
	assert_int_equal(ev.keys.n, 4);
	assert_string_equal(ev.keys.text[ev.entity[0]], "u1\x1f" "d1");
	fevents_release(&ev);
	fdefs_release(&d);
	free(path);
}

static void test_one_view_alike_from_three_formats(void **state)
{
	char *dir = tl_scratch("fevents"), *db = NULL;
	sqlite3 *h;

	(void)state;
	tl_put(dir, "clicks.jsonl", events_jsonl);
	check_loaded(dir, "jsonl", NULL);
	tl_put(dir, "clicks.csv", events_csv);
	check_loaded(dir, "csv", NULL);
	db = xasprintf("%s/clicks.sqlite", dir);
	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h,
		"CREATE TABLE \"my clicks\"(user_id, doc_id TEXT, ts TEXT, created TEXT, dwell REAL);"
		"INSERT INTO \"my clicks\" VALUES('u1','d1','2026-12-01T10:00:00Z','2026-12-01T10:00:00Z',3),"
		"(7,'d2','2026-12-01T12:00:00+02:00','2026-12-01T10:00:01Z',2.5),"
		"('u1','d2','2026-12-02T10:00:00Z','2026-12-02T10:00:00Z',NULL),"
		"('u1','d3','2026-12-03T10:00:00Z','2026-12-09T10:00:00Z',1);", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	check_loaded(dir, "sqlite", "'my clicks'");
	free(db);
	tl_unscratch(dir);
}

/* Loading view 0 of good_defs over `data` (a .SUFFIX file) fails with `want`. */
static void load_fail(const char *suffix, const char *data, const char *want, enum rp_err_kind kind)
{
	char *dir = tl_scratch("fevents"), *path = write_defs(dir, suffix, NULL);
	char *name = xasprintf("clicks.%s", suffix);
	struct fdefs d;
	struct fevents ev;
	struct rp_err err = { 0 };

	tl_put(dir, name, data);
	assert_int_equal(fdefs_load(&d, path, &err), 0);
	assert_int_equal(fevents_load(&ev, &d.views[0], 0, &err), -1);
	assert_int_equal(err.kind, kind);
	if (!strstr(err.msg, want))
		fail_msg("got '%s', wanted '%s'", err.msg, want);
	fevents_release(&ev);
	fdefs_release(&d);
	free(name);
	free(path);
	tl_unscratch(dir);
}

static void test_bad_events_name_their_line(void **state)
{
	(void)state;
	load_fail("jsonl", "{\"user_id\":1,\"ts\":\"2026-12-01T10:00:00Z\",\"created\":\"2026-12-01T10:00:00Z\",\"dwell\":1}\n"
		  "{\"user_id\":1,\"ts\":\"2026-12-01T10:00:00\",\"created\":\"2026-12-01T10:00:00Z\"}\n",
		  "clicks.jsonl:2: column 'ts': '2026-12-01T10:00:00' has no UTC offset; add 'Z' or "
		  "'+HH:MM', or pass --assume-utc (source 'clicks' of view 'user')", RP_ERR_INPUT);
	load_fail("jsonl", "{\"user_id\":1,\"created\":\"2026-12-01T10:00:00Z\"}\n",
		  "clicks.jsonl:1: no value in column 'ts'; every event needs one", RP_ERR_INPUT);
	load_fail("jsonl", "{\"user_id\":1,\"ts\":\"yesterday\",\"created\":\"2026-12-01T10:00:00Z\"}\n",
		  "clicks.jsonl:1: column 'ts': 'yesterday' is not an RFC 3339 timestamp", RP_ERR_INPUT);
	load_fail("jsonl", "{\"ts\":\"2026-12-01T10:00:00Z\",\"created\":\"2026-12-01T10:00:00Z\"}\n",
		  "clicks.jsonl:1: join key 'user_id' of entity 'user' is missing", RP_ERR_INPUT);
	load_fail("jsonl", "{\"user_id\":1,\"ts\":\"2026-12-01T10:00:00Z\",\"created\":\"2026-12-01T10:00:00Z\",\"dwell\":\"long\"}\n",
		  "clicks.jsonl:1: column 'dwell': feature 'user:dwell_avg_24h' (avg) needs a number, "
		  "not long", RP_ERR_INPUT);
	load_fail("jsonl", "{\"user_id\":1,\"ts\":\"2026-12-01T10:00:00Z\",\"created\":\"2026-12-01T10:00:00Z\"}\n",
		  "clicks.jsonl: no event has column 'dwell'", RP_ERR_INPUT);
	load_fail("jsonl", "{\"user_id\":1,\"ts\":\"2026-12-01T10:00:00Z\",\n", "clicks.jsonl:1:", RP_ERR_INPUT);
	load_fail("csv", "user_id,ts,created,doc_id\n", "clicks.csv:1: the header has no column "
		  "'dwell'", RP_ERR_INPUT);
	load_fail("csv", "user_id,ts,created,dwell,doc_id\n1,2026-12-01T10:00:00Z,2026-12-01T10:00:00Z,x\"y,d\n",
		  "clicks.csv:2: bad quoting", RP_ERR_INPUT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_times_with_offsets_are_utc),
		cmocka_unit_test(test_bad_and_naive_times),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_good_definitions),
		cmocka_unit_test(test_definition_errors_name_line_and_column),
		cmocka_unit_test(test_one_view_alike_from_three_formats),
		cmocka_unit_test(test_bad_events_name_their_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
