/*
 * cmd-dag.c - `rp dag`: print the stage graph as text, Graphviz, Mermaid
 * (--md: fenced for Markdown, as `dvc dag --md`) or JSON.
 *
 * --json: {"stages": [{"name", "upstream": [NAME...], "deps": [PATH...],
 * "outs": [PATH...]}]}, the stages in the order the text lists them
 * (dependency order), each with the stages it depends on and its own deps
 * and outs (metrics and plots included) as the pipeline file declares them.
 */
#include "cmd.h"
#include "util/error.h"
#include "core/project.h"
#include "core/targets.h"
#include "jsonout.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char dag_usage[] =
	"usage: rp dag [--dot | --mermaid | --md | --json] [TARGET]\n"
	"\n"
	"Prints the stages in dependency order with what each depends on; with a\n"
	"TARGET, only that stage and its upstream.\n"
	"\n"
	"  --dot       Graphviz (pipe into 'dot -Tsvg')\n"
	"  --mermaid   a Mermaid flowchart (paste into Markdown)\n"
	"  --md        the Mermaid flowchart in a ```mermaid block\n"
	"  --json      {\"stages\": [{\"name\": NAME, \"upstream\": [NAME...],\n"
	"              \"deps\": [PATH...], \"outs\": [PATH...]}]}, in dependency order\n";

enum dag_format { FMT_TEXT, FMT_DOT, FMT_MERMAID, FMT_MD, FMT_JSON };

static void print_name(const char *s, enum dag_format f)
{
	if (f == FMT_MERMAID) {
		/* node ids: letters, digits, underscores */
		for (; *s; s++)
			putchar((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
				(*s >= '0' && *s <= '9') ? *s : '_');
		return;
	}
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			putchar('\\');
		putchar(*s);
	}
	putchar('"');
}

/* Stage i of `pr` for --json: name, upstream stages, deps and outs. */
static json_t *stage_json(const struct project *pr, size_t i)
{
	const struct stage *st = &pr->p->stages[i];
	json_t *up = json_array(), *deps = json_array(), *outs = json_array();

	for (size_t u = 0; u < pr->dag->nup[i]; u++)
		json_array_append_new(up, json_out_str(pr->p->stages[pr->dag->up[i][u]].name));
	for (size_t k = 0; k < st->ndeps; k++)
		json_array_append_new(deps, json_out_str(st->deps[k].path));
	for (size_t k = 0; k < st->nurls; k++)
		json_array_append_new(deps, json_out_str(st->urls[k]));
	for (size_t k = 0; k < st->nouts; k++)
		json_array_append_new(outs, json_out_str(st->outs[k].path));
	return json_pack("{s:o, s:o, s:o, s:o}", "name", json_out_str(st->name), "upstream", up,
			 "deps", deps, "outs", outs);
}

int cmd_dag(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dot", no_argument, NULL, 'd' },
		{ "mermaid", no_argument, NULL, 'm' },
		{ "md", no_argument, NULL, 'M' },
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum dag_format fmt = FMT_TEXT;
	struct project pr;
	struct rp_err err = { 0 };
	unsigned char *sel;
	json_t *list = NULL;
	int c, md = 0, ret = RP_EXIT_OK;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': fmt = FMT_DOT; break;
		case 'm': fmt = FMT_MERMAID; break;
		case 'M': fmt = FMT_MD; break;
		case 'J': fmt = FMT_JSON; break;
		case 'h': return cmd_usage(dag_usage, 0);
		default: return cmd_usage(dag_usage, 1);
		}
	}
	if (argc - optind > 1)
		return cmd_usage(dag_usage, 1);
	if (project_open(&pr, rp_opts.pipeline_file, 0, &err) < 0)
		return rp_err_exit(&err);
	sel = xcalloc(pr.dag->n + 1, 1);
	if (targets_select(pr.dag, (const char **)argv + optind, (size_t)(argc - optind), 0, sel, &err) < 0) {
		rp_err_report(&err);
		ret = RP_EXIT_USAGE;
		goto out;
	}
	if (fmt == FMT_MD) {
		printf("```mermaid\n");
		fmt = FMT_MERMAID;
		md = 1;
	}
	if (fmt == FMT_DOT)
		printf("strict digraph {\n");
	else if (fmt == FMT_MERMAID)
		printf("flowchart TD\n");
	else if (fmt == FMT_JSON)
		list = json_array();
	for (size_t k = 0; k < pr.dag->n; k++) {
		size_t i = pr.dag->order[k];
		const char *name = pr.p->stages[i].name;

		if (!sel[i])
			continue;
		if (fmt == FMT_JSON) {
			json_array_append_new(list, stage_json(&pr, i));
			continue;
		}
		if (fmt == FMT_TEXT) {
			printf("%s", name);
			for (size_t u = 0; u < pr.dag->nup[i]; u++)
				printf("%s%s", u ? ", " : " <- ", pr.p->stages[pr.dag->up[i][u]].name);
			putchar('\n');
			continue;
		}
		printf("\t");
		print_name(name, fmt);
		if (fmt == FMT_MERMAID) {
			printf("[\"%s\"]", name);
		}
		printf("%s\n", fmt == FMT_DOT ? ";" : "");
		for (size_t u = 0; u < pr.dag->nup[i]; u++) {
			printf("\t");
			print_name(pr.p->stages[pr.dag->up[i][u]].name, fmt);
			printf(fmt == FMT_DOT ? " -> " : " --> ");
			print_name(name, fmt);
			printf("%s\n", fmt == FMT_DOT ? ";" : "");
		}
	}
	if (fmt == FMT_DOT)
		printf("}\n");
	if (md)
		printf("```\n");
	if (list && json_out_print(json_pack("{s:o}", "stages", list)) < 0)
		ret = RP_EXIT_FAIL;
out:
	free(sel);
	project_close(&pr);
	return ret;
}
