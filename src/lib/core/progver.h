/*
 * progver.h - the algorithm versions of rp's own stage programs, and which
 * of them a stage's command applies.
 *
 * One table (progver.c) holds every versioned algorithm: the chunker
 * strategies of rp chunk, the context methods of rp context, the local
 * embedder of rp embed (and of rp eval, which embeds queries) and the
 * extractor of rp extract. The programs take their versions from it
 * (chunker_version(), rp-context), and the runner reads the same table to
 * put them in a stage's key (key.h) without starting any program: a
 * release that bumps `markdown` to 2 makes every stage whose command runs
 * `rp chunk --strategy markdown` dirty, with the status reason
 * "rp chunk: markdown@1 -> markdown@2".
 *
 * Which algorithms a command applies is read from its words, the way a
 * shell would split them (quotes removed, ; | & ( ) end a command): a word
 * "rp" followed by "chunk" (or a word whose last path component is
 * "rp-chunk") starts rp chunk, and its options up to the end of that
 * command choose the algorithm (--strategy/-s, --method/-m, --provider;
 * the program's default when absent). A command hidden in a script the
 * stage calls is not seen: such a stage lists the script as a dep.
 *
 * Test hook: RP_TEST_ALGO_VERSIONS="chunk:markdown=2,context:llm=3" makes
 * progver_get() answer those versions, so tests can play an upgrade that
 * bumps an algorithm without building two releases. It is read on every
 * call (no state), by the runner and the programs alike.
 */
#ifndef RP_PROGVER_H
#define RP_PROGVER_H

#include <stddef.h>

/* One algorithm a stage's command applies. Strings are static storage. */
struct progver_use {
	const char *program;   /* "chunk": the program is `rp chunk` */
	const char *algo;      /* "markdown" */
	int version;           /* progver_get(program, algo) */
};

/* Most algorithms progver_detect() reports for one stage. */
#define PROGVER_MAX 16

/*
 * The version of `algo` of `program` ("chunk", "markdown"), honouring
 * RP_TEST_ALGO_VERSIONS; 0 when the table has no such algorithm.
 */
int progver_get(const char *program, const char *algo);
/*
 * The algorithms the commands cmds[0..ncmds) apply, through rp's stage
 * programs, into out[0..PROGVER_MAX), sorted by program then algorithm,
 * without duplicates; returns how many. Unknown values (an --strategy the
 * program would refuse) are left out: the program fails on them anyway.
 * No allocation, no system call.
 */
size_t progver_detect(const char *const *cmds, size_t ncmds, struct progver_use *out);
/*
 * What `rp PROGRAM --version` prints: "rp-PROGRAM (rp) VERSION\n", then
 * one "NAME@VERSION\n" per algorithm of `program`, in table order (as
 * progver_get() answers, so the test hook shows). Caller frees.
 */
char *progver_text(const char *program);

#endif
