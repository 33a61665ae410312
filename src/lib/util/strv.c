/*
 * strv.c - sorted string arrays; see strv.h.
 */
#include "util/strv.h"

#include <stdlib.h>
#include <string.h>

int strv_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void strv_sort(void *v, size_t n)
{
	if (n)
		qsort(v, n, sizeof(char *), strv_cmp);
}

int strv_has(const void *v, size_t n, const char *s)
{
	return n && bsearch(&s, v, n, sizeof(char *), strv_cmp) != NULL;
}
