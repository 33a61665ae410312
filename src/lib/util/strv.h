/*
 * strv.h - arrays of C strings sorted with strcmp.
 *
 * The array is any `char *v[]` or `const char *v[]`; it is passed as a
 * pointer to its first element. An empty array may be NULL: these helpers
 * never hand NULL to qsort() or bsearch(), where it is undefined even for
 * zero elements.
 */
#ifndef RP_STRV_H
#define RP_STRV_H

#include <stddef.h>

/* qsort()/bsearch() comparison of two array elements (each a char pointer), by strcmp. */
int strv_cmp(const void *a, const void *b);
/* Sorts v[0..n) by strcmp. */
void strv_sort(void *v, size_t n);
/* 1 if `s` is one of v[0..n), which is sorted by strcmp; else 0. */
int strv_has(const void *v, size_t n, const char *s);

#endif
