/*
 * stageadd.h - `rp stage add`: write one stage into a pipeline file, as
 * `dvc stage add` does, without disturbing the rest of the file.
 *
 * Calling sequence (cmd-stage.c):
 *     struct stage_add sa = { .name = ..., .cmd = stage_add_command(argc, argv) };
 *     stage_add_check_name(sa.name, &err);
 *     project_open(&pr, ..., PROJECT_LOCK | PROJECT_NO_PIPELINE, &err);
 *     stage_add_write(&pr, "rp.yaml", &sa, &err);
 *
 * The file's own bytes are kept, comments and all: the stage's text (laid
 * out as DVC writes dvc.yaml, with the file's own indentation) is inserted
 * at the end of the `stages:` block, whose extent comes from the YAML
 * layer's node positions, or appended when `stages:` is the last block
 * (with `stages:` itself when the file has none). With `force` the text of
 * the stage of that name is replaced in place. Before the file is replaced
 * (atomically, fs_write_atomic) the new text is loaded as a pipeline with
 * the workspace's other stages: an output another stage already produces,
 * a cycle, or anything else rp would refuse is an error and the file is
 * left as it was.
 */
#ifndef RP_STAGEADD_H
#define RP_STAGEADD_H

#include <stddef.h>
#include "core/project.h"
#include "util/buf.h"
#include "util/error.h"

/* Which field an output goes to, and how (dvc stage add's -o, -O, -m, -M, ...). */
struct stage_add_out {
	const char *path;         /* borrowed, as the user gave it */
	enum { SA_OUTS, SA_METRICS, SA_PLOTS } field;
	int cache;                /* 0: written with `cache: false` */
	int persist;              /* 1: written with `persist: true` */
};

/* What to write; every string is borrowed from the caller. */
struct stage_add {
	const char *name;         /* -n */
	const char *cmd;          /* the command, as stage_add_command() joins it */
	const char *wdir;         /* -w, or NULL */
	const char *desc;         /* --desc, or NULL */
	const char **deps;        /* -d, in the order given */
	size_t ndeps;
	const char **params;      /* -p, each "[FILE:]KEY,KEY" as given */
	size_t nparams;
	struct stage_add_out *outs;
	size_t nouts;
	int force;                /* -f: replace a stage of that name */
	int always_changed;       /* --always-changed */
};

/*
 * Whether `name` may name a stage, as DVC rules: not empty, and no
 * punctuation but '-' and '_' (nor a space or a control character). 0, or
 * -1 with `err` filled (RP_ERR_INPUT) saying which character.
 */
int stage_add_check_name(const char *name, struct rp_err *err);

/*
 * The command of argv[0..argc) as one string, joined as DVC joins it: one
 * argument as it is; several separated by spaces, an empty one written "",
 * one with a space quoted ("a b" in double quotes, or single quotes when
 * it holds a double quote). Returns a new string; the caller frees it.
 */
char *stage_add_command(int argc, char **argv);

/*
 * Appends to `out` the text of pipeline file `file` (named so in
 * messages) whose bytes are text[0..len) (len 0: no file yet) with the
 * stage of `sa` added (see the top of this file). 0, or -1 with `err`
 * filled (RP_ERR_INPUT, "file:line:col: ..."): a stage of that name exists
 * and !sa->force, a file in flow style, or one rp could not edit without
 * changing what its other stages mean. `out` is the caller's, also on failure.
 */
int stage_add_edit(const char *file, const char *text, size_t len, const struct stage_add *sa,
		   struct buf *out, struct rp_err *err);

/*
 * Adds the stage to pipeline file `file` (root-relative; created when
 * missing) of the open project `pr` (opened with PROJECT_NO_PIPELINE, and
 * PROJECT_LOCK so that no run changes it meanwhile): stage_add_edit(), the
 * checks against every stage of the workspace, then an atomic replace.
 * *replaced is set to 1 when a stage of that name was replaced. 0, or -1
 * with `err` filled (RP_ERR_INPUT for what the user can fix, exit 2;
 * RP_ERR_IO when the file cannot be read or written) and the file untouched.
 */
int stage_add_write(struct project *pr, const char *file, const struct stage_add *sa,
		    int *replaced, struct rp_err *err);

#endif
