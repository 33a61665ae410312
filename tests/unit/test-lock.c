/*
 * test-lock.c - rp.lock: round trips, determinism, the journal, bad input.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "testlib.h"
#include "util/buf.h"
#include "lock/lock.h"
#include "lock/locksnap.h"

static char *dir, *lockpath, *journal, *snap;

static int setup(void **state)
{
	(void)state;
	dir = tl_scratch("lock");
	if (!dir)
		return -1;
	lockpath = tl_path(dir, "rp.lock");
	journal = tl_path(dir, "lock.journal");
	snap = tl_path(dir, "lock.snap");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(lockpath);
	free(journal);
	free(snap);
	return tl_unscratch(dir);
}

static struct objinfo oi_of(char c, uint64_t size, int isdir, uint64_t nfiles)
{
	struct objinfo oi;

	memset(&oi, 0, sizeof(oi));
	memset(oi.hash, c, 64);
	oi.size = size;
	oi.isdir = isdir;
	oi.nfiles = nfiles;
	return oi;
}

static struct lock_stage *sample(const char *name, char keych)
{
	struct lock_stage *s = lock_stage_new(name);
	struct objinfo a = oi_of('a', 10, 0, 0), d = oi_of('d', 300, 1, 3), o = oi_of('b', 7, 0, 0);

	memset(s->key, keych, 64);
	s->cmds = xcalloc(2, sizeof(char *));
	s->cmds[0] = xstrdup("python train.py --lr 0.1 # \"quoted\": yes");
	s->ncmds = 1;
	lock_stage_add_dep(s, "data/a.txt", &a);
	lock_stage_add_dep(s, "corpus", &d);
	lock_stage_add_param(s, "params.yaml", "lr", "0.1");
	lock_stage_add_param(s, "params.yaml", "model", "{\"layers\":4,\"name\":\"800\"}");
	lock_stage_add_param(s, "other.yaml", "", "{\"x\":[1,true,null]}");
	lock_stage_add_out(s, "model.bin", &o, 1);
	lock_stage_add_out(s, "metrics.json", &o, 0);
	return s;
}

static void a_written_lock_reads_back_the_same(void **state)
{
	(void)state;
	struct lock *l = lock_new(), *r;
	struct rp_err err = { 0 };
	struct lock_stage *s;

	lock_set(l, sample("train", '1'));
	assert_int_equal(lock_write(l, lockpath, NULL, &err), 0);
	r = lock_load(lockpath, NULL, NULL, &err);
	assert_non_null(r);
	assert_int_equal(r->n, 1);
	s = lock_find(r, "train");
	assert_non_null(s);
	assert_int_equal(s->ncmds, 1);
	assert_string_equal(s->cmds[0], "python train.py --lr 0.1 # \"quoted\": yes");
	assert_int_equal(s->ndeps, 2);
	assert_string_equal(s->deps[1].path, "corpus");
	assert_true(s->deps[1].oi.isdir);
	assert_int_equal(s->deps[1].oi.nfiles, 3);
	assert_int_equal(s->deps[1].oi.size, 300);
	assert_false(s->deps[0].oi.isdir);
	assert_int_equal(s->nparams, 3);
	assert_int_equal(s->nouts, 2);
	assert_true(s->outs[0].cache);
	assert_false(s->outs[1].cache);
	/* values keep their types: the string "800" stays a string */
	for (size_t i = 0; i < s->nparams; i++)
		if (!strcmp(s->params[i].key, "model"))
			assert_string_equal(s->params[i].value, "{\"layers\":4,\"name\":\"800\"}");
		else if (!strcmp(s->params[i].key, "lr"))
			assert_string_equal(s->params[i].value, "0.1");
		else
			assert_string_equal(s->params[i].value, "{\"x\":[1,true,null]}");
	assert_string_equal(r->base, l->base);
	lock_free(r);
	lock_free(l);
}

static void the_lock_is_sorted_and_byte_deterministic(void **state)
{
	(void)state;
	struct lock *a = lock_new(), *b = lock_new();
	struct buf ta = BUF_INIT, tb = BUF_INIT;

	lock_set(a, sample("zeta", '1'));
	lock_set(a, sample("alpha", '2'));
	lock_set(a, sample("mid@x", '3'));
	lock_set(b, sample("mid@x", '3'));
	lock_set(b, sample("alpha", '2'));
	lock_set(b, sample("zeta", '1'));
	lock_format(a, &ta);
	lock_format(b, &tb);
	assert_string_equal(ta.s, tb.s);
	assert_true(strstr(ta.s, "  alpha:") < strstr(ta.s, "  mid@x:"));
	assert_true(strstr(ta.s, "  mid@x:") < strstr(ta.s, "  zeta:"));
	assert_non_null(strstr(ta.s, "schema: rp.lock/1\n"));
	buf_release(&ta);
	buf_release(&tb);
	lock_free(a);
	lock_free(b);
}

static void formatting_a_parsed_lock_gives_the_same_bytes(void **state)
{
	(void)state;
	struct lock *l = lock_new(), *r;
	struct buf t1 = BUF_INIT, t2 = BUF_INIT;
	struct rp_err err = { 0 };

	lock_set(l, sample("train", '1'));
	lock_format(l, &t1);
	r = lock_parse("rp.lock", t1.s, t1.len, &err);
	assert_non_null(r);
	lock_format(r, &t2);
	assert_string_equal(t1.s, t2.s);
	buf_release(&t1);
	buf_release(&t2);
	lock_free(l);
	lock_free(r);
}

static void a_missing_lock_is_empty(void **state)
{
	(void)state;
	struct rp_err err = { 0 };
	struct lock *l = lock_load(lockpath, journal, NULL, &err);

	assert_non_null(l);
	assert_int_equal(l->n, 0);
	lock_free(l);
}

static void the_journal_replays_finished_stages(void **state)
{
	(void)state;
	struct lock *l = lock_new(), *r;
	struct rp_err err = { 0 };
	struct lock_stage *s;

	lock_set(l, sample("prep", '1'));
	assert_int_equal(lock_write(l, lockpath, NULL, &err), 0);
	assert_int_equal(lock_journal_start(l, journal, &err), 0);
	s = sample("train", '2');
	assert_int_equal(lock_journal_append(journal, s, &err), 0);
	lock_stage_free(s);
	s = sample("prep", '3');     /* a re-run of prep replaces its entry */
	assert_int_equal(lock_journal_append(journal, s, &err), 0);
	lock_stage_free(s);

	r = lock_load(lockpath, journal, NULL, &err);
	assert_non_null(r);
	assert_int_equal(r->n, 2);
	assert_non_null(lock_find(r, "train"));
	assert_int_equal(lock_find(r, "prep")->key[0], '3');
	lock_free(r);
	lock_free(l);
}

static void a_journal_for_another_lock_is_ignored(void **state)
{
	(void)state;
	struct lock *l = lock_new(), *r;
	struct rp_err err = { 0 };
	struct lock_stage *s = sample("train", '2');

	assert_int_equal(lock_journal_start(l, journal, &err), 0);   /* base: no lock */
	assert_int_equal(lock_journal_append(journal, s, &err), 0);
	lock_set(l, sample("prep", '1'));
	assert_int_equal(lock_write(l, lockpath, NULL, &err), 0);          /* the lock moved on */
	r = lock_load(lockpath, journal, NULL, &err);
	assert_non_null(r);
	assert_int_equal(r->n, 1);
	assert_null(lock_find(r, "train"));
	lock_stage_free(s);
	lock_free(r);
	lock_free(l);
}

static void a_torn_last_journal_line_is_ignored(void **state)
{
	(void)state;
	struct lock *l = lock_new(), *r;
	struct rp_err err = { 0 };
	struct lock_stage *s = sample("train", '2');
	FILE *f;

	assert_int_equal(lock_journal_start(l, journal, &err), 0);
	assert_int_equal(lock_journal_append(journal, s, &err), 0);
	f = fopen(journal, "a");
	fputs("{\"name\":\"half", f);       /* killed in the middle of a write */
	fclose(f);
	r = lock_load(lockpath, journal, NULL, &err);
	assert_non_null(r);
	assert_int_equal(r->n, 1);
	assert_non_null(lock_find(r, "train"));
	lock_stage_free(s);
	lock_free(r);
	lock_free(l);
}

static void expect_parse_error(const char *text, const char *want)
{
	struct rp_err err = { 0 };
	struct lock *l = lock_parse("rp.lock", text, strlen(text), &err);

	assert_null(l);
	assert_int_equal(err.kind, RP_ERR_INPUT);
	if (!strstr(err.msg, want))
		fail_msg("expected '%s' in '%s'", want, err.msg);
}

static void a_malformed_lock_names_file_line_and_column(void **state)
{
	(void)state;
	expect_parse_error("schema: rp.lock/1\nstages:\n  a:\n    key: 12\n    cmd: x\n",
			   "rp.lock:4:10: 'key' must be 64 lowercase hex digits");
	expect_parse_error("schema: rp.lock/9\n", "rp.lock:1:9: unsupported lock schema");
	expect_parse_error("schema: rp.lock/1\nstages: [\n", "rp.lock:");
	expect_parse_error("schema: rp.lock/1\nstages:\n  a:\n    key: "
			   "1111111111111111111111111111111111111111111111111111111111111111\n"
			   "    cmd: x\n    outs:\n    - path: o\n      hash: zz\n",
			   "rp.lock:8:13:");
}

/* A lock entry at `path` (as a dep with `dep`, else as an out). */
static void expect_path_refused(const char *path, int dep, const char *want)
{
	char *text = xasprintf("schema: rp.lock/1\nstages:\n  a:\n    key: "
			       "1111111111111111111111111111111111111111111111111111111111111111\n"
			       "    cmd: x\n    %s:\n    - path: \"%s\"\n      hash: "
			       "2222222222222222222222222222222222222222222222222222222222222222\n",
			       dep ? "deps" : "outs", path);

	expect_parse_error(text, want);
	free(text);
}

static void a_lock_naming_git_or_rp_in_any_spelling_is_refused(void **state)
{
	static const char *git[] = {
		".git", ".git/hooks/post-checkout", ".GIT/hooks/x", ".Git/config",
		"sub/.git/config", "./a/../.git/x", ".git./x", ".git /x", "GIT~1/config",
		".g\u200cit/hooks/x", "\ufeff.git/x",
	};
	static const char *rp[] = { ".rp/cache/x", ".RP/config", "a/.Rp/x", ".rp" };

	(void)state;
	for (size_t i = 0; i < sizeof(git) / sizeof(*git); i++) {
		expect_path_refused(git[i], 0, "where git keeps its hooks; rp will not touch it");
		expect_path_refused(git[i], 1, "where git keeps its hooks; rp will not touch it");
	}
	for (size_t i = 0; i < sizeof(rp) / sizeof(*rp); i++)
		expect_path_refused(rp[i], 0, "names rp's own '.rp'; rp will not touch it");
	/* names that only look alike are fine */
	static const char *ok[] = { ".gitignore", ".github/x", "git/x", ".gi", "x.git", ".rpx" };
	for (size_t i = 0; i < sizeof(ok) / sizeof(*ok); i++) {
		struct rp_err err = { 0 };
		char *text = xasprintf("schema: rp.lock/1\nstages:\n  a:\n    key: "
				       "1111111111111111111111111111111111111111111111111111111111111111\n"
				       "    cmd: x\n    outs:\n    - path: %s\n      hash: "
				       "2222222222222222222222222222222222222222222222222222222222222222\n",
				       ok[i]);
		struct lock *l = lock_parse("rp.lock", text, strlen(text), &err);

		if (!l)
			fail_msg("'%s' was refused: %s", ok[i], err.msg);
		lock_free(l);
		free(text);
	}
}

static void run_cache_outs_round_trip(void **state)
{
	(void)state;
	struct lock_stage *s = sample("train", '1'), *t = lock_stage_new("train");
	char *json = lock_outs_to_json(s);

	assert_int_equal(lock_outs_from_json(t, json), 0);
	assert_int_equal(t->nouts, 2);
	assert_string_equal(t->outs[0].path, "model.bin");
	assert_string_equal(t->outs[0].oi.hash, s->outs[0].oi.hash);
	assert_false(t->outs[1].cache);
	assert_int_equal(lock_outs_from_json(t, "{not json"), -1);
	free(json);
	lock_stage_free(s);
	lock_stage_free(t);
}

static void removing_a_stage_keeps_the_others_sorted(void **state)
{
	(void)state;
	struct lock *l = lock_new();

	lock_set(l, sample("c", '1'));
	lock_set(l, sample("a", '1'));
	lock_set(l, sample("b", '1'));
	lock_remove(l, "b");
	lock_remove(l, "nope");
	assert_int_equal(l->n, 2);
	assert_string_equal(l->stages[0]->name, "a");
	assert_string_equal(l->stages[1]->name, "c");
	lock_free(l);
}

static char *formatted(const struct lock *l)
{
	struct buf b = BUF_INIT;

	lock_format(l, &b);
	return buf_detach(&b);
}

static void the_binary_image_gives_the_same_lock_as_the_yaml(void **state)
{
	struct lock *l = lock_new(), *r, *img;
	struct rp_err err = { 0 };
	char *want, *got;

	(void)state;
	lock_set(l, sample("train", '1'));
	lock_set(l, sample("chunk", '2'));
	lock_set(l, lock_stage_new("empty"));
	assert_int_equal(lock_write(l, lockpath, snap, &err), 0);
	assert_int_equal(access(snap, F_OK), 0);
	img = locksnap_read(snap, l->base);
	assert_non_null(img);
	want = formatted(l);
	got = formatted(img);
	assert_string_equal(got, want);
	assert_string_equal(img->base, l->base);
	free(got);
	/* lock_load takes the image, and reads the same lock */
	r = lock_load(lockpath, NULL, snap, &err);
	assert_non_null(r);
	got = formatted(r);
	assert_string_equal(got, want);
	assert_string_equal(r->base, l->base);
	free(got);
	free(want);
	lock_free(r);
	lock_free(img);
	lock_free(l);
}

static void rewriting_a_lock_read_from_its_image_copies_only_what_did_not_change(void **state)
{
	struct lock *l = lock_new(), *r, *back;
	struct rp_err err = { 0 };
	struct buf yaml = BUF_INIT;
	char *want, *got;

	(void)state;
	for (char c = 'a'; c <= 'f'; c++) {
		char name[] = { 's', c, '\0' };

		lock_set(l, sample(name, c));
	}
	assert_int_equal(lock_write(l, lockpath, snap, &err), 0);
	r = lock_load(lockpath, NULL, snap, &err);      /* from the image */
	assert_non_null(r);
	assert_non_null(r->img);
	/* one stage changes, one goes, one comes */
	lock_set(r, sample("sc", '9'));
	lock_remove(r, "se");
	lock_set(r, sample("sz", '8'));
	assert_int_equal(lock_write(r, lockpath, snap, &err), 0);
	want = formatted(r);
	/* the YAML is what a fresh format gives, and so is the new image */
	assert_int_equal(buf_read_file(&yaml, lockpath), 0);
	assert_string_equal(yaml.s, want);
	back = locksnap_read(snap, r->base);
	assert_non_null(back);
	got = formatted(back);
	assert_string_equal(got, want);
	free(got);
	/* and once more, from the new image */
	lock_set(back, sample("sa", '7'));
	assert_int_equal(lock_write(back, lockpath, snap, &err), 0);
	lock_free(r);
	r = lock_load(lockpath, NULL, NULL, &err);       /* from the YAML */
	assert_non_null(r);
	free(want);
	want = formatted(back);
	got = formatted(r);
	assert_string_equal(got, want);
	free(got);
	free(want);
	buf_release(&yaml);
	lock_free(back);
	lock_free(r);
	lock_free(l);
}

static void a_stale_or_corrupt_image_is_never_used(void **state)
{
	struct lock *l = lock_new(), *r, *edited;
	struct rp_err err = { 0 };
	struct buf b = BUF_INIT;
	char base[HASH_HEX];
	char *text, *got;

	(void)state;
	lock_set(l, sample("train", '1'));
	assert_int_equal(lock_write(l, lockpath, snap, &err), 0);
	memcpy(base, l->base, HASH_HEX);

	/* rp.lock edited by hand (or checked out by git): the YAML wins */
	text = formatted(l);
	*strstr(text, "model.bin") = 'M';
	tl_write_path(lockpath, text, strlen(text));
	r = lock_load(lockpath, NULL, snap, &err);
	assert_non_null(r);
	assert_string_equal(r->stages[0]->outs[0].path, "Model.bin");
	assert_string_not_equal(r->base, base);
	/* ... and the image now describes the edited lock */
	edited = locksnap_read(snap, r->base);
	assert_non_null(edited);
	assert_string_equal(edited->stages[0]->outs[0].path, "Model.bin");
	lock_free(edited);
	lock_free(r);
	free(text);

	/* every single flipped byte of the image makes it a miss, never a different lock */
	assert_int_equal(lock_write(l, lockpath, snap, &err), 0);
	assert_int_equal(buf_read_file(&b, snap), 0);
	for (size_t i = 0; i < b.len; i += 7) {
		b.s[i] ^= 0x20;
		tl_write_path(snap, b.s, b.len);
		r = locksnap_read(snap, l->base);
		/* bytes 8..55 are rp.lock's stat identity, outside the check: damage there
		 * can only make the stat not match, and reading by hash ignores it */
		if (i < 8 || i >= 56)
			assert_null(r);
		lock_free(r);
		r = lock_load(lockpath, NULL, snap, &err);
		assert_non_null(r);
		got = formatted(r);
		text = formatted(l);
		assert_string_equal(got, text);
		free(got);
		free(text);
		lock_free(r);
		/* the load rewrote a good image */
		r = locksnap_read(snap, l->base);
		assert_non_null(r);
		lock_free(r);
		b.s[i] ^= 0x20;
	}
	/* a truncated image is a miss */
	tl_write_path(snap, b.s, b.len / 2);
	assert_null(locksnap_read(snap, l->base));
	buf_release(&b);
	lock_free(l);
}

static void an_untouched_lock_is_known_by_its_stat_and_an_edit_in_place_is_not_missed(void **state)
{
	struct lock *l = lock_new(), *r;
	struct rp_err err = { 0 };
	struct timespec settle = { 0, 30 * 1000 * 1000 };
	char *text;
	FILE *f;

	(void)state;
	lock_set(l, sample("train", '1'));
	assert_int_equal(lock_write(l, lockpath, snap, &err), 0);
	/* just written: its mtime is too recent to trust a stat */
	assert_null(locksnap_read_unchanged(snap, lockpath));
	nanosleep(&settle, NULL);
	r = lock_load(lockpath, NULL, snap, &err);      /* hashes it, records the stat */
	assert_non_null(r);
	lock_free(r);
	r = locksnap_read_unchanged(snap, lockpath);
	assert_non_null(r);
	assert_string_equal(r->base, l->base);
	lock_free(r);

	/* an edit in place, same size, same inode: the stat differs, the YAML wins */
	nanosleep(&settle, NULL);
	text = formatted(l);
	*strstr(text, "model.bin") = 'M';
	f = fopen(lockpath, "r+");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
	assert_null(locksnap_read_unchanged(snap, lockpath));
	r = lock_load(lockpath, NULL, snap, &err);
	assert_non_null(r);
	assert_string_equal(r->stages[0]->outs[0].path, "Model.bin");
	lock_free(r);
	free(text);
	lock_free(l);
}

/*
 * Writing the lock or the journal where it cannot go fills err and prints
 * nothing: the command reports it. (stderr is checked by pointing it at a
 * file for the duration.)
 */
static void write_failures_fill_err_and_print_nothing(void **state)
{
	char missing[160], errfile[160];
	struct rp_err err = { 0 };
	struct lock *l = lock_new();
	struct lock_stage *s = sample("a", '1');
	struct buf b = BUF_INIT;
	int saved = dup(2), fd;

	(void)state;
	snprintf(missing, sizeof(missing), "%s/no/such/dir/rp.lock", dir);
	snprintf(errfile, sizeof(errfile), "%s/stderr", dir);
	fd = open(errfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0 && saved >= 0);
	dup2(fd, 2);
	close(fd);

	assert_int_equal(lock_write(l, missing, NULL, &err), -1);
	assert_int_equal(err.kind, RP_ERR_IO);
	assert_non_null(strstr(err.msg, "rp.lock"));
	err.kind = RP_ERR_NONE;
	assert_int_equal(lock_journal_start(l, missing, &err), -1);
	assert_int_equal(err.kind, RP_ERR_IO);
	err.kind = RP_ERR_NONE;
	assert_int_equal(lock_journal_append(missing, s, &err), -1);
	assert_int_equal(err.kind, RP_ERR_IO);
	assert_non_null(strstr(err.msg, "cannot open"));

	dup2(saved, 2);
	close(saved);
	assert_int_equal(buf_read_file(&b, errfile), 0);
	assert_int_equal(b.len, 0);
	buf_release(&b);
	lock_stage_free(s);
	lock_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(a_written_lock_reads_back_the_same),
		T(the_lock_is_sorted_and_byte_deterministic),
		T(formatting_a_parsed_lock_gives_the_same_bytes),
		T(a_missing_lock_is_empty),
		T(the_journal_replays_finished_stages),
		T(a_journal_for_another_lock_is_ignored),
		T(a_torn_last_journal_line_is_ignored),
		T(a_malformed_lock_names_file_line_and_column),
		T(a_lock_naming_git_or_rp_in_any_spelling_is_refused),
		T(run_cache_outs_round_trip),
		T(removing_a_stage_keeps_the_others_sorted),
		T(the_binary_image_gives_the_same_lock_as_the_yaml),
		T(a_stale_or_corrupt_image_is_never_used),
		T(rewriting_a_lock_read_from_its_image_copies_only_what_did_not_change),
		T(an_untouched_lock_is_known_by_its_stat_and_an_edit_in_place_is_not_missed),
		T(write_failures_fill_err_and_print_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
