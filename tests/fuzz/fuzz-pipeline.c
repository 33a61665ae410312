/*
 * fuzz-pipeline.c - libFuzzer target for the rp.yaml loader (pipeline_load).
 *
 * pipeline_load() reads files, so the harness makes a scratch workspace once
 * (mkdtemp under $TMPDIR) holding a small fixed params.yaml, a vars file
 * vars.yaml and sub/params.yaml (for stages with a wdir), writes each input
 * to rp.yaml there and loads it. Loaded pipelines are walked (every stage,
 * pipeline_find, pipeline_match) so that ASan sees every pointer they hold.
 *
 * The loader may name vars and params files anywhere (vars files may live
 * above the workspace), so the harness links with -Wl,--wrap=open and
 * refuses, with EACCES, any open() of an existing file outside the scratch
 * workspace: otherwise the fuzzer finds /dev/zero or /dev/stdin and hangs,
 * which says nothing about rp.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/pipeline.h"

static char dir[PATH_MAX];
static char rp_yaml[PATH_MAX + 16];

static const char params_yaml[] =
	"chunker:\n"
	"  size: 512\n"
	"  overlap: 0.1\n"
	"  strategy: [sentence, fixed]\n"
	"models:\n"
	"  small: {id: mini, dim: 384}\n"
	"  large: {id: big, dim: 1024}\n"
	"seeds: [1, 2, 3]\n"
	"lr: 0.001\n"
	"name: docs\n";
static const char vars_yaml[] =
	"data: data/raw\n"
	"out: build\n"
	"langs: [en, fr]\n";
static const char sub_params_yaml[] =
	"k: 3\n"
	"nested: {a: {b: c}}\n";

int __real_open(const char *path, int flags, ...);

int __wrap_open(const char *path, int flags, ...)
{
	char real[PATH_MAX];
	mode_t mode = 0;

	if (flags & (O_CREAT | O_TMPFILE)) {
		va_list ap;

		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	if (*dir && realpath(path, real) &&
	    (strncmp(real, dir, strlen(dir)) || (real[strlen(dir)] && real[strlen(dir)] != '/'))) {
		errno = EACCES;
		return -1;
	}
	return __real_open(path, flags, mode);
}

static void write_file(const char *name, const char *data, size_t len)
{
	char path[PATH_MAX + 32];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f || fwrite(data, 1, len, f) != len || fclose(f))
		BUG("cannot write '%s'", path);
}

static void cleanup(void)
{
	static const char *const names[] = { "rp.yaml", "params.yaml", "vars.yaml",
					     "sub/params.yaml", "sub" };
	char path[PATH_MAX + 32];

	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		remove(path);
	}
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");
	char tmpl[PATH_MAX];
	char path[PATH_MAX + 32];

	snprintf(tmpl, sizeof(tmpl), "%s/rp-fuzz-pipeline.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(tmpl) || !realpath(tmpl, dir))
		BUG("cannot make a scratch workspace in '%s'", tmpl);
	atexit(cleanup);
	snprintf(path, sizeof(path), "%s/sub", dir);
	if (mkdir(path, 0700) < 0)
		BUG("cannot mkdir '%s'", path);
	write_file("params.yaml", params_yaml, strlen(params_yaml));
	write_file("vars.yaml", vars_yaml, strlen(vars_yaml));
	write_file("sub/params.yaml", sub_params_yaml, strlen(sub_params_yaml));
	snprintf(rp_yaml, sizeof(rp_yaml), "%s/rp.yaml", dir);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rp_err err = { 0 };
	struct pipeline *p;

	write_file("rp.yaml", (const char *)data, size);
	p = pipeline_load(rp_yaml, &err);
	if (!p) {
		if (err.kind == RP_ERR_NONE || !err.msg[0])
			BUG("pipeline_load failed without a message");
		return 0;
	}
	{
		size_t *idx = xcalloc(p->nstages + 1, sizeof(*idx));

		for (size_t i = 0; i < p->nstages; i++) {
			const struct stage *st = &p->stages[i];
			struct buf b = BUF_INIT;

			if (pipeline_find(p, st->name) != st)
				BUG("pipeline_find('%s') misses it", st->name);
			if (!pipeline_match(p, st->name, idx))
				BUG("pipeline_match('%s') finds nothing", st->name);
			for (size_t j = 0; j < st->ncmds; j++)
				buf_adds(&b, st->cmds[j]);
			buf_adds(&b, st->wdir);
			for (size_t j = 0; j < st->ndeps; j++)
				buf_adds(&b, st->deps[j].path);
			for (size_t j = 0; j < st->nouts; j++)
				buf_adds(&b, st->outs[j].path);
			for (size_t j = 0; j < st->nparams; j++) {
				buf_adds(&b, st->params[j].file);
				if (st->params[j].key)
					buf_adds(&b, st->params[j].key);
				if (st->params[j].value)
					node_canonical(st->params[j].value, &b);
			}
			if (st->desc)
				buf_adds(&b, st->desc);
			buf_release(&b);
		}
		free(idx);
	}
	pipeline_free(p);
	return 0;
}
