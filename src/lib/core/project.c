/*
 * project.c - loading a workspace, its pipeline, graph and lock together.
 */
#include "core/project.h"

#include <string.h>
#include <unistd.h>

int project_open(struct project *pr, const char *pipeline_file, unsigned flags,
		 struct rp_err *err)
{
	unsigned wsflags = 0;

	memset(pr, 0, sizeof(*pr));
	if (flags & PROJECT_LOCK)
		wsflags |= WS_LOCK;
	if (flags & PROJECT_NO_PIPELINE)
		wsflags |= WS_NO_PIPELINE;
	if (workspace_open(&pr->ws, pipeline_file, wsflags, err) < 0)
		return -1;
	if (access(pr->ws.pipeline_file, F_OK) == 0 || !(flags & PROJECT_NO_PIPELINE)) {
		pr->p = pipeline_load_cached(pr->ws.pipeline_file, pr->ws.parsed, err);
		if (!pr->p)
			goto fail;
		pr->dag = dag_build(pr->p, err);
		if (!pr->dag)
			goto fail;
	}
	pr->lock = lock_load(WS_LOCK_FILE, WS_JOURNAL, WS_LOCK_SNAP, err);
	if (!pr->lock)
		goto fail;
	return 0;
fail:
	project_close(pr);
	return -1;
}

/* What project_close_for_exit() leaves to exit(): external, so the stores stay. */
struct project project_left_for_exit;

void project_close_for_exit(struct project *pr)
{
	project_left_for_exit.p = pr->p;
	project_left_for_exit.dag = pr->dag;
	project_left_for_exit.lock = pr->lock;
	pr->p = NULL;
	pr->dag = NULL;
	pr->lock = NULL;
	project_close(pr);
}

void project_close(struct project *pr)
{
	lock_free(pr->lock);
	dag_free(pr->dag);
	pipeline_free(pr->p);
	workspace_close(&pr->ws);
	memset(pr, 0, sizeof(*pr));
}
