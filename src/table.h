/*
 * table.h - printing aligned text (or Markdown) tables for rp params / rp metrics.
 */
#ifndef RP_TABLE_H
#define RP_TABLE_H

#include <stddef.h>
#include <stdio.h>

struct table {
	size_t ncols;
	char **cells;     /* row-major; row 0 is the header, if any */
	size_t nrows, alloc;
};

/* Starts a table with the given header cells (copied; NULL: no header row). */
void table_init(struct table *t, size_t ncols, const char *const *header);
/* Adds a row of ncols cells (copied; NULL prints "-"). */
void table_add(struct table *t, const char *const *cells);
/* Prints the table with columns padded to their widest cell. */
void table_print(const struct table *t, FILE *f);
/*
 * Prints the table as GitHub-flavoured Markdown, as `dvc ... --md` does: row
 * 0 is the header, followed by a |---| rule; a '|' or a backslash in a
 * cell is escaped with a backslash, a line break becomes a space.
 */
void table_print_md(const struct table *t, FILE *f);
void table_release(struct table *t);

#endif
