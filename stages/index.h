/*
 * index.h - the subcommands of rp-index, one file each (index-NAME.c).
 *
 * Each takes the subcommand's arguments with argv[0] = its name (so getopt
 * works as in a main()), prints its own usage, and returns the exit code:
 * 0 ok, 1 a check failed or the operation failed, 2 usage or invalid input.
 */
#ifndef RP_STAGES_INDEX_H
#define RP_STAGES_INDEX_H

int index_cmd_update(int argc, char **argv);
int index_cmd_query(int argc, char **argv);
int index_cmd_info(int argc, char **argv);
int index_cmd_verify(int argc, char **argv);
int index_cmd_promote(int argc, char **argv);
int index_cmd_rollback(int argc, char **argv);
int index_cmd_history(int argc, char **argv);

#endif
