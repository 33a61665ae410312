/*
 * table.c - aligned text tables and Markdown ones (see table.h).
 */
#include "table.h"
#include "util/error.h"

#include <stdlib.h>
#include <string.h>

void table_init(struct table *t, size_t ncols, const char *const *header)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
	if (header)
		table_add(t, header);
}

void table_add(struct table *t, const char *const *cells)
{
	ALLOC_GROW(t->cells, (t->nrows + 1) * t->ncols, t->alloc);
	for (size_t c = 0; c < t->ncols; c++)
		t->cells[t->nrows * t->ncols + c] = xstrdup(cells[c] ? cells[c] : "-");
	t->nrows++;
}

void table_print(const struct table *t, FILE *f)
{
	size_t *w = xcalloc(t->ncols, sizeof(*w));

	for (size_t r = 0; r < t->nrows; r++)
		for (size_t c = 0; c < t->ncols; c++) {
			size_t len = strlen(t->cells[r * t->ncols + c]);

			if (len > w[c])
				w[c] = len;
		}
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * t->ncols + c];

			if (c + 1 < t->ncols)
				fprintf(f, "%-*s  ", (int)w[c], s);
			else
				fprintf(f, "%s", s);
		}
		fputc('\n', f);
	}
	free(w);
}

/* `s` for a Markdown cell: '|' escaped, line breaks as spaces. Caller frees. */
static char *md_cell(const char *s)
{
	char *out = xmalloc(2 * strlen(s) + 1), *o = out;

	for (; *s; s++) {
		if (*s == '|' || *s == '\\')
			*o++ = '\\';
		*o++ = *s == '\n' || *s == '\r' ? ' ' : *s;
	}
	*o = '\0';
	return out;
}

void table_print_md(const struct table *t, FILE *f)
{
	size_t n = t->nrows * t->ncols;
	char **cells = xcalloc(n + 1, sizeof(*cells));
	size_t *w = xcalloc(t->ncols + 1, sizeof(*w));

	for (size_t i = 0; i < n; i++) {
		size_t len;

		cells[i] = md_cell(t->cells[i]);
		len = strlen(cells[i]);
		if (len > w[i % t->ncols])
			w[i % t->ncols] = len;
	}
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++)
			fprintf(f, "| %-*s ", (int)w[c], cells[r * t->ncols + c]);
		fputs("|\n", f);
		for (size_t c = 0; !r && c < t->ncols; c++) {
			fputc('|', f);
			for (size_t k = 0; k < w[c] + 2; k++)
				fputc('-', f);
		}
		if (!r)
			fputs("|\n", f);
	}
	for (size_t i = 0; i < n; i++)
		free(cells[i]);
	free(cells);
	free(w);
}

void table_release(struct table *t)
{
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}
