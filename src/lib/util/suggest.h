/*
 * suggest.h - "did you mean ...?": the closest of a list of names to a word
 * someone typed (a command, a stage name, an rp-NAME program).
 *
 *     const char *names[] = { "checkout", "status", "repro" };
 *     long i = suggest_best("stauts", names, 3);     -> 1 ("status")
 *
 * Closeness is the optimal-string-alignment distance (Levenshtein plus the
 * swap of two neighbours, as git's help.c weighs typos): one insert, delete,
 * substitution or swap costs 1. A name counts as close when its distance is
 * at most a third of the word's length (at least 1, at most 3), or when the
 * word is a prefix of it at least 2 characters long (`emb` -> `embed`).
 * Case is compared as typed.
 */
#ifndef RP_SUGGEST_H
#define RP_SUGGEST_H

#include <stddef.h>

/* The edit distance between `a` and `b` (insert, delete, substitute, swap neighbours). */
size_t suggest_distance(const char *a, const char *b);

/*
 * The index in names[0..n) of the name closest to `word`, or -1 when none is
 * close (see above) or `word` is one of them. Ties go to the earlier name;
 * a prefix match counts as distance 1. Duplicates and NULL entries are fine.
 */
long suggest_best(const char *word, const char *const *names, size_t n);

/*
 * As suggest_best() over names[0..n), each newly allocated, which this
 * frees with the array itself: the closest name, newly allocated (the
 * caller frees), or NULL.
 */
char *suggest_take(const char *word, char **names, size_t n);

#endif
